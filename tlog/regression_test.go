// Regression tests for bugs found in package tlog and fixed.

package tlog_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/tillit/tillit/tlog"
	"golang.org/x/mod/sumdb/note"
)

// SignCheckpoint checks that c.String() parses, but not that it parses back
// to c: an origin or extension with a newline makes it sign a checkpoint for
// another tree (checkpoint.go, SignCheckpoint). Here it is asked to sign size
// 5 with the empty root and signs size 7 with rootA.
func TestRegressionSignCheckpointNewlines(t *testing.T) {
	for _, c := range []tlog.Checkpoint{
		checkpoint(testOrigin+"\n7\n"+rootAB64, 5, emptyRoot),
		checkpoint(testOrigin, 5, rootA, "a\nb"),
		checkpoint(testOrigin, 5, rootA, "a\n"),
	} {
		msg, err := tlog.SignCheckpoint(c, testSigner)
		if err != nil {
			continue
		}
		got, _, err := tlog.OpenCheckpoint(msg, testOrigin, testVerifier)
		t.Errorf("SignCheckpoint(%+q) signed %q, which opens as %+q (%v)", c, msg, got, err)
	}
}

// VerifyProof reports an invalid witness cosignature as
// ErrCheckpointSignature, "checkpoint not signed by the log key", although the
// log's own signature is valid (proof.go, VerifyProof: every
// note.InvalidSignatureError is mapped to ErrCheckpointSignature, whoever's
// key it names). The sentinel's doc comment limits it to the log key.
func TestRegressionVerifyProofBadCosignature(t *testing.T) {
	cp := signNote(cpText(testOrigin, 1, rootA), testSigner, witnessSigner)
	flipB64(cp, len(cp)-4) // the witness's signature, the last line
	if _, err := note.Open(cp, note.VerifierList(testVerifier)); err != nil {
		t.Fatalf("the log signature does not verify: %v", err)
	}
	_, _, err := tlog.VerifyProof(&tlog.Proof{Checkpoint: cp}, rootA, testOrigin, testVerifier, witnessVerifier)
	if !errors.Is(err, tlog.ErrBadProof) {
		t.Fatalf("VerifyProof = %v, want ErrBadProof", err)
	}
	if errors.Is(err, tlog.ErrCheckpointSignature) {
		t.Errorf("VerifyProof blames the log key for a bad cosignature: %v", err)
	}
}

// ParseCheckpoint (and so OpenCheckpoint) rejects DEL (U+007F), but
// c2sp.org/signed-note forbids only "ASCII control characters (those below
// U+0020) other than newline", and note.Open accepts DEL: a checkpoint a
// conforming log may sign is rejected (checkpoint.go, ParseCheckpoint,
// `r == 0x7f`). Stricter than the spec, so low impact.
func TestRegressionParseCheckpointDEL(t *testing.T) {
	msg := signNote(cpText(testOrigin, 1, rootA, "del\x7f"), testSigner)
	if _, err := note.Open(msg, note.VerifierList(testVerifier)); err != nil {
		t.Fatalf("note.Open: %v", err)
	}
	if _, _, err := tlog.OpenCheckpoint(msg, testOrigin, testVerifier); err != nil {
		t.Errorf("OpenCheckpoint(%q): %v", bytes.TrimSpace(msg), err)
	}
}
