package tlog_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/tillit/tillit/tlog"
	"golang.org/x/mod/sumdb/note"
	sumtlog "golang.org/x/mod/sumdb/tlog"
)

var (
	rootA    = testHash("root A")
	rootAB64 = b64(rootA[:])
)

// nonCanonicalB64 returns s (base64 of 32 bytes) with the unused low bits of
// its last character set: it decodes to the same bytes with a lenient decoder.
func nonCanonicalB64(s string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	i := strings.IndexByte(alphabet, s[42])
	return s[:42] + string(alphabet[i|1]) + s[43:]
}

func checkpoint(origin string, size int64, root sumtlog.Hash, ext ...string) tlog.Checkpoint {
	return tlog.Checkpoint{Origin: origin, Tree: sumtlog.Tree{N: size, Hash: root}, Extensions: ext}
}

// parseCheckpointTests are the edge cases of c2sp.org/tlog-checkpoint, "Note
// text". They also seed FuzzParseCheckpoint.
var parseCheckpointTests = []struct {
	name string
	text string
	want tlog.Checkpoint
	ok   bool
}{
	{"empty tree", cpText(testOrigin, 0, emptyRoot), checkpoint(testOrigin, 0, emptyRoot), true},
	{"spec example", "example.com/behind-the-sofa\n20852163\n" + specRoot + "\n",
		checkpoint("example.com/behind-the-sofa", 20852163, mustHash(specRoot)), true},
	{"max size", cpText(testOrigin, math.MaxInt64, rootA), checkpoint(testOrigin, math.MaxInt64, rootA), true},
	{"extensions", cpText(testOrigin, 5, rootA, "ext one", "— ext two"), checkpoint(testOrigin, 5, rootA, "ext one", "— ext two"), true},
	{"unicode origin", cpText("ünïcödé.example/log", 1, rootA), checkpoint("ünïcödé.example/log", 1, rootA), true},
	{"origin with spaces", cpText("not a url", 1, rootA), checkpoint("not a url", 1, rootA), true},

	{"size -1", testOrigin + "\n-1\n" + rootAB64 + "\n", tlog.Checkpoint{}, false},
	{"size +5", testOrigin + "\n+5\n" + rootAB64 + "\n", tlog.Checkpoint{}, false},
	{"size 007", testOrigin + "\n007\n" + rootAB64 + "\n", tlog.Checkpoint{}, false},
	{"size 00", testOrigin + "\n00\n" + rootAB64 + "\n", tlog.Checkpoint{}, false},
	{"size -0", testOrigin + "\n-0\n" + rootAB64 + "\n", tlog.Checkpoint{}, false},
	{"size empty", testOrigin + "\n\n" + rootAB64 + "\n", tlog.Checkpoint{}, false},
	{"size leading space", testOrigin + "\n 5\n" + rootAB64 + "\n", tlog.Checkpoint{}, false},
	{"size trailing space", testOrigin + "\n5 \n" + rootAB64 + "\n", tlog.Checkpoint{}, false},
	{"size beyond int64", testOrigin + "\n9223372036854775808\n" + rootAB64 + "\n", tlog.Checkpoint{}, false},
	{"size beyond uint64", testOrigin + "\n18446744073709551616\n" + rootAB64 + "\n", tlog.Checkpoint{}, false},
	{"size 19 nines", testOrigin + "\n9999999999999999999\n" + rootAB64 + "\n", tlog.Checkpoint{}, false},
	{"size exponent", testOrigin + "\n1e3\n" + rootAB64 + "\n", tlog.Checkpoint{}, false},
	{"size hex", testOrigin + "\n0x10\n" + rootAB64 + "\n", tlog.Checkpoint{}, false},
	{"size underscore", testOrigin + "\n1_000\n" + rootAB64 + "\n", tlog.Checkpoint{}, false},
	{"size arabic-indic digit", testOrigin + "\n٥\n" + rootAB64 + "\n", tlog.Checkpoint{}, false},
	{"empty origin", "\n5\n" + rootAB64 + "\n", tlog.Checkpoint{}, false},
	{"root 31 bytes", testOrigin + "\n5\n" + b64(rootA[:31]) + "\n", tlog.Checkpoint{}, false},
	{"root 33 bytes", testOrigin + "\n5\n" + b64(append(rootA[:], 0)) + "\n", tlog.Checkpoint{}, false},
	{"root empty", testOrigin + "\n5\n\n", tlog.Checkpoint{}, false},
	{"root non-canonical base64", testOrigin + "\n5\n" + nonCanonicalB64(rootAB64) + "\n", tlog.Checkpoint{}, false},
	{"root unpadded", testOrigin + "\n5\n" + strings.TrimRight(rootAB64, "=") + "\n", tlog.Checkpoint{}, false},
	{"root URL alphabet", "example.com/behind-the-sofa\n20852163\n" + strings.ReplaceAll(specRoot, "/", "_") + "\n", tlog.Checkpoint{}, false},
	{"root trailing space", testOrigin + "\n5\n" + rootAB64 + " \n", tlog.Checkpoint{}, false},
	{"root carriage return", testOrigin + "\n5\n" + rootAB64 + "\r\n", tlog.Checkpoint{}, false},
	{"root hex", testOrigin + "\n5\n" + hex.EncodeToString(rootA[:]) + "\n", tlog.Checkpoint{}, false},
	{"root split", testOrigin + "\n5\n" + rootAB64[:20] + "\n" + rootAB64[20:] + "\n", tlog.Checkpoint{}, false},
	{"empty extension line at end", cpText(testOrigin, 5, rootA) + "\n", tlog.Checkpoint{}, false},
	{"empty extension line in middle", cpText(testOrigin, 5, rootA, "a", "", "b"), tlog.Checkpoint{}, false},
	{"signed note", string(signNote(cpText(testOrigin, 5, rootA), testSigner)), tlog.Checkpoint{}, false},
	{"invalid UTF-8 origin", cpText("example.com/\xff", 5, rootA), tlog.Checkpoint{}, false},
	{"invalid UTF-8 extension", cpText(testOrigin, 5, rootA, "ext \xc3"), tlog.Checkpoint{}, false},
	{"tab in origin", cpText("example.com/\tlog", 5, rootA), tlog.Checkpoint{}, false},
	{"carriage return in origin", cpText("example.com/log\r", 5, rootA), tlog.Checkpoint{}, false},
	{"NUL in extension", cpText(testOrigin, 5, rootA, "ext\x00"), tlog.Checkpoint{}, false},
	{"escape in extension", cpText(testOrigin, 5, rootA, "\x1b[31mred"), tlog.Checkpoint{}, false},
	{"surrogate half", cpText("\xed\xa0\x80", 5, rootA), tlog.Checkpoint{}, false},
	{"no final newline", strings.TrimSuffix(cpText(testOrigin, 5, rootA), "\n"), tlog.Checkpoint{}, false},
	{"CRLF", strings.ReplaceAll(cpText(testOrigin, 5, rootA), "\n", "\r\n"), tlog.Checkpoint{}, false},
	{"two lines", testOrigin + "\n5\n", tlog.Checkpoint{}, false},
	{"one line", testOrigin + "\n", tlog.Checkpoint{}, false},
	{"newline", "\n", tlog.Checkpoint{}, false},
	{"empty", "", tlog.Checkpoint{}, false},
}

