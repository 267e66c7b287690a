package escrow

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

var (
	genKey      = rapid.StringMatching(`[A-Za-z0-9é<&"\\]([A-Za-z0-9 é<>&"\\._,-]{0,5}[A-Za-z0-9é._-])?`)
	genName     = rapid.StringMatching(`[A-Za-z0-9é<&"\\]([A-Za-z0-9 é<>&"\\._=,-]{0,5}[A-Za-z0-9é._-])?`)
	genCategory = rapid.SampledFrom([]string{"9M729.missile", "9M729.launcher", "SSC-8", "RS-26"})
)

// genDeclarationRapid draws a valid declaration, with empty regions and
// sites, attributes, and names needing JSON and CSV escapes.
func genDeclarationRapid(t *rapid.T) *Declaration {
	d := &Declaration{}
	id := 0
	regions := rapid.SliceOfNDistinct(genName, 0, 4, rapid.ID).Draw(t, "regions")
	for _, rn := range regions {
		r := Region{Name: rn}
		for _, sn := range rapid.SliceOfNDistinct(genName, 0, 3, rapid.ID).Draw(t, "sites") {
			s := Site{Name: sn}
			for range rapid.IntRange(0, 5).Draw(t, "items") {
				it := Item{ID: fmt.Sprintf("%s#%d", genName.Draw(t, "id"), id), Category: genCategory.Draw(t, "category")}
				id++
				if attrs := rapid.MapOfN(genKey, genName, 0, 2).Draw(t, "attrs"); len(attrs) > 0 {
					it.Attrs = attrs
				}
				s.Items = append(s.Items, it)
			}
			r.Sites = append(r.Sites, s)
		}
		d.Regions = append(d.Regions, r)
	}
	return d
}

func rapidParams(t *rapid.T) Params {
	return Params{Regime: "inf-2026", Party: "RU", Version: 1,
		Quantum: rapid.SampledFrom([]uint64{0, 1, 3, 10}).Draw(t, "quantum"),
		Rand:    newDetReader(rapid.StringN(1, 8, 8).Draw(t, "seed"))}
}

// TestPropertyCommitOpenVerify: for random declarations every reveal of
// every part verifies and the secret survives encoding.
func TestPropertyCommitOpenVerify(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		d := genDeclarationRapid(t)
		s, err := Commit(d, rapidParams(t))
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range allReveals(s) {
			if err := verifyAny(s.Commitment(), r); err != nil {
				t.Fatalf("%T: %v", r, err)
			}
		}
		j, _ := json.Marshal(s)
		s2, err := ParseSecret(j)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(s2.Declaration(), d.Canonical()) {
			t.Fatalf("secret round trip changed the declaration")
		}
	})
}

// TestPropertyTamper: any single change to any field, map entry or slice
// element of an opening or reveal, or deleting or duplicating an element,
// makes verification fail.
func TestPropertyTamper(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		d := genDeclarationRapid(t)
		s, err := Commit(d, rapidParams(t))
		if err != nil {
			t.Fatal(err)
		}
		c := s.Commitment()
		reveals := allReveals(s)
		orig := rapid.SampledFrom(reveals).Draw(t, "reveal")
		var muts []mutation
		collectMutations(reflect.ValueOf(orig).Elem(), "", &muts)
		k := rapid.IntRange(0, len(muts)-1).Draw(t, "mutation")
		dup := reflect.New(reflect.TypeOf(orig).Elem())
		if err := json.Unmarshal(mustJSONRapid(t, orig), dup.Interface()); err != nil {
			t.Fatal(err)
		}
		muts = muts[:0]
		collectMutations(dup.Elem(), "", &muts)
		muts[k].apply()
		if err := verifyAny(c, dup.Interface()); err == nil {
			t.Fatalf("%T: mutation %s accepted", orig, muts[k].path)
		}
	})
}

// allReveals returns the index reveal and every site list reveal, region,
// site and item opening of s.
func allReveals(s *Secret) []any {
	reveals := []any{s.RevealIndex()}
	for _, r := range s.Declaration().Regions {
		sr, _ := s.RevealSites(r.Name)
		ro, _ := s.OpenRegion(r.Name)
		reveals = append(reveals, sr, ro)
		for _, site := range r.Sites {
			so, _ := s.OpenSite(r.Name, site.Name)
			reveals = append(reveals, so)
			for _, it := range site.Items {
				io, _ := s.OpenItem(it.ID)
				reveals = append(reveals, io)
			}
		}
	}
	return reveals
}

func verifyAny(c *Commitment, v any) error {
	switch v := v.(type) {
	case *IndexReveal:
		return VerifyIndex(c, v)
	case *SitesReveal:
		return VerifySites(c, v)
	case *RegionOpening:
		return VerifyRegionOpening(c, v)
	case *SiteOpening:
		return VerifySiteOpening(c, v)
	case *ItemOpening:
		return VerifyItemOpening(c, v)
	}
	panic(fmt.Sprintf("no verifier for %T", v))
}

type mutation struct {
	path  string
	apply func()
}

