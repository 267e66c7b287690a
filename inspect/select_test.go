package inspect

import (
	"errors"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/tillit/tillit/escrow"
)

var testCandidates = []Candidate{
	{"Kaliningrad", "Baltiysk", 1},
	{"Kaliningrad", "Chernyakhovsk", 3},
	{"Orenburg", "Donguz (empty)", 0},
	{"Orenburg", "Yasny", 4},
}

// TestSelectFixed pins Select for fixed seeds; testdata/vectors/selection.json
// holds more.
func TestSelectFixed(t *testing.T) {
	seed := hashOf("fixed seed")
	s := escrow.NewStream(seed, SelectionLabel)
	u, _ := s.Uniform(4)
	got, err := Select(seed, testCandidates, SelectUniform)
	if err != nil || got != testCandidates[u] {
		t.Fatalf("uniform: got %v %v, want %v", got, err, testCandidates[u])
	}
	s = escrow.NewStream(seed, SelectionLabel)
	w, _ := s.Weighted([]uint64{1, 3, 0, 4})
	got, err = Select(seed, testCandidates, SelectWeighted)
	if err != nil || got != testCandidates[w] {
		t.Fatalf("weighted: got %v %v, want %v", got, err, testCandidates[w])
	}
}

func TestSelectDeterministic(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := range 200 {
		seed := hashOf(string(rune(i)))
		for _, mode := range []Selection{SelectUniform, SelectWeighted} {
			want, err := Select(seed, testCandidates, mode)
			if err != nil {
				t.Fatal(err)
			}
			c := slices.Clone(testCandidates)
			r.Shuffle(len(c), func(i, j int) { c[i], c[j] = c[j], c[i] })
			if got, _ := Select(seed, c, mode); got != want {
				t.Fatalf("order changed the choice: %v, %v", got, want)
			}
			if mode == SelectWeighted && want.Items == 0 {
				t.Fatalf("weighted chose an empty site: %v", want)
			}
		}
	}
}

func TestSelectDistribution(t *testing.T) {
	const n = 4000
	uniform := map[string]int{}
	weighted := map[string]int{}
	for i := range n {
		seed := hashOf("dist" + string(rune(i)))
		u, _ := Select(seed, testCandidates, SelectUniform)
		w, _ := Select(seed, testCandidates, SelectWeighted)
		uniform[u.Site]++
		weighted[w.Site]++
	}
	for _, c := range testCandidates {
		if got := uniform[c.Site]; got < n/4-150 || got > n/4+150 {
			t.Errorf("uniform %s: %d of %d", c.Site, got, n)
		}
		want := n * int(c.Items) / 8
		if got := weighted[c.Site]; got < want-150 || got > want+150 {
			t.Errorf("weighted %s: %d of %d, want about %d", c.Site, got, n, want)
		}
	}
}

func TestSelectEdges(t *testing.T) {
	seed := hashOf("edges")
	_, err := Select(seed, nil, SelectUniform)
	wantErr(t, err, ErrNoCandidates)
	_, err = Select(seed, []Candidate{{"a", "b", 1}, {"a", "b", 2}}, SelectUniform)
	wantErr(t, err, ErrInvalid)
	_, err = Select(seed, testCandidates, Selection(9))
	wantErr(t, err, ErrInvalid)
	_, err = Select(seed, []Candidate{{"a", "b", 1 << 63}, {"a", "c", 1 << 63}}, SelectWeighted)
	wantErr(t, err, ErrInvalid)
	// All empty: weighted falls back to uniform.
	empty := []Candidate{{"a", "x", 0}, {"a", "y", 0}, {"b", "z", 0}}
	for _, s := range []escrow.Hash{hashOf("1"), hashOf("2"), hashOf("3")} {
		u, _ := Select(s, empty, SelectUniform)
		w, err := Select(s, empty, SelectWeighted)
		if err != nil || u != w {
			t.Fatalf("all-empty weighted: %v %v, uniform %v", w, err, u)
		}
	}
	one := []Candidate{{"a", "only", 5}}
	if got, _ := Select(seed, one, SelectWeighted); got != one[0] {
		t.Fatal(got)
	}
}

func TestCandidates(t *testing.T) {
	s := mustCommit(t, sampleDeclaration(), "candidates")
	c := s.Commitment()
	index := s.RevealIndex()
	kal, _ := s.RevealSites("Kaliningrad")
	ore, _ := s.RevealSites("Orenburg")
	region := &Request{Inspector: testInspector, Host: testHost, Declaration: Ref(fakeRef(testHost, 0)), Scope: ScopeRegion, Region: "Kaliningrad", Year: 2026}
	anyScope := &Request{Inspector: testInspector, Host: testHost, Declaration: Ref(fakeRef(testHost, 0)), Scope: ScopeAny, Year: 2026}

	got, err := Candidates(c, region, nil, []*escrow.SitesReveal{ore, kal})
	if err != nil || !slices.Equal(got, testCandidates[:2]) {
		t.Fatalf("region scope: %v %v", got, err)
	}
	got, err = Candidates(c, anyScope, index, []*escrow.SitesReveal{ore, kal})
	if err != nil || !slices.Equal(got, testCandidates) {
		t.Fatalf("any scope: %v %v", got, err)
	}

	_, err = Candidates(c, anyScope, index, []*escrow.SitesReveal{kal})
	wantErr(t, err, ErrMismatch)
	_, err = Candidates(c, anyScope, nil, []*escrow.SitesReveal{kal, ore})
	wantErr(t, err, ErrMismatch)
	_, err = Candidates(c, region, nil, []*escrow.SitesReveal{kal, kal})
	wantErr(t, err, ErrMismatch)
	_, err = Candidates(c, region, nil, []*escrow.SitesReveal{ore})
	wantErr(t, err, ErrMismatch)

	// A tampered site list fails escrow's verification.
	bad := *kal
	bad.Sites = slices.Clone(kal.Sites)
	bad.Sites[0].End++
	_, err = Candidates(c, region, nil, []*escrow.SitesReveal{&bad})
	if !errors.Is(err, escrow.ErrSites) {
		t.Fatalf("tampered list: %v", err)
	}
	// So does a tampered index.
	badIndex := *index
	badIndex.Regions = slices.Clone(index.Regions)
	badIndex.Regions = badIndex.Regions[:1]
	_, err = Candidates(c, anyScope, &badIndex, []*escrow.SitesReveal{kal})
	if !errors.Is(err, escrow.ErrIndex) {
		t.Fatalf("tampered index: %v", err)
	}
	// Another party's declaration.
	other := *region
	other.Host = "BY"
	_, err = Candidates(c, &other, nil, []*escrow.SitesReveal{kal})
	wantErr(t, err, ErrMismatch)

	// A region without sites has nothing to select.
	d := sampleDeclaration()
	d.Regions = append(d.Regions, escrow.Region{Name: "Vacant"})
	s2 := mustCommit(t, d, "candidates 2")
	vac, _ := s2.RevealSites("Vacant")
	vr := *region
	vr.Region = "Vacant"
	_, err = Candidates(s2.Commitment(), &vr, nil, []*escrow.SitesReveal{vac})
	wantErr(t, err, ErrNoCandidates)
}
