package inspect

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/tillit/tillit/escrow"
)

// openingFixture commits sampleDeclaration and opens Kaliningrad /
// Chernyakhovsk: L-0002 launcher, M-0001 and M-0003 missiles.
func openingFixture(t *testing.T) *escrow.SiteOpening {
	return mustOpen(t, mustCommit(t, sampleDeclaration(), "report tests"), "Kaliningrad", "Chernyakhovsk")
}

func findingsWith(items ...Observed) *Findings {
	f := sampleFindings()
	f.Items = items
	return f
}

var honest = []Observed{{"L-0002", "9M729.launcher"}, {"M-0001", "9M729.missile"}, {"M-0003", "9M729.missile"}}

func TestCompare(t *testing.T) {
	o := openingFixture(t)
	const L, M = "9M729.launcher", "9M729.missile"
	tests := []struct {
		name   string
		items  []Observed
		want   []ItemDiscrepancy
		counts []CountDiscrepancy
	}{
		{"honest", honest, nil, nil},
		{"undeclared", []Observed{{"L-0002", L}, {"M-0001", M}, {"M-0003", M}, {"M-0099", M}},
			[]ItemDiscrepancy{{Kind: Undeclared, ID: "M-0099", Observed: M}},
			[]CountDiscrepancy{{M, 2, 3}}},
		{"undeclared new category", []Observed{{"L-0002", L}, {"M-0001", M}, {"M-0003", M}, {"W-1", "warhead"}},
			[]ItemDiscrepancy{{Kind: Undeclared, ID: "W-1", Observed: "warhead"}},
			[]CountDiscrepancy{{"warhead", 0, 1}}},
		{"missing", []Observed{{"L-0002", L}, {"M-0003", M}},
			[]ItemDiscrepancy{{Kind: Missing, ID: "M-0001", Declared: M}},
			[]CountDiscrepancy{{M, 2, 1}}},
		{"missing whole category", []Observed{{"M-0001", M}, {"M-0003", M}},
			[]ItemDiscrepancy{{Kind: Missing, ID: "L-0002", Declared: L}},
			[]CountDiscrepancy{{L, 1, 0}}},
		{"wrong category", []Observed{{"L-0002", M}, {"M-0001", M}, {"M-0003", M}},
			[]ItemDiscrepancy{{Kind: WrongCategory, ID: "L-0002", Declared: L, Observed: M}},
			[]CountDiscrepancy{{L, 1, 0}, {M, 2, 3}}},
		{"swapped categories: no count mismatch", []Observed{{"L-0002", M}, {"M-0001", L}, {"M-0003", M}},
			[]ItemDiscrepancy{{Kind: WrongCategory, ID: "L-0002", Declared: L, Observed: M}, {Kind: WrongCategory, ID: "M-0001", Declared: M, Observed: L}},
			nil},
		{"replaced id: same counts", []Observed{{"L-0002", L}, {"M-0001", M}, {"M-0004", M}},
			[]ItemDiscrepancy{{Kind: Missing, ID: "M-0003", Declared: M}, {Kind: Undeclared, ID: "M-0004", Observed: M}},
			nil},
		{"nothing observed", nil,
			[]ItemDiscrepancy{{Kind: Missing, ID: "L-0002", Declared: L}, {Kind: Missing, ID: "M-0001", Declared: M}, {Kind: Missing, ID: "M-0003", Declared: M}},
			[]CountDiscrepancy{{L, 1, 0}, {M, 2, 0}}},
		{"all kinds", []Observed{{"A-1", "x"}, {"L-0002", M}, {"M-0001", M}, {"Z-9", M}},
			[]ItemDiscrepancy{{Kind: Undeclared, ID: "A-1", Observed: "x"}, {Kind: WrongCategory, ID: "L-0002", Declared: L, Observed: M},
				{Kind: Missing, ID: "M-0003", Declared: M}, {Kind: Undeclared, ID: "Z-9", Observed: M}},
			[]CountDiscrepancy{{L, 1, 0}, {M, 2, 3}, {"x", 0, 1}}},
		// M-0010 is declared at Baltiysk, not here: undeclared at this site.
		{"declared at another site", []Observed{{"L-0002", L}, {"M-0001", M}, {"M-0003", M}, {"M-0010", M}},
			[]ItemDiscrepancy{{Kind: Undeclared, ID: "M-0010", Observed: M}},
			[]CountDiscrepancy{{M, 2, 3}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := findingsWith(tt.items...)
			fref := fakeRef(testInspector, 3)
			r, err := Compare(o, f, fref)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(r.Items, tt.want) || !reflect.DeepEqual(r.Counts, tt.counts) {
				t.Fatalf("got\n  %v\n  %v\nwant\n  %v\n  %v", r.Items, r.Counts, tt.want, tt.counts)
			}
			if r.Clean() != (tt.want == nil && tt.counts == nil) {
				t.Fatalf("Clean() = %v", r.Clean())
			}
			if r.Request != f.Request || r.Opening != f.Opening || r.Findings != Ref(fref) || r.Region != "Kaliningrad" || r.Site != "Chernyakhovsk" {
				t.Fatalf("report header: %+v", r)
			}
			b, err := r.Encode()
			if err != nil {
				t.Fatal(err)
			}
			if err := Verify(o, f, fref, b); err != nil {
				t.Fatalf("Verify of the computed report: %v", err)
			}
			back, err := ParseReport(b)
			if err != nil || !reflect.DeepEqual(back, r) {
				t.Fatalf("round trip: %v", err)
			}
		})
	}
}

