package tlog_test

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/tillit/tillit/tlog"
	sumtlog "golang.org/x/mod/sumdb/tlog"
)

func fullTile(l int, n int64) sumtlog.Tile { return sumtlog.Tile{H: 8, L: l, N: n, W: 256} }

func partialTile(l int, n int64, w int) sumtlog.Tile {
	return sumtlog.Tile{H: 8, L: l, N: n, W: w}
}

// tilePathTests are the edge cases of c2sp.org/tlog-tiles, "Merkle Tree" and
// "Log entries". They also seed FuzzParseTilePath.
var tilePathTests = []struct {
	name string
	path string
	want sumtlog.Tile
	ok   bool
}{
	{"zero", "tile/0/000", fullTile(0, 0), true},
	{"one", "tile/0/001", fullTile(0, 1), true},
	{"999", "tile/0/999", fullTile(0, 999), true},
	{"1000", "tile/0/x001/000", fullTile(0, 1000), true},
	{"spec example", "tile/0/x001/x234/067", fullTile(0, 1234067), true},
	{"spec example level 3", "tile/3/x001/x234/067", fullTile(3, 1234067), true},
	{"level 1", "tile/1/000", fullTile(1, 0), true},
	{"level 10", "tile/10/000", fullTile(10, 0), true},
	{"level 63", "tile/63/000", fullTile(63, 0), true},
	{"partial 1", "tile/0/000.p/1", partialTile(0, 0, 1), true},
	{"partial 7", "tile/0/x001/234.p/7", partialTile(0, 1234, 7), true},
	{"partial 255", "tile/2/005.p/255", partialTile(2, 5, 255), true},
	{"partial 112", "tile/0/273.p/112", partialTile(0, 273, 112), true},
	{"entries", "tile/entries/000", fullTile(tlog.EntriesLevel, 0), true},
	{"entries spec example", "tile/entries/x001/x234/067", fullTile(tlog.EntriesLevel, 1234067), true},
	{"entries partial", "tile/entries/x001/234.p/7", partialTile(tlog.EntriesLevel, 1234, 7), true},
	{"max index", "tile/0/x009/x223/x372/x036/x854/x775/807", fullTile(0, math.MaxInt64), true},
	{"max index partial", "tile/entries/x009/x223/x372/x036/x854/x775/807.p/3", partialTile(-1, math.MaxInt64, 3), true},
	{"zero middle groups", "tile/0/x001/x000/000", fullTile(0, 1000000), true},

	{"level 64", "tile/64/000", sumtlog.Tile{}, false},
	{"level 100", "tile/100/000", sumtlog.Tile{}, false},
	{"level leading zero", "tile/00/000", sumtlog.Tile{}, false},
	{"level 01", "tile/01/000", sumtlog.Tile{}, false},
	{"level 007", "tile/007/000", sumtlog.Tile{}, false},
	{"level -1", "tile/-1/000", sumtlog.Tile{}, false},
	{"level +1", "tile/+1/000", sumtlog.Tile{}, false},
	{"level empty", "tile//000", sumtlog.Tile{}, false},
	{"level huge", "tile/99999999999999999999/000", sumtlog.Tile{}, false},
	{"level data", "tile/data/000", sumtlog.Tile{}, false},
	{"level Entries", "tile/Entries/000", sumtlog.Tile{}, false},
	{"level with height", "tile/8/0/000", sumtlog.Tile{}, false},
	{"width 0", "tile/0/000.p/0", sumtlog.Tile{}, false},
	{"width 256", "tile/0/000.p/256", sumtlog.Tile{}, false},
	{"width 007", "tile/0/000.p/007", sumtlog.Tile{}, false},
	{"width 01", "tile/0/000.p/01", sumtlog.Tile{}, false},
	{"width -1", "tile/0/000.p/-1", sumtlog.Tile{}, false},
	{"width +1", "tile/0/000.p/+1", sumtlog.Tile{}, false},
	{"width empty", "tile/0/000.p/", sumtlog.Tile{}, false},
	{"width huge", "tile/0/000.p/99999999999999999999", sumtlog.Tile{}, false},
	{"width trailing slash", "tile/0/000.p/5/", sumtlog.Tile{}, false},
	{"width twice", "tile/0/000.p/5.p/6", sumtlog.Tile{}, false},
	{"width without p", "tile/0/000/5", sumtlog.Tile{}, false},
	{"width .q", "tile/0/000.q/5", sumtlog.Tile{}, false},
	{"entries width 256", "tile/entries/000.p/256", sumtlog.Tile{}, false},
	{"missing x", "tile/0/001/234", sumtlog.Tile{}, false},
	{"missing x middle", "tile/0/x001/234/067", sumtlog.Tile{}, false},
	{"x on last", "tile/0/x001/x234", sumtlog.Tile{}, false},
	{"x on single", "tile/0/x001", sumtlog.Tile{}, false},
	{"capital X", "tile/0/X001/234", sumtlog.Tile{}, false},
	{"2-digit group", "tile/0/01", sumtlog.Tile{}, false},
	{"4-digit group", "tile/0/0001", sumtlog.Tile{}, false},
	{"2-digit x group", "tile/0/x01/234", sumtlog.Tile{}, false},
	{"4-digit x group", "tile/0/x0001/234", sumtlog.Tile{}, false},
	{"unpadded", "tile/0/1", sumtlog.Tile{}, false},
	{"signed group", "tile/0/+01", sumtlog.Tile{}, false},
	{"negative group", "tile/0/-01", sumtlog.Tile{}, false},
	{"leading zero group", "tile/0/x000/001", sumtlog.Tile{}, false},
	{"leading zero group for 0", "tile/0/x000/000", sumtlog.Tile{}, false},
	{"leading zero group of three", "tile/0/x000/x001/234", sumtlog.Tile{}, false},
	{"entries leading zero group", "tile/entries/x000/000", sumtlog.Tile{}, false},
	{"entries two leading zero groups", "tile/entries/x000/x000/005.p/3", sumtlog.Tile{}, false},
	{"leading zero group of seven", "tile/0/x000/x009/x223/x372/x036/x854/775", sumtlog.Tile{}, false},
	{"index overflow", "tile/0/x009/x223/x372/x036/x854/x775/808", sumtlog.Tile{}, false},
	{"index overflow large", "tile/0/x999/x999/x999/x999/x999/x999/999", sumtlog.Tile{}, false},
	{"index 8 groups", "tile/0/x001/x000/x000/x000/x000/x000/x000/000", sumtlog.Tile{}, false},
	{"empty index", "tile/0/", sumtlog.Tile{}, false},
	{"missing index", "tile/0", sumtlog.Tile{}, false},
	{"entries missing index", "tile/entries", sumtlog.Tile{}, false},
	{"empty group", "tile/0//000", sumtlog.Tile{}, false},
	{"trailing slash", "tile/0/000/", sumtlog.Tile{}, false},
	{"leading slash", "/tile/0/000", sumtlog.Tile{}, false},
	{"tiles", "tiles/0/000", sumtlog.Tile{}, false},
	{"no prefix", "0/000", sumtlog.Tile{}, false},
	{"checkpoint", "checkpoint", sumtlog.Tile{}, false},
	{"empty", "", sumtlog.Tile{}, false},
	{"trailing space", "tile/0/000 ", sumtlog.Tile{}, false},
	{"trailing newline", "tile/0/000\n", sumtlog.Tile{}, false},
	{"non-ASCII digit", "tile/0/٠٠٠", sumtlog.Tile{}, false},
	{"query", "tile/0/000?x=1", sumtlog.Tile{}, false},
}