func mustHash(s string) sumtlog.Hash {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b) != sumtlog.HashSize {
		panic(fmt.Sprintf("bad hash %q", s))
	}
	return sumtlog.Hash(b)
}

func TestParseCheckpoint(t *testing.T) {
	for _, tt := range parseCheckpointTests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tlog.ParseCheckpoint(tt.text)
			if !tt.ok {
				if err == nil {
					t.Fatalf("ParseCheckpoint(%q) = %+v, want error", tt.text, got)
				}
				if !errors.Is(err, tlog.ErrBadCheckpoint) {
					t.Errorf("error %v does not wrap ErrBadCheckpoint", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseCheckpoint(%q): %v", tt.text, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseCheckpoint(%q) = %+v, want %+v", tt.text, got, tt.want)
			}
			if s := got.String(); s != tt.text {
				t.Errorf("String() = %q, want %q", s, tt.text)
			}
		})
	}
}

func TestCheckpointRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for range 5000 {
		c := tlog.Checkpoint{Origin: fmt.Sprintf("example.com/log%d", r.IntN(100))}
		switch r.IntN(3) {
		case 0:
			c.Tree.N = r.Int64N(1000)
		case 1:
			c.Tree.N = math.MaxInt64 - r.Int64N(1000)
		default:
			c.Tree.N = r.Int64N(int64(1) << r.IntN(63))
		}
		for i := range c.Tree.Hash {
			c.Tree.Hash[i] = byte(r.Uint32())
		}
		for range r.IntN(3) {
			c.Extensions = append(c.Extensions, fmt.Sprintf("ext %x", r.Uint64()))
		}
		text := c.String()
		if want := cpText(c.Origin, c.Tree.N, c.Tree.Hash, c.Extensions...); text != want {
			t.Fatalf("String() = %q, want %q", text, want)
		}
		got, err := tlog.ParseCheckpoint(text)
		if err != nil {
			t.Fatalf("ParseCheckpoint(%q): %v", text, err)
		}
		if !reflect.DeepEqual(got, c) {
			t.Fatalf("ParseCheckpoint(%q) = %+v, want %+v", text, got, c)
		}
	}
}

