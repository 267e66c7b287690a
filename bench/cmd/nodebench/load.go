package main

import (
	"bufio"
	"context"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tillit/tillit/bench"
)

// runConfig describes one measured run of one system.
type runConfig struct {
	Concurrency int           // statements (messages) in flight
	Size        int           // bytes per statement (message)
	Warmup      time.Duration // load before the measured window, not counted
	Duration    time.Duration // the measured window
	Verbose     bool          // let the system log to stderr
}

// system is one side of the comparison, opened fresh for each run.
type system interface {
	// load keeps cfg.Concurrency statements in flight until stop is closed,
	// reports every completion to rec, and returns once every statement
	// still in flight has completed (or ctx is done).
	load(ctx context.Context, cfg runConfig, stop <-chan struct{}, rec *recorder) error
	// stored is how many statements the receiving side holds, as a sanity
	// check (0 if unknown).
	stored(ctx context.Context) uint64
	close() error
}

// opener opens a fresh system with its data under the empty directory dir.
type opener func(ctx context.Context, dir string, cfg runConfig) (system, error)

// recorder collects the completions of one run. Only completions that end
// inside the window [from, to) count towards throughput and latency; errors
// count from the start of the load on.
type recorder struct {
	from, to time.Time
	shards   [32]recShard
}

type recShard struct {
	mu       sync.Mutex
	e2e      bench.Hist // send to acknowledgment (NATS) / receipt (tillit)
	durable  bench.Hist // send to durable at the sender (tillit only)
	n        uint64     // completions in the window
	all      uint64     // completions at any time
	errs     uint64
	firstErr string
	_        [64]byte
}

// maxErrors is how many failed sends end a run early.
const maxErrors = 1000

// done records one statement sent by worker w at start that the sender had
// durable at durable (zero if the system has no such stage) and that was
// acknowledged at end.
func (r *recorder) done(w int, start, durable, end time.Time, err error) {
	sh := &r.shards[w%len(r.shards)]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	sh.all++
	if err != nil {
		sh.errs++
		if sh.firstErr == "" {
			sh.firstErr = err.Error()
		}
		return
	}
	if end.Before(r.from) || !end.Before(r.to) {
		return
	}
	sh.n++
	sh.e2e.Record(end.Sub(start))
	if !durable.IsZero() {
		sh.durable.Record(durable.Sub(start))
	}
}

// errors returns the number of failed sends and the first error message.
func (r *recorder) errors() (uint64, string) {
	var n uint64
	first := ""
	for i := range r.shards {
		sh := &r.shards[i]
		sh.mu.Lock()
		n += sh.errs
		if first == "" {
			first = sh.firstErr
		}
		sh.mu.Unlock()
	}
	return n, first
}

// fill writes the recorded figures into res.
func (r *recorder) fill(res *result) {
	var e2e, dur bench.Hist
	for i := range r.shards {
		sh := &r.shards[i]
		sh.mu.Lock()
		e2e.Merge(&sh.e2e)
		dur.Merge(&sh.durable)
		res.Messages += sh.n
		res.Total += sh.all
		res.Errors += sh.errs
		if res.FirstError == "" {
			res.FirstError = sh.firstErr
		}
		sh.mu.Unlock()
	}
	res.WindowSec = r.to.Sub(r.from).Seconds()
	if res.WindowSec > 0 {
		res.PerSec = float64(res.Messages) / res.WindowSec
	}
	res.P50 = ms(e2e.Quantile(0.50))
	res.P90 = ms(e2e.Quantile(0.90))
	res.P99 = ms(e2e.Quantile(0.99))
	res.Max = ms(e2e.Quantile(1))
	if dur.Count() > 0 {
		res.DurableP50 = ms(dur.Quantile(0.50))
		res.DurableP99 = ms(dur.Quantile(0.99))
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// closedLoop runs c workers, each sending one statement (a payload of size
// bytes from bench.Payloads, identical for every system; none if size is 0,
// for systems that make their own) and waiting for its
// acknowledgment before sending the next, until stop is closed. send returns
// when the statement is acknowledged, and when the sender had it durable if
// the system has that stage (zero otherwise).
func closedLoop(ctx context.Context, c, size int, stop <-chan struct{}, rec *recorder, send func(w int, p []byte) (time.Time, error)) {
	var wg sync.WaitGroup
	for w := range c {
		wg.Go(func() {
			var pl *bench.Payloads
			if size > 0 {
				pl = bench.NewPayloads(w, size)
			}
			for {
				select {
				case <-stop:
					return
				case <-ctx.Done():
					return
				default:
				}
				var p []byte
				if pl != nil {
					p = pl.Next()
				}
				t0 := time.Now()
				durable, err := send(w, p)
				rec.done(w, t0, durable, time.Now(), err)
				if err != nil {
					if n, _ := rec.errors(); n >= maxErrors || ctx.Err() != nil {
						return
					}
					time.Sleep(10 * time.Millisecond)
				}
			}
		})
	}
	wg.Wait()
}

// memStatus returns VmHWM (peak resident set) and VmRSS of this process in
// MiB, from /proc/self/status.
func memStatus() (hwm, rss float64) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || (k != "VmHWM" && k != "VmRSS") {
			continue
		}
		fields := strings.Fields(v) // "123456 kB"
		if len(fields) == 0 {
			continue
		}
		kb, _ := strconv.ParseFloat(fields[0], 64)
		if k == "VmHWM" {
			hwm = kb / 1024
		} else {
			rss = kb / 1024
		}
	}
	return hwm, rss
}
