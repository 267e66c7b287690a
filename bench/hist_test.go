package bench

import (
	"testing"
	"time"
)

func TestHistIndexMonotonic(t *testing.T) {
	prev := -1
	for v := int64(0); v < 1<<20; v++ {
		i := histIndex(v)
		if i < prev || i > prev+1 {
			t.Fatalf("histIndex(%d) = %d after %d", v, i, prev)
		}
		prev = i
	}
	if i := histIndex(1<<62 + 12345); i >= histBuckets {
		t.Fatalf("index %d out of range %d", i, histBuckets)
	}
}

func TestHistQuantile(t *testing.T) {
	var h Hist
	for i := 1; i <= 1000; i++ {
		h.Record(time.Duration(i) * time.Millisecond)
	}
	for _, tc := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 500 * time.Millisecond}, {0.99, 990 * time.Millisecond}, {1, time.Second}} {
		got := h.Quantile(tc.q)
		if d := float64(got-tc.want) / float64(tc.want); d > 0.01 || d < -0.01 {
			t.Errorf("Quantile(%v) = %v, want %v ±1%%", tc.q, got, tc.want)
		}
	}
}
