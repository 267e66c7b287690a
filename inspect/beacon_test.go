package inspect

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/tillit/tillit/escrow"
)

type beaconFixture struct {
	b        Beacon
	rIn, rHo *escrow.BeaconReveal
}

func newBeaconFixture(t *testing.T) *beaconFixture {
	req := fakeRef(testInspector, 0)
	ctx := BeaconContext(req)
	rIn, err := escrow.NewBeaconReveal(newDetReader("beacon NATO"))
	if err != nil {
		t.Fatal(err)
	}
	rHo, _ := escrow.NewBeaconReveal(newDetReader("beacon RU"))
	due := date("2026-03-02T12:00:00Z")
	return &beaconFixture{
		b: Beacon{Request: req, Due: due,
			Inspector: BeaconPart{Party: testInspector, Commit: rIn.Commit(ctx, testInspector), Reveal: rIn, Time: date("2026-03-02T09:00:00Z")},
			Host:      BeaconPart{Party: testHost, Commit: rHo.Commit(ctx, testHost), Reveal: rHo, Time: date("2026-03-02T10:00:00Z")}},
		rIn: rIn, rHo: rHo}
}

func TestBeaconResolve(t *testing.T) {
	fx := newBeaconFixture(t)
	ctx := BeaconContext(fx.b.Request)
	joint, err := escrow.ResolveBeacon(ctx,
		escrow.Contribution{Party: testInspector, Commit: fx.b.Inspector.Commit, Reveal: fx.rIn},
		escrow.Contribution{Party: testHost, Commit: fx.b.Host.Commit, Reveal: fx.rHo})
	if err != nil || !joint.OK() {
		t.Fatal(err)
	}
	inOnly, hostOnly := FallbackSeed(ctx, testInspector, fx.rIn), FallbackSeed(ctx, testHost, fx.rHo)
	before, after := "2026-03-02T11:00:00Z", "2026-03-02T12:00:00.001Z"
	none := func(p *BeaconPart) { p.Reveal = nil }
	late := func(p *BeaconPart) { p.Time = date(after) }
	wrong := func(p *BeaconPart) { r := *p.Reveal; r.Nonce[0] ^= 1; p.Reveal = &r }
	noCommit := func(p *BeaconPart) { p.Commit, p.Reveal = escrow.Hash{}, nil }
	keep := func(*BeaconPart) {}
	tests := []struct {
		name        string
		f           Fallback
		in, host    func(*BeaconPart)
		now         string
		outcome     BeaconOutcome
		seed        escrow.Hash
		decider     string
		faults      []string
		faultErrors []error
	}{
		{"joint", FallbackForfeit, keep, keep, before, BeaconSeeded, joint.Seed, "", nil, nil},
		{"joint after the deadline", FallbackRefused, keep, keep, after, BeaconSeeded, joint.Seed, "", nil, nil},
		{"host not yet revealed", FallbackForfeit, keep, none, before, BeaconPending, escrow.Hash{}, "", nil, nil},
		{"reveal not yet logged", FallbackForfeit, keep, keep, "2026-03-02T09:30:00Z", BeaconPending, escrow.Hash{}, "", nil, nil},
		{"at the deadline still pending", FallbackForfeit, keep, none, "2026-03-02T12:00:00Z", BeaconPending, escrow.Hash{}, "", nil, nil},
		{"forfeit: host silent", FallbackForfeit, keep, none, after, BeaconSeeded, inOnly, testInspector, []string{testHost}, []error{escrow.ErrNoReveal}},
		{"forfeit: inspector silent", FallbackForfeit, none, keep, after, BeaconSeeded, hostOnly, testHost, []string{testInspector}, []error{escrow.ErrNoReveal}},
		{"forfeit: host late", FallbackForfeit, keep, late, after, BeaconSeeded, inOnly, testInspector, []string{testHost}, []error{escrow.ErrNoReveal}},
		{"forfeit: host wrong reveal, final at once", FallbackForfeit, keep, wrong, before, BeaconSeeded, inOnly, testInspector, []string{testHost}, []error{escrow.ErrBeaconMismatch}},
		{"forfeit: host never committed", FallbackForfeit, keep, noCommit, after, BeaconSeeded, inOnly, testInspector, []string{testHost}, []error{escrow.ErrNoReveal}},
		{"forfeit: both silent", FallbackForfeit, none, none, after, BeaconVoid, escrow.Hash{}, "", []string{testInspector, testHost}, []error{escrow.ErrNoReveal, escrow.ErrNoReveal}},
		{"refused: host silent", FallbackRefused, keep, none, after, BeaconRefusedByHost, escrow.Hash{}, "", []string{testHost}, []error{escrow.ErrNoReveal}},
		{"refused: host wrong reveal", FallbackRefused, keep, wrong, before, BeaconRefusedByHost, escrow.Hash{}, "", []string{testHost}, []error{escrow.ErrBeaconMismatch}},
		{"refused: inspector silent", FallbackRefused, none, keep, after, BeaconForfeitedByInspector, escrow.Hash{}, "", []string{testInspector}, []error{escrow.ErrNoReveal}},
		{"refused: inspector wrong", FallbackRefused, wrong, keep, before, BeaconForfeitedByInspector, escrow.Hash{}, "", []string{testInspector}, []error{escrow.ErrBeaconMismatch}},
		{"refused: both", FallbackRefused, wrong, none, after, BeaconVoid, escrow.Hash{}, "", []string{testInspector, testHost}, []error{escrow.ErrBeaconMismatch, escrow.ErrNoReveal}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBeaconFixture(t).b
			tt.in(&b.Inspector)
			tt.host(&b.Host)
			v, err := b.Resolve(tt.f, date(tt.now))
			if err != nil {
				t.Fatal(err)
			}
			if v.Outcome != tt.outcome || v.Seed != tt.seed || v.Decider != tt.decider || !v.Due.Equal(b.Due) {
				t.Fatalf("got %v seed %v decider %q, want %v seed %v decider %q", v.Outcome, v.Seed, v.Decider, tt.outcome, tt.seed, tt.decider)
			}
			// NATO sorts before RU, so faults are in inspector, host order here.
			blame := v.Blame()
			if len(blame) != len(tt.faults) {
				t.Fatalf("faults %v, want %v", blame, tt.faults)
			}
			for i := range blame {
				if blame[i] != tt.faults[i] || !errors.Is(v.Faults[i].Err, tt.faultErrors[i]) {
					t.Fatalf("fault %d: %s %v, want %s %v", i, blame[i], v.Faults[i].Err, tt.faults[i], tt.faultErrors[i])
				}
			}
			_, err = v.seed()
			if (err == nil) != (tt.outcome == BeaconSeeded) {
				t.Fatalf("seed(): %v", err)
			}
		})
	}
}

