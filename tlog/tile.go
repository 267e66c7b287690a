package tlog

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/tlog"
)

// TileHeight is the height of every tile: each tile holds up to 2^8 = 256 hashes
// (c2sp.org/tlog-tiles, "Merkle Tree").
const TileHeight = 8

// TileWidth is the number of hashes in a full tile, and of entries in a full bundle.
const TileWidth = 1 << TileHeight

// MaxEntrySize is the largest entry a bundle can carry: entries are prefixed
// by a big-endian uint16 length (c2sp.org/tlog-tiles, "Log entries").
const MaxEntrySize = 1<<16 - 1

// EntriesLevel is the tlog.Tile.L value this package uses for entry bundles,
// which tlog-tiles serves at tile/entries/<N>.
const EntriesLevel = -1

// ErrBadTilePath is wrapped by every error ParseTilePath returns.
var ErrBadTilePath = errors.New("malformed tile path")

// ErrBadBundle is wrapped by every error returned for a malformed entry bundle.
var ErrBadBundle = errors.New("malformed entry bundle")

// TilePath returns the path of t relative to the log prefix, such as
// "tile/0/x001/234.p/7" or "tile/entries/005" (c2sp.org/tlog-tiles, "Merkle Tree").
// A tile with W == 256 is full and has no ".p/" suffix. t.H must be TileHeight.
func TilePath(t tlog.Tile) string {
	var b strings.Builder
	b.WriteString("tile/")
	if t.L == EntriesLevel {
		b.WriteString("entries")
	} else {
		b.WriteString(strconv.Itoa(t.L))
	}
	n := t.N
	var parts []string
	for {
		parts = append(parts, fmt.Sprintf("%03d", n%1000))
		n /= 1000
		if n == 0 {
			break
		}
	}
	for i := len(parts) - 1; i >= 0; i-- {
		b.WriteByte('/')
		if i > 0 {
			b.WriteByte('x')
		}
		b.WriteString(parts[i])
	}
	if t.W != TileWidth {
		b.WriteString(".p/")
		b.WriteString(strconv.Itoa(t.W))
	}
	return b.String()
}

