package node_test

import (
	"context"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tillit/tillit/internal/link/faultproxy"
	"github.com/tillit/tillit/internal/localnet"
	"github.com/tillit/tillit/node"
	"github.com/tillit/tillit/regime"
	"github.com/tillit/tillit/statement"
)

// The partition suite runs real nodes on loopback with fault proxies
// (internal/link/faultproxy) on the links between them, cuts, slows and
// heals those links while the parties send statements, and checks after
// every scenario that nothing was lost or duplicated: every statement is
// receipted, sits in its recipient's inbox exactly once under the sender's
// ref, and every node's mirror of every log has the owner's root.

// threeParties is two parties and an observer, which mirrors and cosigns
// every log and relays cosignatures through gossip.
var threeParties = []localnet.Party{{Name: "A"}, {Name: "B"}, {Name: "O", Role: regime.RoleObserver}}

// TestPartitionCutHeal cuts the link between A and B both ways (each fault
// mode of the proxy), sends statements both ways during the cut, heals it,
// and checks that the statements sent during the cut are receipted after
// healing, that nothing is lost or duplicated, and that the link state went
// from up to degraded (or down) and back to up.
func TestPartitionCutHeal(t *testing.T) {
	modes := []faultproxy.Mode{faultproxy.Blackhole, faultproxy.Drop, faultproxy.Reset}
	if testing.Short() {
		modes = []faultproxy.Mode{faultproxy.Reset}
	}
	for _, mode := range modes {
		t.Run(mode.String(), func(t *testing.T) {
			// Waiting for "down" takes three heartbeats (6s); do it once.
			testCutHeal(t, mode, mode == faultproxy.Blackhole && !testing.Short())
		})
	}
}

func testCutHeal(t *testing.T, mode faultproxy.Mode, untilDown bool) {
	nw := newNet(t, threeParties...)
	pAB, pBA := route(t, nw, "A", "B"), route(t, nw, "B", "A")
	nodes := startAll(t, nw, node.Options{})
	a, b := nodes["A"], nodes["B"]
	recA, recB := record(t, a), record(t, b)
	waitFor(t, "links between A and B up", 10*time.Second, func() bool {
		return linkOf(a, "B") == node.LinkUp && linkOf(b, "A") == node.LinkUp
	})

	k := 3
	if testing.Short() {
		k = 2
	}
	before := sendMessages(t, a, []string{"B"}, k, "before")
	beforeB := sendMessages(t, b, []string{"A"}, k, "before")
	waitReceipts(t, a, "B", before, 10*time.Second)
	waitReceipts(t, b, "A", beforeB, 10*time.Second)

	setMode(mode, pAB, pBA)
	during := sendMessages(t, a, []string{"B"}, k, "during")
	duringB := sendMessages(t, b, []string{"A"}, k, "during")
	// A statement to everyone reaches O during the cut, but not B.
	toAll := sendMessages(t, a, []string{"*"}, 1, "to all")
	waitReceipts(t, a, "O", toAll, 10*time.Second)
	waitFor(t, "links between A and B to fail", 10*time.Second, func() bool {
		pa, pb := peerStatus(a, "B"), peerStatus(b, "A")
		return pa.Link != node.LinkUp && pb.Link != node.LinkUp && pa.LastError != "" && pb.LastError != ""
	})
	if untilDown {
		waitFor(t, "link from A to B down", 10*time.Second, func() bool { return linkOf(a, "B") == node.LinkDown })
	}
	// Nothing crossed the cut: B holds none of A's statements sent during
	// it, and A has no receipt for them.
	if got, want := b.Mirror("A").Size(), int64(k); got != want {
		t.Errorf("B's mirror of A has %d entries during the cut, want %d", got, want)
	}
	if ps := peerStatus(a, "B"); ps.Receipted != int64(k) || ps.Behind == 0 || ps.LastError == "" {
		t.Errorf("A's status of B during the cut: %+v, want %d receipted, some behind and an error", ps, k)
	}
	m, err := a.Message(during[0])
	if err != nil {
		t.Fatal(err)
	}
	if m.State != regime.Pending {
		t.Errorf("statement sent during the cut is %v, want pending", m.State)
	}

	setMode(faultproxy.Pass, pAB, pBA)
	waitReceipts(t, a, "B", append(during, toAll...), 10*time.Second)
	waitReceipts(t, b, "A", duringB, 10*time.Second)
	waitFor(t, "links between A and B up again", 10*time.Second, func() bool {
		return linkOf(a, "B") == node.LinkUp && linkOf(b, "A") == node.LinkUp
	})

	checkInbox(t, b, "A", slices.Concat(before, during, toAll))
	checkInbox(t, a, "B", slices.Concat(beforeB, duringB))
	checkInbox(t, nodes["O"], "A", toAll)
	waitMirrorsAgree(t, nodes, 10*time.Second)
	checkHealthy(t, nodes)

	want := []string{node.LinkUp, node.LinkDegraded, node.LinkUp}
	if untilDown {
		want = []string{node.LinkUp, node.LinkDegraded, node.LinkDown, node.LinkUp}
	}
	waitFor(t, "link events", 5*time.Second, func() bool {
		return subsequence(recA.linkStates("B"), want) && subsequence(recB.linkStates("A"), want[:2])
	})
	// The links to O were never cut (a loaded machine may still make
	// them degraded for a moment).
	for _, rec := range []*recorder{recA, recB} {
		if s := rec.linkStates("O"); len(s) == 0 || s[0] != node.LinkUp || slices.Contains(s, node.LinkDown) {
			t.Errorf("link states to O: %v, want up and never down", s)
		}
	}
}

