package tlog_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/tillit/tillit/tlog"
	"golang.org/x/mod/sumdb/note"
	sumtlog "golang.org/x/mod/sumdb/tlog"
)

var verifySizes = []int64{0, 1, 2, 255, 256, 257, 511, 512, 513, 1000, 65535, 65536, 65537, fixtureSize}

func verifyTestSizes() []int64 {
	if testing.Short() {
		return verifySizes[:10]
	}
	return verifySizes
}

func TestVerifyLog(t *testing.T) {
	l := getTestLog(t)
	for _, size := range verifyTestSizes() {
		files := l.files(t, size, testSigner, witnessSigner)
		for _, par := range []int{0, 1, 3} {
			t.Run(fmt.Sprintf("size=%d/parallel=%d", size, par), func(t *testing.T) {
				m := newMapFetcher(files)
				var progress [][2]int64
				c, err := tlog.VerifyLog(context.Background(), m.fetch, testOrigin, testVerifier, tlog.VerifyOptions{
					Parallel: par,
					Progress: func(done, total int64) { progress = append(progress, [2]int64{done, total}) },
				})
				if err != nil {
					t.Fatalf("VerifyLog: %v", err)
				}
				if want := (sumtlog.Tree{N: size, Hash: l.root(t, size)}); c.Tree != want || c.Origin != testOrigin {
					t.Errorf("VerifyLog = %+v, want %+v", c, want)
				}
				for p, n := range m.fetched {
					if _, ok := files[p]; !ok {
						t.Errorf("fetched %s, which a log of size %d does not have", p, size)
					}
					if n != 1 {
						t.Errorf("fetched %s %d times", p, n)
					}
				}
				for p := range files {
					// Including tile/2/000.p/1 at sizes 65536 and 65537,
					// where level 1 has no partial tile.
					if m.fetched[p] == 0 {
						t.Errorf("did not fetch %s", p)
					}
				}
				if nb := (size + 255) / 256; int64(len(progress)) != nb {
					t.Errorf("Progress called %d times, want %d", len(progress), nb)
				}
				for i, pr := range progress {
					if want := min(int64(i+1)*256, size); pr != [2]int64{want, size} {
						t.Errorf("Progress call %d = %v, want %v", i, pr, [2]int64{want, size})
					}
				}
			})
		}
	}
}

type faultCase struct {
	name   string
	mutate func(files map[string][]byte)
	path   string
	index  int64
	err    error // a sentinel the fault must wrap, if any
}

// bundleEntries returns the entries of the bundle for level-0 tile t.
func bundleEntries(t sumtlog.Tile) [][]byte {
	var es [][]byte
	for i := range int64(t.W) {
		es = append(es, testEntry(t.N*tlog.TileWidth+i))
	}
	return es
}

// nonEmptyEntry returns the index within t of a non-empty entry, near want.
func nonEmptyEntry(t sumtlog.Tile, want int) int {
	k := min(want, t.W-1)
	for len(testEntry(t.N*tlog.TileWidth+int64(k))) == 0 {
		k--
	}
	return k
}

