package inspect

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/tillit/tillit/escrow"
	"github.com/tillit/tillit/statement"
)

// This file implements spec §Beacon: the inspection's beacon context, its
// reveal deadline, and what follows when a party does not reveal in time.

const (
	contextPrefix   = "tillit/inspect/v1/beacon:"
	tagFallbackSeed = "tillit/inspect/v1/fallback-seed"
)

// BeaconContext returns the beacon context of the inspection requested in
// the statement request: "tillit/inspect/v1/beacon:" followed by the
// reference's text form (spec §Beacon).
func BeaconContext(request statement.Ref) string { return contextPrefix + request.String() }

// RevealDue returns the beacon deadline of an inspection accepted at
// accepted (the time of the accepting reply): both parties' commits and
// reveals must be logged at or before accepted + within.
func RevealDue(accepted time.Time, within time.Duration) time.Time {
	return accepted.UTC().Add(within)
}

// A Fallback is what a regime does when a party does not complete the
// beacon by its deadline (spec §Beacon fallback). A reveal that does not
// match its commit counts as no reveal.
type Fallback int

const (
	// FallbackForfeit: the party at fault forfeits its share; the other
	// party's revealed contribution alone gives the seed. The party at fault
	// is recorded as non-compliant. A party that reveals second and then
	// withholds can choose between two seeds it knows; this fallback does
	// not stop that, it only records it.
	FallbackForfeit Fallback = iota + 1
	// FallbackRefused: no seed. If the host is at fault the inspection is
	// deemed refused by the host: it does not count against the quotas, and
	// the inspector may request again. If the inspector is at fault it
	// forfeits the inspection, which still counts against the quotas. Either
	// way the withholding party gains nothing.
	FallbackRefused
)

var fallbackNames = [...]string{FallbackForfeit: "forfeit", FallbackRefused: "refused"}

func (f Fallback) String() string {
	if f > 0 && int(f) < len(fallbackNames) {
		return fallbackNames[f]
	}
	return fmt.Sprintf("Fallback(%d)", int(f))
}

// ParseFallback parses "forfeit" or "refused".
func ParseFallback(s string) (Fallback, error) {
	for f, name := range fallbackNames {
		if name != "" && name == s {
			return Fallback(f), nil
		}
	}
	return 0, fmt.Errorf("fallback %q: %w: want %q or %q", truncate(s), ErrInvalid, FallbackForfeit, FallbackRefused)
}

// A BeaconPart is what the logs show of one party's part in the beacon.
type BeaconPart struct {
	Party  string
	Commit escrow.Hash          // the zero hash if the party logged no commit
	Reveal *escrow.BeaconReveal // the party's first reveal, nil if none is logged
	Time   time.Time            // the reveal statement's time
}

// A Beacon is an inspection's beacon as the logs show it.
type Beacon struct {
	Request   statement.Ref // the inspection.request statement; gives the context
	Inspector BeaconPart
	Host      BeaconPart
	Due       time.Time // the reveal deadline, from RevealDue
}

// A BeaconOutcome is the result of a beacon under a fallback.
type BeaconOutcome int

const (
	// BeaconPending: the deadline has not passed and a reveal is missing.
	BeaconPending BeaconOutcome = iota + 1
	// BeaconSeeded: there is a seed to select the site with.
	BeaconSeeded
	// BeaconRefusedByHost: the host did not reveal in time, under
	// FallbackRefused: the inspection is deemed refused by the host.
	BeaconRefusedByHost
	// BeaconForfeitedByInspector: the inspector did not reveal in time,
	// under FallbackRefused: there is no inspection, and it counts against
	// the quotas.
	BeaconForfeitedByInspector
	// BeaconVoid: neither party revealed in time: there is no inspection,
	// and it counts against the quotas.
	BeaconVoid
)

var outcomeNames = [...]string{BeaconPending: "pending", BeaconSeeded: "seeded",
	BeaconRefusedByHost: "refused-by-host", BeaconForfeitedByInspector: "forfeited-by-inspector", BeaconVoid: "void"}

func (o BeaconOutcome) String() string {
	if o > 0 && int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return fmt.Sprintf("BeaconOutcome(%d)", int(o))
}

// A BeaconVerdict is what follows from a beacon at some time.
type BeaconVerdict struct {
	Outcome BeaconOutcome
	// Seed selects the site if Outcome is BeaconSeeded.
	Seed escrow.Hash
	// Decider is, under FallbackForfeit, the party whose contribution alone
	// gave Seed; "" if both did.
	Decider string
	// Faults names the parties at fault, as escrow.ResolveBeacon does, in
	// party name order: each wraps escrow.ErrNoReveal or
	// escrow.ErrBeaconMismatch. Both parties' faults are kept even when a
	// fallback provides a seed, so that non-compliance stays on record.
	Faults []escrow.Fault
	// Due is the reveal deadline.
	Due time.Time
}

