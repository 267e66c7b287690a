package partylog

import (
	"context"
	"errors"
	"fmt"

	"github.com/tillit/tillit/store"
	"github.com/tillit/tillit/tlog"
	sumdb "golang.org/x/mod/sumdb/tlog"
)

// ErrOutOfRange is returned for an index or tree size beyond the log.
var ErrOutOfRange = errors.New("out of range")

// TreeHash returns the root hash of the tree of the given size.
func (l *Log) TreeHash(ctx context.Context, size int64) (sumdb.Hash, error) {
	if size < 0 || size > l.Size() {
		return sumdb.Hash{}, fmt.Errorf("tree size %d: %w (log has %d entries)", size, ErrOutOfRange, l.Size())
	}
	return sumdb.TreeHash(size, l.tiles.hashReader(ctx))
}

// ProveInclusion returns the RFC 6962 inclusion proof of entry index in the
// tree of the given size.
func (l *Log) ProveInclusion(ctx context.Context, index, size int64) (sumdb.RecordProof, error) {
	if size < 0 || size > l.Size() || index < 0 || index >= size {
		return nil, fmt.Errorf("entry %d in tree of size %d: %w (log has %d entries)", index, size, ErrOutOfRange, l.Size())
	}
	return sumdb.ProveRecord(size, index, l.tiles.hashReader(ctx))
}

// ProveConsistency returns the RFC 6962 consistency proof from the tree of
// size oldSize to the tree of size newSize.
func (l *Log) ProveConsistency(ctx context.Context, oldSize, newSize int64) (sumdb.TreeProof, error) {
	if newSize < 0 || newSize > l.Size() || oldSize < 0 || oldSize > newSize {
		return nil, fmt.Errorf("consistency %d→%d: %w (log has %d entries)", oldSize, newSize, ErrOutOfRange, l.Size())
	}
	if oldSize == 0 || oldSize == newSize {
		return sumdb.TreeProof{}, nil // RFC 6962 §2.1.2: the empty tree and a tree itself need no proof
	}
	return sumdb.ProveTree(newSize, oldSize, l.tiles.hashReader(ctx))
}

// Proof returns a self-contained c2sp.org/tlog-proof@v1 proof of entry index
// against the latest released checkpoint.
func (l *Log) Proof(ctx context.Context, index int64) (*tlog.Proof, error) {
	cp := l.Latest()
	if index < 0 || index >= cp.Tree.N {
		return nil, fmt.Errorf("entry %d: %w (latest checkpoint has %d entries)", index, ErrOutOfRange, cp.Tree.N)
	}
	p, err := l.ProveInclusion(ctx, index, cp.Tree.N)
	if err != nil {
		return nil, err
	}
	return &tlog.Proof{Index: index, Inclusion: p, Checkpoint: cp.Note}, nil
}

// Entry returns entry index.
func (l *Log) Entry(ctx context.Context, index int64) ([]byte, error) {
	if index < 0 || index >= l.Size() {
		return nil, fmt.Errorf("entry %d: %w (log has %d entries)", index, ErrOutOfRange, l.Size())
	}
	return readEntry(ctx, l.st, index)
}

func readEntry(ctx context.Context, st store.LogStore, index int64) ([]byte, error) {
	b, err := st.ReadBundle(ctx, index/tlog.TileWidth)
	if err != nil {
		return nil, err
	}
	es, err := tlog.SplitBundle(b)
	if err != nil {
		return nil, fmt.Errorf("stored bundle %d: %w", index/tlog.TileWidth, err)
	}
	i := int(index % tlog.TileWidth)
	if i >= len(es) {
		return nil, fmt.Errorf("stored bundle %d holds %d entries, need %d", index/tlog.TileWidth, len(es), i+1)
	}
	return es[i], nil
}

// ReadTile returns tile t (a hash tile, or an entry bundle if t.L is
// tlog.EntriesLevel) as it is in any tree with at least the entries t spans.
func (l *Log) ReadTile(ctx context.Context, t sumdb.Tile) ([]byte, error) {
	return readTile(ctx, l.st, l.tiles, t)
}