// faultCases returns the ways to corrupt a log of the given size, each with
// the fault VerifyLog must report.
func faultCases(t *testing.T, l *testLog, size int64) []faultCase {
	tiles := sumtlog.NewTiles(tlog.TileHeight, 0, size)
	var level0, level1, upper []sumtlog.Tile
	for _, tile := range tiles {
		switch {
		case tile.L == 0:
			level0 = append(level0, tile)
		case tile.L == 1:
			level1 = append(level1, tile)
		default:
			upper = append(upper, tile)
		}
	}
	bundlePath := func(t0 sumtlog.Tile) string {
		t0.L = tlog.EntriesLevel
		return specTilePath(t0)
	}
	resign := func(text string, signers ...note.Signer) func(map[string][]byte) {
		return func(files map[string][]byte) {
			files["checkpoint"] = signNote(text, signers...)
		}
	}
	root := l.root(t, size)
	cases := []faultCase{
		{"checkpoint missing", func(f map[string][]byte) { delete(f, "checkpoint") }, "checkpoint", -1, tlog.ErrNotFound},
		{"checkpoint wrong root", resign(cpText(testOrigin, size, rootA), testSigner), "checkpoint", -1, tlog.ErrMismatch},
		{"checkpoint bad signature", func(f map[string][]byte) { flipB64(f["checkpoint"], len(f["checkpoint"])-6) }, "checkpoint", -1, tlog.ErrCheckpointSignature},
		{"checkpoint signed by other key", resign(cpText(testOrigin, size, root), otherSigner), "checkpoint", -1, tlog.ErrCheckpointSignature},
		{"checkpoint signed by impostor", resign(cpText(testOrigin, size, root), impostorSigner), "checkpoint", -1, tlog.ErrCheckpointSignature},
		{"checkpoint wrong origin", resign(cpText("example.com/other", size, root), testSigner), "checkpoint", -1, tlog.ErrBadCheckpoint},
		{"checkpoint size 0" + fmt.Sprint(size), resign(testOrigin+"\n0"+fmt.Sprint(size)+"\n"+b64(root[:])+"\n", testSigner), "checkpoint", -1, tlog.ErrBadCheckpoint},
		{"checkpoint not a note", func(f map[string][]byte) { f["checkpoint"] = []byte(cpText(testOrigin, size, root)) }, "checkpoint", -1, tlog.ErrBadCheckpoint},
	}
	for _, which := range []string{"first", "last"} {
		if len(level0) == 0 {
			break
		}
		t0 := level0[0]
		if which == "last" {
			t0 = level0[len(level0)-1]
		}
		p0, pb := specTilePath(t0), bundlePath(t0)
		k := nonEmptyEntry(t0, 200)
		off := 0
		for _, e := range bundleEntries(t0)[:k] {
			off += 2 + len(e)
		}
		es := bundleEntries(t0)
		cases = append(cases,
			faultCase{which + " bundle: entry flipped", func(f map[string][]byte) { f[pb][off+2] ^= 1 }, p0, int64(k), tlog.ErrMismatch},
			faultCase{which + " bundle: missing", func(f map[string][]byte) { delete(f, pb) }, pb, -1, tlog.ErrNotFound},
			faultCase{which + " bundle: one entry too few", func(f map[string][]byte) { f[pb] = encodeBundle(es[:len(es)-1]...) }, pb, -1, tlog.ErrBadBundle},
			faultCase{which + " bundle: one entry too many", func(f map[string][]byte) { f[pb] = encodeBundle(append(es, []byte("x"))...) }, pb, -1, tlog.ErrBadBundle},
			faultCase{which + " bundle: truncated", func(f map[string][]byte) { f[pb] = f[pb][:len(f[pb])-1] }, pb, -1, tlog.ErrBadBundle},
			faultCase{which + " bundle: entries swapped", func(f map[string][]byte) {
				if len(es) < 2 {
					f[pb] = encodeBundle([]byte("other"))
					return
				}
				f[pb] = encodeBundle(slices.Concat([][]byte{es[1], es[0]}, es[2:])...)
			}, p0, 0, tlog.ErrMismatch},
			faultCase{which + " level-0 tile: hash flipped", func(f map[string][]byte) { f[p0][k*32+31] ^= 1 }, p0, int64(k), tlog.ErrMismatch},
			faultCase{which + " level-0 tile: missing", func(f map[string][]byte) { delete(f, p0) }, p0, -1, tlog.ErrNotFound},
			faultCase{which + " level-0 tile: truncated", func(f map[string][]byte) { f[p0] = f[p0][:len(f[p0])-32] }, p0, -1, nil},
			faultCase{which + " level-0 tile: extra hash", func(f map[string][]byte) { f[p0] = append(f[p0], rootA[:]...) }, p0, -1, nil},
		)
	}
	for _, t1 := range level1 {
		p1 := specTilePath(t1)
		last := t1.W - 1
		cases = append(cases,
			faultCase{p1 + ": first hash flipped", func(f map[string][]byte) { f[p1][0] ^= 1 }, p1, 0, tlog.ErrMismatch},
			faultCase{p1 + ": last hash flipped", func(f map[string][]byte) { f[p1][last*32+7] ^= 1 }, p1, int64(last), tlog.ErrMismatch},
			faultCase{p1 + ": missing", func(f map[string][]byte) { delete(f, p1) }, p1, -1, tlog.ErrNotFound},
			faultCase{p1 + ": truncated", func(f map[string][]byte) { f[p1] = f[p1][:len(f[p1])-1] }, p1, -1, nil},
		)
	}
	for _, tu := range upper {
		pu := specTilePath(tu)
		cases = append(cases,
			faultCase{pu + ": hash flipped", func(f map[string][]byte) { f[pu][0] ^= 1 }, pu, 0, tlog.ErrMismatch},
			faultCase{pu + ": missing", func(f map[string][]byte) { delete(f, pu) }, pu, -1, tlog.ErrNotFound},
		)
	}
	return cases
}

