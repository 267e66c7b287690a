package partylog

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/tillit/tillit/tlog"
	sumdb "golang.org/x/mod/sumdb/tlog"
)

// Export writes the tree of the latest released checkpoint to dir as static
// files in the c2sp.org/tlog-tiles layout: every full tile and bundle, the
// partial tiles and bundle of that tree, and the checkpoint, written last so
// that a reader never sees a checkpoint whose tiles are missing. Files are
// written atomically; existing full tiles are kept (they are immutable), so
// exporting again into the same directory only adds what is new.
// progress, if not nil, is called with the entries exported so far.
func (l *Log) Export(ctx context.Context, dir string, progress func(done, total int64)) (Signed, error) {
	cp := l.Latest()
	size := cp.Tree.N
	for level := tlog.EntriesLevel; level < 64; level++ {
		if _, ok := tlog.TileForSize(level, 0, size); !ok {
			break
		}
		for n := int64(0); ; n++ {
			t, ok := tlog.TileForSize(level, n, size)
			if !ok {
				break
			}
			if err := ctx.Err(); err != nil {
				return Signed{}, err
			}
			if err := l.exportTile(ctx, dir, t); err != nil {
				return Signed{}, err
			}
			if progress != nil && level == tlog.EntriesLevel {
				progress(min((n+1)*tlog.TileWidth, size), size)
			}
		}
	}
	if err := writeFileAtomic(filepath.Join(dir, "checkpoint"), cp.Note); err != nil {
		return Signed{}, err
	}
	return cp, nil
}

func (l *Log) exportTile(ctx context.Context, dir string, t sumdb.Tile) error {
	path := filepath.Join(dir, filepath.FromSlash(tlog.TilePath(t)))
	if t.W == tlog.TileWidth {
		if _, err := os.Stat(path); err == nil {
			return nil
		}
	}
	data, err := l.ReadTile(ctx, t)
	if err != nil {
		return fmt.Errorf("couldn't read %s: %w", tlog.TilePath(t), err)
	}
	return writeFileAtomic(path, data)
}

func writeFileAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("couldn't export: %w", err)
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return fmt.Errorf("couldn't export: %w", err)
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("couldn't write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("couldn't write %s: %w", path, err)
	}
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		return fmt.Errorf("couldn't export: %w", err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("couldn't write %s: %w", path, err)
	}
	return nil
}
