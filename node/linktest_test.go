package node_test

import (
	"testing"
	"time"

	"github.com/tillit/tillit/internal/localnet"
	"github.com/tillit/tillit/node"
)

// TestScheduledLinkTests: with link_test set, a node sends link.test
// statements to every other party on schedule, and they are receipted.
func TestScheduledLinkTests(t *testing.T) {
	nw, err := localnet.New(t.TempDir(), "lt", []localnet.Party{{Name: "A"}, {Name: "B"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nw.Close)
	nw.Configs["A"].LinkTest = node.Duration{Duration: 100 * time.Millisecond}
	a := startNode(t, nw, "A", node.Options{})
	b := startNode(t, nw, "B", node.Options{})
	waitFor(t, "two link tests at B", 10*time.Second, func() bool {
		return len(b.Inbox(node.Query{Type: "link.test"})) >= 2
	})
	waitFor(t, "B's receipts of them at A", 10*time.Second, func() bool {
		for _, m := range a.Outbox(node.Query{Type: "link.test"}) {
			if m.Recipients[0].Verdict.Receipt.IsZero() {
				return false
			}
		}
		return true
	})
	if n := len(b.Outbox(node.Query{Type: "link.test"})); n != 0 {
		t.Errorf("B sent %d link tests without link_test set", n)
	}
}
