package node_test

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/tillit/tillit/internal/localnet"
	"github.com/tillit/tillit/node"
)

// BenchmarkSendToReceipt measures statements from Send at A to B's receipt
// at A, with c statements in flight. Whole-system figures against NATS
// JetStream are in bench/cmd/nodebench (docs/performance.md).
func BenchmarkSendToReceipt(b *testing.B) {
	for _, c := range benchInflight {
		b.Run(fmt.Sprintf("inflight=%d", c), func(b *testing.B) {
			nw, err := localnet.New(b.TempDir(), "bench", []localnet.Party{{Name: "A"}, {Name: "B"}})
			if err != nil {
				b.Fatal(err)
			}
			defer nw.Close()
			ctx := context.Background()
			quiet := slog.New(slog.DiscardHandler)
			var nodes []*node.Node
			for _, p := range []string{"A", "B"} {
				n, err := nw.Open(ctx, p, node.Options{Logger: quiet})
				if err != nil {
					b.Fatal(err)
				}
				if err := n.Start(ctx); err != nil {
					b.Fatal(err)
				}
				defer n.Close()
				nodes = append(nodes, n)
			}
			a := nodes[0]
			body := []byte(`{"lang":"en","text":"` + string(make([]byte, 0)) + `0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"}`)
			var next atomic.Int64
			b.ResetTimer()
			var wg sync.WaitGroup
			for range c {
				wg.Go(func() {
					for next.Add(1) <= int64(b.N) {
						m, err := a.Send(ctx, node.SendRequest{Type: "message", To: []string{"B"}, Body: body}, node.RoleOfficer)
						if err != nil {
							b.Error(err)
							return
						}
						if _, err := a.WaitReceipt(ctx, m.Ref, "B"); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "statements/s")
		})
	}
}

// benchInflight are the numbers of statements in flight measured.
var benchInflight = []int{1, 64, 256, 1024}