func TestParseTilePath(t *testing.T) {
	for _, tt := range tilePathTests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tlog.ParseTilePath(tt.path)
			if !tt.ok {
				if err == nil {
					t.Fatalf("ParseTilePath(%q) = %+v, want error", tt.path, got)
				}
				if !errors.Is(err, tlog.ErrBadTilePath) {
					t.Errorf("ParseTilePath(%q) error %v does not wrap ErrBadTilePath", tt.path, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseTilePath(%q): %v", tt.path, err)
			}
			if got != tt.want {
				t.Errorf("ParseTilePath(%q) = %+v, want %+v", tt.path, got, tt.want)
			}
			if p := tlog.TilePath(got); p != tt.path {
				t.Errorf("TilePath(%+v) = %q, want %q", got, p, tt.path)
			}
		})
	}
}

// TestParseTilePathMatchesXMod checks the table against x/mod's tile path
// parser, which has the same index and width encoding (with a height element
// and "data" instead of "entries") but no upper bound on the level.
func TestParseTilePathMatchesXMod(t *testing.T) {
	for _, tt := range tilePathTests {
		x, xok := xmodParseTilePath(tt.path)
		if xok && x.L > 63 {
			xok = false // tlog-tiles levels stop at 63
		}
		if xok != tt.ok || (xok && x != tt.want) {
			t.Errorf("%s: x/mod parses %q as %+v (ok=%v); table says %+v (ok=%v)", tt.name, tt.path, x, xok, tt.want, tt.ok)
		}
	}
}

