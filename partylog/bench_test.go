package partylog

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// BenchmarkAppend measures durable appends of 512-byte entries to a SQLite
// store at several concurrencies. The whole-system comparison with Tessera
// lives in the bench module.
func BenchmarkAppend(b *testing.B) {
	for _, c := range []int{1, 64, 256, 1024} {
		b.Run(fmt.Sprintf("c=%d", c), func(b *testing.B) {
			ctx := context.Background()
			s, _ := testKey(b)
			lg, err := Open(ctx, sqliteStore(b), Options{Origin: testOrigin, Signer: s})
			if err != nil {
				b.Fatal(err)
			}
			defer lg.Close()
			e := make([]byte, 512)
			b.SetBytes(512)
			b.ResetTimer()
			start := time.Now()
			var wg sync.WaitGroup
			per := (b.N + c - 1) / c
			for range c {
				wg.Go(func() {
					for range per {
						if _, err := lg.Append(ctx, e); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			b.ReportMetric(float64(per*c)/time.Since(start).Seconds(), "appends/s")
		})
	}
}