// replaceSigDash replaces the em dash (U+2014) that starts every signature line.
func replaceSigDash(msg []byte, dash string) []byte {
	return bytes.ReplaceAll(msg, []byte("\n— "), []byte("\n"+dash+" "))
}

// unknownSigs returns n signature lines by keys the verifier does not know,
// each with a body of sigLen bytes (after the 4-byte key ID).
func unknownSigs(n, sigLen int) string {
	var b strings.Builder
	for i := range n {
		body := make([]byte, 4+sigLen)
		body[0], body[1] = byte(i>>8), byte(i)
		fmt.Fprintf(&b, "— witness%d.example %s\n", i, b64(body))
	}
	return b.String()
}

// paddedToSize returns a signed checkpoint of exactly size bytes, padded
// with an extension line.
func paddedToSize(size int) []byte {
	base := len(signNote(cpText(testOrigin, 5, rootA, "x"), testSigner))
	return signNote(cpText(testOrigin, 5, rootA, strings.Repeat("x", 1+size-base)), testSigner)
}

type openCheckpointTest struct {
	name    string
	msg     []byte
	origin  string
	wantErr error // nil if the note must open; else the sentinel it must wrap
	want    tlog.Checkpoint
}

// openCheckpointTests are signed-note and tlog-checkpoint edge cases for
// OpenCheckpoint with testVerifier. They also seed FuzzOpenCheckpoint.
func openCheckpointTests() []openCheckpointTest {
	good := signNote(cpText(testOrigin, 5, rootA), testSigner)
	flipped := bytes.Clone(good)
	flipB64(flipped, len(flipped)-5) // inside the base64 signature
	text := cpText(testOrigin, 5, rootA)
	logSig := string(good[len(text)+1:])
	bad := func(text string) []byte { return signNote(text, testSigner) }
	return []openCheckpointTest{
		{"valid", good, testOrigin, nil, checkpoint(testOrigin, 5, rootA)},
		{"empty tree", signNote(cpText(testOrigin, 0, emptyRoot), testSigner), testOrigin, nil, checkpoint(testOrigin, 0, emptyRoot)},
		{"extensions", signNote(cpText(testOrigin, 5, rootA, "e1", "e2"), testSigner), testOrigin, nil, checkpoint(testOrigin, 5, rootA, "e1", "e2")},
		{"cosigned", signNote(text, testSigner, otherSigner, witnessSigner), testOrigin, nil, checkpoint(testOrigin, 5, rootA)},
		{"log signature last", signNote(text, witnessSigner, testSigner), testOrigin, nil, checkpoint(testOrigin, 5, rootA)},
		{"impostor signature ignored", signNote(text, impostorSigner, testSigner), testOrigin, nil, checkpoint(testOrigin, 5, rootA)},
		{"16 unknown Ed25519 signatures", []byte(text + "\n" + unknownSigs(16, 64) + logSig), testOrigin, nil, checkpoint(testOrigin, 5, rootA)},
		// signed-note: verifiers "MUST accept at least up to 16 signatures",
		// which may be ML-DSA-44 cosignatures (c2sp.org/tlog-cosignature:
		// 8-byte timestamp and 2420-byte signature).
		{"16 ML-DSA-44-sized cosignatures", []byte(text + "\n" + logSig + unknownSigs(16, 8+2420)), testOrigin, nil, checkpoint(testOrigin, 5, rootA)},
		{"100 signatures", []byte(text + "\n" + unknownSigs(99, 1) + logSig), testOrigin, nil, checkpoint(testOrigin, 5, rootA)},
		{"exactly MaxCheckpointSize", paddedToSize(tlog.MaxCheckpointSize), testOrigin, nil, tlog.Checkpoint{}},
		{"duplicate log signature", []byte(string(good) + logSig), testOrigin, nil, checkpoint(testOrigin, 5, rootA)},

		{"101 signatures", []byte(text + "\n" + unknownSigs(100, 1) + logSig), testOrigin, tlog.ErrBadCheckpoint, tlog.Checkpoint{}},
		{"MaxCheckpointSize+1", paddedToSize(tlog.MaxCheckpointSize + 1), testOrigin, tlog.ErrBadCheckpoint, tlog.Checkpoint{}},
		{"oversized", signNote(cpText(testOrigin, 5, rootA, strings.Repeat("x", tlog.MaxCheckpointSize)), testSigner), testOrigin, tlog.ErrBadCheckpoint, tlog.Checkpoint{}},
		{"missing blank line", []byte(text + logSig), testOrigin, tlog.ErrBadCheckpoint, tlog.Checkpoint{}},
		{"hyphen instead of em dash", replaceSigDash(good, "-"), testOrigin, tlog.ErrBadCheckpoint, tlog.Checkpoint{}},
		{"en dash instead of em dash", replaceSigDash(good, "–"), testOrigin, tlog.ErrBadCheckpoint, tlog.Checkpoint{}},
		{"no space after dash", bytes.Replace(good, []byte("— "), []byte("—"), 1), testOrigin, tlog.ErrBadCheckpoint, tlog.Checkpoint{}},
		{"no signatures", []byte(text + "\n"), testOrigin, tlog.ErrBadCheckpoint, tlog.Checkpoint{}},
		{"text only", []byte(text), testOrigin, tlog.ErrBadCheckpoint, tlog.Checkpoint{}},
		{"no final newline", bytes.TrimSuffix(good, []byte("\n")), testOrigin, tlog.ErrBadCheckpoint, tlog.Checkpoint{}},
		{"trailing blank line", append(bytes.Clone(good), '\n'), testOrigin, tlog.ErrBadCheckpoint, tlog.Checkpoint{}},
		{"signature not base64", []byte(text + "\n— " + testOrigin + " !!!!\n"), testOrigin, tlog.ErrBadCheckpoint, tlog.Checkpoint{}},
		{"CRLF", bytes.ReplaceAll(good, []byte("\n"), []byte("\r\n")), testOrigin, tlog.ErrBadCheckpoint, tlog.Checkpoint{}},
		{"invalid UTF-8", signNote(cpText("example.com/\xff", 5, rootA), testSigner), "example.com/\xff", tlog.ErrBadCheckpoint, tlog.Checkpoint{}},
		{"control character", signNote(cpText("example.com/\tlog", 5, rootA), testSigner), "example.com/\tlog", tlog.ErrBadCheckpoint, tlog.Checkpoint{}},
		{"empty", nil, testOrigin, tlog.ErrBadCheckpoint, tlog.Checkpoint{}},
		{"wrong origin", good, "example.com/otherlog", tlog.ErrBadCheckpoint, tlog.Checkpoint{}},
		{"origin prefix", signNote(cpText(testOrigin+"/sub", 5, rootA), testSigner), testOrigin, tlog.ErrBadCheckpoint, tlog.Checkpoint{}},
		{"empty origin", bad("\n5\n" + rootAB64 + "\n"), "", tlog.ErrBadCheckpoint, tlog.Checkpoint{}},
		{"size -1", bad(testOrigin + "\n-1\n" + rootAB64 + "\n"), testOrigin, tlog.ErrBadCheckpoint, tlog.Checkpoint{}},
		{"size +5", bad(testOrigin + "\n+5\n" + rootAB64 + "\n"), testOrigin, tlog.ErrBadCheckpoint, tlog.Checkpoint{}},
		{"size 007", bad(testOrigin + "\n007\n" + rootAB64 + "\n"), testOrigin, tlog.ErrBadCheckpoint, tlog.Checkpoint{}},
		{"size beyond int64", bad(testOrigin + "\n9223372036854775808\n" + rootAB64 + "\n"), testOrigin, tlog.ErrBadCheckpoint, tlog.Checkpoint{}},
		{"root 31 bytes", bad(testOrigin + "\n5\n" + b64(rootA[:31]) + "\n"), testOrigin, tlog.ErrBadCheckpoint, tlog.Checkpoint{}},
		{"root 33 bytes", bad(testOrigin + "\n5\n" + b64(append(rootA[:], 7)) + "\n"), testOrigin, tlog.ErrBadCheckpoint, tlog.Checkpoint{}},
		{"root non-canonical base64", bad(testOrigin + "\n5\n" + nonCanonicalB64(rootAB64) + "\n"), testOrigin, tlog.ErrBadCheckpoint, tlog.Checkpoint{}},
		{"empty extension line at end", bad(text + "\n"), testOrigin, tlog.ErrBadCheckpoint, tlog.Checkpoint{}},
		{"empty extension line in middle", bad(cpText(testOrigin, 5, rootA, "a", "", "b")), testOrigin, tlog.ErrBadCheckpoint, tlog.Checkpoint{}},
		{"two lines", bad(testOrigin + "\n5\n"), testOrigin, tlog.ErrBadCheckpoint, tlog.Checkpoint{}},

		{"signed by other key", signNote(text, otherSigner), testOrigin, tlog.ErrCheckpointSignature, tlog.Checkpoint{}},
		{"signed by impostor key", signNote(text, impostorSigner), testOrigin, tlog.ErrCheckpointSignature, tlog.Checkpoint{}},
		{"bad signature", flipped, testOrigin, tlog.ErrCheckpointSignature, tlog.Checkpoint{}},
		{"bad signature before good", []byte(string(flipped) + logSig), testOrigin, tlog.ErrCheckpointSignature, tlog.Checkpoint{}},
		{"signature over other text", []byte(cpText(testOrigin, 6, rootA) + "\n" + logSig), testOrigin, tlog.ErrCheckpointSignature, tlog.Checkpoint{}},
		{"unknown signatures only", []byte(text + "\n" + unknownSigs(3, 64)), testOrigin, tlog.ErrCheckpointSignature, tlog.Checkpoint{}},
	}
}

