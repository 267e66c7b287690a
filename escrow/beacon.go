package escrow

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"math/bits"
)

// This file implements the beacon of spec §Beacon: two parties each commit
// to a random contribution, then reveal it; the seed combines both, so
// neither alone can bias it, and a stream derived from the seed chooses
// what is inspected.

const (
	tagBeaconCommit = "tillit/beacon/v1/commit"
	tagBeaconSeed   = "tillit/beacon/v1/seed"
	tagBeaconStream = "tillit/beacon/v1/stream"
)

// A BeaconReveal is one party's contribution: a 32-byte random value R and a
// 32-byte nonce. It is published only after both commits are logged.
type BeaconReveal struct {
	R     Hash `json:"r"`
	Nonce Hash `json:"nonce"`
}

// NewBeaconReveal draws a contribution from rnd, or crypto/rand if nil.
func NewBeaconReveal(rnd io.Reader) (*BeaconReveal, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	var b [2]Hash
	if err := readHashes(rnd, b[:]); err != nil {
		return nil, fmt.Errorf("couldn't draw a beacon contribution: %w", err)
	}
	return &BeaconReveal{R: b[0], Nonce: b[1]}, nil
}

// Commit returns the party's commit to r for context (spec §Beacon):
// SHA-256("tillit/beacon/v1/commit" ‖ 0x00 ‖ str(context) ‖ str(party) ‖ R ‖ nonce).
func (r *BeaconReveal) Commit(context, party string) Hash {
	return enc(nil).tag(tagBeaconCommit).str(context).str(party).hash(&r.R).hash(&r.Nonce).sum()
}

// VerifyBeaconReveal checks a party's reveal against its logged commit.
func VerifyBeaconReveal(context, party string, commit Hash, r *BeaconReveal) error {
	if r.Commit(context, party) != commit {
		return fmt.Errorf("party %q, context %q: %w", party, context, ErrBeaconMismatch)
	}
	return nil
}

// ParseBeaconReveal decodes a reveal in canonical JSON.
func ParseBeaconReveal(data []byte) (*BeaconReveal, error) {
	return parseCanonical[BeaconReveal](data, "beacon reveal")
}

// A Contribution is what the log shows of one party's part in a beacon.
type Contribution struct {
	Party  string
	Commit Hash
	Reveal *BeaconReveal // nil: no reveal before the deadline
}

// A Fault names a party that did not complete its part of the beacon.
type Fault struct {
	Party string
	Err   error // wraps ErrNoReveal or ErrBeaconMismatch
}

// An Outcome is the result of a beacon: a seed, or the parties at fault.
// What happens after a fault (a fallback choice, a compliance finding) is
// the regime's decision, not this package's.
type Outcome struct {
	Seed   Hash    // zero unless OK
	Faults []Fault // in party name order; empty if OK
}

// OK reports whether both parties revealed correctly and Seed is valid.
func (o *Outcome) OK() bool { return len(o.Faults) == 0 }

// ResolveBeacon computes the beacon's outcome from both contributions. It
// returns an error only for invalid arguments (bad names, the same party
// twice); a missing or wrong reveal is a Fault in the Outcome.
func ResolveBeacon(context string, a, b Contribution) (*Outcome, error) {
	if err := checkBeaconArgs(context, a.Party, b.Party); err != nil {
		return nil, err
	}
	if b.Party < a.Party {
		a, b = b, a
	}
	o := &Outcome{}
	for _, c := range []Contribution{a, b} {
		switch {
		case c.Reveal == nil:
			o.Faults = append(o.Faults, Fault{c.Party, fmt.Errorf("party %q: %w", c.Party, ErrNoReveal)})
		case c.Reveal.Commit(context, c.Party) != c.Commit:
			o.Faults = append(o.Faults, Fault{c.Party, fmt.Errorf("party %q: %w", c.Party, ErrBeaconMismatch)})
		}
	}
	if o.OK() {
		o.Seed = enc(nil).tag(tagBeaconSeed).str(context).
			str(a.Party).hash(&a.Reveal.R).str(b.Party).hash(&b.Reveal.R).sum()
	}
	return o, nil
}

