package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Config describes one measured run.
type Config struct {
	Concurrency int           // number of appending goroutines
	Duration    time.Duration // how long writers keep appending (if N == 0)
	N           uint64        // total number of appends (overrides Duration)
	EntrySize   int           // bytes per entry
	// CheckpointWait bounds how long to wait, after the last append, for a
	// signed checkpoint covering every appended entry. Zero skips the
	// append-to-checkpoint measurement.
	CheckpointWait time.Duration
}

// Result holds the measurements of one run. Latencies are in milliseconds.
type Result struct {
	System      string  `json:"system"`
	Concurrency int     `json:"concurrency"`
	Run         int     `json:"run"`
	EntrySize   int     `json:"entry_size"`
	Appends     uint64  `json:"appends"`
	Errors      uint64  `json:"errors"`
	FirstError  string  `json:"first_error,omitempty"`
	ElapsedSec  float64 `json:"elapsed_s"`
	PerSec      float64 `json:"appends_per_s"`

	DurableP50 float64 `json:"durable_p50_ms"`
	DurableP99 float64 `json:"durable_p99_ms"`
	DurableMax float64 `json:"durable_max_ms"`

	CheckpointP50     float64 `json:"checkpoint_p50_ms"`
	CheckpointP99     float64 `json:"checkpoint_p99_ms"`
	CheckpointMax     float64 `json:"checkpoint_max_ms"`
	CheckpointMissing uint64  `json:"checkpoint_missing"` // appends never covered within CheckpointWait
	Checkpoints       int     `json:"checkpoints"`        // distinct checkpoints observed

	PeakRSSMiB float64 `json:"peak_rss_mib"` // filled in by the parent process
	CPUSec     float64 `json:"cpu_s"`        // user+sys, filled in by the parent process

	// Interference from the rest of the (shared) machine, filled in by the
	// parent: idle CPU fraction just before the run, and the fraction of
	// all CPUs used by other processes during it.
	IdleBefore float64 `json:"idle_before"`
	OtherCPU   float64 `json:"other_cpu"`
	Tries      int     `json:"tries,omitempty"`
}

// startTable records, per log index, when its Append call started
// (microseconds since the run began, plus one; zero means unset).
type startTable struct {
	chunks [1 << 14]atomic.Pointer[[1 << 16]uint32]
}

func (t *startTable) set(idx uint64, us uint32) error {
	c := idx >> 16
	if c >= uint64(len(t.chunks)) {
		return fmt.Errorf("index %d too large for the harness", idx)
	}
	p := t.chunks[c].Load()
	if p == nil {
		t.chunks[c].CompareAndSwap(nil, new([1 << 16]uint32))
		p = t.chunks[c].Load()
	}
	p[idx&(1<<16-1)] = us
	return nil
}

func (t *startTable) get(idx uint64) uint32 {
	p := t.chunks[idx>>16].Load()
	if p == nil {
		return 0
	}
	return p[idx&(1<<16-1)]
}

