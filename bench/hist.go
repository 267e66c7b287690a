package bench

import (
	"math/bits"
	"sync"
	"time"
)

// Hist is a log-linear latency histogram with better than 1% relative
// precision (HdrHistogram-style: 64 linear sub-buckets per power of two).
// It is not safe for concurrent use; give each goroutine its own and Merge.
type Hist struct {
	counts [histBuckets]uint64
	n      uint64
	max    int64
}

const (
	histSubBits = 7
	histSub     = 1 << histSubBits // 128
	histHalf    = histSub / 2      // 64
	histBuckets = (64-histSubBits+1)*histHalf + histHalf
)

func histIndex(v int64) int {
	if v < 0 {
		v = 0
	}
	u := uint64(v)
	if u < histSub {
		return int(u)
	}
	e := bits.Len64(u) - histSubBits
	return e*histHalf + int(u>>uint(e))
}

// histValue returns a representative (midpoint) value for bucket i.
func histValue(i int) int64 {
	if i < histSub {
		return int64(i)
	}
	e := i/histHalf - 1
	m := int64(i - e*histHalf)
	return m<<uint(e) + (int64(1)<<uint(e))/2
}

// shardedHist is a Hist safe for concurrent use: writers are spread over a
// few locked shards, so that a thousand writers don't need a thousand
// histograms (which would show up in the measured RSS).
type shardedHist struct {
	shards [32]struct {
		mu sync.Mutex
		h  Hist
		_  [64]byte
	}
}

type histShard struct {
	mu *sync.Mutex
	h  *Hist
}

func (s *shardedHist) shard(w int) histShard {
	sh := &s.shards[w%len(s.shards)]
	return histShard{&sh.mu, &sh.h}
}

func (h histShard) Record(d time.Duration) {
	h.mu.Lock()
	h.h.Record(d)
	h.mu.Unlock()
}

func (s *shardedHist) merged() *Hist {
	var m Hist
	for i := range s.shards {
		s.shards[i].mu.Lock()
		m.Merge(&s.shards[i].h)
		s.shards[i].mu.Unlock()
	}
	return &m
}

// Record adds one observation.
func (h *Hist) Record(d time.Duration) {
	v := int64(d)
	h.counts[histIndex(v)]++
	h.n++
	if v > h.max {
		h.max = v
	}
}

// Merge adds all observations of o to h.
func (h *Hist) Merge(o *Hist) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	if o.max > h.max {
		h.max = o.max
	}
}

// Count is the number of observations.
func (h *Hist) Count() uint64 { return h.n }

// Quantile returns the q-quantile (0 < q <= 1), or 0 without observations.
func (h *Hist) Quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(q*float64(h.n) + 0.5)
	if rank < 1 {
		rank = 1
	}
	if rank > h.n {
		rank = h.n
	}
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			v := histValue(i)
			if v > h.max {
				v = h.max
			}
			return time.Duration(v)
		}
	}
	return time.Duration(h.max)
}
