package tlog_test

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"

	"golang.org/x/mod/sumdb/note"
	sumtlog "golang.org/x/mod/sumdb/tlog"
)

// Fixed Ed25519 note keys, derived from fixed seeds, so that every signed
// test vector (and every seed in testdata/fuzz) is reproducible.
const (
	testOrigin = "example.com/testlog"
	testSKey   = "PRIVATE+KEY+example.com/testlog+3de78c3f+AXjkwfVog9tkCXghIBHMG3KmJkA9JxS9osR4TjKpuOpx"
	testVKey   = "example.com/testlog+3de78c3f+AaeksN/r/1MdPWeV2wWjw0wjwly+ybi+QQ7XbZEtqTsV"

	// impostorSKey has the log key's name but another key (and key ID).
	impostorSKey = "PRIVATE+KEY+example.com/testlog+09ed4476+Af88kjbH8XsaOTn8q+9tiBQHoOmUwCivOaJ5EGiaHYhU"

	otherSKey = "PRIVATE+KEY+other.example/key+8c6fe5e3+AUwk/W+ee4A0MRLkOUfgvkILAzzOJX1lMigJctkiM39r"
	otherVKey = "other.example/key+8c6fe5e3+AQOgw6g1vgbLl1iXSIqkFYSF2WwC0NeS2650ykpJszTL"

	witnessSKey = "PRIVATE+KEY+witness.example/w1+f9a65e2e+AdwkxZIey8XRfB0QhulUewRhEre1SepCASZY7Tg+LfWx"
	witnessVKey = "witness.example/w1+f9a65e2e+AWt7hlWCOdoD8a/28SQ5OCP91X9EhFewcYCWwICNxgBh"
)

var (
	testSigner      = mustSigner(testSKey)
	testVerifier    = mustVerifier(testVKey)
	impostorSigner  = mustSigner(impostorSKey)
	otherSigner     = mustSigner(otherSKey)
	otherVerifier   = mustVerifier(otherVKey)
	witnessSigner   = mustSigner(witnessSKey)
	witnessVerifier = mustVerifier(witnessVKey)
)

func mustSigner(skey string) note.Signer {
	s, err := note.NewSigner(skey)
	if err != nil {
		panic(err)
	}
	return s
}

func mustVerifier(vkey string) note.Verifier {
	v, err := note.NewVerifier(vkey)
	if err != nil {
		panic(err)
	}
	return v
}

// emptyRoot is the RFC 6962 hash of the empty tree, SHA-256("").
var emptyRoot = sumtlog.Hash(sha256.Sum256(nil))

// specRoot is the root hash of the example in c2sp.org/tlog-checkpoint.
const specRoot = "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// testHash returns a distinct, fixed hash for a label.
func testHash(label string) sumtlog.Hash { return sha256.Sum256([]byte(label)) }

// cpText builds the text of a checkpoint note by hand, independently of
// Checkpoint.String (c2sp.org/tlog-checkpoint, "Note text").
func cpText(origin string, size int64, root sumtlog.Hash, ext ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n%d\n%s\n", origin, size, b64(root[:]))
	for _, e := range ext {
		b.WriteString(e + "\n")
	}
	return b.String()
}

// signNote signs text with note.Sign directly, bypassing SignCheckpoint.
func signNote(text string, signers ...note.Signer) []byte {
	msg, err := note.Sign(&note.Note{Text: text}, signers...)
	if err != nil {
		panic(fmt.Sprintf("signing %q: %v", text, err))
	}
	return msg
}

// encodeBundle builds an entry bundle by hand, independently of
// AppendBundleEntry (c2sp.org/tlog-tiles, "Log entries").
func encodeBundle(entries ...[]byte) []byte {
	var b []byte
	for _, e := range entries {
		b = append(b, byte(len(e)>>8), byte(len(e)))
		b = append(b, e...)
	}
	return b
}

// specTilePath is the tlog-tiles path of t, derived from x/mod's Tile.Path
// (which writes the height as an extra element and "data" for entries) as an
// independent oracle for TilePath.
func specTilePath(t sumtlog.Tile) string {
	p := strings.TrimPrefix(t.Path(), fmt.Sprintf("tile/%d/", t.H))
	if r, ok := strings.CutPrefix(p, "data/"); ok {
		p = "entries/" + r
	}
	return "tile/" + p
}

// xmodParseTilePath parses a tlog-tiles path with x/mod's ParseTilePath, by
// rewriting it into x/mod's form. It reports false where x/mod rejects it, or
// for x/mod's own "data" spelling, which tlog-tiles does not have.
func xmodParseTilePath(path string) (sumtlog.Tile, bool) {
	rest, ok := strings.CutPrefix(path, "tile/")
	if !ok || strings.HasPrefix(rest, "data/") {
		return sumtlog.Tile{}, false
	}
	if r, ok := strings.CutPrefix(rest, "entries/"); ok {
		rest = "data/" + r
	}
	t, err := sumtlog.ParseTilePath("tile/8/" + rest)
	if err != nil {
		return sumtlog.Tile{}, false
	}
	return t, true
}

// flipB64 replaces the base64 character at b[i] with another base64
// character, so that a signature still decodes but no longer verifies.
func flipB64(b []byte, i int) {
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
}
