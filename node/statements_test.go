package node_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/tillit/tillit/internal/localnet"
	"github.com/tillit/tillit/node"
	"github.com/tillit/tillit/regime"
)

// TestStatements checks that an observer lists, through Statements,
// statements between two other parties that its inbox does not hold, with
// the query's filters.
func TestStatements(t *testing.T) {
	_, nodes := testNet(t, localnet.Party{Name: "A"}, localnet.Party{Name: "B"}, localnet.Party{Name: "O", Role: regime.RoleObserver})
	a, b, o := nodes["A"], nodes["B"], nodes["O"]
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	send := func(n *node.Node, to, text string) node.Message {
		t.Helper()
		m, err := n.Send(ctx, node.SendRequest{Type: "message", To: []string{to},
			Body: body(t, map[string]string{"lang": "en", "text": text})}, node.RoleOfficer)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	ab := send(a, "B", "to B only")
	time.Sleep(5 * time.Millisecond) // a later statement time
	ba := send(b, "A", "to A only")
	if _, err := a.WaitReceipt(ctx, ab.Ref, "O"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.WaitReceipt(ctx, ba.Ref, "O"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "O's listing of both", 10*time.Second, func() bool { return len(o.Statements(node.Query{})) == 2 })

	if in := o.Inbox(node.Query{}); len(in) != 0 {
		t.Errorf("O's inbox holds %d statements, want none", len(in))
	}
	refs := func(ms []node.Message) []string {
		var out []string
		for _, m := range ms {
			out = append(out, m.Ref)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		n    *node.Node
		q    node.Query
		want []string
	}{
		{"all, newest first", o, node.Query{}, []string{ba.Ref, ab.Ref}},
		{"from A", o, node.Query{From: "A"}, []string{ab.Ref}},
		{"from O", o, node.Query{From: "O"}, nil},
		{"limit", o, node.Query{Limit: 1}, []string{ba.Ref}},
		{"other type", o, node.Query{Type: "consultation.request"}, nil},
		{"type", o, node.Query{Type: "message"}, []string{ba.Ref, ab.Ref}},
		{"own and mirror", a, node.Query{}, []string{ba.Ref, ab.Ref}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := refs(tc.n.Statements(tc.q)); !slices.Equal(got, tc.want) {
				t.Errorf("%s.Statements(%+v) = %v, want %v", tc.n.Party(), tc.q, got, tc.want)
			}
		})
	}
	m := o.Statements(node.Query{From: "A"})[0]
	if m.From != "A" || !slices.Equal(m.To, []string{"B"}) || m.Type != "message" || !m.Time.Equal(ab.Time) {
		t.Errorf("O's listing of A's statement: %+v, want %+v", m, ab)
	}
	waitFor(t, "B's receipt of A's statement, at O", 10*time.Second, func() bool {
		ms := o.Statements(node.Query{From: "A", State: regime.Receipted})
		return len(ms) == 1 && ms[0].Ref == ab.Ref
	})
}