// randomTile returns a valid tile with indexes spread over all magnitudes.
func randomTile(r *rand.Rand) sumtlog.Tile {
	t := sumtlog.Tile{H: tlog.TileHeight, L: r.IntN(65) - 1, W: tlog.TileWidth}
	switch r.IntN(4) {
	case 0:
		t.N = r.Int64N(2000)
	case 1:
		t.N = math.MaxInt64 - r.Int64N(1000)
	default:
		t.N = r.Int64N(int64(1) << r.IntN(63))
	}
	if r.IntN(2) == 0 {
		t.W = 1 + r.IntN(tlog.TileWidth-1)
	}
	return t
}

func TestTilePathRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		tile := randomTile(r)
		p := tlog.TilePath(tile)
		if want := specTilePath(tile); p != want {
			t.Fatalf("TilePath(%+v) = %q, x/mod says %q", tile, p, want)
		}
		got, err := tlog.ParseTilePath(p)
		if err != nil {
			t.Fatalf("ParseTilePath(TilePath(%+v) = %q): %v", tile, p, err)
		}
		if got != tile {
			t.Fatalf("ParseTilePath(%q) = %+v, want %+v", p, got, tile)
		}
	}
}

// allTiles enumerates every tile TileForSize reports for a tree of the given
// size, at levels 0 through 9, checking that each level's tiles are numbered
// contiguously from 0.
func allTiles(t *testing.T, size int64) []sumtlog.Tile {
	t.Helper()
	var tiles []sumtlog.Tile
	for l := 0; l <= 9; l++ {
		n := int64(0)
		for ; ; n++ {
			tile, ok := tlog.TileForSize(l, n, size)
			if !ok {
				break
			}
			if tile.H != tlog.TileHeight || tile.L != l || tile.N != n || tile.W < 1 || tile.W > tlog.TileWidth {
				t.Fatalf("TileForSize(%d, %d, %d) = %+v", l, n, size, tile)
			}
			tiles = append(tiles, tile)
		}
		for _, after := range []int64{n + 1, n + 256, math.MaxInt64} {
			if tile, ok := tlog.TileForSize(l, after, size); ok {
				t.Fatalf("TileForSize(%d, %d, %d) = %+v after a gap at %d", l, after, size, tile, n)
			}
		}
	}
	return tiles
}

func tileLess(a, b sumtlog.Tile) int {
	if a.L != b.L {
		return a.L - b.L
	}
	switch {
	case a.N < b.N:
		return -1
	case a.N > b.N:
		return 1
	}
	return 0
}