type cpEvent struct {
	at   time.Duration // since run start
	size uint64
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Run opens a fresh log of the named system in dir (which must be empty or
// absent) and measures it under cfg.
func Run(ctx context.Context, system, dir string, cfg Config) (*Result, error) {
	open, ok := Systems[system]
	if !ok {
		return nil, fmt.Errorf("unknown system %q", system)
	}
	if cfg.Concurrency < 1 {
		return nil, errors.New("concurrency must be at least 1")
	}
	if cfg.EntrySize < 192 || cfg.EntrySize > 65535 {
		return nil, errors.New("entry size must be between 192 and 65535 bytes")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	lg, err := open(ctx, dir, cfg.Concurrency)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", system, err)
	}
	closed := false
	defer func() {
		if !closed {
			_ = lg.Close()
		}
	}()

	var (
		starts   = new(startTable)
		evMu     sync.Mutex
		events   []cpEvent
		covered  atomic.Uint64
		coverSig = make(chan struct{}, 1)
	)
	begin := time.Now()
	watchCtx, stopWatch := context.WithCancel(ctx)
	watchDone := make(chan struct{})
	if cfg.CheckpointWait > 0 {
		go func() {
			defer close(watchDone)
			lg.WatchCheckpoints(watchCtx, func(size uint64) {
				at := time.Since(begin)
				evMu.Lock()
				events = append(events, cpEvent{at, size})
				evMu.Unlock()
				covered.Store(size)
				select {
				case coverSig <- struct{}{}:
				default:
				}
			})
		}()
	} else {
		close(watchDone)
	}

	var (
		wg       sync.WaitGroup
		hists    shardedHist
		counts   = make([]uint64, cfg.Concurrency)
		errCount atomic.Uint64
		firstErr atomic.Value
		maxIdx   atomic.Uint64
		remain   atomic.Int64
		stop     atomic.Bool
	)
	remain.Store(int64(cfg.N))
	begin = time.Now()
	for w := range cfg.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pl := NewPayloads(w, cfg.EntrySize)
			h := hists.shard(w)
			for {
				if cfg.N > 0 {
					if remain.Add(-1) < 0 {
						return
					}
				} else if stop.Load() {
					return
				}
				e := pl.Next()
				t0 := time.Now()
				idx, err := lg.Append(ctx, e)
				t1 := time.Now()
				if err != nil {
					if errCount.Add(1) == 1 {
						firstErr.Store(err.Error())
					}
					if ctx.Err() != nil {
						return
					}
					continue
				}
				h.Record(t1.Sub(t0))
				counts[w]++
				if cfg.CheckpointWait > 0 {
					if err := starts.set(idx, uint32(t0.Sub(begin)/time.Microsecond)+1); err != nil {
						if errCount.Add(1) == 1 {
							firstErr.Store(err.Error())
						}
						return
					}
				}
				for m := maxIdx.Load(); idx+1 > m && !maxIdx.CompareAndSwap(m, idx+1); m = maxIdx.Load() {
				}
			}
		}()
	}
	if cfg.N == 0 {
		select {
		case <-time.After(cfg.Duration):
		case <-ctx.Done():
		}
		stop.Store(true)
	}
	wg.Wait()
	elapsed := time.Since(begin)

	res := &Result{System: system, Concurrency: cfg.Concurrency, EntrySize: cfg.EntrySize, ElapsedSec: elapsed.Seconds()}
	dur := hists.merged()
	for _, n := range counts {
		res.Appends += n
	}
	res.Errors = errCount.Load()
	if s, ok := firstErr.Load().(string); ok {
		res.FirstError = s
	}
	res.PerSec = float64(res.Appends) / elapsed.Seconds()
	res.DurableP50, res.DurableP99, res.DurableMax = ms(dur.Quantile(0.50)), ms(dur.Quantile(0.99)), ms(dur.Quantile(1))

	if cfg.CheckpointWait > 0 {
		want := maxIdx.Load()
		deadline := time.After(cfg.CheckpointWait)
	wait:
		for covered.Load() < want {
			select {
			case <-coverSig:
			case <-deadline:
				break wait
			case <-ctx.Done():
				break wait
			}
		}
		stopWatch()
		<-watchDone
		evMu.Lock()
		evs := slices.Clone(events)
		evMu.Unlock()
		res.Checkpoints = len(evs)
		var cp Hist
		j := 0
		for idx := uint64(0); idx < want; idx++ {
			st := starts.get(idx)
			if st == 0 {
				continue // appended by nobody we timed (should not happen) or failed
			}
			for j < len(evs) && evs[j].size <= idx {
				j++
			}
			if j == len(evs) {
				res.CheckpointMissing++
				continue
			}
			cp.Record(evs[j].at - time.Duration(st-1)*time.Microsecond)
		}
		res.CheckpointP50, res.CheckpointP99, res.CheckpointMax = ms(cp.Quantile(0.50)), ms(cp.Quantile(0.99)), ms(cp.Quantile(1))
	} else {
		stopWatch()
	}
	closed = true
	if err := lg.Close(); err != nil {
		return res, fmt.Errorf("close %s: %w", system, err)
	}
	return res, nil
}