// Resolve returns the verdict of the beacon at now under fallback f (spec
// §Beacon fallback). A reveal counts only if it is logged at or before both
// now and the deadline. Until the deadline passes the outcome is
// BeaconPending unless both parties have revealed; after it, the outcome is
// final. Resolve fails only on invalid arguments: bad or equal party names,
// or an unknown fallback.
func (b *Beacon) Resolve(f Fallback, now time.Time) (*BeaconVerdict, error) {
	if f != FallbackForfeit && f != FallbackRefused {
		return nil, fmt.Errorf("beacon: fallback %d: %w", int(f), ErrInvalid)
	}
	for _, p := range []BeaconPart{b.Inspector, b.Host} {
		if msg := checkParty(p.Party); msg != "" {
			return nil, fmt.Errorf("beacon: party %q: %s: %w", truncate(p.Party), msg, ErrInvalid)
		}
	}
	ctx := BeaconContext(b.Request)
	in, host := b.Inspector.contribution(b.Due, now), b.Host.contribution(b.Due, now)
	v := &BeaconVerdict{Due: b.Due.UTC()}
	if !now.After(b.Due) && (in.Reveal == nil || host.Reveal == nil) {
		v.Outcome = BeaconPending
		return v, nil
	}
	o, err := escrow.ResolveBeacon(ctx, in, host)
	if err != nil {
		return nil, fmt.Errorf("beacon: %w: %w", ErrInvalid, err)
	}
	v.Faults = o.Faults
	if o.OK() {
		v.Outcome, v.Seed = BeaconSeeded, o.Seed
		return v, nil
	}
	inFault, hostFault := false, false
	for _, ft := range o.Faults {
		inFault = inFault || ft.Party == in.Party
		hostFault = hostFault || ft.Party == host.Party
	}
	switch {
	case inFault && hostFault:
		v.Outcome = BeaconVoid
	case f == FallbackRefused && hostFault:
		v.Outcome = BeaconRefusedByHost
	case f == FallbackRefused:
		v.Outcome = BeaconForfeitedByInspector
	case hostFault:
		v.Outcome, v.Decider, v.Seed = BeaconSeeded, in.Party, FallbackSeed(ctx, in.Party, in.Reveal)
	default:
		v.Outcome, v.Decider, v.Seed = BeaconSeeded, host.Party, FallbackSeed(ctx, host.Party, host.Reveal)
	}
	return v, nil
}

// contribution returns the part as escrow.ResolveBeacon sees it: without a
// reveal logged after the deadline or after now.
func (p BeaconPart) contribution(due, now time.Time) escrow.Contribution {
	c := escrow.Contribution{Party: p.Party, Commit: p.Commit, Reveal: p.Reveal}
	if p.Reveal != nil && (p.Time.After(due) || p.Time.After(now)) {
		c.Reveal = nil
	}
	return c
}

// FallbackSeed returns the seed that party's verified reveal alone gives
// under FallbackForfeit (spec §Beacon fallback):
//
//	SHA-256("tillit/inspect/v1/fallback-seed" ‖ 0x00 ‖ str(context) ‖ str(party) ‖ R)
//
// where str(s) is the 4-byte big-endian length of s followed by s.
func FallbackSeed(context, party string, r *escrow.BeaconReveal) escrow.Hash {
	b := append([]byte(tagFallbackSeed), 0)
	b = appendStr(b, context)
	b = appendStr(b, party)
	b = append(b, r.R[:]...)
	return sha256.Sum256(b)
}

func appendStr(b []byte, s string) []byte {
	return append(binary.BigEndian.AppendUint32(b, uint32(len(s))), s...)
}

// seed returns the verdict's seed, or an error wrapping ErrState if the
// beacon gave none.
func (v *BeaconVerdict) seed() (escrow.Hash, error) {
	if v.Outcome != BeaconSeeded {
		return escrow.Hash{}, fmt.Errorf("beacon is %s: %w: no seed", v.Outcome, ErrState)
	}
	return v.Seed, nil
}

// Blame returns the parties at fault, in name order.
func (v *BeaconVerdict) Blame() []string {
	var out []string
	for _, f := range v.Faults {
		out = append(out, f.Party)
	}
	return out
}