func TestTileForSizeSpecExamples(t *testing.T) {
	// c2sp.org/tlog-tiles, "Partial Tiles": "a tree of size 70,000 will be
	// represented by 273 full level 0 tiles, one partial level 0 tile of width
	// 112, one full level 1 tile, one partial level 1 tile of width 17, and one
	// partial level 2 tile of width 1."
	var want []sumtlog.Tile
	for n := range int64(273) {
		want = append(want, fullTile(0, n))
	}
	want = append(want, partialTile(0, 273, 112), fullTile(1, 0), partialTile(1, 1, 17), partialTile(2, 0, 1))
	if got := allTiles(t, 70000); !slices.Equal(got, want) {
		t.Errorf("tiles for size 70000:\n got %v\nwant %v", got, want)
	}
	// "Note that a tree of size 256 will be represented by a full level 0 tile
	// and a partial level 1 tile of width 1."
	want = []sumtlog.Tile{fullTile(0, 0), partialTile(1, 0, 1)}
	if got := allTiles(t, 256); !slices.Equal(got, want) {
		t.Errorf("tiles for size 256: got %v, want %v", got, want)
	}
	paths := map[int64][]string{
		1:     {"tile/0/000.p/1"},
		255:   {"tile/0/000.p/255"},
		257:   {"tile/0/000", "tile/0/001.p/1", "tile/1/000.p/1"},
		65536: {"tile/1/000", "tile/2/000.p/1"},
		65537: {"tile/0/256.p/1", "tile/1/000", "tile/2/000.p/1"},
	}
	for size, want := range paths {
		var got []string
		for _, tile := range allTiles(t, size) {
			got = append(got, tlog.TilePath(tile))
		}
		for _, p := range want {
			if !slices.Contains(got, p) {
				t.Errorf("tree of size %d lacks %s", size, p)
			}
		}
	}
}

// TestTileForSizeMatchesXMod compares TileForSize with the tiles x/mod's
// NewTiles says a tree of each size publishes.
func TestTileForSizeMatchesXMod(t *testing.T) {
	sizes := []int64{0, 1, 2, 3, 255, 256, 257, 511, 512, 513, 65535, 65536, 65537, 65536 + 256, 70000, 1 << 24, 1<<24 + 1}
	r := rand.New(rand.NewPCG(3, 4))
	for range 50 {
		sizes = append(sizes, r.Int64N(1<<20))
	}
	if testing.Short() {
		sizes = sizes[:12]
	}
	for _, size := range sizes {
		got := allTiles(t, size)
		want := sumtlog.NewTiles(tlog.TileHeight, 0, size)
		slices.SortFunc(want, tileLess)
		if !slices.Equal(got, want) {
			t.Errorf("size %d: TileForSize gives %d tiles, NewTiles %d", size, len(got), len(want))
			continue
		}
		for _, tile := range want {
			if tile.L != 0 {
				continue
			}
			et, ok := tlog.TileForSize(tlog.EntriesLevel, tile.N, size)
			tile.L = tlog.EntriesLevel
			if !ok || et != tile {
				t.Errorf("size %d: TileForSize(EntriesLevel, %d) = %+v, %v; want %+v", size, tile.N, et, ok, tile)
			}
		}
	}
}