// TestPartitionDelay runs the links between A and B through a slow network:
// first slow enough to notice but within the clients' timeouts (everything
// is receipted, the links never go down), then slower than the timeouts (a
// cut in effect), then fast again.
func TestPartitionDelay(t *testing.T) {
	nw := newNet(t, threeParties...)
	pAB, pBA := route(t, nw, "A", "B"), route(t, nw, "B", "A")
	for _, p := range []*faultproxy.Proxy{pAB, pBA} {
		p.SetDelay(30 * time.Millisecond)
		p.SetMode(faultproxy.Delay)
	}
	nodes := startAll(t, nw, node.Options{})
	a, b := nodes["A"], nodes["B"]
	rec := record(t, a)
	waitFor(t, "links between A and B up", 10*time.Second, func() bool {
		return linkOf(a, "B") == node.LinkUp && linkOf(b, "A") == node.LinkUp
	})
	ctx := context.Background()

	k := 5
	if testing.Short() {
		k = 2
	}
	slow := sendMessages(t, a, []string{"B"}, k, "slow")
	slowB := sendMessages(t, b, []string{"A"}, k, "slow")
	// A FLASH incident report over the slow link is still receipted well
	// within its 60s receipt deadline.
	flash, err := a.Send(ctx, node.SendRequest{Type: "incident.report", To: []string{"B"}, Body: incident(t)}, node.RoleOfficer)
	if err != nil {
		t.Fatal(err)
	}
	slow = append(slow, flash.Ref)
	waitReceipts(t, a, "B", slow, 10*time.Second)
	waitReceipts(t, b, "A", slowB, 10*time.Second)
	if m, _ := a.Message(flash.Ref); m.Recipients[0].Verdict.ReceiptLate || m.Recipients[0].Verdict.Receipt.IsZero() {
		t.Errorf("FLASH over a slow link: %+v", m.Recipients[0].Verdict)
	}
	if s := rec.linkStates("B"); len(s) == 0 || s[0] != node.LinkUp || slices.Contains(s, node.LinkDown) {
		t.Errorf("link states from A to B over a slow link: %v, want up and never down", s)
	}
	all, allB := slow, slowB

	if !testing.Short() {
		// Slower than the 1s client timeout: no push gets through.
		for _, p := range []*faultproxy.Proxy{pAB, pBA} {
			p.SetDelay(1500 * time.Millisecond)
		}
		stuck := sendMessages(t, a, []string{"B"}, k, "stuck")
		waitFor(t, "link from A to B to leave up", 10*time.Second, func() bool { return linkOf(a, "B") != node.LinkUp })
		for _, p := range []*faultproxy.Proxy{pAB, pBA} {
			p.SetDelay(10 * time.Millisecond)
		}
		waitReceipts(t, a, "B", stuck, 10*time.Second)
		waitFor(t, "link from A to B up again", 10*time.Second, func() bool { return linkOf(a, "B") == node.LinkUp })
		all = append(all, stuck...)
	}

	checkInbox(t, b, "A", all)
	checkInbox(t, a, "B", allB)
	waitMirrorsAgree(t, nodes, 10*time.Second)
	checkHealthy(t, nodes)
}

// TestPartitionOneWay breaks only A's side of the link between A and B
// (A's pushes, pulls and gossip to B go into a black hole; B reaches A
// directly). B must still get A's statements by pulling A's log, and A must
// learn B's receipts for them by gossip through the observer O, which
// collects B's cosignatures on A's log and serves them.
func TestPartitionOneWay(t *testing.T) {
	nw := newNet(t, threeParties...)
	pAB := route(t, nw, "A", "B")
	pAB.SetMode(faultproxy.Blackhole)
	nodes := startAll(t, nw, node.Options{})
	a, b := nodes["A"], nodes["B"]

	k := 4
	if testing.Short() {
		k = 2
	}
	refs := sendMessages(t, a, []string{"B"}, k, "one way")
	refsB := sendMessages(t, b, []string{"A"}, k, "other way")
	waitReceipts(t, b, "A", refsB, 10*time.Second)
	waitFor(t, "B to pull A's statements", 10*time.Second, func() bool {
		return b.Mirror("A").Size() == int64(k)
	})
	checkInbox(t, b, "A", refs)
	// The receipts come back the long way round: B → O → A.
	waitReceipts(t, a, "B", refs, 10*time.Second)
	for _, ref := range refs {
		m, err := a.Message(ref)
		if err != nil {
			t.Fatal(err)
		}
		if m.State != regime.Receipted {
			t.Errorf("%s at A: %v, want receipted", ref, m.State)
		}
	}
	// A's link to B is judged by A's pushes alone, which all fail.
	waitFor(t, "A's pushes to B to fail", 10*time.Second, func() bool { return peerStatus(a, "B").LastError != "" })
	if ps := peerStatus(a, "B"); ps.Link == node.LinkUp || ps.Receipted != int64(k) {
		t.Errorf("A's status of B: %+v, want the link not up and %d receipted (through gossip)", ps, k)
	}

	pAB.SetMode(faultproxy.Pass)
	waitFor(t, "A's link to B up", 10*time.Second, func() bool { return linkOf(a, "B") == node.LinkUp })
	checkInbox(t, a, "B", refsB)
	waitMirrorsAgree(t, nodes, 10*time.Second)
	checkHealthy(t, nodes)
}