func TestVerifyLogFaults(t *testing.T) {
	l := getTestLog(t)
	sizes := []int64{0, 1, 255, 256, 257, 513, 65537, fixtureSize}
	if testing.Short() {
		sizes = sizes[:6]
	}
	for _, size := range sizes {
		files := l.files(t, size, testSigner)
		for _, fc := range faultCases(t, l, size) {
			t.Run(fmt.Sprintf("size=%d/%s", size, fc.name), func(t *testing.T) {
				mutated := maps.Clone(files)
				for p, b := range mutated {
					mutated[p] = bytes.Clone(b)
				}
				fc.mutate(mutated)
				m := newMapFetcher(mutated)
				c, err := tlog.VerifyLog(context.Background(), m.fetch, testOrigin, testVerifier, tlog.VerifyOptions{Parallel: 2})
				checkFault(t, c, err, fc.path, fc.index, fc.err)
			})
		}
	}
}

func checkFault(t *testing.T, c tlog.Checkpoint, err error, path string, index int64, sentinel error) {
	t.Helper()
	if err == nil {
		t.Fatalf("VerifyLog = %+v, want a fault at %s [%d]", c, path, index)
	}
	var f *tlog.Fault
	if !errors.As(err, &f) {
		t.Fatalf("VerifyLog error %v (%T) is not a *Fault", err, err)
	}
	if f.Path != path || f.Index != index {
		t.Errorf("fault at %s [%d], want %s [%d]: %v", f.Path, f.Index, path, index, err)
	}
	if sentinel != nil && !errors.Is(err, sentinel) {
		t.Errorf("fault %q does not wrap %q", err, sentinel)
	}
	if !strings.HasPrefix(err.Error(), path) {
		t.Errorf("fault message %q does not start with the path %s", err, path)
	}
}

// TestVerifyLogHugeCheckpointSize checks that a signed checkpoint with a
// huge tree size gives a fault for the first missing bundle, rather than a
// panic or an allocation per bundle up front.
func TestVerifyLogHugeCheckpointSize(t *testing.T) {
	for _, size := range []int64{1 << 40, 1 << 62, 1<<63 - 1} {
		files := map[string][]byte{"checkpoint": signNote(cpText(testOrigin, size, rootA), testSigner)}
		_, err := tlog.VerifyLog(context.Background(), newMapFetcher(files).fetch, testOrigin, testVerifier, tlog.VerifyOptions{})
		checkFault(t, tlog.Checkpoint{}, err, "tile/entries/000", -1, tlog.ErrNotFound)
	}
}

func TestVerifyLogEntryCallback(t *testing.T) {
	l := getTestLog(t)
	const size = 300
	files := l.files(t, size, testSigner)
	errStop := errors.New("entry rejected")
	var seen []int64
	_, err := tlog.VerifyLog(context.Background(), newMapFetcher(files).fetch, testOrigin, testVerifier, tlog.VerifyOptions{
		Entry: func(index int64, entry []byte) error {
			if !bytes.Equal(entry, testEntry(index)) {
				t.Errorf("entry %d = %q, want %q", index, entry, testEntry(index))
			}
			seen = append(seen, index)
			if index == 270 {
				return errStop
			}
			return nil
		},
	})
	checkFault(t, tlog.Checkpoint{}, err, "tile/entries/001.p/44", 14, errStop)
	if len(seen) != 271 || !slices.IsSorted(seen) {
		t.Errorf("Entry saw %d entries (sorted: %v), want 0-270 in order", len(seen), slices.IsSorted(seen))
	}

	seen = nil
	if _, err := tlog.VerifyLog(context.Background(), newMapFetcher(files).fetch, testOrigin, testVerifier, tlog.VerifyOptions{
		Entry: func(index int64, entry []byte) error { seen = append(seen, index); return nil },
	}); err != nil {
		t.Fatal(err)
	}
	if len(seen) != size || seen[0] != 0 || seen[size-1] != size-1 || !slices.IsSorted(seen) {
		t.Errorf("Entry saw %d entries, want 0-%d in order", len(seen), size-1)
	}
}

func TestFaultError(t *testing.T) {
	f := &tlog.Fault{Path: "tile/0/000", Index: 5, Err: tlog.ErrMismatch}
	if got, want := f.Error(), "tile/0/000 [5]: "+tlog.ErrMismatch.Error(); got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	f = &tlog.Fault{Path: "checkpoint", Index: -1, Err: tlog.ErrNotFound}
	if got, want := f.Error(), "checkpoint: not found"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(f, tlog.ErrNotFound) {
		t.Errorf("Fault does not unwrap to its Err")
	}
}

