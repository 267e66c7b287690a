package partylog

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tillit/tillit/store"
	"github.com/tillit/tillit/tlog"
	sumdb "golang.org/x/mod/sumdb/tlog"
)

// run is the sequencer: the only goroutine that writes to the store. It
// takes every queued append into one batch, commits it, and signs
// checkpoints when they are due or requested.
func (l *Log) run() {
	defer close(l.stopped)
	ctx := context.Background()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	batch := make([]*appendReq, 0, l.opts.MaxBatch)
	for {
		urgent := false
		select {
		case r := <-l.reqs:
			batch = l.collect(append(batch[:0], r))
			l.commit(ctx, batch)
		case <-l.cpWant:
			urgent = true
		case <-timer.C:
		case <-l.closing:
			l.drain(ctx, batch)
			return
		}
		if l.Err() != nil {
			l.drain(ctx, batch)
			return
		}
		// A checkpoint request that arrived during the commit is served now.
		select {
		case <-l.cpWant:
			urgent = true
		default:
		}
		l.maybeCheckpoint(ctx, urgent, timer)
	}
}

// collect adds every request already queued, up to MaxBatch.
func (l *Log) collect(batch []*appendReq) []*appendReq {
	for len(batch) < l.opts.MaxBatch {
		select {
		case r := <-l.reqs:
			batch = append(batch, r)
		default:
			return batch
		}
	}
	return batch
}

// drain commits what is queued at Close, then signs a final checkpoint.
func (l *Log) drain(ctx context.Context, batch []*appendReq) {
	for l.Err() == nil {
		batch = l.collect(batch[:0])
		if len(batch) == 0 {
			break
		}
		l.commit(ctx, batch)
	}
	for {
		select {
		case r := <-l.reqs:
			r.err = ErrClosed
			if err := l.Err(); err != nil {
				r.err = err
			}
			close(r.done)
		default:
			if l.Err() == nil && l.Size() > l.latest.Load().Tree.N {
				if err := l.checkpoint(ctx); err != nil {
					l.log.Error("couldn't sign the final checkpoint", "err", err)
				}
			}
			return
		}
	}
}

func (l *Log) maybeCheckpoint(ctx context.Context, urgent bool, timer *time.Timer) {
	if l.Err() != nil || l.Size() <= l.latest.Load().Tree.N {
		return
	}
	wait := l.opts.CheckpointInterval - time.Since(l.lastCPTime)
	if !urgent && wait > 0 {
		timer.Reset(wait)
		return
	}
	timer.Stop()
	if err := l.checkpoint(ctx); err != nil {
		l.log.Error("couldn't sign checkpoint", "size", l.Size(), "err", err)
		timer.Reset(l.opts.CheckpointInterval)
	}
}

// commit hashes a batch, writes it in one store transaction, and answers
// every request in it.
func (l *Log) commit(ctx context.Context, batch []*appendReq) {
	old := l.Size()
	b, err := l.prepare(ctx, old, batch)
	if err == nil {
		err = l.st.Append(ctx, b)
		if err != nil {
			err = l.recoverAppend(ctx, b, err)
		}
	}
	if err == nil {
		l.edge.update(b.Tiles)
		l.size.Store(b.NewSize)
	}
	for i, r := range batch {
		r.idx, r.err = old+int64(i), err
		if err != nil {
			r.idx = -1
		}
		close(r.done)
	}
}

// prepare computes the new hashes, tiles and bundle chunks for a batch.
func (l *Log) prepare(ctx context.Context, old int64, batch []*appendReq) (*store.Batch, error) {
	base := sumdb.StoredHashCount(old)
	overlay := make([]sumdb.Hash, 0, 2*len(batch)+1)
	hr := l.edge.reader(ctx, &overlay, base)
	for i, r := range batch {
		hs, err := sumdb.StoredHashes(old+int64(i), r.entry, hr)
		if err != nil {
			return nil, fmt.Errorf("couldn't hash entry %d: %w", old+int64(i), err)
		}
		overlay = append(overlay, hs...)
	}
	newSize := old + int64(len(batch))
	b := &store.Batch{OldSize: old, NewSize: newSize}
	for _, t := range sumdb.NewTiles(tlog.TileHeight, old, newSize) {
		data, err := sumdb.ReadTileData(t, hr)
		if err != nil {
			return nil, fmt.Errorf("couldn't build tile %d/%d: %w", t.L, t.N, err)
		}
		b.Tiles = append(b.Tiles, store.Tile{Level: t.L, N: t.N, Data: data})
	}
	b.Chunks = chunks(old, batch)
	return b, nil
}