func TestBeaconResolveErrors(t *testing.T) {
	b := newBeaconFixture(t).b
	_, err := b.Resolve(Fallback(0), date("2026-03-03T00:00:00Z"))
	wantErr(t, err, ErrInvalid)
	b.Host.Party = testInspector
	_, err = b.Resolve(FallbackForfeit, date("2026-03-03T00:00:00Z"))
	wantErr(t, err, ErrInvalid)
	b.Host.Party = "R U"
	_, err = b.Resolve(FallbackForfeit, date("2026-03-03T00:00:00Z"))
	wantErr(t, err, ErrInvalid)
}

func TestFallbackSeedBytes(t *testing.T) {
	r := &escrow.BeaconReveal{R: hashOf("r"), Nonce: hashOf("n")}
	in := []byte("tillit/inspect/v1/fallback-seed\x00")
	in = binary.BigEndian.AppendUint32(in, 3)
	in = append(in, "ctx"...)
	in = binary.BigEndian.AppendUint32(in, 2)
	in = append(in, "RU"...)
	in = append(in, r.R[:]...)
	if got, want := FallbackSeed("ctx", "RU", r), escrow.Hash(sha256.Sum256(in)); got != want {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestBeaconContext(t *testing.T) {
	ref := fakeRef(testInspector, 7)
	if got, want := BeaconContext(ref), "tillit/inspect/v1/beacon:"+ref.String(); got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestParseNames(t *testing.T) {
	for _, f := range []Fallback{FallbackForfeit, FallbackRefused} {
		if g, err := ParseFallback(f.String()); err != nil || g != f {
			t.Errorf("%v: %v %v", f, g, err)
		}
	}
	for _, s := range []Selection{SelectUniform, SelectWeighted} {
		if g, err := ParseSelection(s.String()); err != nil || g != s {
			t.Errorf("%v: %v %v", s, g, err)
		}
	}
	for _, bad := range []string{"", "Forfeit", "uniform "} {
		if _, err := ParseFallback(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseFallback(%q): %v", bad, err)
		}
		if _, err := ParseSelection(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseSelection(%q): %v", bad, err)
		}
	}
	if Fallback(7).String() != "Fallback(7)" || Selection(0).String() != "Selection(0)" || BeaconOutcome(0).String() != "BeaconOutcome(0)" {
		t.Error("String of unknown values")
	}
}
