package cosign_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/tillit/tillit/cosign"
	"github.com/tillit/tillit/tlog"
	"golang.org/x/mod/sumdb/note"
	sumtlog "golang.org/x/mod/sumdb/tlog"
)

// Every key in these tests derives from a fixed label, so that the vectors and
// the seeds in testdata/fuzz are reproducible.

// testKey returns the Ed25519 key whose seed is SHA-256(label).
func testKey(label string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte(label))
	return ed25519.NewKeyFromSeed(seed[:])
}

// fixedClock returns a clock that always reads unix.
func fixedClock(unix int64) func() time.Time {
	return func() time.Time { return time.Unix(unix, 0) }
}

// testTime is the clock of the test cosigners: 2026-05-09T00:00:00Z.
const testTime = 1778284800

// witness returns the cosigner named name with the key of label "witness "+name.
func witness(t testing.TB, name string) *cosign.Signer {
	t.Helper()
	s, err := cosign.NewSigner(name, testKey("witness "+name), fixedClock(testTime))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// logKey returns the signed-note Ed25519 (0x01) signer and vkey of a log.
func logKey(t testing.TB, origin string) (note.Signer, string) {
	t.Helper()
	k := testKey("log " + origin)
	skey, vkey, err := note.GenerateKey(bytes.NewReader(k.Seed()), origin)
	if err != nil {
		t.Fatal(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	return s, vkey
}

// checkpointText returns the note text of a checkpoint whose root is the
// hash of label.
func checkpointText(origin string, size int64, label string, ext ...string) string {
	return tlog.Checkpoint{Origin: origin, Tree: sumtlog.Tree{N: size, Hash: sumtlog.Hash(sha256.Sum256([]byte(label)))}, Extensions: ext}.String()
}

// sign signs text with signers, failing the test on error.
func sign(t testing.TB, text string, signers ...note.Signer) []byte {
	t.Helper()
	msg, err := note.Sign(&note.Note{Text: text}, signers...)
	if err != nil {
		t.Fatal(err)
	}
	return msg
}

// lastSig returns the last signature of a signed note.
func lastSig(t testing.TB, msg []byte) note.Signature {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(string(msg), "\n"), "\n")
	s, err := cosign.ParseLine(lines[len(lines)-1])
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// rawSig builds a signature with arbitrary fields: key ID, timestamp and the
// Ed25519 part (n bytes of sigByte).
func rawSig(name string, id uint32, ts uint64, sig []byte) note.Signature {
	b := binary.BigEndian.AppendUint32(nil, id)
	b = binary.BigEndian.AppendUint64(b, ts)
	b = append(b, sig...)
	return note.Signature{Name: name, Hash: id, Base64: base64.StdEncoding.EncodeToString(b)}
}

// resign returns sig with its timestamp replaced by ts and a valid signature
// by s's key over text at ts, as a cosigner with a broken clock would make.
func resign(t testing.TB, text string, name string, key ed25519.PrivateKey, ts uint64) note.Signature {
	t.Helper()
	m := fmt.Sprintf("cosignature/v1\ntime %d\n%s", ts, text)
	return rawSig(name, cosign.KeyID(name, key.Public().(ed25519.PublicKey)), ts, ed25519.Sign(key, []byte(m)))
}

// newRand returns a deterministic random source.
func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed+1)) }

func base64Decode(s string) ([]byte, error) { return base64.StdEncoding.DecodeString(s) }

// withLines appends signature lines to a signed note.
func withLines(msg []byte, sigs ...note.Signature) []byte {
	return append(append([]byte(nil), msg...), cosign.FormatLines(sigs...)...)
}
