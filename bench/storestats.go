package bench

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/tillit/tillit/store"
)

// TillitStoreStats, if set, makes OpenTillit wrap its store in a recorder of
// the time spent in each store write, and print a summary there on Close.
// It is a diagnostic for partylog's authors (logbench -tillit-store-stats).
var TillitStoreStats io.Writer

// timedStore records how long each write to the wrapped store takes.
type timedStore struct {
	store.LogStore
	mu                  sync.Mutex
	appends, cps        Hist
	entries, tileBytes  int64
	chunkBytes, nTiles  int64
	appendTime, cpTime  time.Duration
	maxBatch, batchesGT int64
}

func (s *timedStore) Append(ctx context.Context, b *store.Batch) error {
	t0 := time.Now()
	err := s.LogStore.Append(ctx, b)
	d := time.Since(t0)
	s.mu.Lock()
	s.appends.Record(d)
	s.appendTime += d
	n := b.NewSize - b.OldSize
	s.entries += n
	s.maxBatch = max(s.maxBatch, n)
	for _, t := range b.Tiles {
		s.tileBytes += int64(len(t.Data))
		s.nTiles++
	}
	for _, c := range b.Chunks {
		s.chunkBytes += int64(len(c.Data))
	}
	s.mu.Unlock()
	return err
}

func (s *timedStore) SetCheckpoint(ctx context.Context, c store.Checkpoint) error {
	t0 := time.Now()
	err := s.LogStore.SetCheckpoint(ctx, c)
	d := time.Since(t0)
	s.mu.Lock()
	s.cps.Record(d)
	s.cpTime += d
	s.mu.Unlock()
	return err
}

func (s *timedStore) report(w io.Writer, elapsed time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := max(s.appends.Count(), 1)
	fmt.Fprintf(w, "tillit store: %d batches, %.1f entries/batch (max %d); Append p50 %.2f ms p99 %.2f ms max %.2f ms, busy %.0f%% of %v; "+
		"%d checkpoints, SetCheckpoint p50 %.2f ms p99 %.2f ms max %.2f ms, busy %.0f%%; written per entry: %.0f B bundle + %.0f B tiles (%.1f tiles/batch)\n",
		s.appends.Count(), float64(s.entries)/float64(n), s.maxBatch,
		ms(s.appends.Quantile(.5)), ms(s.appends.Quantile(.99)), ms(s.appends.Quantile(1)), 100*s.appendTime.Seconds()/elapsed.Seconds(), elapsed.Round(time.Millisecond),
		s.cps.Count(), ms(s.cps.Quantile(.5)), ms(s.cps.Quantile(.99)), ms(s.cps.Quantile(1)), 100*s.cpTime.Seconds()/elapsed.Seconds(),
		float64(s.chunkBytes)/float64(max(s.entries, 1)), float64(s.tileBytes)/float64(max(s.entries, 1)), float64(s.nTiles)/float64(n))
}
