package tlog_test

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tillit/tillit/internal/fuzzseed"
	"github.com/tillit/tillit/tlog"
	"golang.org/x/mod/sumdb/note"
	sumtlog "golang.org/x/mod/sumdb/tlog"
)

// The seeds of every fuzz target are the table cases of the parser tests.
// They are also checked in under testdata/fuzz/<FuzzName>/seed-<case>; after
// changing a table, run
//
//	go test ./tlog/ -run TestFuzzSeedCorpus -update-corpus
var updateCorpus = flag.Bool("update-corpus", false, "rewrite the seed files in testdata/fuzz")

type seed struct {
	name string
	val  any // string or []byte, as the fuzz target takes
}

func tilePathSeeds() []seed {
	var s []seed
	for _, tt := range tilePathTests {
		s = append(s, seed{tt.name, tt.path})
	}
	r := rand.New(rand.NewPCG(11, 12))
	for i := range 8 {
		s = append(s, seed{fmt.Sprint("random ", i), tlog.TilePath(randomTile(r))})
	}
	return s
}

func parseCheckpointSeeds() []seed {
	var s []seed
	for _, tt := range parseCheckpointTests {
		s = append(s, seed{tt.name, tt.text})
	}
	return s
}

func openCheckpointSeeds() []seed {
	var s []seed
	for _, tt := range openCheckpointTests() {
		s = append(s, seed{tt.name, tt.msg})
	}
	return s
}

// realProofs returns proofs from the test log, which FuzzParseProof can verify.
func realProofs() []seed {
	l := getTestLog(nil)
	var s []seed
	for _, c := range []struct{ size, idx int64 }{{1, 0}, {3, 2}, {257, 256}, {1000, 345}} {
		rp, err := sumtlog.ProveRecord(c.size, c.idx, l)
		if err != nil {
			panic(err)
		}
		root, err := sumtlog.TreeHash(c.size, l)
		if err != nil {
			panic(err)
		}
		cp := signNote(cpText(testOrigin, c.size, root), testSigner, witnessSigner)
		p := &tlog.Proof{Extra: []byte(fmt.Sprint("extra ", c.idx)), Index: c.idx, Inclusion: rp, Checkpoint: cp}
		s = append(s, seed{fmt.Sprintf("real proof %d in %d", c.idx, c.size), p.Marshal()})
	}
	return s
}

func parseProofSeeds() []seed {
	var s []seed
	for _, tt := range parseProofTests {
		s = append(s, seed{tt.name, tt.data})
	}
	return append(s, realProofs()...)
}

func splitBundleSeeds() []seed {
	var s []seed
	for _, tt := range bundleTests {
		s = append(s, seed{tt.name, tt.bundle})
	}
	return s
}

var fuzzSeeds = map[string]func() []seed{
	"FuzzParseTilePath":   tilePathSeeds,
	"FuzzParseCheckpoint": parseCheckpointSeeds,
	"FuzzOpenCheckpoint":  openCheckpointSeeds,
	"FuzzParseProof":      parseProofSeeds,
	"FuzzSplitBundle":     splitBundleSeeds,
}

func addSeeds(f *testing.F) {
	for _, s := range fuzzSeeds[f.Name()]() {
		f.Add(s.val)
	}
}

// TestFuzzSeedCorpus checks that testdata/fuzz holds every table seed.
func TestFuzzSeedCorpus(t *testing.T) {
	for target, seeds := range fuzzSeeds {
		var ss []fuzzseed.Seed
		for _, s := range seeds() {
			ss = append(ss, fuzzseed.Seed{Name: s.name, Val: s.val})
		}
		fuzzseed.Sync(t, target, ss, *updateCorpus, "go test ./tlog/ -run TestFuzzSeedCorpus -update-corpus")
	}
}