// chunks splits a batch's entries into per-bundle chunks.
func chunks(old int64, batch []*appendReq) []store.Chunk {
	var out []store.Chunk
	for i := 0; i < len(batch); {
		idx := old + int64(i)
		c := store.Chunk{N: idx / tlog.TileWidth, Start: int(idx % tlog.TileWidth)}
		n := min(tlog.TileWidth-c.Start, len(batch)-i)
		size := 0
		for _, r := range batch[i : i+n] {
			size += 2 + len(r.entry)
		}
		c.Data = make([]byte, 0, size)
		for _, r := range batch[i : i+n] {
			c.Data, _ = tlog.AppendBundleEntry(c.Data, r.entry) // sizes checked in Append
		}
		c.Count = n
		out = append(out, c)
		i += n
	}
	return out
}

// recoverAppend is called when the store failed a batch. It reloads the
// stored size: if the batch persisted anyway it reports success; if nothing
// was written it returns the store's error; anything else is fatal.
func (l *Log) recoverAppend(ctx context.Context, b *store.Batch, werr error) error {
	l.edge = newEdgeTiles(l.st) // forget cached tiles: the store is the truth now
	st, err := l.st.Load(ctx)
	switch {
	case err != nil:
		err = fmt.Errorf("%w: append failed (%v) and the state couldn't be reloaded: %v", ErrFatal, werr, err)
	case st.Size == b.OldSize && !errors.Is(werr, store.ErrConflict):
		l.log.Warn("append failed and was not written", "size", b.OldSize, "entries", b.NewSize-b.OldSize, "err", werr)
		return fmt.Errorf("couldn't append: %w", werr)
	case st.Size == b.NewSize && !errors.Is(werr, store.ErrConflict):
		l.log.Warn("append reported an error but persisted", "size", b.NewSize, "err", werr)
		return nil
	default:
		err = fmt.Errorf("%w: append at size %d failed (%v) and the store now holds %d entries: another writer?", ErrFatal, b.OldSize, werr, st.Size)
	}
	l.setFatal(err)
	return err
}

// checkpoint signs and durably records a checkpoint for the current size,
// then releases it.
func (l *Log) checkpoint(ctx context.Context) error {
	size := l.Size()
	root, err := l.treeHash(ctx, size, l.edge.reader(ctx, nil, 0))
	if err != nil {
		return fmt.Errorf("couldn't compute the root at size %d: %w", size, err)
	}
	c := tlog.Checkpoint{Origin: l.opts.Origin, Tree: sumdb.Tree{N: size, Hash: root}}
	msg, err := tlog.SignCheckpoint(c, l.opts.Signer)
	if err != nil {
		return fmt.Errorf("couldn't sign checkpoint: %w", err)
	}
	rec := store.Checkpoint{Size: size, Root: root, Note: msg}
	if err := l.st.SetCheckpoint(ctx, rec); err != nil {
		st, lerr := l.st.Load(ctx)
		if lerr != nil || st.Checkpoint.Size != size || st.Checkpoint.Root != root {
			if errors.Is(err, store.ErrConflict) {
				l.setFatal(fmt.Errorf("%w: the store refused checkpoint %d: %v", ErrFatal, size, err))
			}
			return fmt.Errorf("couldn't record checkpoint: %w", err)
		}
		l.log.Warn("checkpoint write reported an error but persisted", "size", size, "err", err)
	}
	l.lastCPTime = time.Now()
	l.release(&Signed{Checkpoint: c, Note: msg})
	return nil
}

func (l *Log) treeHash(ctx context.Context, size int64, hr sumdb.HashReader) (sumdb.Hash, error) {
	return sumdb.TreeHash(size, hr)
}
