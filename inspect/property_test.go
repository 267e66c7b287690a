package inspect

import (
	"flag"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tillit/tillit/escrow"
	"pgregory.net/rapid"
)

// setDefaultRapidChecks sets rapid's number of checks for this test unless
// -rapid.checks or RAPID_CHECKS chose one. rapid divides it by 5 in -short.
func setDefaultRapidChecks(t *testing.T, n int) {
	f := flag.Lookup("rapid.checks")
	if f == nil || os.Getenv("RAPID_CHECKS") != "" {
		return
	}
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "rapid.checks" })
	if set {
		return
	}
	old := f.Value.String()
	if err := f.Value.Set(strconv.Itoa(n)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Value.Set(old) })
}

var propCategories = []string{"9M729.launcher", "9M729.missile", "SS-20", "warhead"}

// propOpening commits a random declaration and returns the verified opening
// of its site "R"/"S", the site's items, and the ids declared elsewhere.
func propOpening(t *rapid.T) (*escrow.SiteOpening, []Observed, []string) {
	ids := rapid.SliceOfNDistinct(rapid.StringMatching(`[A-Z]-[0-9]{1,3}`), 0, 14, rapid.ID[string]).Draw(t, "ids")
	split := rapid.IntRange(0, len(ids)).Draw(t, "split")
	here, elsewhere := ids[:split], ids[split:]
	site := escrow.Site{Name: "S"}
	for _, id := range here {
		site.Items = append(site.Items, escrow.Item{ID: id, Category: rapid.SampledFrom(propCategories[:3]).Draw(t, "category")})
	}
	other := escrow.Site{Name: "T"}
	for _, id := range elsewhere {
		other.Items = append(other.Items, escrow.Item{ID: id, Category: propCategories[0]})
	}
	d := &escrow.Declaration{Regions: []escrow.Region{{Name: "R", Sites: []escrow.Site{site, other}}}}
	s, err := escrow.Commit(d, escrow.Params{Regime: testRegime, Party: testHost, Version: 1,
		Rand: newDetReader(rapid.String().Draw(t, "salt seed"))})
	if err != nil {
		t.Fatal(err)
	}
	o, err := s.OpenSite("R", "S")
	if err != nil {
		t.Fatal(err)
	}
	if err := escrow.VerifySiteOpening(s.Commitment(), o); err != nil {
		t.Fatal(err)
	}
	_, opened := o.Opened()
	var declared []Observed
	for _, it := range opened.Items {
		declared = append(declared, Observed{it.ID, it.Category})
	}
	return o, declared, elsewhere
}

func propFindings(items []Observed) *Findings {
	f := sampleFindings()
	f.Region, f.Site = "R", "S"
	f.Items = slices.Clone(items)
	slices.SortFunc(f.Items, func(a, b Observed) int { return compareStrings(a.ID, b.ID) })
	return f
}

func compareStrings(a, b string) int { return strings.Compare(a, b) }

func count(items []Observed, cat string) uint64 {
	var n uint64
	for _, it := range items {
		if it.Category == cat {
			n++
		}
	}
	return n
}