func TestOpenCheckpoint(t *testing.T) {
	if n := len(paddedToSize(tlog.MaxCheckpointSize)); n != tlog.MaxCheckpointSize {
		t.Fatalf("paddedToSize(%d) is %d bytes", tlog.MaxCheckpointSize, n)
	}
	for _, tt := range openCheckpointTests() {
		t.Run(tt.name, func(t *testing.T) {
			c, n, err := tlog.OpenCheckpoint(tt.msg, tt.origin, testVerifier)
			if tt.wantErr != nil {
				if err == nil {
					t.Fatalf("OpenCheckpoint = %+v, want error wrapping %v", c, tt.wantErr)
				}
				if !errors.Is(err, tt.wantErr) {
					t.Errorf("OpenCheckpoint error %q does not wrap %q", err, tt.wantErr)
				}
				if n != nil {
					t.Errorf("OpenCheckpoint returned a note with an error")
				}
				return
			}
			if err != nil {
				t.Fatalf("OpenCheckpoint: %v", err)
			}
			if tt.want.Origin != "" && !reflect.DeepEqual(c, tt.want) {
				t.Errorf("OpenCheckpoint = %+v, want %+v", c, tt.want)
			}
			if c.Origin != tt.origin {
				t.Errorf("origin %q, want %q", c.Origin, tt.origin)
			}
			if n.Text != c.String() {
				t.Errorf("note text %q, checkpoint %q", n.Text, c.String())
			}
			var logSigs int
			for _, s := range n.Sigs {
				if s.Name == testVerifier.Name() && s.Hash == testVerifier.KeyHash() {
					logSigs++
				}
			}
			if logSigs != 1 {
				t.Errorf("%d verified signatures by the log key, want 1: %+v", logSigs, n.Sigs)
			}
		})
	}
}

