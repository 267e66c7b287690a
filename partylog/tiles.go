package partylog

import (
	"context"
	"fmt"
	"sync"

	"github.com/tillit/tillit/store"
	"github.com/tillit/tillit/tlog"
	sumdb "golang.org/x/mod/sumdb/tlog"
)

type tileKey struct {
	level int
	n     int64
}

// edgeTiles caches, for the sequencer, the rightmost tiles of each level:
// every hash an append or a root computation needs lies in them.
type edgeTiles struct {
	st    store.LogStore
	tiles map[tileKey][]byte
	last  [64]int64 // highest cached tile index per level
}

func newEdgeTiles(st store.LogStore) *edgeTiles {
	return &edgeTiles{st: st, tiles: make(map[tileKey][]byte)}
}

func (e *edgeTiles) put(level int, n int64, data []byte) {
	e.tiles[tileKey{level, n}] = data
	if n > e.last[level] {
		e.last[level] = n
		for k := range e.tiles { // keep the newest two tiles of the level
			if k.level == level && k.n < n-1 {
				delete(e.tiles, k)
			}
		}
	}
}

func (e *edgeTiles) update(tiles []store.Tile) {
	for _, t := range tiles {
		e.put(t.Level, t.N, t.Data)
	}
}

func (e *edgeTiles) tile(ctx context.Context, level int, n int64, w int) ([]byte, error) {
	if d, ok := e.tiles[tileKey{level, n}]; ok && len(d) >= w*sumdb.HashSize {
		return d, nil
	}
	d, err := e.st.ReadTile(ctx, level, n)
	if err != nil {
		return nil, err
	}
	if len(d) < w*sumdb.HashSize {
		return nil, fmt.Errorf("stored tile %d/%d holds %d hashes, need %d", level, n, len(d)/sumdb.HashSize, w)
	}
	e.put(level, n, d)
	return d, nil
}

// reader returns a HashReader over the edge tiles and, for stored hash
// indexes from base on, the hashes computed so far in the current batch.
func (e *edgeTiles) reader(ctx context.Context, overlay *[]sumdb.Hash, base int64) sumdb.HashReader {
	return sumdb.HashReaderFunc(func(indexes []int64) ([]sumdb.Hash, error) {
		out := make([]sumdb.Hash, len(indexes))
		for i, idx := range indexes {
			if overlay != nil && idx >= base {
				if idx-base >= int64(len(*overlay)) {
					return nil, fmt.Errorf("hash %d not yet computed", idx)
				}
				out[i] = (*overlay)[idx-base]
				continue
			}
			t := sumdb.TileForIndex(tlog.TileHeight, idx)
			data, err := e.tile(ctx, t.L, t.N, t.W)
			if err != nil {
				return nil, err
			}
			if out[i], err = sumdb.HashFromTile(t, data, idx); err != nil {
				return nil, err
			}
		}
		return out, nil
	})
}

// tileCache serves tile reads for proofs and HTTP. A stored tile only ever
// grows (its first w hashes never change), so a cached tile serves any read
// of at most its width; a wider read goes to the store and replaces it.
type tileCache struct {
	st    store.LogStore
	max   int
	mu    sync.Mutex
	tiles map[tileKey][]byte
}

func newTileCache(st store.LogStore, max int) *tileCache {
	return &tileCache{st: st, max: max, tiles: make(map[tileKey][]byte)}
}

// read returns the first w hashes of tile (level, n).
func (c *tileCache) read(ctx context.Context, level int, n int64, w int) ([]byte, error) {
	k := tileKey{level, n}
	c.mu.Lock()
	d := c.tiles[k]
	c.mu.Unlock()
	if len(d) < w*sumdb.HashSize {
		var err error
		if d, err = c.st.ReadTile(ctx, level, n); err != nil {
			return nil, err
		}
		if len(d) < w*sumdb.HashSize {
			return nil, fmt.Errorf("stored tile %d/%d holds %d hashes, need %d", level, n, len(d)/sumdb.HashSize, w)
		}
		c.mu.Lock()
		if _, ok := c.tiles[k]; !ok && len(c.tiles) >= c.max {
			for old := range c.tiles { // evict an arbitrary tile
				delete(c.tiles, old)
				break
			}
		}
		c.tiles[k] = d
		c.mu.Unlock()
	}
	return d[:w*sumdb.HashSize], nil
}

// hashReader reads stored hashes through the cache, reading each tile at
// most once per call.
func (c *tileCache) hashReader(ctx context.Context) sumdb.HashReader {
	return sumdb.HashReaderFunc(func(indexes []int64) ([]sumdb.Hash, error) {
		out := make([]sumdb.Hash, len(indexes))
		read := make(map[tileKey][]byte)
		for i, idx := range indexes {
			t := sumdb.TileForIndex(tlog.TileHeight, idx)
			k := tileKey{t.L, t.N}
			data, ok := read[k]
			if !ok || len(data) < t.W*sumdb.HashSize {
				var err error
				if data, err = c.read(ctx, t.L, t.N, t.W); err != nil {
					return nil, fmt.Errorf("couldn't read hash %d: %w", idx, err)
				}
				read[k] = data
			}
			var err error
			if out[i], err = sumdb.HashFromTile(t, data, idx); err != nil {
				return nil, err
			}
		}
		return out, nil
	})
}
