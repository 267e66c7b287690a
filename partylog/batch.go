package partylog

import (
	"context"
	"fmt"

	"github.com/tillit/tillit/store"
	"github.com/tillit/tillit/tlog"
	sumdb "golang.org/x/mod/sumdb/tlog"
)

// buildBatch computes, for entries appended to a tree of size old, the new
// stored hashes, every hash tile they change, the bundle chunks, and the new
// root. It reads earlier hashes through edge and does not modify it.
func buildBatch(ctx context.Context, edge *edgeTiles, old int64, entries [][]byte) (*store.Batch, sumdb.Hash, error) {
	base := sumdb.StoredHashCount(old)
	overlay := make([]sumdb.Hash, 0, 2*len(entries)+1)
	hr := edge.reader(ctx, &overlay, base)
	for i, e := range entries {
		hs, err := sumdb.StoredHashes(old+int64(i), e, hr)
		if err != nil {
			return nil, sumdb.Hash{}, fmt.Errorf("couldn't hash entry %d: %w", old+int64(i), err)
		}
		overlay = append(overlay, hs...)
	}
	newSize := old + int64(len(entries))
	b := &store.Batch{OldSize: old, NewSize: newSize}
	for _, t := range sumdb.NewTiles(tlog.TileHeight, old, newSize) {
		data, err := sumdb.ReadTileData(t, hr)
		if err != nil {
			return nil, sumdb.Hash{}, fmt.Errorf("couldn't build tile %d/%d: %w", t.L, t.N, err)
		}
		b.Tiles = append(b.Tiles, store.Tile{Level: t.L, N: t.N, Data: data})
	}
	b.Chunks = chunks(old, entries)
	root, err := sumdb.TreeHash(newSize, hr)
	if err != nil {
		return nil, sumdb.Hash{}, fmt.Errorf("couldn't compute the root at size %d: %w", newSize, err)
	}
	return b, root, nil
}

// chunks splits a batch's entries into per-bundle chunks.
func chunks(old int64, entries [][]byte) []store.Chunk {
	var out []store.Chunk
	for i := 0; i < len(entries); {
		idx := old + int64(i)
		c := store.Chunk{N: idx / tlog.TileWidth, Start: int(idx % tlog.TileWidth)}
		n := min(tlog.TileWidth-c.Start, len(entries)-i)
		size := 0
		for _, e := range entries[i : i+n] {
			size += 2 + len(e)
		}
		c.Data = make([]byte, 0, size)
		for _, e := range entries[i : i+n] {
			c.Data, _ = tlog.AppendBundleEntry(c.Data, e) // sizes are checked by callers
		}
		c.Count = n
		out = append(out, c)
		i += n
	}
	return out
}