func FuzzParseTilePath(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, path string) {
		tile, err := tlog.ParseTilePath(path)
		x, xok := xmodParseTilePath(path)
		if xok && x.L > 63 {
			xok = false // tlog-tiles levels stop at 63; x/mod's don't
		}
		if err != nil {
			if !errors.Is(err, tlog.ErrBadTilePath) {
				t.Fatalf("ParseTilePath(%q) error %v does not wrap ErrBadTilePath", path, err)
			}
			if xok {
				t.Fatalf("ParseTilePath(%q) fails (%v) but x/mod parses it as %+v", path, err, x)
			}
			return
		}
		if p := tlog.TilePath(tile); p != path {
			t.Fatalf("ParseTilePath(%q) = %+v, whose TilePath is %q", path, tile, p)
		}
		if !xok || x != tile {
			t.Fatalf("ParseTilePath(%q) = %+v; x/mod: %+v, %v", path, tile, x, xok)
		}
		if tile.H != tlog.TileHeight || tile.L < tlog.EntriesLevel || tile.L > 63 ||
			tile.N < 0 || tile.W < 1 || tile.W > tlog.TileWidth {
			t.Fatalf("ParseTilePath(%q) = %+v, out of range", path, tile)
		}
		// In the smallest tree where it exists, TileForSize gives back the tile.
		l := max(tile.L, 0)
		if 8*l >= 63 {
			return
		}
		unit := int64(1) << (8 * l)
		if tile.N > (math.MaxInt64-int64(tile.W))/256 {
			return
		}
		count := tile.N*256 + int64(tile.W)
		if count > math.MaxInt64/unit {
			return
		}
		if got, ok := tlog.TileForSize(tile.L, tile.N, count*unit); !ok || got != tile {
			t.Fatalf("TileForSize(%d, %d, %d) = %+v, %v; want %+v", tile.L, tile.N, count*unit, got, ok, tile)
		}
	})
}

// noteSafe reports whether text may be the text of a signed note: no ASCII
// control characters but newline (c2sp.org/signed-note, "Format").
func noteSafe(text string) bool {
	for _, r := range text {
		if r < 0x20 && r != '\n' {
			return false
		}
	}
	return utf8.ValidString(text)
}

func FuzzParseCheckpoint(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, text string) {
		c, err := tlog.ParseCheckpoint(text)
		if err != nil {
			if !errors.Is(err, tlog.ErrBadCheckpoint) {
				t.Fatalf("ParseCheckpoint(%q) error %v does not wrap ErrBadCheckpoint", text, err)
			}
			return
		}
		if s := c.String(); s != text {
			t.Fatalf("ParseCheckpoint(%q) = %+v, whose String is %q", text, c, s)
		}
		if c.Origin == "" || c.Tree.N < 0 || strings.Contains(c.Origin, "\n") {
			t.Fatalf("ParseCheckpoint(%q) = %+v", text, c)
		}
		for _, e := range c.Extensions {
			if e == "" || strings.Contains(e, "\n") {
				t.Fatalf("ParseCheckpoint(%q): extension %q", text, e)
			}
		}
		if len(text) > tlog.MaxCheckpointSize/2 {
			return
		}
		if !noteSafe(text) {
			t.Fatalf("ParseCheckpoint(%q) accepts what no signed note may contain", text)
		}
		msg, err := tlog.SignCheckpoint(c, testSigner)
		if err != nil {
			t.Fatalf("SignCheckpoint(%+v): %v", c, err)
		}
		c2, _, err := tlog.OpenCheckpoint(msg, c.Origin, testVerifier)
		if err != nil || !reflect.DeepEqual(c2, c) {
			t.Fatalf("OpenCheckpoint(SignCheckpoint(%+v)) = %+v, %v", c, c2, err)
		}
	})
}

func FuzzOpenCheckpoint(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, msg []byte) {
		tlog.NoteText(msg) // must not panic
		checkOpen(t, msg)
		// Re-sign the text with the test key, keeping the other signature
		// lines, so that mutations of the text reach ParseCheckpoint.
		if i := bytes.LastIndex(msg, []byte("\n\n")); i >= 0 {
			signed, err := note.Sign(&note.Note{Text: string(msg[:i+1])}, testSigner)
			if err == nil {
				checkOpen(t, append(signed, msg[i+2:]...))
			}
		}
	})
}

func checkOpen(t *testing.T, msg []byte) {
	origin, _, _ := bytes.Cut(msg, []byte("\n"))
	for _, want := range []string{testOrigin, string(origin)} {
		c, n, err := tlog.OpenCheckpoint(msg, want, testVerifier)
		if err != nil {
			if !errors.Is(err, tlog.ErrBadCheckpoint) && !errors.Is(err, tlog.ErrCheckpointSignature) {
				t.Fatalf("OpenCheckpoint(%q) error %v wraps neither sentinel", msg, err)
			}
			if n != nil {
				t.Fatalf("OpenCheckpoint(%q) returned a note and %v", msg, err)
			}
			continue
		}
		if c.Origin != want {
			t.Fatalf("OpenCheckpoint(%q, %q) has origin %q", msg, want, c.Origin)
		}
		if len(msg) > tlog.MaxCheckpointSize {
			t.Fatalf("OpenCheckpoint accepted %d bytes", len(msg))
		}
		if n.Text != c.String() {
			t.Fatalf("OpenCheckpoint(%q): note text %q, checkpoint %q", msg, n.Text, c.String())
		}
		if text, err := tlog.NoteText(msg); err != nil || text != n.Text {
			t.Fatalf("NoteText(%q) = %q, %v; want %q", msg, text, err, n.Text)
		}
		if c2, err := tlog.ParseCheckpoint(n.Text); err != nil || !reflect.DeepEqual(c2, c) {
			t.Fatalf("ParseCheckpoint(%q) = %+v, %v; OpenCheckpoint gave %+v", n.Text, c2, err, c)
		}
		var signed bool
		for _, s := range n.Sigs {
			signed = signed || s.Name == testVerifier.Name() && s.Hash == testVerifier.KeyHash()
		}
		if !signed {
			t.Fatalf("OpenCheckpoint(%q) succeeded without a log signature: %+v", msg, n.Sigs)
		}
	}
}