func TestPropertyCompare(t *testing.T) {
	setDefaultRapidChecks(t, 200)
	fref := fakeRef(testInspector, 3)
	rapid.Check(t, func(t *rapid.T) {
		o, declared, elsewhere := propOpening(t)

		// Honest findings: no discrepancy, and the report verifies.
		honest := propFindings(declared)
		r, err := Compare(o, honest, fref)
		if err != nil {
			t.Fatal(err)
		}
		if !r.Clean() {
			t.Fatalf("honest findings gave %v %v", r.Items, r.Counts)
		}
		b, _ := r.Encode()
		if err := Verify(o, honest, fref, b); err != nil {
			t.Fatal(err)
		}

		// One change to the observed items gives exactly one item
		// discrepancy and the count discrepancies it implies.
		var items []Observed
		var want ItemDiscrepancy
		var counts []CountDiscrepancy
		actions := []string{"add"}
		if len(declared) > 0 {
			actions = append(actions, "remove", "recategorise")
		}
		switch rapid.SampledFrom(actions).Draw(t, "action") {
		case "add":
			id := "NEW-" + rapid.StringMatching(`[0-9]{1,3}`).Draw(t, "new id")
			if len(elsewhere) > 0 && rapid.Bool().Draw(t, "declared elsewhere") {
				id = rapid.SampledFrom(elsewhere).Draw(t, "elsewhere id")
			}
			cat := rapid.SampledFrom(propCategories).Draw(t, "new category")
			items = append(slices.Clone(declared), Observed{id, cat})
			want = ItemDiscrepancy{Kind: Undeclared, ID: id, Observed: cat}
			n := count(declared, cat)
			counts = []CountDiscrepancy{{cat, n, n + 1}}
		case "remove":
			i := rapid.IntRange(0, len(declared)-1).Draw(t, "remove")
			items = slices.Delete(slices.Clone(declared), i, i+1)
			it := declared[i]
			want = ItemDiscrepancy{Kind: Missing, ID: it.ID, Declared: it.Category}
			n := count(declared, it.Category)
			counts = []CountDiscrepancy{{it.Category, n, n - 1}}
		case "recategorise":
			i := rapid.IntRange(0, len(declared)-1).Draw(t, "recategorise")
			it := declared[i]
			cat := rapid.SampledFrom(slices.DeleteFunc(slices.Clone(propCategories), func(c string) bool { return c == it.Category })).Draw(t, "to")
			items = slices.Clone(declared)
			items[i].Category = cat
			want = ItemDiscrepancy{Kind: WrongCategory, ID: it.ID, Declared: it.Category, Observed: cat}
			from, to := count(declared, it.Category), count(declared, cat)
			counts = []CountDiscrepancy{{it.Category, from, from - 1}, {cat, to, to + 1}}
			slices.SortFunc(counts, func(a, b CountDiscrepancy) int { return compareStrings(a.Category, b.Category) })
		}
		f := propFindings(items)
		r, err = Compare(o, f, fref)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(r.Items, []ItemDiscrepancy{want}) || !reflect.DeepEqual(r.Counts, counts) {
			t.Fatalf("got %v %v, want %v %v", r.Items, r.Counts, want, counts)
		}
		b, _ = r.Encode()
		if err := Verify(o, f, fref, b); err != nil {
			t.Fatal(err)
		}
		// The honest (clean) report does not verify against these findings,
		// nor this report against the honest findings.
		clean, _ := (&Report{Request: r.Request, Findings: r.Findings, Opening: r.Opening, Region: "R", Site: "S"}).Encode()
		if err := Verify(o, f, fref, clean); err == nil {
			t.Fatal("a clean report verified against findings with a discrepancy")
		}
		if err := Verify(o, honest, fref, b); err == nil {
			t.Fatal("a report with a discrepancy verified against honest findings")
		}
	})
}

// TestPropertyCompareModel checks Compare on arbitrary findings against a
// direct restatement of spec §Report computation.
func TestPropertyCompareModel(t *testing.T) {
	setDefaultRapidChecks(t, 200)
	rapid.Check(t, func(t *rapid.T) {
		o, declared, _ := propOpening(t)
		ids := rapid.SliceOfNDistinct(rapid.StringMatching(`[A-Z]-[0-9]{1,3}`), 0, 14, rapid.ID[string]).Draw(t, "observed ids")
		var observed []Observed
		for _, id := range ids {
			observed = append(observed, Observed{id, rapid.SampledFrom(propCategories).Draw(t, "category")})
		}
		r, err := Compare(o, propFindings(observed), fakeRef(testInspector, 3))
		if err != nil {
			t.Fatal(err)
		}
		decl, obs := map[string]string{}, map[string]string{}
		for _, it := range declared {
			decl[it.ID] = it.Category
		}
		for _, it := range observed {
			obs[it.ID] = it.Category
		}
		var want []ItemDiscrepancy
		all := map[string]bool{}
		for id := range decl {
			all[id] = true
		}
		for id := range obs {
			all[id] = true
		}
		var sorted []string
		for id := range all {
			sorted = append(sorted, id)
		}
		slices.Sort(sorted)
		for _, id := range sorted {
			d, dok := decl[id]
			ob, ook := obs[id]
			switch {
			case dok && !ook:
				want = append(want, ItemDiscrepancy{Missing, id, d, ""})
			case !dok && ook:
				want = append(want, ItemDiscrepancy{Undeclared, id, "", ob})
			case d != ob:
				want = append(want, ItemDiscrepancy{WrongCategory, id, d, ob})
			}
		}
		var counts []CountDiscrepancy
		for _, c := range propCategories {
			if d, ob := count(declared, c), count(observed, c); d != ob {
				counts = append(counts, CountDiscrepancy{c, d, ob})
			}
		}
		if !reflect.DeepEqual(r.Items, want) || !reflect.DeepEqual(r.Counts, counts) {
			t.Fatalf("got %v %v\nwant %v %v", r.Items, r.Counts, want, counts)
		}
	})
}
