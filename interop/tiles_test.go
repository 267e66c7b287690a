package interop

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"filippo.io/torchwood"
	"github.com/tillit/tillit/partylog"
	"golang.org/x/mod/sumdb/note"
	sumdb "golang.org/x/mod/sumdb/tlog"
)

// tileLogSize is the size of the log read by the tile client: the example of
// c2sp.org/tlog-tiles, "Partial Tiles" (273 full level 0 tiles, a partial
// level 0 tile of width 112, a full and a partial (17) level 1 tile, and a
// partial level 2 tile of width 1).
const tileLogSize = 70_000

// tileLogOldSize is the size of an earlier checkpoint, whose root and
// consistency with the final tree are recomputed from the served tiles.
const tileLogOldSize = 3_000

// TestTileClient builds a tillit log and has torchwood's tlog-tiles client
// read and verify all of it, both as served by partylog's handler and as
// exported to a static directory.
func TestTileClient(t *testing.T) {
	t.Parallel()
	size := tileLogSize
	if testing.Short() {
		size = 3_333
	}
	lg := newTestLog(t, "tillit.example/interop/tiles")
	lg.appendN(t, tileLogOldSize)
	old := lg.checkpoint(t)
	lg.appendN(t, size-tileLogOldSize)
	cp := lg.checkpoint(t)

	t.Run("served", func(t *testing.T) {
		mux := http.NewServeMux()
		mux.Handle("/log/", http.StripPrefix("/log", lg.Handler()))
		srv := httptest.NewServer(mux)
		defer srv.Close()
		checkServedHeaders(t, srv.URL+"/log/")
		verifyWithTorchwood(t, srv.URL+"/log/", lg, cp, old)
	})

	t.Run("exported", func(t *testing.T) {
		dir := t.TempDir()
		exported, err := lg.Export(context.Background(), dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(exported.Note, cp.Note) {
			t.Fatalf("Export wrote checkpoint\n%s\nwant\n%s", exported.Note, cp.Note)
		}
		checkExportLayout(t, dir)
		srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
		defer srv.Close()
		verifyWithTorchwood(t, srv.URL+"/", lg, cp, old)
	})
}

// verifyWithTorchwood reads the log at prefix with torchwood only, and checks
// it against what was appended to lg: the checkpoint, every entry in order,
// an inclusion proof, and the consistency of the old checkpoint.
func verifyWithTorchwood(t *testing.T, prefix string, lg *testLog, cp, old partylog.Signed) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	fetcher, err := torchwood.NewTileFetcher(prefix)
	if err != nil {
		t.Fatal(err)
	}
	tr := &recordingReader{TileReader: fetcher}

	// Checkpoint: a c2sp.org/signed-note verified with the tillit log key,
	// whose text torchwood parses as a c2sp.org/tlog-checkpoint.
	msg, err := tr.ReadEndpoint(ctx, "checkpoint")
	if err != nil {
		t.Fatal(err)
	}
	n, err := note.Open(msg, note.VerifierList(lg.verifier))
	if err != nil {
		t.Fatalf("checkpoint does not verify with the log key %s: %v\n%s", lg.vkey, err, msg)
	}
	c, err := torchwood.ParseCheckpoint(n.Text)
	if err != nil {
		t.Fatalf("torchwood can't parse the checkpoint: %v\n%s", err, n.Text)
	}
	if c.Origin != lg.origin || c.Extension != "" || c.String() != n.Text {
		t.Fatalf("checkpoint parsed as origin %q, extension %q, re-encoded %q; note text %q", c.Origin, c.Extension, c.String(), n.Text)
	}
	if c.Tree != cp.Tree {
		t.Fatalf("served tree %+v, want the log's latest %+v", c.Tree, cp.Tree)
	}
	tree := c.Tree

	// Every entry, in order, through the tlog-tiles entry bundle format;
	// the client checks each entry against the tiles and the tiles against
	// the checkpoint root.
	client, err := torchwood.NewClient(tr, torchwood.WithCutEntry(cutTlogTilesEntry))
	if err != nil {
		t.Fatal(err)
	}
	var next int64
	for next < tree.N {
		// Entries may stop before a trailing partial bundle; resuming with
		// the same tree fetches it.
		from := next
		for i, e := range client.Entries(ctx, tree, next) {
			if i != next {
				t.Fatalf("Entries yielded index %d, want %d", i, next)
			}
			if !bytes.Equal(e, lg.entries[i]) {
				t.Fatalf("entry %d: torchwood read %d bytes %.16x…, appended %d bytes %.16x…", i, len(e), e, len(lg.entries[i]), lg.entries[i])
			}
			next++
		}
		if err := client.Err(); err != nil {
			t.Fatalf("torchwood Client.Entries from %d: %v", from, err)
		}
		if next == from {
			t.Fatalf("torchwood Client.Entries made no progress at %d of %d", next, tree.N)
		}
	}

	// Single entries with inclusion proofs, including both ends of the tree
	// and an entry in the trailing partial bundle.
	for _, idx := range []int64{0, tree.N / 2, tree.N - 1, lg.rnd.Int64N(tree.N)} {
		e, proof, err := client.Entry(ctx, tree, idx)
		if err != nil {
			t.Fatalf("torchwood Client.Entry(%d): %v", idx, err)
		}
		if !bytes.Equal(e, lg.entries[idx]) {
			t.Fatalf("Client.Entry(%d) returned different bytes than appended", idx)
		}
		if err := sumdb.CheckRecord(proof, tree.N, tree.Hash, idx, sumdb.RecordHash(lg.entries[idx])); err != nil {
			t.Fatalf("inclusion proof of entry %d from torchwood: %v", idx, err)
		}
		own, err := lg.ProveInclusion(ctx, idx, tree.N)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(own, proof) {
			t.Fatalf("entry %d: tillit's inclusion proof differs from the one torchwood computed from the tiles", idx)
		}
	}

	// The old checkpoint's root and its consistency proof, recomputed from
	// tiles that torchwood authenticates against the new checkpoint.
	hr := torchwood.TileHashReaderWithContext(ctx, tree, tr)
	oldRoot, err := sumdb.TreeHash(old.Tree.N, hr)
	if err != nil {
		t.Fatal(err)
	}
	if oldRoot != old.Tree.Hash {
		t.Fatalf("root of size %d from the served tiles is %v, the old checkpoint says %v", old.Tree.N, oldRoot, old.Tree.Hash)
	}
	proof, err := sumdb.ProveTree(tree.N, old.Tree.N, hr)
	if err != nil {
		t.Fatal(err)
	}
	own, err := lg.ProveConsistency(ctx, old.Tree.N, tree.N)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(own, proof) {
		t.Fatalf("tillit's consistency proof %d→%d differs from the one computed from the tiles", old.Tree.N, tree.N)
	}
	if err := sumdb.CheckTree(own, tree.N, tree.Hash, old.Tree.N, old.Tree.Hash); err != nil {
		t.Fatalf("consistency proof %d→%d: %v", old.Tree.N, tree.N, err)
	}

	// The client fetched the partial tiles that the spec says a tree of
	// this size has (c2sp.org/tlog-tiles, "Partial Tiles"), by their spec
	// paths, and every path it used is canonical.
	for _, p := range partialTilePaths(tree.N) {
		if !tr.fetched(p) {
			t.Errorf("torchwood never fetched %s, a partial tile of a tree of size %d (fetched: %s)", p, tree.N, tr.summary())
		}
	}
}