func checkBeaconArgs(context, a, b string) error {
	if context == "" {
		return fmt.Errorf("beacon context: empty: %w", ErrInvalidName)
	}
	if err := validValue(context); err != nil {
		return fmt.Errorf("beacon context: %w", err)
	}
	if err := validNames(a, b); err != nil {
		return fmt.Errorf("beacon party: %w", err)
	}
	if a == b {
		return fmt.Errorf("beacon parties: %q twice: %w", a, ErrInvalidParams)
	}
	return nil
}

// A Stream is the deterministic sequence of 64-bit values derived from a
// seed and a label (spec §Selection): block i is SHA-256(
// "tillit/beacon/v1/stream" ‖ 0x00 ‖ seed ‖ str(label) ‖ u64(i)), and each
// block gives four big-endian 64-bit values in order. Use a distinct label
// for each choice made from one seed.
type Stream struct {
	prefix enc
	next   uint64 // index of the next block
	block  Hash
	used   int // bytes of block consumed
}

// NewStream returns the stream for seed and label.
func NewStream(seed Hash, label string) *Stream {
	return &Stream{prefix: enc(nil).tag(tagBeaconStream).hash(&seed).str(label), used: len(Hash{})}
}

// Uint64 returns the stream's next value.
func (s *Stream) Uint64() uint64 {
	if s.used == len(s.block) {
		s.block = append(s.prefix[:len(s.prefix):len(s.prefix)], enc(nil).u64(s.next)...).sum()
		s.next++
		s.used = 0
	}
	v := binary.BigEndian.Uint64(s.block[s.used:])
	s.used += 8
	return v
}

// Uniform returns a uniform choice in [0, n) by rejection sampling: it draws
// x until x ≥ 2^64 mod n and returns x mod n.
func (s *Stream) Uniform(n uint64) (uint64, error) {
	if n == 0 {
		return 0, fmt.Errorf("uniform choice among 0: %w", ErrInvalidParams)
	}
	threshold := -n % n // 2^64 mod n
	for {
		if x := s.Uint64(); x >= threshold {
			return x % n, nil
		}
	}
}

// Weighted returns index i with probability weights[i] / sum(weights): it
// draws u = Uniform(sum) and returns the first i whose running sum exceeds u.
// Zero weights are never chosen.
func (s *Stream) Weighted(weights []uint64) (int, error) {
	var total uint64
	for i, w := range weights {
		var carry uint64
		total, carry = bits.Add64(total, w, 0)
		if carry != 0 {
			return 0, fmt.Errorf("weights overflow at index %d: %w", i, ErrInvalidParams)
		}
	}
	u, err := s.Uniform(total)
	if err != nil {
		return 0, fmt.Errorf("weighted choice: all weights zero: %w", ErrInvalidParams)
	}
	for i, w := range weights {
		if u < w {
			return i, nil
		}
		u -= w
	}
	panic("unreachable: u < total")
}

// Sample returns k distinct values of [0, n) in the order chosen, by a
// partial Fisher–Yates shuffle of 0, 1, …, n-1: for i = 0 … k-1 it swaps
// position i with position i + Uniform(n - i) and takes position i.
func (s *Stream) Sample(n uint64, k int) ([]uint64, error) {
	if k < 0 || uint64(k) > n {
		return nil, fmt.Errorf("sample of %d from %d: %w", k, n, ErrInvalidParams)
	}
	moved := make(map[uint64]uint64, k) // positions whose value is not their index
	at := func(i uint64) uint64 {
		if v, ok := moved[i]; ok {
			return v
		}
		return i
	}
	out := make([]uint64, k)
	for i := range uint64(k) {
		d, _ := s.Uniform(n - i)
		j := i + d
		out[i] = at(j)
		moved[j] = at(i)
	}
	return out, nil
}