func incident(t *testing.T) []byte {
	return body(t, map[string]any{
		"time":        "2022-01-10T09:00:00Z",
		"position":    map[string]float64{"lat": 43.5, "lon": 34.1},
		"units":       []string{"frigate 1"},
		"description": "close approach",
	})
}

// TestPullRacingPush makes a pull of A's log and a push of the same entries
// by A reach B at the same time: B's pull fetches A's checkpoint, and
// while it fetches the entries A pushes them. A is honest; B must not
// quarantine its log for serving the entries the push already delivered,
// nor index them twice.
func TestPullRacingPush(t *testing.T) {
	nw := newNet(t, localnet.Party{Name: "A"}, localnet.Party{Name: "B"})
	a := loadActor(t, nw, "A")
	l := a.newLog(nil, a.message([]string{"B"}, "one"), a.message([]string{"B"}, "two"))

	// A serves its log itself, holding back the first entry bundle B asks
	// for until the push has landed.
	fetching, release := make(chan struct{}), make(chan struct{})
	var hold sync.Once
	var gossips atomicCounter
	tiles := http.StripPrefix("/logs/A", l.Handler())
	mux := http.NewServeMux()
	mux.HandleFunc("GET /logs/A/checkpoint", func(w http.ResponseWriter, r *http.Request) {
		w.Write(l.Latest().Note)
	})
	mux.HandleFunc("GET /logs/A/tile/", func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/tile/entries/") {
			hold.Do(func() {
				close(fetching)
				<-release
			})
		}
		tiles.ServeHTTP(w, r)
	})
	mux.HandleFunc("GET /gossip", func(w http.ResponseWriter, r *http.Request) {
		gossips.add()
		w.Write([]byte(`{"checkpoints":[]}`))
	})
	serveAs(t, nw, a, mux)
	b := startNode(t, nw, "B", node.Options{ClientOptions: fastClient()})

	select {
	case <-fetching:
	case <-time.After(10 * time.Second):
		t.Fatal("B never pulled A's entries")
	}
	p := pushBody(t, l, 0)
	code, body := post(t, a.client("B"), p)
	if code != http.StatusOK {
		t.Fatalf("push while B pulls: %d %q", code, body)
	}
	checkReceipt(t, nw, "B", p.Checkpoint, body)
	g := gossips.get()
	close(release)
	// The pull round ends with gossip.
	waitFor(t, "the pull round to end", 10*time.Second, func() bool { return gossips.get() > g })

	checkHealthy(t, map[string]*node.Node{"B": b})
	var refs []string
	for i := range int64(2) {
		e, _ := l.Entry(context.Background(), i)
		st, _ := statement.Parse(e)
		refs = append(refs, st.Ref(i).String())
	}
	checkInbox(t, b, "A", refs)
}

// TestCloseReleasesPeerConnections closes B while A keeps running: B's
// connections to A (kept alive between pushes, pulls and gossip) must close
// with it, or A holds them, and its own shutdown waits for those it
// accepted but never saw a request on.
func TestCloseReleasesPeerConnections(t *testing.T) {
	nw := newNet(t, localnet.Party{Name: "A"}, localnet.Party{Name: "B"})
	ln := &countingListener{Listener: nw.Listeners["A"]}
	a := startNode(t, nw, "A", node.Options{PeerListener: ln, ClientOptions: fastClient()})
	b := startNode(t, nw, "B", node.Options{ClientOptions: fastClient()})
	waitFor(t, "links up", 10*time.Second, func() bool {
		return linkOf(a, "B") == node.LinkUp && linkOf(b, "A") == node.LinkUp
	})
	if ln.open.Load() == 0 {
		t.Fatal("no connection from B to A")
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "B's connections to A to close", 3*time.Second, func() bool { return ln.open.Load() == 0 })
}

// countingListener counts the connections it accepted that are still open.
type countingListener struct {
	net.Listener
	open atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.open.Add(1)
	return &countedConn{Conn: c, l: l}, nil
}

type countedConn struct {
	net.Conn
	l    *countingListener
	once sync.Once
}

func (c *countedConn) Close() error {
	c.once.Do(func() { c.l.open.Add(-1) })
	return c.Conn.Close()
}