func TestCompareMismatch(t *testing.T) {
	o := openingFixture(t)
	f := findingsWith(honest...)
	f.Site = "Baltiysk"
	_, err := Compare(o, f, fakeRef(testInspector, 3))
	wantErr(t, err, ErrMismatch)

	f = findingsWith(honest[1], honest[0]) // out of order
	_, err = Compare(o, f, fakeRef(testInspector, 3))
	wantErr(t, err, ErrInvalid)
}

func TestVerifyRejects(t *testing.T) {
	o := openingFixture(t)
	f := findingsWith(honest[0], honest[1], Observed{"M-0099", "9M729.missile"}, Observed{"W-1", "warhead"})
	fref := fakeRef(testInspector, 3)
	good, err := Compare(o, f, fref)
	if err != nil {
		t.Fatal(err)
	}
	enc := func(r *Report) []byte {
		b, err := r.Encode()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	goodBytes := enc(good)
	tests := []struct {
		name   string
		report []byte
		want   string
	}{
		{"dropped discrepancy", enc(&Report{Request: good.Request, Findings: good.Findings, Opening: good.Opening,
			Region: good.Region, Site: good.Site, Items: good.Items[1:], Counts: good.Counts}), "is not reported"},
		{"invented discrepancy", enc(&Report{Request: good.Request, Findings: good.Findings, Opening: good.Opening,
			Region: good.Region, Site: good.Site, Items: append([]ItemDiscrepancy{{Kind: Undeclared, ID: "A", Observed: "x"}}, good.Items...),
			Counts: good.Counts}), "evidence does not show it"},
		{"clean claimed", enc(&Report{Request: good.Request, Findings: good.Findings, Opening: good.Opening,
			Region: good.Region, Site: good.Site}), "is not reported"},
		{"wrong count", []byte(strings.Replace(string(goodBytes), `"observed":1}`, `"observed":2}`, 1)), `counts: category "warhead": 0 declared, 1 observed is not reported`},
		{"wrong findings ref", enc(func() *Report { r := *good; r.Findings = Ref(fakeRef(testInspector, 4)); return &r }()), "findings is"},
		{"whitespace", append(append([]byte{}, goodBytes...), '\n'), "canonical"},
		{"not a report", []byte(`{}`), "missing field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Verify(o, f, fref, tt.report)
			if !errors.Is(err, ErrReport) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want ErrReport mentioning %q", err, tt.want)
			}
		})
	}
}

func TestEvidence(t *testing.T) {
	r := sampleReport()
	ev := r.ItemEvidence(r.Items[2]) // undeclared M-0099
	if ev[0].Ref != fakeRef(testHost, 6) || ev[0].Item != "" || ev[1].Ref != fakeRef(testInspector, 3) || ev[1].Item != "M-0099" {
		t.Fatalf("undeclared evidence: %+v", ev)
	}
	ev = r.ItemEvidence(r.Items[1]) // missing M-0003
	if ev[0].Item != "M-0003" || ev[1].Item != "" {
		t.Fatalf("missing evidence: %+v", ev)
	}
	ev = r.ItemEvidence(r.Items[0]) // wrong category L-0002
	if ev[0].Item != "L-0002" || ev[1].Item != "L-0002" {
		t.Fatalf("category evidence: %+v", ev)
	}
	if ev := r.CountEvidence(r.Counts[0]); len(ev) != 2 || ev[0].Ref != fakeRef(testHost, 6) || ev[1].Ref != fakeRef(testInspector, 3) {
		t.Fatalf("count evidence: %+v", ev)
	}
}
