package inspect

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/tillit/tillit/escrow"
	"github.com/tillit/tillit/statement"
)

// detReader is a deterministic byte stream for tests and vectors:
// SHA-256(seed ‖ u64 counter) blocks, concatenated (as in escrow's tests).
type detReader struct {
	seed    string
	counter uint64
	buf     []byte
}

func newDetReader(seed string) *detReader { return &detReader{seed: seed} }

func (r *detReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if len(r.buf) == 0 {
			h := sha256.Sum256(binary.BigEndian.AppendUint64([]byte(r.seed), r.counter))
			r.buf = h[:]
			r.counter++
		}
		c := copy(p[n:], r.buf)
		r.buf = r.buf[c:]
		n += c
	}
	return n, nil
}

const (
	testRegime    = "inf-2026"
	testInspector = "NATO"
	testHost      = "RU"
)

// fakeRef returns a syntactically valid reference to entry index of party's
// log in the test regime.
func fakeRef(party string, index int64) statement.Ref {
	return statement.Ref{Log: testRegime + "/" + party, Index: index,
		Hash: sha256.Sum256(binary.BigEndian.AppendUint64([]byte(party), uint64(index)))}
}

func date(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

func hashOf(s string) escrow.Hash { return sha256.Sum256([]byte(s)) }

// sampleRequest is a valid request body.
func sampleRequest() *Request {
	return &Request{Inspector: testInspector, Host: testHost, Declaration: Ref(fakeRef(testHost, 0)),
		Scope: ScopeRegion, Region: "Kaliningrad", Year: 2026, Reason: "Vienna Document <evaluation> & check"}
}

func sampleReply() *Reply {
	return &Reply{Request: Ref(fakeRef(testInspector, 0)), Decision: Accept}
}

func sampleFindings() *Findings {
	return &Findings{Request: Ref(fakeRef(testInspector, 0)), Seed: hashOf("seed"),
		Beacon: []Ref{Ref(fakeRef(testInspector, 2)), Ref(fakeRef(testHost, 5))},
		Region: "Kaliningrad", Site: "Chernyakhovsk", Opening: Ref(fakeRef(testHost, 6)),
		Items: []Observed{{"L-0002", "9M729.launcher"}, {"M-0001", "9M729.missile"}}}
}

func sampleReport() *Report {
	return &Report{Request: Ref(fakeRef(testInspector, 0)), Findings: Ref(fakeRef(testInspector, 3)),
		Opening: Ref(fakeRef(testHost, 6)), Region: "Kaliningrad", Site: "Chernyakhovsk",
		Items: []ItemDiscrepancy{
			{Kind: WrongCategory, ID: "L-0002", Declared: "9M729.launcher", Observed: "9M729.missile"},
			{Kind: Missing, ID: "M-0003", Declared: "9M729.missile"},
			{Kind: Undeclared, ID: "M-0099", Observed: "9M729.missile"}},
		Counts: []CountDiscrepancy{{Category: "9M729.launcher", Declared: 1, Observed: 0},
			{Category: "9M729.missile", Declared: 2, Observed: 4}}}
}

// sampleDeclaration is the host's inventory in the tests and vectors.
func sampleDeclaration() *escrow.Declaration {
	return &escrow.Declaration{Regions: []escrow.Region{
		{Name: "Kaliningrad", Sites: []escrow.Site{
			{Name: "Chernyakhovsk", Items: []escrow.Item{
				{ID: "L-0002", Category: "9M729.launcher"},
				{ID: "M-0001", Category: "9M729.missile", Attrs: map[string]string{"lot": "7"}},
				{ID: "M-0003", Category: "9M729.missile"},
			}},
			{Name: "Baltiysk", Items: []escrow.Item{
				{ID: "M-0010", Category: "9M729.missile"},
			}},
		}},
		{Name: "Orenburg", Sites: []escrow.Site{
			{Name: "Yasny", Items: []escrow.Item{
				{ID: "L-0030", Category: "9M729.launcher"},
				{ID: "M-0031", Category: "9M729.missile"},
				{ID: "M-0032", Category: "9M729.missile"},
				{ID: "M-0033", Category: "9M729.missile"},
			}},
			{Name: "Donguz (empty)"},
		}},
	}}
}

func mustCommit(t testing.TB, d *escrow.Declaration, seed string) *escrow.Secret {
	t.Helper()
	s, err := escrow.Commit(d, escrow.Params{Regime: testRegime, Party: testHost, Version: 1, Rand: newDetReader(seed)})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustOpen(t testing.TB, s *escrow.Secret, region, site string) *escrow.SiteOpening {
	t.Helper()
	o, err := s.OpenSite(region, site)
	if err != nil {
		t.Fatal(err)
	}
	if err := escrow.VerifySiteOpening(s.Commitment(), o); err != nil {
		t.Fatal(err)
	}
	return o
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// wantErr checks that err wraps want (nil: no error).
func wantErr(t testing.TB, err, want error) {
	t.Helper()
	switch {
	case want == nil && err != nil:
		t.Fatalf("unexpected error: %v", err)
	case want != nil && !errors.Is(err, want):
		t.Fatalf("got error %v, want %v", err, want)
	}
}

func statementValidName(s string) bool { return statement.ValidName(s) }

// escrowValidName asks escrow whether s is a valid name, as an item id.
func escrowValidName(s string) bool {
	d := &escrow.Declaration{Regions: []escrow.Region{{Name: "r", Sites: []escrow.Site{{Name: "s", Items: []escrow.Item{{ID: s, Category: "c"}}}}}}}
	return d.Validate() == nil
}