var hashType = reflect.TypeFor[Hash]()

// collectMutations lists, in a deterministic order, single changes to the
// value v: each string lengthened, each integer incremented, each hash
// flipped, each map entry changed or deleted and a new entry added, each
// slice element deleted or duplicated and a zero element appended.
func collectMutations(v reflect.Value, path string, out *[]mutation) {
	add := func(p string, f func()) { *out = append(*out, mutation{path + p, f}) }
	if v.Type() == hashType {
		add("^bit", func() { b := v.Index(3); b.SetUint(b.Uint() ^ 1) })
		return
	}
	switch v.Kind() {
	case reflect.String:
		add("+x", func() { v.SetString(v.String() + "x") })
	case reflect.Uint64:
		add("+1", func() { v.SetUint(v.Uint() + 1) })
	case reflect.Pointer:
		collectMutations(v.Elem(), path, out)
	case reflect.Struct:
		for i := range v.NumField() {
			collectMutations(v.Field(i), path+"."+v.Type().Field(i).Name, out)
		}
	case reflect.Slice:
		for i := range v.Len() {
			collectMutations(v.Index(i), fmt.Sprintf("%s[%d]", path, i), out)
			add(fmt.Sprintf("[%d]-", i), func() { v.Set(spliceOut(v, i)) })
			add(fmt.Sprintf("[%d]*2", i), func() { v.Set(spliceDup(v, i)) })
		}
		add("+zero", func() { v.Set(reflect.Append(v, reflect.Zero(v.Type().Elem()))) })
	case reflect.Map:
		keys := v.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
		for _, k := range keys {
			add("["+k.String()+"]", func() { v.SetMapIndex(k, changed(v.MapIndex(k))) })
			add("["+k.String()+"]-", func() { v.SetMapIndex(k, reflect.Value{}) })
		}
		add("[new]", func() {
			if v.IsNil() {
				v.Set(reflect.MakeMap(v.Type()))
			}
			v.SetMapIndex(reflect.ValueOf("new-key"), changed(reflect.Zero(v.Type().Elem())))
		})
	}
}

func changed(x reflect.Value) reflect.Value {
	y := reflect.New(x.Type()).Elem()
	y.Set(x)
	switch y.Kind() {
	case reflect.String:
		y.SetString(y.String() + "x")
	case reflect.Uint64:
		y.SetUint(y.Uint() + 1)
	}
	return y
}

func spliceOut(v reflect.Value, i int) reflect.Value {
	out := reflect.MakeSlice(v.Type(), 0, v.Len()-1)
	return reflect.AppendSlice(reflect.AppendSlice(out, v.Slice(0, i)), v.Slice(i+1, v.Len()))
}

func spliceDup(v reflect.Value, i int) reflect.Value {
	out := reflect.MakeSlice(v.Type(), 0, v.Len()+1)
	out = reflect.AppendSlice(out, v.Slice(0, i+1))
	return reflect.AppendSlice(out, v.Slice(i, v.Len()))
}

func mustJSONRapid(t *rapid.T, v any) []byte {
	j, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// TestPropertyInventoryRoundTrip: a random declaration encoded as JSON or
// CSV parses back to its canonical form.
func TestPropertyInventoryRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		d := genDeclarationRapid(t)
		want := d.Canonical()
		j := mustJSONRapid(t, d)
		got, err := ParseJSON(j)
		if err != nil {
			t.Fatalf("ParseJSON(%s): %v", j, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("JSON round trip\n got %+v\nwant %+v", got, want)
		}
		c, err := toCSV(d)
		if err != nil {
			t.Fatal(err)
		}
		got, err = ParseCSV(c)
		if err != nil {
			t.Fatal(err)
		}
		if want := withoutEmpty(want); !reflect.DeepEqual(got, want) {
			t.Fatalf("CSV round trip\n got %+v\nwant %+v", got, want)
		}
	})
}

// toCSV encodes d in the CSV inventory format; it drops empty regions and
// sites, which CSV cannot express.
func toCSV(d *Declaration) ([]byte, error) {
	var b bytes.Buffer
	rows := [][]string{csvHeader}
	for _, r := range d.Regions {
		for _, s := range r.Sites {
			for _, it := range s.Items {
				row := []string{r.Name, s.Name, it.ID, it.Category}
				for _, k := range sortedKeys(it.Attrs) {
					row = append(row, k+"="+it.Attrs[k])
				}
				rows = append(rows, row)
			}
		}
	}
	err := csv.NewWriter(&b).WriteAll(rows)
	return b.Bytes(), err
}

// withoutEmpty drops the empty sites and regions that CSV cannot express.
func withoutEmpty(d *Declaration) *Declaration {
	out := &Declaration{}
	for _, r := range d.Regions {
		var sites []Site
		for _, s := range r.Sites {
			if len(s.Items) > 0 {
				sites = append(sites, s)
			}
		}
		if len(sites) > 0 {
			out.Regions = append(out.Regions, Region{Name: r.Name, Sites: sites})
		}
	}
	return out
}