func FuzzParseProof(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := tlog.ParseProof(data)
		if err != nil {
			if !errors.Is(err, tlog.ErrBadProof) {
				t.Fatalf("ParseProof(%q) error %v does not wrap ErrBadProof", data, err)
			}
			return
		}
		if m := p.Marshal(); !bytes.Equal(m, data) {
			t.Fatalf("ParseProof(%q) = %+v, whose Marshal is %q", data, p, m)
		}
		if p.Index < 0 || len(p.Inclusion) > 63 || len(p.Checkpoint) == 0 || len(data) > tlog.MaxProofSize {
			t.Fatalf("ParseProof(%q) = %+v", data, p)
		}
		// Verify it as an entry of the test log, and compare with an
		// oracle built from note.Open and transparency-dev/merkle.
		leaf := sumtlog.RecordHash(testEntry(p.Index))
		c, _, err := tlog.VerifyProof(p, leaf, testOrigin, testVerifier, witnessVerifier)
		var oc tlog.Checkpoint
		want := func() error {
			n, err := note.Open(p.Checkpoint, note.VerifierList(testVerifier, witnessVerifier))
			if err != nil {
				return err
			}
			var logSigned bool
			for _, s := range n.Sigs {
				logSigned = logSigned || s.Name == testVerifier.Name() && s.Hash == testVerifier.KeyHash()
			}
			if !logSigned {
				return errors.New("no log signature")
			}
			oc, err = tlog.ParseCheckpoint(n.Text)
			if err != nil {
				return err
			}
			if oc.Origin != testOrigin {
				return errors.New("wrong origin")
			}
			return merkleVerify(p.Inclusion, oc.Tree.N, oc.Tree.Hash, p.Index, leaf)
		}()
		if (err == nil) != (want == nil) {
			t.Fatalf("VerifyProof(%q) = %v; oracle says %v", data, err, want)
		}
		if err != nil && !errors.Is(err, tlog.ErrBadProof) {
			t.Fatalf("VerifyProof error %v does not wrap ErrBadProof", err)
		}
		if err == nil && !reflect.DeepEqual(c, oc) {
			t.Fatalf("VerifyProof(%q) = %+v; oracle says %+v", data, c, oc)
		}
	})
}

func FuzzSplitBundle(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, bundle []byte) {
		entries, err := tlog.SplitBundle(bundle)
		if err != nil {
			if !errors.Is(err, tlog.ErrBadBundle) {
				t.Fatalf("SplitBundle error %v does not wrap ErrBadBundle", err)
			}
			if b, err := tlog.TruncateBundle(bundle, tlog.TileWidth); err == nil && bytes.Equal(b, bundle) {
				t.Fatalf("SplitBundle fails but the bundle is %d well-formed entries", tlog.TileWidth)
			}
			return
		}
		if len(entries) > tlog.TileWidth {
			t.Fatalf("SplitBundle returned %d entries", len(entries))
		}
		var enc []byte
		for _, e := range entries {
			if enc, err = tlog.AppendBundleEntry(enc, e); err != nil {
				t.Fatal(err)
			}
		}
		if !bytes.Equal(enc, bundle) || !bytes.Equal(encodeBundle(entries...), bundle) {
			t.Fatalf("re-encoding %d entries gives %q, want %q", len(entries), enc, bundle)
		}
		for _, w := range []int{0, len(entries) / 2, len(entries)} {
			got, err := tlog.TruncateBundle(bundle, w)
			if err != nil || !bytes.Equal(got, encodeBundle(entries[:w]...)) {
				t.Fatalf("TruncateBundle(%q, %d) = %q, %v", bundle, w, got, err)
			}
		}
		if got, err := tlog.TruncateBundle(bundle, len(entries)+1); err == nil {
			t.Fatalf("TruncateBundle(%q, %d) = %q beyond the last entry", bundle, len(entries)+1, got)
		}
	})
}
