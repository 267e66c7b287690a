package escrow

import (
	"errors"
	"math"
	"slices"
	"testing"
)

const beaconContext = "inf-2026/inspection/7"

func beaconPair(t *testing.T, seed string) (a, b Contribution) {
	t.Helper()
	rnd := newDetReader(seed)
	ra, err := NewBeaconReveal(rnd)
	if err != nil {
		t.Fatal(err)
	}
	rb, err := NewBeaconReveal(rnd)
	if err != nil {
		t.Fatal(err)
	}
	return Contribution{"US", ra.Commit(beaconContext, "US"), ra}, Contribution{"RU", rb.Commit(beaconContext, "RU"), rb}
}

func TestBeaconOutcome(t *testing.T) {
	a, b := beaconPair(t, "beacon")
	o, err := ResolveBeacon(beaconContext, a, b)
	if err != nil || !o.OK() {
		t.Fatalf("outcome %+v, %v", o, err)
	}
	o2, _ := ResolveBeacon(beaconContext, b, a)
	if o2.Seed != o.Seed {
		t.Fatal("seed depends on argument order")
	}
	bad := *b.Reveal
	bad.R[0] ^= 1
	cases := []struct {
		name   string
		a, b   Contribution
		faults []string
		errs   []error
	}{
		{"US silent", Contribution{"US", a.Commit, nil}, b, []string{"US"}, []error{ErrNoReveal}},
		{"RU wrong reveal", a, Contribution{"RU", b.Commit, &bad}, []string{"RU"}, []error{ErrBeaconMismatch}},
		{"RU reveals US's", a, Contribution{"RU", b.Commit, a.Reveal}, []string{"RU"}, []error{ErrBeaconMismatch}},
		{"both silent", Contribution{"US", a.Commit, nil}, Contribution{"RU", b.Commit, nil}, []string{"RU", "US"}, []error{ErrNoReveal, ErrNoReveal}},
		{"commit copied", a, Contribution{"RU", a.Commit, a.Reveal}, []string{"RU"}, []error{ErrBeaconMismatch}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o, err := ResolveBeacon(beaconContext, tc.a, tc.b)
			if err != nil {
				t.Fatal(err)
			}
			if o.OK() || o.Seed != (Hash{}) || len(o.Faults) != len(tc.faults) {
				t.Fatalf("outcome %+v", o)
			}
			for i, f := range o.Faults {
				if f.Party != tc.faults[i] || !errors.Is(f.Err, tc.errs[i]) {
					t.Errorf("fault %d: %+v, want %s %v", i, f, tc.faults[i], tc.errs[i])
				}
			}
		})
	}
	for _, args := range [][3]string{{"", "US", "RU"}, {beaconContext, "US", "US"}, {beaconContext, "", "RU"}} {
		if _, err := ResolveBeacon(args[0], Contribution{Party: args[1]}, Contribution{Party: args[2]}); err == nil {
			t.Errorf("ResolveBeacon%q accepted", args)
		}
	}
}

func TestVerifyBeaconReveal(t *testing.T) {
	a, _ := beaconPair(t, "verify")
	if err := VerifyBeaconReveal(beaconContext, "US", a.Commit, a.Reveal); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ ctx, party string }{{beaconContext + "x", "US"}, {beaconContext, "RU"}} {
		if err := VerifyBeaconReveal(tc.ctx, tc.party, a.Commit, a.Reveal); !errors.Is(err, ErrBeaconMismatch) {
			t.Errorf("%q %q: %v", tc.ctx, tc.party, err)
		}
	}
}

func TestStreamChoices(t *testing.T) {
	s := NewStream(Hash{1}, "test")
	for _, n := range []uint64{1, 2, 3, 7, 1 << 63, math.MaxUint64} {
		for range 50 {
			if v, err := s.Uniform(n); err != nil || v >= n {
				t.Fatalf("Uniform(%d) = %d, %v", n, v, err)
			}
		}
	}
	if _, err := s.Uniform(0); !errors.Is(err, ErrInvalidParams) {
		t.Errorf("Uniform(0): %v", err)
	}
	for range 200 {
		i, err := s.Weighted([]uint64{0, 3, 0, 1, 0})
		if err != nil || (i != 1 && i != 3) {
			t.Fatalf("Weighted chose %d, %v", i, err)
		}
	}
	for _, w := range [][]uint64{nil, {0, 0}, {math.MaxUint64, 1}} {
		if _, err := s.Weighted(w); !errors.Is(err, ErrInvalidParams) {
			t.Errorf("Weighted(%v): %v", w, err)
		}
	}
	got, err := s.Sample(10, 10)
	if err != nil {
		t.Fatal(err)
	}
	sorted := slices.Sorted(slices.Values(got))
	if !slices.Equal(sorted, []uint64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}) {
		t.Fatalf("Sample(10, 10) = %v, not a permutation", got)
	}
	if _, err := s.Sample(3, 4); !errors.Is(err, ErrInvalidParams) {
		t.Errorf("Sample(3, 4): %v", err)
	}
}

// TestStreamUniformity is a coarse chi-squared check that Uniform, Weighted
// and Sample are not grossly biased.
func TestStreamUniformity(t *testing.T) {
	const draws = 60000
	check := func(name string, counts []int, expect []float64) {
		chi := 0.0
		for i := range counts {
			d := float64(counts[i]) - expect[i]
			chi += d * d / expect[i]
		}
		// Far beyond the 0.999 quantile for these few degrees of freedom.
		if chi > 40 {
			t.Errorf("%s: chi-squared %.1f for counts %v", name, chi, counts)
		}
	}
	s := NewStream(Hash{2}, "uniformity")
	counts := make([]int, 6)
	for range draws {
		v, _ := s.Uniform(6)
		counts[v]++
	}
	check("Uniform(6)", counts, []float64{1e4, 1e4, 1e4, 1e4, 1e4, 1e4})
	counts = make([]int, 3)
	for range draws {
		i, _ := s.Weighted([]uint64{1, 2, 3})
		counts[i]++
	}
	check("Weighted(1,2,3)", counts, []float64{1e4, 2e4, 3e4})
	counts = make([]int, 5)
	for range draws / 2 {
		out, _ := s.Sample(5, 2)
		counts[out[0]]++
		counts[out[1]]++
	}
	check("Sample(5,2)", counts, []float64{12e3, 12e3, 12e3, 12e3, 12e3})
}

// beaconVector is testdata/vectors/beacon.json.
func beaconVector(t *testing.T) map[string]any {
	a, b := beaconPair(t, "tillit/beacon/v1 test vectors")
	o, err := ResolveBeacon(beaconContext, a, b)
	if err != nil || !o.OK() {
		t.Fatal(o, err)
	}
	s := NewStream(o.Seed, "region")
	var raw []uint64
	for range 5 {
		raw = append(raw, s.Uint64())
	}
	region, _ := NewStream(o.Seed, "region").Uniform(3)
	weighted, _ := NewStream(o.Seed, "site").Weighted([]uint64{5, 0, 12, 1})
	sample, _ := NewStream(o.Seed, "items").Sample(100, 5)
	return map[string]any{
		"context":           beaconContext,
		"reveals":           map[string]any{a.Party: a.Reveal, b.Party: b.Reveal},
		"commits":           map[string]Hash{a.Party: a.Commit, b.Party: b.Commit},
		"seed":              o.Seed,
		"stream_region_u64": raw,
		"uniform_region_3":  region,
		"weighted_site":     map[string]any{"weights": []uint64{5, 0, 12, 1}, "choice": weighted},
		"sample_items":      map[string]any{"n": 100, "k": 5, "choice": sample},
	}
}
