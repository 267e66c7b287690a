package escrow

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
)

func TestPaddedSize(t *testing.T) {
	cases := []struct{ n, q, want uint64 }{
		{0, 0, 1}, {1, 0, 1}, {2, 0, 2}, {3, 0, 4}, {1000, 0, 1024}, {1024, 0, 1024}, {1025, 0, 2048},
		{0, 100, 100}, {1, 100, 100}, {100, 100, 100}, {101, 100, 200}, {1_000_000, 0, 1 << 20},
	}
	for _, tc := range cases {
		got, err := PaddedSize(tc.n, tc.q)
		if err != nil || got != tc.want {
			t.Errorf("PaddedSize(%d, %d) = %d, %v; want %d", tc.n, tc.q, got, err, tc.want)
		}
	}
	for _, tc := range []struct{ n, q uint64 }{{MaxSize + 1, 0}, {1, MaxQuantum + 1}, {MaxSize - 1, 7}} {
		if _, err := PaddedSize(tc.n, tc.q); !errors.Is(err, ErrInvalidParams) {
			t.Errorf("PaddedSize(%d, %d) = %v, want ErrInvalidParams", tc.n, tc.q, err)
		}
	}
}

func TestCommitParams(t *testing.T) {
	cases := []struct {
		name string
		edit func(*Params)
		want error
	}{
		{"empty regime", func(p *Params) { p.Regime = "" }, ErrInvalidName},
		{"bad party", func(p *Params) { p.Party = "R\tU" }, ErrInvalidName},
		{"version 0", func(p *Params) { p.Version = 0 }, ErrInvalidParams},
		{"version 2 without prev", func(p *Params) { p.Version = 2 }, ErrInvalidParams},
		{"bad prev", func(p *Params) { p.Prev = "a\nb" }, ErrInvalidName},
		{"huge quantum", func(p *Params) { p.Quantum = MaxQuantum + 1 }, ErrInvalidParams},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := testParams("params")
			tc.edit(&p)
			if _, err := Commit(sampleDeclaration(), p); !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
	bad := sampleDeclaration()
	bad.Regions[1].Sites[0].Items[0].ID = "M-0001"
	if _, err := Commit(bad, testParams("params")); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("duplicate id: got %v", err)
	}
}

func TestCommitDeterminism(t *testing.T) {
	a := mustCommit(t, sampleDeclaration(), testParams("one"))
	b := mustCommit(t, sampleDeclaration(), testParams("one"))
	c := mustCommit(t, sampleDeclaration(), testParams("two"))
	if *a.Commitment() != *b.Commitment() {
		t.Fatal("same salts, different commitments")
	}
	if a.Commitment().ItemsRoot == c.Commitment().ItemsRoot || a.Commitment().Index == c.Commitment().Index {
		t.Fatal("different salts, same roots")
	}
	r1 := mustCommit(t, sampleDeclaration(), Params{Regime: "r", Party: "p", Version: 1})
	r2 := mustCommit(t, sampleDeclaration(), Params{Regime: "r", Party: "p", Version: 1})
	if r1.Commitment().ItemsRoot == r2.Commitment().ItemsRoot {
		t.Fatal("crypto/rand salts repeated")
	}
}

func TestPaddingHidesCount(t *testing.T) {
	small, large := genDeclaration(1, 1, 5), genDeclaration(1, 1, 7)
	p := testParams("pad")
	p.Quantum = 8
	a, b := mustCommit(t, small, p), mustCommit(t, large, p)
	if a.Commitment().Size != 8 || b.Commitment().Size != 8 {
		t.Fatalf("sizes %d and %d, want 8", a.Commitment().Size, b.Commitment().Size)
	}
}

