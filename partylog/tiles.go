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

// tileCache serves tile reads for proofs and HTTP. Full tiles never change,
// so they are cached; partial tiles are read from the store each time.
type tileCache struct {
	st   store.LogStore
	max  int
	mu   sync.Mutex
	full map[tileKey][]byte
}

func newTileCache(st store.LogStore, max int) *tileCache {
	return &tileCache{st: st, max: max, full: make(map[tileKey][]byte)}
}

// read returns the first w hashes of tile (level, n).
func (c *tileCache) read(ctx context.Context, level int, n int64, w int) ([]byte, error) {
	c.mu.Lock()
	d, ok := c.full[tileKey{level, n}]
	c.mu.Unlock()
	if !ok {
		var err error
		if d, err = c.st.ReadTile(ctx, level, n); err != nil {
			return nil, err
		}
		if len(d) == tlog.TileWidth*sumdb.HashSize {
			c.mu.Lock()
			if len(c.full) >= c.max {
				for k := range c.full { // evict an arbitrary tile
					delete(c.full, k)
					break
				}
			}
			c.full[tileKey{level, n}] = d
			c.mu.Unlock()
		}
	}
	if len(d) < w*sumdb.HashSize {
		return nil, fmt.Errorf("stored tile %d/%d holds %d hashes, need %d", level, n, len(d)/sumdb.HashSize, w)
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
