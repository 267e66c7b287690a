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

// The write path is a two-stage pipeline. The sequencer takes every queued
// append into one batch, assigns indexes and computes the new hashes, tiles
// and root in memory; the committer writes each batch in one store
// transaction, answers its appends, and signs checkpoints. So batch k+1 is
// hashed while batch k is being fsynced.

// pending is a batch prepared by the sequencer, waiting to be committed.
type pending struct {
	reqs  []*appendReq
	batch *store.Batch
	root  sumdb.Hash // root of the tree at batch.NewSize
	epoch uint64     // the epoch it was prepared in
}

// errEarlierFailed fails appends prepared on top of a batch that failed, when
// the log is closed before they could be prepared again.
var errEarlierFailed = errors.New("not written: an earlier batch failed to commit and the log was closed")

// sequence is the sequencer goroutine.
func (l *Log) sequence() {
	defer close(l.toCommit)
	ctx := context.Background()
	next := l.Size() // tree size after every prepared batch
	epoch := l.epoch.Load()
	var sent int64 // batches handed to the committer
	for {
		var r *appendReq
		select {
		case r = <-l.reqs:
		case <-l.retryKick:
		case <-l.closing:
			// Close has stopped new appends; commit what is queued.
			select {
			case r = <-l.reqs:
			default:
			}
		}
		if e := l.epoch.Load(); e != epoch {
			// A batch failed. Wait until the committer has dealt with every
			// batch sent so far, so that all batches prepared on top of the
			// failed one are back in the retry list, in order; then start
			// again from the stored state.
			for l.processed.Load() != sent {
				<-l.progress
			}
			epoch, next = l.epoch.Load(), l.Size()
			l.edge = newEdgeTiles(l.st)
		}
		first := l.takeRetries()
		if r != nil {
			first = append(first, r)
		}
		if len(first) == 0 {
			select {
			case <-l.closing:
				return
			default:
				continue
			}
		}
		batch := l.collect(first)
		if err := l.Err(); err != nil {
			answer(batch, -1, err)
			continue
		}
		p, err := l.prepare(ctx, next, batch)
		if err != nil {
			l.log.Error("couldn't prepare batch", "size", next, "err", err)
			answer(batch, -1, err)
			l.edge = newEdgeTiles(l.st)
			continue
		}
		p.epoch = epoch
		l.edge.update(p.batch.Tiles)
		next = p.batch.NewSize
		l.toCommit <- p
		sent++
	}
}

// requeue hands the appends of a batch that was prepared on top of a failed
// one back to the sequencer, to be prepared again first.
func (l *Log) requeue(reqs []*appendReq) {
	l.retryMu.Lock()
	l.retry = append(l.retry, reqs...)
	l.retryMu.Unlock()
	select {
	case l.retryKick <- struct{}{}:
	default:
	}
}

func (l *Log) takeRetries() []*appendReq {
	l.retryMu.Lock()
	defer l.retryMu.Unlock()
	r := l.retry
	l.retry = nil
	return r
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

// answer completes requests: with consecutive indexes from first, or with err.
func answer(reqs []*appendReq, first int64, err error) {
	for i, r := range reqs {
		r.idx, r.err = first+int64(i), err
		if err != nil {
			r.idx = -1
		}
		close(r.done)
	}
}

// prepare computes the new hashes, tiles, bundle chunks and root for a batch.
func (l *Log) prepare(ctx context.Context, old int64, reqs []*appendReq) (*pending, error) {
	entries := make([][]byte, len(reqs))
	for i, r := range reqs {
		entries[i] = r.entry
	}
	b, root, err := buildBatch(ctx, l.edge, old, entries)
	if err != nil {
		return nil, err
	}
	return &pending{reqs: reqs, batch: b, root: root}, nil
}

// commitLoop is the committer goroutine: the only one that writes to the store.
func (l *Log) commitLoop() {
	defer close(l.stopped)
	ctx := context.Background()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		urgent := false
		select {
		case p, ok := <-l.toCommit:
			if !ok {
				answer(l.takeRetries(), -1, errEarlierFailed) // only if closed during a failure
				if l.Err() == nil && l.Size() > l.latest.Load().Tree.N {
					if err := l.checkpoint(ctx); err != nil {
						l.log.Error("couldn't sign the final checkpoint", "err", err)
						l.closeErr = fmt.Errorf("couldn't sign the final checkpoint: entries %d to %d are durable but not covered by a signed checkpoint until the log is opened again: %w",
							l.latest.Load().Tree.N, l.Size()-1, err)
					}
				}
				return
			}
			l.commit(ctx, p)
			l.processed.Add(1)
			select {
			case l.progress <- struct{}{}:
			default:
			}
		case <-l.cpWant:
			urgent = true
		case <-timer.C:
		}
		// A checkpoint request that arrived during the commit is served now.
		select {
		case <-l.cpWant:
			urgent = true
		default:
		}
		// So is a log that has gone idle: a lone append is covered at once
		// rather than after the interval, which only batches checkpoints
		// under load. (The checkpoint is signed only after the tree is
		// durable, so it costs a second write; under load the interval
		// keeps those few.)
		if len(l.toCommit) == 0 && len(l.reqs) == 0 {
			urgent = true
		}
		l.maybeCheckpoint(ctx, urgent, timer)
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

// commit writes a prepared batch in one store transaction and answers it.
func (l *Log) commit(ctx context.Context, p *pending) {
	b := p.batch
	if err := l.Err(); err != nil {
		answer(p.reqs, -1, err)
		return
	}
	if p.epoch != l.epoch.Load() {
		l.requeue(p.reqs) // prepared on top of a failed batch: prepare again
		return
	}
	start := time.Now()
	err := l.st.Append(ctx, b)
	if err != nil {
		err = l.recoverAppend(ctx, b, err)
	}
	if err != nil {
		l.epoch.Add(1) // batches prepared on top of this one are void
		l.metrics.appendErrs.Add(float64(len(p.reqs)))
		answer(p.reqs, -1, err)
		return
	}
	l.metrics.commit.Observe(time.Since(start).Seconds())
	l.metrics.batch.Observe(float64(len(p.reqs)))
	l.metrics.appends.Add(float64(len(p.reqs)))
	l.metrics.size.Set(float64(b.NewSize))
	l.root = p.root
	l.size.Store(b.NewSize)
	answer(p.reqs, b.OldSize, nil)
}

// recoverAppend is called when the store failed a batch. It reloads the
// stored size: if the batch persisted anyway it reports success; if nothing
// was written it returns the store's error; anything else is fatal.
func (l *Log) recoverAppend(ctx context.Context, b *store.Batch, werr error) error {
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

// checkpoint signs and durably records a checkpoint for the durable tree,
// then releases it.
func (l *Log) checkpoint(ctx context.Context) error {
	size, root := l.Size(), l.root
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