func writeFiles(t *testing.T, dir string, files map[string][]byte) {
	t.Helper()
	for p, b := range files {
		fp := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(fp), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(fp, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestDirFetcher(t *testing.T) {
	l := getTestLog(t)
	const size = 513
	dir := t.TempDir()
	files := l.files(t, size, testSigner)
	writeFiles(t, dir, files)
	fetch := tlog.DirFetcher(dir)
	c, err := tlog.VerifyLog(context.Background(), fetch, testOrigin, testVerifier, tlog.VerifyOptions{})
	if err != nil || c.Tree.N != size {
		t.Fatalf("VerifyLog(DirFetcher) = %+v, %v", c, err)
	}
	if err := os.Remove(filepath.Join(dir, "tile", "entries", "001")); err != nil {
		t.Fatal(err)
	}
	_, err = tlog.VerifyLog(context.Background(), fetch, testOrigin, testVerifier, tlog.VerifyOptions{})
	checkFault(t, tlog.Checkpoint{}, err, "tile/entries/001", -1, tlog.ErrNotFound)

	for _, p := range []string{"../checkpoint", "/etc/passwd", "tile/0/../../x", ""} {
		if b, err := fetch(context.Background(), p); err == nil {
			t.Errorf("DirFetcher(%q) = %d bytes, want error", p, len(b))
		}
	}
	if _, err := fetch(context.Background(), "tile/9/000"); !errors.Is(err, tlog.ErrNotFound) {
		t.Errorf("DirFetcher of a missing file: %v, want ErrNotFound", err)
	}
	if _, err := fetch(context.Background(), "tile/0"); err == nil {
		t.Errorf("DirFetcher of a directory succeeded")
	}

	if testing.Short() {
		return
	}
	maxResource := tlog.TileWidth * (2 + tlog.MaxEntrySize)
	big := filepath.Join(dir, "big")
	if err := os.WriteFile(big, make([]byte, maxResource), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := fetch(context.Background(), "big"); err != nil || len(b) != maxResource {
		t.Errorf("DirFetcher of a full bundle of maximum-size entries: %d bytes, %v", len(b), err)
	}
	if err := os.WriteFile(big, make([]byte, maxResource+1), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := fetch(context.Background(), "big"); err == nil {
		t.Errorf("DirFetcher read a resource larger than any bundle")
	}
}

func TestHTTPFetcher(t *testing.T) {
	l := getTestLog(t)
	const size = 700
	files := l.files(t, size, testSigner)
	var gzipped atomic.Int64
	srv := httptest.NewServer(http.StripPrefix("/log/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "boom" {
			http.Error(w, "boom", http.StatusInternalServerError)
			return
		}
		b, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		if strings.HasPrefix(r.URL.Path, "tile/entries/") {
			// Compressed with no negotiation (c2sp.org/tlog-tiles, "Log entries").
			gzipped.Add(1)
			w.Header().Set("Content-Encoding", "gzip")
			zw := gzip.NewWriter(w)
			zw.Write(b)
			zw.Close()
			return
		}
		w.Write(b)
	})))
	defer srv.Close()

	for _, prefix := range []string{srv.URL + "/log", srv.URL + "/log/"} {
		fetch, err := tlog.HTTPFetcher(prefix, nil)
		if err != nil {
			t.Fatal(err)
		}
		c, err := tlog.VerifyLog(context.Background(), fetch, testOrigin, testVerifier, tlog.VerifyOptions{})
		if err != nil || c.Tree.N != size {
			t.Fatalf("VerifyLog(HTTPFetcher(%q)) = %+v, %v", prefix, c, err)
		}
		if _, err := fetch(context.Background(), "tile/5/000"); !errors.Is(err, tlog.ErrNotFound) {
			t.Errorf("404: %v, want ErrNotFound", err)
		}
		if _, err := fetch(context.Background(), "boom"); err == nil || errors.Is(err, tlog.ErrNotFound) {
			t.Errorf("500: %v, want an error other than ErrNotFound", err)
		}
	}
	if gzipped.Load() == 0 {
		t.Errorf("no bundle was served compressed")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	fetch, _ := tlog.HTTPFetcher(srv.URL+"/log", srv.Client())
	if _, err := fetch(ctx, "checkpoint"); err == nil {
		t.Errorf("fetch with a cancelled context succeeded")
	}

	for _, prefix := range []string{"", "example.com/log", "ftp://example.com/log", "http://", "/log", "https//example.com", "http://[::1"} {
		if _, err := tlog.HTTPFetcher(prefix, nil); err == nil {
			t.Errorf("HTTPFetcher(%q) succeeded", prefix)
		}
	}
}