// TestTileForSizeFormula checks the rightmost tile of every level against the
// spec's formula, floor(s / 256**l) mod 256, up to the largest tree size.
func TestTileForSizeFormula(t *testing.T) {
	sizes := []int64{math.MaxInt64, math.MaxInt64 - 1, 1 << 62, 1<<56 - 1, 1 << 56, 1<<48 + 5, 12345678901234}
	r := rand.New(rand.NewPCG(5, 6))
	for range 200 {
		sizes = append(sizes, r.Int64N(int64(1)<<r.IntN(63))+1)
	}
	for _, size := range sizes {
		for l := 0; l <= 8; l++ {
			units := size >> (8 * l) // hashes at this level
			if l == 8 {
				units = 0
			}
			n := units / 256
			wantW := int(units % 256)
			// The partial tile, if any.
			got, ok := tlog.TileForSize(l, n, size)
			if wantW == 0 {
				if ok {
					t.Errorf("TileForSize(%d, %d, %d) = %+v, want none", l, n, size, got)
				}
			} else if !ok || got != partialTile(l, n, wantW) {
				t.Errorf("TileForSize(%d, %d, %d) = %+v, %v; want width %d", l, n, size, got, ok, wantW)
			}
			// The last full tile, if any.
			if n > 0 {
				got, ok := tlog.TileForSize(l, n-1, size)
				if !ok || got != fullTile(l, n-1) {
					t.Errorf("TileForSize(%d, %d, %d) = %+v, %v; want full", l, n-1, size, got, ok)
				}
			}
		}
	}
}

func TestTileForSizeInvalid(t *testing.T) {
	tests := []struct {
		l       int
		n, size int64
	}{
		{0, 0, 0},
		{0, 0, -1},
		{0, -1, 100},
		{0, math.MinInt64, 100},
		{tlog.EntriesLevel, 0, 0},
		{tlog.EntriesLevel, -1, 1},
		{1, 0, 255},
		{8, 0, math.MaxInt64},
		{63, 0, math.MaxInt64},
		{64, 0, math.MaxInt64},
		{7, 1, math.MaxInt64},
		{0, 1, 256},
		{0, math.MaxInt64, math.MaxInt64},
	}
	for _, tt := range tests {
		if got, ok := tlog.TileForSize(tt.l, tt.n, tt.size); ok {
			t.Errorf("TileForSize(%d, %d, %d) = %+v, want none", tt.l, tt.n, tt.size, got)
		}
	}
	if got, ok := tlog.TileForSize(7, 0, math.MaxInt64); !ok || got != partialTile(7, 0, 127) {
		t.Errorf("TileForSize(7, 0, MaxInt64) = %+v, %v; want width 127", got, ok)
	}
}

// bundleTests are the edge cases of entry bundles (c2sp.org/tlog-tiles, "Log
// entries"). They also seed FuzzSplitBundle.
var bundleTests = []struct {
	name   string
	bundle []byte
	want   [][]byte // nil when malformed
	ok     bool
}{
	{"empty", nil, nil, true},
	{"one empty entry", []byte{0, 0}, [][]byte{{}}, true},
	{"one entry", []byte("\x00\x03abc"), [][]byte{[]byte("abc")}, true},
	{"two entries", []byte("\x00\x01a\x00\x02bc"), [][]byte{[]byte("a"), []byte("bc")}, true},
	{"empty between", []byte("\x00\x01a\x00\x00\x00\x01b"), [][]byte{[]byte("a"), {}, []byte("b")}, true},
	{"max entry", encodeBundle(bytes.Repeat([]byte{'m'}, tlog.MaxEntrySize)), [][]byte{bytes.Repeat([]byte{'m'}, tlog.MaxEntrySize)}, true},
	{"256 empty entries", bytes.Repeat([]byte{0, 0}, 256), slices.Repeat([][]byte{{}}, 256), true},
	{"256 entries", encodeBundle(numberedEntries(256)...), numberedEntries(256), true},

	{"truncated prefix", []byte{0}, nil, false},
	{"truncated prefix after entry", []byte("\x00\x01a\x00"), nil, false},
	{"length past end", []byte("\x00\x05abc"), nil, false},
	{"length past end by one", []byte("\x00\x04abc"), nil, false},
	{"length past end after entry", []byte("\x00\x01a\x00\x02b"), nil, false},
	{"max length, empty", []byte{0xff, 0xff}, nil, false},
	{"257 empty entries", bytes.Repeat([]byte{0, 0}, 257), nil, false},
	{"257 entries", encodeBundle(numberedEntries(257)...), nil, false},
	{"256 entries and a byte", append(bytes.Repeat([]byte{0, 0}, 256), 0), nil, false},
}