func TestSignCheckpoint(t *testing.T) {
	c := checkpoint(testOrigin, 42, rootA, "ext")
	msg, err := tlog.SignCheckpoint(c, testSigner, witnessSigner)
	if err != nil {
		t.Fatal(err)
	}
	if want := signNote(cpText(testOrigin, 42, rootA, "ext"), testSigner, witnessSigner); !bytes.Equal(msg, want) {
		t.Errorf("SignCheckpoint = %q, want %q", msg, want)
	}
	got, n, err := tlog.OpenCheckpoint(msg, testOrigin, testVerifier)
	if err != nil || !reflect.DeepEqual(got, c) {
		t.Fatalf("OpenCheckpoint(SignCheckpoint(c)) = %+v, %v; want %+v", got, err, c)
	}
	if len(n.Sigs) != 1 || len(n.UnverifiedSigs) != 1 || n.UnverifiedSigs[0].Name != witnessVerifier.Name() {
		t.Errorf("signatures %+v, unverified %+v", n.Sigs, n.UnverifiedSigs)
	}
	// SignCheckpoint refuses what ParseCheckpoint rejects, such as control
	// characters, which a signed note must not contain.
	for _, c := range []tlog.Checkpoint{
		checkpoint("", 1, rootA),
		checkpoint("example.com/\tlog", 1, rootA),
		checkpoint("example.com/log\r", 1, rootA),
		checkpoint(testOrigin, -1, rootA),
		checkpoint(testOrigin, 1, rootA, ""),
		checkpoint(testOrigin, 1, rootA, "\x00"),
		checkpoint("example.com/\xff", 1, rootA),
	} {
		if msg, err := tlog.SignCheckpoint(c, testSigner); !errors.Is(err, tlog.ErrBadCheckpoint) {
			t.Errorf("SignCheckpoint(%q) = %q, %v; want ErrBadCheckpoint", c.String(), msg, err)
		}
	}
	// With no signers, note.Sign gives a note without signature lines, which
	// must not open.
	if unsigned, err := tlog.SignCheckpoint(c); err == nil {
		if _, _, err := tlog.OpenCheckpoint(unsigned, testOrigin, testVerifier); err == nil {
			t.Errorf("OpenCheckpoint accepted a checkpoint with no signatures: %q", unsigned)
		}
	}
}