// cutTlogTilesEntry splits an entry bundle by uint16 length prefixes
// (c2sp.org/tlog-tiles, "Log entries"), hashing entries per RFC 6962.
// It is torchwood's default, set explicitly: its other built-in format
// is go.dev/design/25530-sumdb's.
func cutTlogTilesEntry(tile []byte) ([]byte, sumdb.Hash, []byte, error) {
	e, rest, err := torchwood.ReadTileEntry(tile)
	return e, sumdb.RecordHash(e), rest, err
}

// partialTilePaths lists the partial tiles and entry bundle of a tree of the
// given size, computed from the formula of c2sp.org/tlog-tiles: the partial
// tile at level l has floor(size / 256**l) mod 256 entries.
func partialTilePaths(size int64) []string {
	var paths []string
	if w := size % torchwood.TileWidth; w > 0 {
		paths = append(paths, torchwood.TilePath(sumdb.Tile{H: torchwood.TileHeight, L: -1, N: size / torchwood.TileWidth, W: int(w)}))
	}
	for l, unit := 0, int64(1); size/unit > 0; l, unit = l+1, unit*torchwood.TileWidth {
		hashes := size / unit
		if w := hashes % torchwood.TileWidth; w > 0 {
			paths = append(paths, torchwood.TilePath(sumdb.Tile{H: torchwood.TileHeight, L: l, N: hashes / torchwood.TileWidth, W: int(w)}))
		}
	}
	return paths
}

// recordingReader records the tiles a torchwood client fetches.
type recordingReader struct {
	torchwood.TileReader
	mu    sync.Mutex
	paths map[string]bool
}

func (r *recordingReader) ReadTiles(ctx context.Context, tiles []sumdb.Tile) ([][]byte, error) {
	r.mu.Lock()
	if r.paths == nil {
		r.paths = make(map[string]bool)
	}
	for _, t := range tiles {
		r.paths[torchwood.TilePath(t)] = true
	}
	r.mu.Unlock()
	return r.TileReader.ReadTiles(ctx, tiles)
}

func (r *recordingReader) fetched(path string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.paths[path]
}

func (r *recordingReader) summary() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var partial []string
	for p := range r.paths {
		if strings.Contains(p, ".p/") {
			partial = append(partial, p)
		}
	}
	slices.Sort(partial)
	return fmt.Sprintf("%d tiles, partial: %v", len(r.paths), partial)
}

// checkServedHeaders checks the content types c2sp.org/tlog-tiles requires.
func checkServedHeaders(t *testing.T, prefix string) {
	for path, want := range map[string]string{
		"checkpoint":       "text/plain; charset=utf-8",
		"tile/0/000":       "application/octet-stream",
		"tile/entries/000": "application/octet-stream",
	} {
		resp, err := http.Get(prefix + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != want {
			t.Errorf("GET %s: %s, Content-Type %q; want 200 and %q", path, resp.Status, resp.Header.Get("Content-Type"), want)
		}
	}
}

// checkExportLayout checks that an exported directory holds only the
// checkpoint and files at canonical tlog-tiles paths, as torchwood parses them.
func checkExportLayout(t *testing.T, dir string) {
	var files int
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		files++
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if rel == "checkpoint" {
			return nil
		}
		tile, err := torchwood.ParseTilePath(rel)
		if err != nil {
			t.Errorf("exported file %s is not at a tlog-tiles path: %v", rel, err)
			return nil
		}
		if got := torchwood.TilePath(tile); got != rel {
			t.Errorf("exported file %s is at a non-canonical path (canonical: %s)", rel, got)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 2 {
		t.Fatalf("export wrote %d files", files)
	}
}
