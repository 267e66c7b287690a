package node_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/tillit/tillit/internal/localnet"
	"github.com/tillit/tillit/node"
	"github.com/tillit/tillit/regime"
)

// testNet starts nodes for the named parties (fresh keys) and stops them at
// the end of the test.
func testNet(t *testing.T, parties ...localnet.Party) (*localnet.Network, map[string]*node.Node) {
	t.Helper()
	nw, err := localnet.New(t.TempDir(), "test", parties)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nw.Close)
	nodes := map[string]*node.Node{}
	for _, p := range nw.Parties {
		nodes[p] = startNode(t, nw, p, node.Options{})
	}
	return nw, nodes
}

func startNode(t *testing.T, nw *localnet.Network, party string, opts node.Options) *node.Node {
	t.Helper()
	ctx := context.Background()
	if opts.Logger == nil {
		opts.Logger = testLogger(t)
	}
	if opts.PollInterval == 0 {
		opts.PollInterval = 200 * time.Millisecond
	}
	if opts.DeadlineTick == 0 {
		opts.DeadlineTick = 50 * time.Millisecond
	}
	n, err := nw.Open(ctx, party, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

func testLogger(t *testing.T) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(b []byte) (int, error) { w.t.Log(string(b)); return len(b), nil }

func body(t *testing.T, v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestSendReceiptAck(t *testing.T) {
	_, nodes := testNet(t, localnet.Party{Name: "A"}, localnet.Party{Name: "B"})
	a, b := nodes["A"], nodes["B"]
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	m, err := a.Send(ctx, node.SendRequest{Type: "consultation.request", To: []string{"B"},
		Body: body(t, map[string]string{"subject": "missiles", "text": "talk?"})}, node.RoleOfficer)
	if err != nil {
		t.Fatal(err)
	}
	if m.State != regime.Pending {
		t.Errorf("new statement state = %v, want pending", m.State)
	}
	if _, err := a.WaitReceipt(ctx, m.Ref, "B"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "B's inbox", 10*time.Second, func() bool { return len(b.Inbox(node.Query{})) == 1 })
	in := b.Inbox(node.Query{})[0]
	if in.Ref != m.Ref || in.State != regime.Receipted {
		t.Fatalf("B's inbox: %+v, want %s receipted", in, m.Ref)
	}
	// consultation.request is answered by a consultation.reply, which needs text.
	if _, err := b.Ack(ctx, node.AckRequest{Ref: m.Ref}); err == nil {
		t.Fatal("reply without its required text was accepted")
	}
	reply, err := b.Ack(ctx, node.AckRequest{Ref: m.Ref, Text: "yes"})
	if err != nil {
		t.Fatal(err)
	}
	if reply.Type != "consultation.reply" {
		t.Errorf("reply type %q", reply.Type)
	}
	waitFor(t, "acknowledged at A", 10*time.Second, func() bool {
		got, err := a.Message(m.Ref)
		return err == nil && got.State == regime.Acknowledged
	})
	waitFor(t, "acknowledged at B", 10*time.Second, func() bool {
		got, err := b.Message(m.Ref)
		return err == nil && got.State == regime.Acknowledged
	})
	got, _ := a.Message(m.Ref)
	if len(got.AckedBy) != 1 || got.AckedBy[0] != reply.Ref {
		t.Errorf("acked by %v, want %s", got.AckedBy, reply.Ref)
	}
	st := a.Status()
	if st.Log.Size != 1 || len(st.Peers) != 1 || st.Peers[0].Receipted < 1 {
		t.Errorf("status: %+v", st)
	}
	waitFor(t, "final checkpoint", 10*time.Second, func() bool { return a.Status().Log.Final >= 1 })
}

func TestSendRefusesBadInput(t *testing.T) {
	_, nodes := testNet(t, localnet.Party{Name: "A"}, localnet.Party{Name: "B"})
	a := nodes["A"]
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		req  node.SendRequest
		role string
	}{
		{"unknown type", node.SendRequest{Type: "nope", To: []string{"B"}}, node.RoleOfficer},
		{"unknown recipient", node.SendRequest{Type: "message", To: []string{"C"}, Body: body(t, map[string]string{"lang": "en", "text": "x"})}, node.RoleOfficer},
		{"schema", node.SendRequest{Type: "message", To: []string{"B"}, Body: body(t, map[string]string{"text": "x"})}, node.RoleOfficer},
		{"bad ref", node.SendRequest{Type: "message", To: []string{"B"}, Refs: []string{"test/A/5#AAAA"}, Body: body(t, map[string]string{"lang": "en", "text": "x"})}, node.RoleOfficer},
		{"analyst flash", node.SendRequest{Type: "message", To: []string{"B"}, Precedence: "FLASH", Body: body(t, map[string]string{"lang": "en", "text": "x"})}, node.RoleAnalyst},
		{"auditor", node.SendRequest{Type: "message", To: []string{"B"}, Body: body(t, map[string]string{"lang": "en", "text": "x"})}, node.RoleAuditor},
	} {
		if _, err := a.Send(ctx, tc.req, tc.role); err == nil {
			t.Errorf("%s: accepted", tc.name)
		}
	}
	if n := a.Log().Size(); n != 0 {
		t.Errorf("log has %d entries after refused sends", n)
	}
}
