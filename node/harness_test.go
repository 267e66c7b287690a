package node_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tillit/tillit/internal/link"
	"github.com/tillit/tillit/internal/link/faultproxy"
	"github.com/tillit/tillit/internal/localnet"
	"github.com/tillit/tillit/node"
)

// This file holds what the partition, byzantine and deadline suites share:
// networks whose links run through fault proxies, fast-failing peer
// clients, event recorders and the end-of-test invariants (every statement
// in its recipient's inbox exactly once; every mirror equal to its owner's
// log).

// fastClient makes peer calls fail within about a second on a cut link, so
// that link states change and retries happen while a test watches.
func fastClient() *link.ClientOptions {
	return &link.ClientOptions{Attempts: 2, Timeout: time.Second, MinBackoff: 50 * time.Millisecond, MaxBackoff: 200 * time.Millisecond}
}

// newNet sets up parties without starting nodes.
func newNet(t *testing.T, parties ...localnet.Party) *localnet.Network {
	t.Helper()
	nw, err := localnet.New(t.TempDir(), "test", parties)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nw.Close)
	return nw
}

// route sends from's traffic to to (pushes, pulls and gossip: everything
// from's client sends) through a new fault proxy, and returns it. It must be
// called before from's node is opened.
func route(t *testing.T, nw *localnet.Network, from, to string) *faultproxy.Proxy {
	t.Helper()
	p, err := faultproxy.New(nw.Listeners[to].Addr().String(), faultproxy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	cfg := nw.Configs[from]
	if cfg.Peer.Endpoints == nil {
		cfg.Peer.Endpoints = map[string][]string{}
	}
	cfg.Peer.Endpoints[to] = []string{"https://" + p.Addr()}
	return p
}

// startAll starts a node for every party of nw with opts (fast-failing
// clients unless opts says otherwise).
func startAll(t *testing.T, nw *localnet.Network, opts node.Options) map[string]*node.Node {
	t.Helper()
	if opts.ClientOptions == nil {
		opts.ClientOptions = fastClient()
	}
	nodes := map[string]*node.Node{}
	for _, p := range nw.Parties {
		nodes[p] = startNode(t, nw, p, opts)
	}
	return nodes
}

// setMode switches proxies to m. Leaving Pass for Drop also closes the
// connections already open, which Drop alone would leave working (the
// client keeps connections alive between calls).
func setMode(m faultproxy.Mode, ps ...*faultproxy.Proxy) {
	for _, p := range ps {
		p.SetMode(m)
		if m == faultproxy.Drop {
			p.CutAll()
		}
	}
}

// sendMessages sends k ROUTINE messages from n to the parties in to and
// returns their refs.
func sendMessages(t *testing.T, n *node.Node, to []string, k int, tag string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var refs []string
	for i := range k {
		m, err := n.Send(ctx, node.SendRequest{Type: "message", To: to,
			Body: body(t, map[string]string{"lang": "en", "text": fmt.Sprintf("%s %d from %s", tag, i, n.Party())})}, node.RoleOfficer)
		if err != nil {
			t.Fatalf("%s: send %s %d: %v", n.Party(), tag, i, err)
		}
		refs = append(refs, m.Ref)
	}
	return refs
}

// waitReceipts waits until party has receipted every ref of n's log.
func waitReceipts(t *testing.T, n *node.Node, party string, refs []string, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	for _, ref := range refs {
		if _, err := n.WaitReceipt(ctx, ref, party); err != nil {
			t.Fatalf("%s: no receipt from %s for %s: %v (status %+v)", n.Party(), party, ref, err, n.Status().Peers)
		}
	}
}

// checkInbox checks that n's inbox holds the statements from sender
// exactly once each, and that they are exactly want (in any order). A
// statement is indexed just after its entry is stored, so it first waits a
// little for every wanted one to be there.
func checkInbox(t *testing.T, n *node.Node, sender string, want []string) {
	t.Helper()
	var count map[string]int
	deadline := time.Now().Add(5 * time.Second)
	for {
		count = map[string]int{}
		for _, m := range n.Inbox(node.Query{Limit: 100000}) {
			if m.From == sender {
				count[m.Ref]++
			}
		}
		if !slices.ContainsFunc(want, func(ref string) bool { return count[ref] == 0 }) || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, ref := range want {
		if count[ref] != 1 {
			t.Errorf("%s's inbox holds %s from %s %d times, want once", n.Party(), ref, sender, count[ref])
		}
		delete(count, ref)
	}
	for ref, c := range count {
		t.Errorf("%s's inbox holds %s from %s (%d times), which was never sent to it", n.Party(), ref, sender, c)
	}
}

// waitMirrorsAgree waits until every node mirrors every other party's log
// up to that log's latest checkpoint, then checks that the mirrored trees
// have the owners' roots.
func waitMirrorsAgree(t *testing.T, nodes map[string]*node.Node, d time.Duration) {
	t.Helper()
	ctx := context.Background()
	waitFor(t, "every mirror to catch up with its log", d, func() bool {
		for _, n := range nodes {
			for owner, o := range nodes {
				if owner != n.Party() && n.Mirror(owner).Size() != o.Log().Latest().Tree.N {
					return false
				}
			}
		}
		return true
	})
	for _, n := range nodes {
		for owner, o := range nodes {
			if owner == n.Party() {
				continue
			}
			m := n.Mirror(owner)
			size := m.Size()
			got, err := m.TreeHash(ctx, size)
			if err != nil {
				t.Fatal(err)
			}
			want, err := o.Log().TreeHash(ctx, size)
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("%s's mirror of %s at size %d has root %v, the log has %v", n.Party(), owner, size, got, want)
			}
			if cp, ok := m.Latest(); !ok || cp.Tree.N != size || cp.Tree.Hash != want {
				t.Errorf("%s's mirror of %s: latest checkpoint %+v does not match its tree (size %d)", n.Party(), owner, cp.Checkpoint, size)
			}
		}
	}
}

// checkHealthy checks that no node raised an alarm or quarantined a log.
func checkHealthy(t *testing.T, nodes map[string]*node.Node) {
	t.Helper()
	for _, n := range nodes {
		st := n.Status()
		if len(st.Alarms) > 0 {
			t.Errorf("%s raised alarms: %q", n.Party(), st.Alarms)
		}
		for _, p := range st.Peers {
			if p.Quarantined {
				t.Errorf("%s quarantined %s's log", n.Party(), p.Party)
			}
		}
	}
}

// recorder collects a node's events from its first one.
type recorder struct {
	mu  sync.Mutex
	evs []node.Event
}

func record(t *testing.T, n *node.Node) *recorder {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	r := &recorder{}
	ch := n.Events(ctx, 0)
	go func() {
		for ev := range ch {
			r.mu.Lock()
			r.evs = append(r.evs, ev)
			r.mu.Unlock()
		}
	}()
	return r
}

// find returns the events of the kind about party (any party if ""), in
// order.
func (r *recorder) find(kind, party string) []node.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []node.Event
	for _, ev := range r.evs {
		if ev.Kind == kind && (party == "" || ev.Party == party) {
			out = append(out, ev)
		}
	}
	return out
}

// linkStates returns the link states announced for peer, in order.
func (r *recorder) linkStates(peer string) []string {
	var out []string
	for _, ev := range r.find(node.EventLink, peer) {
		for _, s := range []string{node.LinkUp, node.LinkDegraded, node.LinkDown} {
			if strings.HasPrefix(ev.Msg, "link to "+peer+" is "+s) {
				out = append(out, s)
			}
		}
	}
	return out
}

// linkOf returns n's link state to peer.
func linkOf(n *node.Node, peer string) string {
	for _, p := range n.Status().Peers {
		if p.Party == peer {
			return p.Link
		}
	}
	return ""
}

// peerStatus returns n's status of peer.
func peerStatus(n *node.Node, peer string) node.PeerStatus {
	for _, p := range n.Status().Peers {
		if p.Party == peer {
			return p
		}
	}
	return node.PeerStatus{}
}

// subsequence reports whether want appears in got in order, not
// necessarily contiguously.
func subsequence(got, want []string) bool {
	i := 0
	for _, s := range got {
		if i < len(want) && s == want[i] {
			i++
		}
	}
	return i == len(want)
}