// ParseTilePath parses a path produced by TilePath. It accepts only the
// canonical encoding: no leading zeros in L or W, 3-digit groups, "x" on every
// group but the last, W between 1 and 255, and L between 0 and 63 or "entries".
func ParseTilePath(path string) (tlog.Tile, error) {
	bad := func(why string) (tlog.Tile, error) {
		return tlog.Tile{}, fmt.Errorf("%w %q: %s", ErrBadTilePath, path, why)
	}
	rest, ok := strings.CutPrefix(path, "tile/")
	if !ok {
		return bad("missing tile/ prefix")
	}
	level, rest, ok := strings.Cut(rest, "/")
	if !ok {
		return bad("missing tile index")
	}
	t := tlog.Tile{H: TileHeight, W: TileWidth}
	if level == "entries" {
		t.L = EntriesLevel
	} else {
		l, ok := parseDecimal(level, 63)
		if !ok {
			return bad("level must be 0-63 or entries")
		}
		t.L = int(l)
	}
	if idx, w, ok := strings.Cut(rest, ".p/"); ok {
		width, ok := parseDecimal(w, TileWidth-1)
		if !ok || width == 0 {
			return bad("partial width must be 1-255")
		}
		t.W = int(width)
		rest = idx
	}
	groups := strings.Split(rest, "/")
	const maxGroups = 7 // 1000^7 > 2^63 > tile indexes of any valid tree
	if len(groups) > maxGroups {
		return bad("tile index too large")
	}
	for i, g := range groups {
		if i < len(groups)-1 {
			var ok bool
			if g, ok = strings.CutPrefix(g, "x"); !ok {
				return bad("index groups before the last must start with x")
			}
		}
		if len(g) != 3 || !isDigits(g) {
			return bad("index groups must be three digits")
		}
		if i == 0 && len(groups) > 1 && g == "000" {
			return bad("index has a leading zero group")
		}
		d, _ := strconv.Atoi(g)
		if t.N > (1<<63-1-int64(d))/1000 {
			return bad("tile index too large")
		}
		t.N = t.N*1000 + int64(d)
	}
	return t, nil
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// parseDecimal parses a canonical decimal (no sign, no leading zeros) up to max.
func parseDecimal(s string, max int64) (int64, bool) {
	if !isDigits(s) || (len(s) > 1 && s[0] == '0') || len(s) > 19 {
		return 0, false
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v > max {
		return 0, false
	}
	return v, true
}

// AppendBundleEntry appends entry to an entry bundle, with its big-endian uint16
// length prefix (c2sp.org/tlog-tiles, "Log entries").
func AppendBundleEntry(bundle, entry []byte) ([]byte, error) {
	if len(entry) > MaxEntrySize {
		return bundle, fmt.Errorf("%w: entry of %d bytes exceeds %d", ErrBadBundle, len(entry), MaxEntrySize)
	}
	bundle = binary.BigEndian.AppendUint16(bundle, uint16(len(entry)))
	return append(bundle, entry...), nil
}

// SplitBundle returns the entries of an entry bundle. The slices alias bundle.
// It fails if the bundle is truncated or holds more than TileWidth entries.
func SplitBundle(bundle []byte) ([][]byte, error) {
	var entries [][]byte
	for len(bundle) > 0 {
		if len(entries) == TileWidth {
			return nil, fmt.Errorf("%w: more than %d entries", ErrBadBundle, TileWidth)
		}
		if len(bundle) < 2 {
			return nil, fmt.Errorf("%w: truncated length prefix after entry %d", ErrBadBundle, len(entries))
		}
		n := int(binary.BigEndian.Uint16(bundle))
		if len(bundle) < 2+n {
			return nil, fmt.Errorf("%w: entry %d declares %d bytes, %d remain", ErrBadBundle, len(entries), n, len(bundle)-2)
		}
		entries = append(entries, bundle[2:2+n])
		bundle = bundle[2+n:]
	}
	return entries, nil
}

// TruncateBundle returns the prefix of bundle that holds its first w entries.
func TruncateBundle(bundle []byte, w int) ([]byte, error) {
	off := 0
	for i := 0; i < w; i++ {
		if len(bundle)-off < 2 {
			return nil, fmt.Errorf("%w: bundle holds %d entries, want %d", ErrBadBundle, i, w)
		}
		n := int(binary.BigEndian.Uint16(bundle[off:]))
		if len(bundle)-off < 2+n {
			return nil, fmt.Errorf("%w: entry %d declares %d bytes, %d remain", ErrBadBundle, i, n, len(bundle)-off-2)
		}
		off += 2 + n
	}
	return bundle[:off], nil
}

// TileForSize returns the tile at level l and index n as it is in a tree of
// the given size: full, partial, or (ok == false) not yet in existence.
// Level EntriesLevel describes entry bundles, which have the shape of level 0.
func TileForSize(l int, n, size int64) (t tlog.Tile, ok bool) {
	ll := max(l, 0)
	if n < 0 || size <= 0 || TileHeight*ll >= 63 {
		return tlog.Tile{}, false
	}
	unit := int64(1) << (TileHeight * ll) // entries under one hash of the tile
	var start int64
	if TileHeight*(ll+1) < 63 {
		span := int64(1) << (TileHeight * (ll + 1)) // entries under one full tile
		if n > size/span {
			return tlog.Tile{}, false
		}
		start = n * span
	} else if n > 0 {
		return tlog.Tile{}, false
	}
	if start >= size {
		return tlog.Tile{}, false
	}
	w := (size - start) / unit
	if w == 0 {
		return tlog.Tile{}, false
	}
	return tlog.Tile{H: TileHeight, L: l, N: n, W: int(min(w, TileWidth))}, true
}