func readTile(ctx context.Context, st store.LogStore, tiles *tileCache, t sumdb.Tile) ([]byte, error) {
	if t.L != tlog.EntriesLevel {
		return tiles.read(ctx, t.L, t.N, t.W)
	}
	b, err := st.ReadBundle(ctx, t.N)
	if err != nil {
		return nil, err
	}
	return tlog.TruncateBundle(b, t.W)
}

// Verify checks the whole stored log against its latest released checkpoint,
// as an auditor would: it reads every entry bundle and hash tile, recomputes
// every hash from the entries up, and compares them with the stored tiles
// and the checkpoint's root. It returns the first *tlog.Fault found.
//
// Open checks only the O(log n) stored hashes the last checkpoint's root is
// computed from; Verify finds damage anywhere else (such as a corrupted full
// tile), which would otherwise only show when a client verifies what the log
// serves.
func (l *Log) Verify(ctx context.Context, progress func(done, total int64)) (tlog.Checkpoint, error) {
	fetch := func(ctx context.Context, path string) ([]byte, error) {
		if path == "checkpoint" {
			return l.Latest().Note, nil
		}
		t, err := tlog.ParseTilePath(path)
		if err != nil {
			return nil, err
		}
		b, err := l.ReadTile(ctx, t)
		if errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("%w: %w", tlog.ErrNotFound, err)
		}
		return b, err
	}
	return tlog.VerifyLog(ctx, fetch, l.opts.Origin, l.verifier(), tlog.VerifyOptions{Progress: progress})
}

// Entries returns entries [start, end) of the log, reading whole bundles.
func (l *Log) Entries(ctx context.Context, start, end int64) ([][]byte, error) {
	if start < 0 || start > end || end > l.Size() {
		return nil, fmt.Errorf("entries %d to %d: %w (log has %d entries)", start, end, ErrOutOfRange, l.Size())
	}
	return readEntries(ctx, l.st, start, end)
}

func readEntries(ctx context.Context, st store.LogStore, start, end int64) ([][]byte, error) {
	var out [][]byte
	for n := start / tlog.TileWidth; n*tlog.TileWidth < end; n++ {
		b, err := st.ReadBundle(ctx, n)
		if err != nil {
			return nil, err
		}
		es, err := tlog.SplitBundle(b)
		if err != nil {
			return nil, fmt.Errorf("stored bundle %d: %w", n, err)
		}
		first := n * tlog.TileWidth
		lo, hi := max(start-first, 0), min(end-first, int64(len(es)))
		if hi < min(end-first, tlog.TileWidth) {
			return nil, fmt.Errorf("stored bundle %d holds %d entries, need %d", n, len(es), min(end-first, tlog.TileWidth))
		}
		out = append(out, es[lo:hi]...)
	}
	return out, nil
}

// CheckpointAt signs and returns a checkpoint of the log's tree at an
// earlier size, for a mirror that is too far behind to catch up to the
// latest checkpoint in one step. The root is the stored tree's at that
// size, so the checkpoint is consistent with every other the log signs
// (the log never signs two roots for one size). It is not recorded or
// released as the log's latest.
func (l *Log) CheckpointAt(ctx context.Context, size int64) (Signed, error) {
	if size <= 0 || size > l.latest.Load().Tree.N {
		return Signed{}, fmt.Errorf("checkpoint at %d: %w (latest checkpoint has %d entries)", size, ErrOutOfRange, l.latest.Load().Tree.N)
	}
	root, err := l.TreeHash(ctx, size)
	if err != nil {
		return Signed{}, err
	}
	c := tlog.Checkpoint{Origin: l.opts.Origin, Tree: sumdb.Tree{N: size, Hash: root}}
	msg, err := tlog.SignCheckpoint(c, l.opts.Signer)
	if err != nil {
		return Signed{}, err
	}
	return Signed{Checkpoint: c, Note: msg}, nil
}