func TestEmptyDeclaration(t *testing.T) {
	s := mustCommit(t, &Declaration{}, testParams("empty"))
	if err := VerifyIndex(s.Commitment(), s.RevealIndex()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.OpenRegion("x"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("OpenRegion: %v", err)
	}
}

func TestNotFound(t *testing.T) {
	s := mustCommit(t, sampleDeclaration(), testParams("nf"))
	if _, err := s.RevealSites("Nowhere"); !errors.Is(err, ErrNotFound) {
		t.Errorf("RevealSites: %v", err)
	}
	if _, err := s.OpenSite("Kaliningrad", "Nowhere"); !errors.Is(err, ErrNotFound) {
		t.Errorf("OpenSite: %v", err)
	}
	if _, err := s.OpenItem("M-9999"); !errors.Is(err, ErrNotFound) {
		t.Errorf("OpenItem: %v", err)
	}
}

func TestSecretRoundTrip(t *testing.T) {
	s := mustCommit(t, sampleDeclaration(), testParams("secret"))
	j, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	s2, err := ParseSecret(j)
	if err != nil {
		t.Fatal(err)
	}
	if *s2.Commitment() != *s.Commitment() {
		t.Fatal("commitment changed")
	}
	for _, id := range []string{"M-0001", "L-0021", "M-0030"} {
		o1, _ := s.OpenItem(id)
		o2, _ := s2.OpenItem(id)
		if a, b := mustJSON(t, o1), mustJSON(t, o2); !bytes.Equal(a, b) {
			t.Fatalf("opening of %s changed", id)
		}
	}
	j2, _ := json.Marshal(s2)
	if !bytes.Equal(j, j2) {
		t.Fatal("secret encoding changed")
	}
}

func TestParseSecretRejects(t *testing.T) {
	s := mustCommit(t, sampleDeclaration(), testParams("secret"))
	j := string(mustJSON(t, s))
	salt := s.regions[1].Sites[0].Items[0].Salt.String()
	cases := []struct {
		name     string
		old, new string
		want     error
	}{
		{"changed id", `"M-0010"`, `"M-0011"`, ErrItems},
		{"changed item salt", salt, Hash{}.String(), ErrItems},
		{"changed size", `"size":8`, `"size":9`, ErrItems},
		{"size beyond any padding", `"size":8`, `"size":1048584`, ErrMalformed},
		{"size below the items", `"size":8`, `"size":6`, ErrMalformed},
		{"changed party", `"party":"RU"`, `"party":"US"`, ErrItems},
		{"changed index", `"index":"`, `"index":"A`, ErrMalformed},
		{"out of order", `"L-0002"`, `"N-0002"`, ErrMalformed},
		{"duplicate id", `"M-0010"`, `"M-0020"`, ErrDuplicate},
		{"non-canonical", `{"commitment":`, `{ "commitment" :`, nil},
		{"unknown field", `"pad_seed":`, `"padseed":`, ErrMalformed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := replaceOnce(t, j, tc.old, tc.new)
			_, err := ParseSecret([]byte(in))
			if tc.want == nil {
				if err != nil {
					t.Fatalf("insignificant whitespace rejected: %v", err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}

// TestContextBinding checks that openings do not transfer between
// commitments that differ only in their public parameters.
func TestContextBinding(t *testing.T) {
	base := testParams("ctx")
	s := mustCommit(t, sampleDeclaration(), base)
	o, _ := s.OpenRegion("Kaliningrad")
	edits := map[string]func(*Params){
		"party":   func(p *Params) { p.Party = "US" },
		"regime":  func(p *Params) { p.Regime = "other" },
		"version": func(p *Params) { p.Version, p.Prev = 2, "ref" },
		"prev":    func(p *Params) { p.Prev = "ref" },
		"size":    func(p *Params) { p.Quantum = 100 },
	}
	for name, edit := range edits {
		p := testParams("ctx")
		edit(&p)
		other := mustCommit(t, sampleDeclaration(), p)
		if err := VerifyRegionOpening(other.Commitment(), o); err == nil {
			t.Errorf("%s: opening verified against another commitment", name)
		}
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	j, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func replaceOnce(t *testing.T, s, old, new string) string {
	t.Helper()
	if !bytes.Contains([]byte(s), []byte(old)) {
		t.Fatalf("%q not found", old)
	}
	return string(bytes.Replace([]byte(s), []byte(old), []byte(new), 1))
}

// TestLargeDeclaration commits 200,000 items and checks every region and
// site opening, a sample of item openings, and the secret's round trip.
func TestLargeDeclaration(t *testing.T) {
	if testing.Short() {
		t.Skip("large declaration")
	}
	d := genDeclaration(8, 25, 1000)
	p := testParams("large")
	p.Quantum = 4096
	s := mustCommit(t, d, p)
	c := s.Commitment()
	if c.Size != 200704 {
		t.Fatalf("size %d, want 200704", c.Size)
	}
	if err := VerifyIndex(c, s.RevealIndex()); err != nil {
		t.Fatal(err)
	}
	for _, r := range d.Regions {
		o, _ := s.OpenRegion(r.Name)
		if err := VerifyRegionOpening(c, o); err != nil {
			t.Fatal(err)
		}
		so, _ := s.OpenSite(r.Name, r.Sites[7].Name)
		if err := VerifySiteOpening(c, so); err != nil {
			t.Fatal(err)
		}
	}
	for id := 0; id < 200000; id += 9973 {
		o, err := s.OpenItem(fmt.Sprintf("ID-%09d", id))
		if err != nil {
			t.Fatal(err)
		}
		if err := VerifyItemOpening(c, o); err != nil {
			t.Fatal(err)
		}
	}
	s2, err := ParseSecret(mustJSON(t, s))
	if err != nil || *s2.Commitment() != *c {
		t.Fatalf("secret round trip: %v", err)
	}
}
