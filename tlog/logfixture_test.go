package tlog_test

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"sync"
	"testing"

	"github.com/tillit/tillit/tlog"
	"golang.org/x/mod/sumdb/note"
	sumtlog "golang.org/x/mod/sumdb/tlog"
)

// fixtureSize is the number of entries in the shared test log: enough for a
// full level-1 tile, then a partial level-1 tile and a partial level-2 tile.
const fixtureSize = 1<<16 + 2*256 + 1

// testEntry is the i-th entry of the test log. Entries vary in length, and
// every 100th (from 42) is empty.
func testEntry(i int64) []byte {
	if i%100 == 42 {
		return []byte{}
	}
	return []byte(fmt.Sprintf("entry %d%s", i, strings.Repeat("!", int(i%7))))
}

// testLog is a minimal log built with golang.org/x/mod/sumdb/tlog alone: the
// stored hashes of its entries, from which tiles and roots are read.
type testLog struct {
	hashes []sumtlog.Hash
}

func (l *testLog) ReadHashes(indexes []int64) ([]sumtlog.Hash, error) {
	out := make([]sumtlog.Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= int64(len(l.hashes)) {
			return nil, fmt.Errorf("stored hash %d not in the test log", x)
		}
		out[i] = l.hashes[x]
	}
	return out, nil
}

var (
	fixtureOnce sync.Once
	fixture     *testLog
)

// getTestLog returns the shared test log of fixtureSize entries. A prefix of
// it is a valid log of any smaller size. t may be nil.
func getTestLog(t testing.TB) *testLog {
	if t != nil {
		t.Helper()
	}
	fixtureOnce.Do(func() {
		l := &testLog{}
		for i := range int64(fixtureSize) {
			hs, err := sumtlog.StoredHashes(i, testEntry(i), l)
			if err != nil {
				panic(err)
			}
			l.hashes = append(l.hashes, hs...)
		}
		fixture = l
	})
	return fixture
}

func (l *testLog) root(t testing.TB, size int64) sumtlog.Hash {
	t.Helper()
	h, err := sumtlog.TreeHash(size, l)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// files returns every resource of the log at the given size, as a
// tlog-tiles server would serve it: the checkpoint signed by signers, every
// tile x/mod's NewTiles says the tree publishes, and the matching bundles.
func (l *testLog) files(t testing.TB, size int64, signers ...note.Signer) map[string][]byte {
	t.Helper()
	files := map[string][]byte{
		"checkpoint": signNote(cpText(testOrigin, size, l.root(t, size)), signers...),
	}
	for _, tile := range sumtlog.NewTiles(tlog.TileHeight, 0, size) {
		data, err := sumtlog.ReadTileData(tile, l)
		if err != nil {
			t.Fatal(err)
		}
		files[specTilePath(tile)] = data
		if tile.L == 0 {
			var entries [][]byte
			for i := range int64(tile.W) {
				entries = append(entries, testEntry(tile.N*tlog.TileWidth+i))
			}
			bt := tile
			bt.L = -1
			files[specTilePath(bt)] = encodeBundle(entries...)
		}
	}
	return files
}

// mapFetcher serves a map of resources and records what was fetched.
type mapFetcher struct {
	mu      sync.Mutex
	files   map[string][]byte
	fetched map[string]int
}

func newMapFetcher(files map[string][]byte) *mapFetcher {
	return &mapFetcher{files: maps.Clone(files), fetched: map[string]int{}}
}

func (m *mapFetcher) fetch(ctx context.Context, path string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.fetched[path]++
	b, ok := m.files[path]
	if !ok {
		return nil, fmt.Errorf("%s: %w", path, tlog.ErrNotFound)
	}
	return append([]byte(nil), b...), nil
}
