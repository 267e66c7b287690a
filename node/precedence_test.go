package node_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tillit/tillit/internal/localnet"
	"github.com/tillit/tillit/node"
	"github.com/tillit/tillit/statement"
)

// TestFlashOvertakesRoutine: with a backlog of ROUTINE statements queued at
// A, a FLASH statement sent afterwards is appended ahead of most of them and
// receipted by B before the backlog has drained.
func TestFlashOvertakesRoutine(t *testing.T) {
	nw, err := localnet.New(t.TempDir(), "prec", []localnet.Party{{Name: "A"}, {Name: "B"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nw.Close)
	a := startNode(t, nw, "A", node.Options{})
	startNode(t, nw, "B", node.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	routine := 20000
	if testing.Short() {
		routine = 8000
	}
	msg := body(t, map[string]string{"lang": "en", "text": "routine traffic"})
	// One goroutine per statement, so that they all wait in A's send queue.
	var wg sync.WaitGroup
	var appended atomic.Int64
	for range routine {
		wg.Go(func() {
			if _, err := a.Send(ctx, node.SendRequest{Type: "message", To: []string{"B"}, Body: msg}, node.RoleOfficer); err != nil {
				t.Error(err)
				return
			}
			appended.Add(1)
		})
	}
	waitFor(t, "a ROUTINE backlog", 20*time.Second, func() bool { return a.Log().Size() > 100 })
	before := a.Log().Size()
	m, err := a.Send(ctx, node.SendRequest{Type: "message", To: []string{"B"}, Precedence: "FLASH", Body: msg}, node.RoleOfficer)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.WaitReceipt(ctx, m.Ref, "B"); err != nil {
		t.Fatal(err)
	}
	atReceipt := appended.Load()
	wg.Wait()
	if m.Precedence != statement.Flash.String() {
		t.Fatalf("sent at %s", m.Precedence)
	}
	// In arrival order it would have come after every queued ROUTINE
	// statement; it may only wait for the batches being appended.
	if behind := int64(routine) - m.Index; behind < int64(routine)/4 {
		t.Errorf("FLASH appended at index %d of %d (the log had %d when it was sent): it did not overtake the queued ROUTINE statements", m.Index, routine+1, before)
	}
	if atReceipt >= int64(routine) {
		t.Errorf("the FLASH statement was receipted only after all %d ROUTINE statements were appended", routine)
	}
	t.Logf("log size %d when the FLASH was sent; FLASH at index %d; %d of %d ROUTINE appended at its receipt", before, m.Index, atReceipt, routine)
}