func TestNoteText(t *testing.T) {
	for _, tt := range openCheckpointTests() {
		if tt.wantErr != nil {
			continue
		}
		n, err := note.Open(tt.msg, note.VerifierList(testVerifier))
		if err != nil {
			t.Fatalf("%s: note.Open: %v", tt.name, err)
		}
		got, err := tlog.NoteText(tt.msg)
		if err != nil || got != n.Text {
			t.Errorf("%s: NoteText = %q, %v; note.Open says %q", tt.name, got, err, n.Text)
		}
	}
	// The text ends at the last empty line, not the first (c2sp.org/signed-note,
	// "Format"). For a checkpoint, the prefix up to the first empty line
	// could parse as a checkpoint that nobody signed.
	for _, msg := range [][]byte{
		signNote("Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\ned è subito sera.\n", testSigner),
		signNote(cpText(testOrigin, 5, rootA)+"\nevil\n", testSigner),
	} {
		n, err := note.Open(msg, note.VerifierList(testVerifier))
		if err != nil {
			t.Fatal(err)
		}
		if got, err := tlog.NoteText(msg); err != nil || got != n.Text {
			t.Errorf("NoteText(%q) = %q, %v; the signed text is %q", msg, got, err, n.Text)
		}
	}
	for _, msg := range []string{"", "text\n", "text\n— sig\n", "a\nb\n"} {
		if got, err := tlog.NoteText([]byte(msg)); !errors.Is(err, tlog.ErrBadCheckpoint) {
			t.Errorf("NoteText(%q) = %q, %v; want ErrBadCheckpoint", msg, got, err)
		}
	}
}
