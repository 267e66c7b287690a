package cosign

import (
	"errors"
	"fmt"
	"time"

	"github.com/tillit/tillit/tlog"
	"golang.org/x/mod/sumdb/note"
)

// Details says what [Policy.Satisfied] found in a signed checkpoint.
type Details struct {
	Checkpoint tlog.Checkpoint

	// Log is the key name of the policy log whose signature verified, or ""
	// if the policy lists no logs.
	Log string

	// Cosigned lists the witnesses whose cosignature verified and counts
	// towards the quorum, in policy order.
	Cosigned []Cosigned

	// Future lists witnesses whose cosignature verified but does not count
	// because its timestamp is too far in the future ([Policy.SatisfiedAt]).
	Future []Cosigned

	// Missing lists, in policy order, the names of the witnesses that don't
	// count: no cosignature, or one in Future.
	Missing []string
}

// Cosigned is a verified cosignature by a policy witness.
type Cosigned struct {
	Witness   string // the policy name of the witness
	Time      time.Time
	Signature note.Signature
}

// Satisfied reports whether msg, a signed checkpoint note, is valid under p
// (c2sp.org/tlog-policy, "What is a policy?"): signed by one of p's logs
// whose key name is the checkpoint's origin (if p lists logs) and cosigned by
// a quorum of p's witnesses.
//
// The error is non-nil, and ok false, if msg is not a well-formed checkpoint
// note (tlog.ErrBadCheckpoint), has no valid signature by a policy log or a
// signature by a policy log that fails to verify (tlog.ErrCheckpointSignature),
// or carries a cosignature by a policy witness that fails to verify
// ([ErrInvalidCosignature]): per c2sp.org/signed-note, "Signatures", a known
// key's bad signature rejects the whole note. Signatures by other keys are
// ignored. Otherwise ok says whether the quorum is met, and details which
// witnesses cosigned.
func (p *Policy) Satisfied(msg []byte) (ok bool, details *Details, err error) {
	return p.satisfied(msg, nil)
}

// SatisfiedAt is Satisfied, except that a cosignature whose timestamp is more
// than tolerance after now does not count towards the quorum
// ([CheckNotFuture]); it is listed in Details.Future.
func (p *Policy) SatisfiedAt(msg []byte, now time.Time, tolerance time.Duration) (ok bool, details *Details, err error) {
	return p.satisfied(msg, func(ts time.Time) bool { return CheckNotFuture(ts, now, tolerance) == nil })
}

func (p *Policy) satisfied(msg []byte, timely func(time.Time) bool) (bool, *Details, error) {
	if p == nil || !p.built {
		return false, nil, &PolicyError{0, "not a policy made by ParsePolicy or AllOf"}
	}
	if len(msg) > tlog.MaxCheckpointSize {
		return false, nil, fmt.Errorf("%w: note of %d bytes exceeds %d", tlog.ErrBadCheckpoint, len(msg), tlog.MaxCheckpointSize)
	}
	// Parse the checkpoint first, so that a malformed one is reported as
	// such rather than as signatures that fail to verify.
	text, err := tlog.NoteText(msg)
	if err != nil {
		return false, nil, err
	}
	c, err := tlog.ParseCheckpoint(text)
	if err != nil {
		return false, nil, err
	}
	n, err := note.Open(msg, note.VerifierList(p.verifiers()...))
	var unverified *note.UnverifiedNoteError
	var invalid *note.InvalidSignatureError
	switch {
	case errors.As(err, &unverified):
		if len(p.logs) > 0 {
			return false, nil, fmt.Errorf("%w: no signature by a log of the policy", tlog.ErrCheckpointSignature)
		}
		n = unverified.Note // no witness cosigned
	case errors.As(err, &invalid):
		for _, w := range p.witnesses {
			if w.Verifier.name == invalid.Name && w.Verifier.id == invalid.Hash {
				return false, nil, fmt.Errorf("%w: cosignature by witness %s (%s/%08x) does not verify", ErrInvalidCosignature, w.Name, invalid.Name, invalid.Hash)
			}
		}
		return false, nil, fmt.Errorf("%w: signature by log %s/%08x does not verify", tlog.ErrCheckpointSignature, invalid.Name, invalid.Hash)
	case err != nil:
		return false, nil, fmt.Errorf("%w: %v", tlog.ErrBadCheckpoint, err)
	}
	if n.Text != text {
		return false, nil, fmt.Errorf("%w: note text differs from its checkpoint", tlog.ErrBadCheckpoint)
	}

	d := &Details{Checkpoint: c}
	if len(p.logs) > 0 {
		if d.Log, err = p.logSigner(n, c.Origin); err != nil {
			return false, nil, err
		}
	}
	have := make([]bool, len(p.witnesses))
	for i, w := range p.witnesses {
		for _, s := range n.Sigs {
			if s.Name != w.Verifier.name || s.Hash != w.Verifier.id {
				continue
			}
			ts, err := Timestamp(s)
			if err != nil {
				return false, nil, err // unreachable: the Verifier checked it
			}
			cs := Cosigned{Witness: w.Name, Time: ts, Signature: s}
			if timely != nil && !timely(ts) {
				d.Future = append(d.Future, cs)
				break
			}
			d.Cosigned = append(d.Cosigned, cs)
			have[i] = true
			break
		}
		if !have[i] {
			d.Missing = append(d.Missing, w.Name)
		}
	}
	return p.eval(have), d, nil
}

// verifiers returns the verifiers of every log and witness.
func (p *Policy) verifiers() []note.Verifier {
	vs := make([]note.Verifier, 0, len(p.logs)+len(p.witnesses))
	for _, l := range p.logs {
		vs = append(vs, l.Verifier)
	}
	for _, w := range p.witnesses {
		vs = append(vs, w.Verifier)
	}
	return vs
}

// logSigner returns the name of the policy log that signed n, checking that
// it is the checkpoint's origin (c2sp.org/tlog-policy, "Defining a log").
func (p *Policy) logSigner(n *note.Note, origin string) (string, error) {
	var other string
	for _, s := range n.Sigs {
		for _, l := range p.logs {
			if s.Name != l.Verifier.Name() || s.Hash != l.Verifier.KeyHash() {
				continue
			}
			if s.Name == origin {
				return s.Name, nil
			}
			other = s.Name
		}
	}
	if other != "" {
		return "", fmt.Errorf("%w: signed by log %s, but the checkpoint's origin is %q", tlog.ErrCheckpointSignature, other, origin)
	}
	return "", fmt.Errorf("%w: no signature by a log of the policy", tlog.ErrCheckpointSignature)
}

// eval reports whether the witnesses marked in have meet the quorum. Groups
// only refer to earlier groups, so one pass in definition order suffices.
func (p *Policy) eval(have []bool) bool {
	if p.quorum == nil {
		return true
	}
	met := make([]bool, len(p.groups))
	holds := func(r ref) bool {
		if r.group {
			return met[r.index]
		}
		return have[r.index]
	}
	for i, g := range p.groups {
		n := 0
		for _, m := range g.members {
			if holds(m) {
				n++
			}
		}
		met[i] = n >= g.k
	}
	return holds(*p.quorum)
}
