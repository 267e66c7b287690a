package node_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/tillit/tillit/internal/localnet"
	"github.com/tillit/tillit/node"
)

// TestCatchUpInSteps: B is down while A's log grows by more than one pull
// fetches and one push carries; when B starts it catches up in steps, each
// ending at a checkpoint A signs for that size, and receipts everything.
func TestCatchUpInSteps(t *testing.T) {
	defer node.SetTransferLimits(100, 100)()
	nw, err := localnet.New(t.TempDir(), "steps", []localnet.Party{{Name: "A"}, {Name: "B"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nw.Close)
	a := startNode(t, nw, "A", node.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const total = 350
	var last node.Message
	for i := range total {
		b, _ := json.Marshal(map[string]string{"lang": "en", "text": fmt.Sprintf("statement %d", i)})
		m, err := a.Send(ctx, node.SendRequest{Type: "message", To: []string{"B"}, Body: b}, node.RoleOfficer)
		if err != nil {
			t.Fatal(err)
		}
		last = m
	}
	b := startNode(t, nw, "B", node.Options{})
	if _, err := a.WaitReceipt(ctx, last.Ref, "B"); err != nil {
		t.Fatalf("B never receipted A's last statement: %v", err)
	}
	if got := b.Mirror("A").Size(); got != total {
		t.Fatalf("B's mirror of A holds %d entries, want %d", got, total)
	}
	want, _ := a.Log().TreeHash(ctx, total)
	if got, err := b.Mirror("A").TreeHash(ctx, total); err != nil || got != want {
		t.Fatalf("B's mirror root %v, %v; want A's %v", got, err, want)
	}
	waitFor(t, "B's inbox", 10*time.Second, func() bool { return len(b.Inbox(node.Query{Limit: 1000})) == total })
	for _, p := range b.Status().Peers {
		if p.Quarantined {
			t.Fatalf("B quarantined A while catching up")
		}
	}
}