func numberedEntries(n int) [][]byte {
	var es [][]byte
	for i := range n {
		es = append(es, []byte(strings.Repeat("e", i%5)+string(rune('0'+i%10))))
	}
	return es
}

func TestSplitBundle(t *testing.T) {
	for _, tt := range bundleTests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tlog.SplitBundle(tt.bundle)
			if !tt.ok {
				if err == nil {
					t.Fatalf("SplitBundle = %d entries, want error", len(got))
				}
				if !errors.Is(err, tlog.ErrBadBundle) {
					t.Errorf("error %v does not wrap ErrBadBundle", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("SplitBundle: %v", err)
			}
			if !slices.EqualFunc(got, tt.want, bytes.Equal) {
				t.Errorf("SplitBundle = %q, want %q", got, tt.want)
			}
			var enc []byte
			for _, e := range got {
				if enc, err = tlog.AppendBundleEntry(enc, e); err != nil {
					t.Fatal(err)
				}
			}
			if !bytes.Equal(enc, tt.bundle) {
				t.Errorf("re-encoding gives %q, want %q", enc, tt.bundle)
			}
		})
	}
}

func TestTruncateBundle(t *testing.T) {
	b := encodeBundle([]byte("a"), nil, []byte("ccc"))
	tests := []struct {
		bundle []byte
		w      int
		want   []byte
		ok     bool
	}{
		{b, 0, []byte{}, true},
		{b, 1, []byte("\x00\x01a"), true},
		{b, 2, []byte("\x00\x01a\x00\x00"), true},
		{b, 3, b, true},
		{b, 4, nil, false},
		{append(slices.Clip(b), 0), 3, b, true},       // trailing garbage is past w
		{append(slices.Clip(b), 0), 4, nil, false},    // truncated prefix
		{append(slices.Clip(b), 0, 9), 4, nil, false}, // length past end
		{nil, 0, nil, true},
		{nil, 1, nil, false},
		{[]byte{0, 5, 'a'}, 1, nil, false},
	}
	for _, tt := range tests {
		got, err := tlog.TruncateBundle(tt.bundle, tt.w)
		if !tt.ok {
			if err == nil || !errors.Is(err, tlog.ErrBadBundle) {
				t.Errorf("TruncateBundle(%q, %d) = %q, %v; want ErrBadBundle", tt.bundle, tt.w, got, err)
			}
			continue
		}
		if err != nil || !bytes.Equal(got, tt.want) {
			t.Errorf("TruncateBundle(%q, %d) = %q, %v; want %q", tt.bundle, tt.w, got, err, tt.want)
		}
	}
}

func TestAppendBundleEntry(t *testing.T) {
	b, err := tlog.AppendBundleEntry([]byte("x"), []byte("hello"))
	if err != nil || string(b) != "x\x00\x05hello" {
		t.Errorf("AppendBundleEntry = %q, %v", b, err)
	}
	big := make([]byte, tlog.MaxEntrySize)
	b, err = tlog.AppendBundleEntry(nil, big)
	if err != nil || len(b) != 2+tlog.MaxEntrySize || b[0] != 0xff || b[1] != 0xff {
		t.Errorf("AppendBundleEntry(%d bytes) = %d bytes %x, %v", len(big), len(b), b[:2], err)
	}
	b, err = tlog.AppendBundleEntry([]byte("keep"), make([]byte, tlog.MaxEntrySize+1))
	if !errors.Is(err, tlog.ErrBadBundle) || string(b) != "keep" {
		t.Errorf("AppendBundleEntry(%d bytes) = %q, %v; want the bundle unchanged and ErrBadBundle", tlog.MaxEntrySize+1, b, err)
	}
}
