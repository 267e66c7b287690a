package bench

import (
	"context"
	"fmt"
	"testing"
)

var benchConcurrencies = []int{1, 64, 256, 1024}

// benchAppend runs b.N durable appends of 512-byte entries spread over c
// goroutines on a fresh log and reports entries/s and latency percentiles.
// It does not measure checkpoints; cmd/logbench gives the whole-system
// figures.
func benchAppend(b *testing.B, system string) {
	for _, c := range benchConcurrencies {
		b.Run(fmt.Sprintf("c=%d", c), func(b *testing.B) {
			b.SetBytes(512)
			b.ResetTimer()
			res, err := Run(context.Background(), system, b.TempDir(), Config{Concurrency: c, N: uint64(b.N), EntrySize: 512})
			if err != nil {
				b.Fatal(err)
			}
			if res.Errors > 0 {
				b.Fatalf("%d append errors, first: %s", res.Errors, res.FirstError)
			}
			b.ReportMetric(res.PerSec, "entries/s")
			b.ReportMetric(res.DurableP50, "p50-ms")
			b.ReportMetric(res.DurableP99, "p99-ms")
		})
	}
}

func BenchmarkTillitAppend(b *testing.B) { benchAppend(b, "tillit") }

func BenchmarkTesseraAppend(b *testing.B) {
	b.Run("default", func(b *testing.B) { benchAppend(b, "tessera-default") })
	b.Run("tuned", func(b *testing.B) { benchAppend(b, "tessera-tuned") })
}

func TestRunSmoke(t *testing.T) {
	for _, sys := range SystemNames {
		if sys == "tessera-default" {
			continue // 250 ms batches and a 10 s checkpoint interval: too slow for a smoke test
		}
		t.Run(sys, func(t *testing.T) {
			res, err := Run(context.Background(), sys, t.TempDir(), Config{Concurrency: 4, N: 200, EntrySize: 512, CheckpointWait: 10e9})
			if err != nil {
				t.Fatal(err)
			}
			if res.Appends != 200 || res.Errors != 0 || res.CheckpointMissing != 0 {
				t.Fatalf("got %+v", res)
			}
		})
	}
}

func TestPayloads(t *testing.T) {
	a, b := NewPayloads(3, 512), NewPayloads(3, 512)
	for range 10 {
		x, y := a.Next(), b.Next()
		if len(x) != 512 || string(x) != string(y) {
			t.Fatalf("payloads differ or wrong size: %d %q", len(x), x)
		}
	}
	if string(NewPayloads(4, 512).Next()) == string(NewPayloads(3, 512).Next()) {
		t.Fatal("writers share payloads")
	}
}
