package tlog

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// ProofHeader is the first line of a c2sp.org/tlog-proof@v1 proof.
const ProofHeader = "c2sp.org/tlog-proof@v1"

// MaxProofSize bounds an encoded proof: header, extra data, 63 hashes and a checkpoint.
const MaxProofSize = 64<<10 + MaxCheckpointSize

// maxProofHashes is the longest inclusion proof in a tree of up to 2^63 entries.
const maxProofHashes = 63

// ErrBadProof is wrapped by every error returned for a malformed or invalid proof.
var ErrBadProof = errors.New("invalid tlog proof")

// Proof is a c2sp.org/tlog-proof@v1 proof: an entry index, its inclusion proof
// and the signed checkpoint (with any cosignatures) that the proof leads to.
type Proof struct {
	Extra      []byte           // opaque, unauthenticated; nil when absent
	Index      int64            // zero-based index of the entry
	Inclusion  tlog.RecordProof // from the leaf's sibling up to the root's child
	Checkpoint []byte           // the signed checkpoint note, verbatim
}

// Marshal encodes p (c2sp.org/tlog-proof, "Format").
func (p *Proof) Marshal() []byte {
	var b bytes.Buffer
	b.WriteString(ProofHeader + "\n")
	if p.Extra != nil {
		fmt.Fprintf(&b, "extra %s\n", base64.StdEncoding.EncodeToString(p.Extra))
	}
	fmt.Fprintf(&b, "index %d\n", p.Index)
	for _, h := range p.Inclusion {
		b.WriteString(base64.StdEncoding.EncodeToString(h[:]))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.Write(p.Checkpoint)
	return b.Bytes()
}

// ParseProof decodes a proof produced by Marshal, rejecting anything
// non-canonical. It does not verify the proof: see VerifyProof.
func ParseProof(data []byte) (*Proof, error) {
	bad := func(format string, args ...any) (*Proof, error) {
		return nil, fmt.Errorf("%w: %s", ErrBadProof, fmt.Sprintf(format, args...))
	}
	if len(data) > MaxProofSize {
		return bad("proof of %d bytes exceeds %d", len(data), MaxProofSize)
	}
	head, checkpoint, ok := bytes.Cut(data, []byte("\n\n"))
	if !ok {
		return bad("missing blank line before the checkpoint")
	}
	lines := strings.Split(string(head), "\n")
	if lines[0] != ProofHeader {
		return bad("first line must be %q", ProofHeader)
	}
	lines = lines[1:]
	p := &Proof{Checkpoint: checkpoint}
	if len(lines) > 0 {
		if e, ok := strings.CutPrefix(lines[0], "extra "); ok {
			extra, err := base64.StdEncoding.Strict().DecodeString(e)
			if err != nil || base64.StdEncoding.EncodeToString(extra) != e {
				return bad("extra line is not canonical base64")
			}
			p.Extra = extra
			lines = lines[1:]
		}
	}
	if len(lines) == 0 {
		return bad("missing index line")
	}
	idx, ok := strings.CutPrefix(lines[0], "index ")
	if !ok {
		return bad("expected index line, got %q", lines[0])
	}
	if p.Index, ok = parseDecimal(idx, 1<<63-1); !ok {
		return bad("index %q is not a decimal without sign or leading zeros", idx)
	}
	lines = lines[1:]
	if len(lines) > maxProofHashes {
		return bad("%d proof hashes, at most %d", len(lines), maxProofHashes)
	}
	for i, l := range lines {
		h, err := base64.StdEncoding.Strict().DecodeString(l)
		if err != nil || len(h) != tlog.HashSize || base64.StdEncoding.EncodeToString(h) != l {
			return bad("proof line %d is not a base64 SHA-256 hash", i+1)
		}
		p.Inclusion = append(p.Inclusion, tlog.Hash(h))
	}
	if len(checkpoint) == 0 {
		return bad("missing checkpoint")
	}
	return p, nil
}

// VerifyProof checks that the entry whose RFC 6962 leaf hash is leaf is included
// at p.Index in the tree of p's checkpoint, and that the checkpoint is signed by
// the log key for origin (c2sp.org/tlog-proof, "Verifying a tlog proof", steps 2
// and 4). Cosignatures by any of the witnesses verifiers are verified too and
// returned; which of them suffice is the caller's policy (step 3).
func VerifyProof(p *Proof, leaf tlog.Hash, origin string, logKey note.Verifier, witnesses ...note.Verifier) (Checkpoint, []note.Signature, error) {
	if err := canonicalSignatures(p.Checkpoint); err != nil {
		return Checkpoint{}, nil, fmt.Errorf("%w: %w", ErrBadProof, err)
	}
	vs := append([]note.Verifier{logKey}, witnesses...)
	n, err := note.Open(p.Checkpoint, note.VerifierList(vs...))
	if err != nil {
		var unverified *note.UnverifiedNoteError
		var invalid *note.InvalidSignatureError
		switch {
		case errors.As(err, &invalid) && (invalid.Name != logKey.Name() || invalid.Hash != logKey.KeyHash()):
			return Checkpoint{}, nil, fmt.Errorf("%w: invalid cosignature by %s", ErrBadProof, invalid.Name)
		case errors.As(err, &unverified) || errors.As(err, &invalid):
			return Checkpoint{}, nil, fmt.Errorf("%w: %w: %v", ErrBadProof, ErrCheckpointSignature, err)
		}
		return Checkpoint{}, nil, fmt.Errorf("%w: checkpoint: %v", ErrBadProof, err)
	}
	var logSigned bool
	var cosigs []note.Signature
	for _, s := range n.Sigs {
		if s.Name == logKey.Name() && s.Hash == logKey.KeyHash() {
			logSigned = true
		} else {
			cosigs = append(cosigs, s)
		}
	}
	if !logSigned {
		return Checkpoint{}, nil, fmt.Errorf("%w: %w", ErrBadProof, ErrCheckpointSignature)
	}
	c, err := ParseCheckpoint(n.Text)
	if err != nil {
		return Checkpoint{}, nil, fmt.Errorf("%w: %w", ErrBadProof, err)
	}
	if c.Origin != origin {
		return Checkpoint{}, nil, fmt.Errorf("%w: checkpoint origin %q, want %q", ErrBadProof, c.Origin, origin)
	}
	if p.Index >= c.Tree.N {
		return Checkpoint{}, nil, fmt.Errorf("%w: index %d is outside the tree of size %d", ErrBadProof, p.Index, c.Tree.N)
	}
	if err := tlog.CheckRecord(p.Inclusion, c.Tree.N, c.Tree.Hash, p.Index, leaf); err != nil {
		return Checkpoint{}, nil, fmt.Errorf("%w: inclusion of entry %d in tree of size %d: %v", ErrBadProof, p.Index, c.Tree.N, err)
	}
	return c, cosigs, nil
}
