package node_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/tillit/tillit/internal/link/faultproxy"
	"github.com/tillit/tillit/internal/localnet"
	"github.com/tillit/tillit/node"
	"github.com/tillit/tillit/regime"
)

// The deadline suite checks receipt and acknowledgment deadlines on running
// nodes, and that the sender and the recipient of a statement reach the
// same verdict from the same log data.
//
// What runs where:
//
//   - Two-node scenarios run in real time on one simulated regime clock
//     (node.Options.Now), which the test moves forward by minutes or hours
//     between steps. They cannot run in a testing/synctest bubble: the
//     nodes talk over real loopback sockets, and a goroutine blocked on a
//     socket (the peer servers' Accept, a pending read) is not durably
//     blocked, so the bubble's clock would never advance.
//   - TestDeadlineLoopSynctest runs one whole node inside a bubble, with
//     an in-memory peer listener (a channel, which is durably blocking) and
//     its only peer unreachable (connections are refused at once, so no
//     goroutine waits on the network). There the node's own clock, its
//     deadline ticker and its push backoff all run on the bubble's fake
//     time, and the test checks the cadence exactly: the overdue verdict
//     arrives on the first deadline tick after the receipt deadline, not
//     before it and not a tick later. SQLite's file I/O is a system call
//     that the bubble simply waits for.

// clock is a regime clock that only the test moves.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock {
	// Cosignature timestamps carry whole seconds; start on one.
	return &clock{t: time.Now().UTC().Truncate(time.Second)}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return c.t
}

// clockNet is a network whose nodes run on one regime clock, each with its
// own metrics registry.
type clockNet struct {
	nw    *localnet.Network
	clk   *clock
	nodes map[string]*node.Node
	regs  map[string]*prometheus.Registry
}

// newClockNet starts nodes for parties (A and B if none) on one regime
// clock; setup, if set, runs before the nodes open (to route links through
// proxies).
func newClockNet(t *testing.T, setup func(nw *localnet.Network), parties ...localnet.Party) *clockNet {
	t.Helper()
	if len(parties) == 0 {
		parties = []localnet.Party{{Name: "A"}, {Name: "B"}}
	}
	c := &clockNet{nw: newNet(t, parties...), clk: newClock(), nodes: map[string]*node.Node{}, regs: map[string]*prometheus.Registry{}}
	if setup != nil {
		setup(c.nw)
	}
	for _, p := range c.nw.Parties {
		c.start(t, p)
	}
	return c
}

// start opens and starts party's node on the network's clock.
func (c *clockNet) start(t *testing.T, party string) *node.Node {
	t.Helper()
	c.regs[party] = prometheus.NewRegistry()
	c.nodes[party] = startNode(t, c.nw, party, node.Options{Now: c.clk.Now, Registerer: c.regs[party], ClientOptions: fastClient()})
	return c.nodes[party]
}

// verdicts returns where ref stands with its recipients according to n, in
// the JSON an operator (or an auditor comparing nodes) sees. A node that
// does not hold ref yet gives an empty message.
func verdicts(t *testing.T, n *node.Node, ref string) (node.Message, string) {
	t.Helper()
	m, err := n.Message(ref)
	if errors.Is(err, node.ErrNotFound) {
		return node.Message{}, "not found"
	} else if err != nil {
		t.Fatalf("%s: %v", n.Party(), err)
	}
	b, err := json.Marshal(m.Recipients)
	if err != nil {
		t.Fatal(err)
	}
	return m, string(b)
}

// waitAgree waits until every node gives ref the state want with identical
// verdicts, and returns the verdict for the first recipient.
func waitAgree(t *testing.T, ref string, want regime.State, nodes ...*node.Node) regime.Verdict {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var msgs []node.Message
		var js []string
		agree := true
		for _, n := range nodes {
			m, j := verdicts(t, n, ref)
			msgs, js = append(msgs, m), append(js, j)
			agree = agree && m.State == want && j == js[0]
		}
		if agree {
			return msgs[0].Recipients[0].Verdict
		}
		if time.Now().After(deadline) {
			var b strings.Builder
			for i, n := range nodes {
				fmt.Fprintf(&b, "\n%s says %v: %s", n.Party(), msgs[i].State, js[i])
			}
			t.Fatalf("%s: want every node to say %v with the same verdicts;%s", ref, want, b.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// gauge returns the value of a gauge in reg, or -1 if it has none.
func gauge(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) == 1 {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	return -1
}

// TestDeadlineAckInTime: a consultation request (receipt within 60s, reply
// within 48h) is receipted at once and answered an hour later; both nodes
// find it acknowledged in time, with the same receipt and ack times.
func TestDeadlineAckInTime(t *testing.T) {
	cn := newClockNet(t, nil)
	clk, nodes, regs := cn.clk, cn.nodes, cn.regs
	a, b := nodes["A"], nodes["B"]
	ctx := context.Background()
	t0 := clk.Now()
	m, err := a.Send(ctx, node.SendRequest{Type: "consultation.request", To: []string{"B"},
		Body: body(t, map[string]string{"subject": "exercise", "text": "talk?"})}, node.RoleOfficer)
	if err != nil {
		t.Fatal(err)
	}
	v := waitAgree(t, m.Ref, regime.Receipted, a, b)
	if !v.Receipt.Equal(t0) || !v.AckDeadline.Equal(t0.Add(48*time.Hour)) {
		t.Errorf("receipted: %+v, want the receipt at %v and the reply due 48h later", v, t0)
	}

	t1 := clk.Advance(time.Hour)
	waitAgree(t, m.Ref, regime.Receipted, a, b)
	reply, err := b.Ack(ctx, node.AckRequest{Ref: m.Ref, Text: "yes"})
	if err != nil {
		t.Fatal(err)
	}
	v = waitAgree(t, m.Ref, regime.Acknowledged, a, b)
	if v.AckLate || v.ReceiptLate || !v.Ack.Equal(t1) || len(v.Violations) > 0 {
		t.Errorf("acknowledged in time: %+v, want the ack at %v, nothing late", v, t1)
	}
	if got, _ := a.Message(m.Ref); len(got.AckedBy) != 1 || got.AckedBy[0] != reply.Ref {
		t.Errorf("acked by %v, want [%s]", got.AckedBy, reply.Ref)
	}
	// Two days on, nothing changes.
	clk.Advance(48 * time.Hour)
	time.Sleep(200 * time.Millisecond) // a few deadline ticks
	waitAgree(t, m.Ref, regime.Acknowledged, a, b)
	for p, n := range nodes {
		if n.Status().Overdue != 0 || gauge(t, regs[p], "tillit_overdue_statements") != 0 {
			t.Errorf("%s counts overdue statements", p)
		}
	}
}

// TestDeadlineAckMissing: a FLASH incident report (ack within 5 minutes) is
// receipted but not acknowledged. Past the deadline the sender, the
// recipient and the observer all find it overdue (event, status, metric)
// with the same verdict, and the parties raise the alarm; a late
// acknowledgment then makes it acknowledged, late, on all three.
func TestDeadlineAckMissing(t *testing.T) {
	cn := newClockNet(t, nil, threeParties...)
	clk, nodes, regs := cn.clk, cn.nodes, cn.regs
	a, b, o := nodes["A"], nodes["B"], nodes["O"]
	recs := map[string]*recorder{"A": record(t, a), "B": record(t, b), "O": record(t, o)}
	ctx := context.Background()
	t0 := clk.Now()
	m, err := a.Send(ctx, node.SendRequest{Type: "incident.report", To: []string{"B"}, Body: incident(t)}, node.RoleOfficer)
	if err != nil {
		t.Fatal(err)
	}
	waitAgree(t, m.Ref, regime.Receipted, a, b, o)

	// Just before the deadline: still receipted, nothing overdue.
	clk.Advance(5 * time.Minute)
	time.Sleep(200 * time.Millisecond)
	waitAgree(t, m.Ref, regime.Receipted, a, b, o)
	for p, n := range nodes {
		if n.Status().Overdue != 0 || len(recs[p].find(node.EventOverdue, "")) != 0 {
			t.Fatalf("%s: overdue at the deadline itself", p)
		}
	}

	clk.Advance(time.Second)
	v := waitAgree(t, m.Ref, regime.Overdue, a, b, o)
	if len(v.Violations) != 1 || v.Violations[0].Rule != "ack_within" || v.Violations[0].Party != "recipient" {
		t.Errorf("overdue verdict: %+v, want one ack_within violation by the recipient", v)
	}
	for p, n := range nodes {
		waitFor(t, p+"'s overdue event", 5*time.Second, func() bool {
			evs := recs[p].find(node.EventOverdue, "B")
			return len(evs) == 1 && evs[0].Ref == m.Ref
		})
		if got := n.Status().Overdue; got != 1 {
			t.Errorf("%s: status counts %d overdue, want 1", p, got)
		}
		if got := gauge(t, regs[p], "tillit_overdue_statements"); got != 1 {
			t.Errorf("%s: overdue metric %v, want 1", p, got)
		}
		if q := n.Outbox(node.Query{State: regime.Overdue}); p == "A" && len(q) != 1 {
			t.Errorf("A's outbox has %d overdue statements, want 1", len(q))
		}
		if q := n.Inbox(node.Query{State: regime.Overdue}); p == "B" && len(q) != 1 {
			t.Errorf("B's inbox has %d overdue statements, want 1", len(q))
		}
		// The parties raise the alarm; the observer reports the verdict.
		if want := map[bool]int{true: 0, false: 1}[p == "O"]; len(n.Status().Alarms) != want {
			t.Errorf("%s: alarms %q, want %d", p, n.Status().Alarms, want)
		}
	}

	t2 := clk.Advance(5 * time.Minute)
	if _, err := b.Ack(ctx, node.AckRequest{Ref: m.Ref, Text: "seen"}); err != nil {
		t.Fatal(err)
	}
	v = waitAgree(t, m.Ref, regime.Acknowledged, a, b, o)
	if !v.AckLate || !v.Ack.Equal(t2) || !v.AckDeadline.Equal(t0.Add(5*time.Minute)) {
		t.Errorf("late acknowledgment: %+v, want late, at %v, due %v", v, t2, t0.Add(5*time.Minute))
	}
	for p, n := range nodes {
		waitFor(t, p+" to count nothing overdue", 5*time.Second, func() bool {
			return n.Status().Overdue == 0 && gauge(t, regs[p], "tillit_overdue_statements") == 0
		})
		evs := recs[p].find(node.EventAck, "B")
		if len(evs) != 1 || evs[0].Ref != m.Ref {
			t.Errorf("%s: ack events %+v", p, evs)
		}
	}
}

// TestDeadlineReceiptLate cuts the link while A sends a message, keeps it
// cut past the 60s receipt deadline (overdue on A; B knows nothing of it),
// then heals it: the late receipt makes the message receipted, late, with
// the same verdict on both nodes.
func TestDeadlineReceiptLate(t *testing.T) {
	var ps []*faultproxy.Proxy
	cn := newClockNet(t, func(nw *localnet.Network) { ps = []*faultproxy.Proxy{route(t, nw, "A", "B"), route(t, nw, "B", "A")} })
	clk, a, b := cn.clk, cn.nodes["A"], cn.nodes["B"]
	waitFor(t, "link up", 10*time.Second, func() bool { return linkOf(a, "B") == node.LinkUp })
	setMode(faultproxy.Reset, ps...)
	t0 := clk.Now()
	ref := sendMessages(t, a, []string{"B"}, 1, "cut")[0]
	clk.Advance(61 * time.Second)
	waitFor(t, "overdue at A", 5*time.Second, func() bool { return a.Status().Overdue == 1 })
	if m, _ := a.Message(ref); m.State != regime.Overdue || m.Recipients[0].Verdict.Violations[0].Rule != "receipt_within" {
		t.Errorf("unreceipted past the deadline: %+v", m)
	}
	if _, err := b.Message(ref); !errors.Is(err, node.ErrNotFound) {
		t.Errorf("B knows the message during the cut: %v", err)
	}

	t1 := clk.Advance(time.Minute)
	setMode(faultproxy.Pass, ps...)
	v := waitAgree(t, ref, regime.Receipted, a, b)
	if !v.ReceiptLate || !v.Receipt.Equal(t1) || !v.ReceiptDeadline.Equal(t0.Add(time.Minute)) {
		t.Errorf("late receipt: %+v, want late at %v", v, t1)
	}
	waitFor(t, "nothing overdue at A", 5*time.Second, func() bool { return a.Status().Overdue == 0 })
}

// TestDeadlineLoopSynctest runs a node in a testing/synctest bubble (see
// the comment at the top of the file) and checks the deadline loop's
// cadence on fake time: a FLASH report to an unreachable peer is pending
// until its receipt deadline and overdue on the first tick after it.
func TestDeadlineLoopSynctest(t *testing.T) {
	nw := newNet(t, localnet.Party{Name: "A"}, localnet.Party{Name: "B"})
	nw.Listeners["B"].Close() // B is unreachable: connections are refused
	synctest.Test(t, func(t *testing.T) {
		const tick = time.Second
		ln := newChanListener()
		n, err := nw.Open(context.Background(), "A", node.Options{Logger: testLogger(t), PeerListener: ln,
			DeadlineTick: tick, PollInterval: 500 * time.Millisecond, ClientOptions: fastClient()})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		if err := n.Start(ctx); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		evs := n.Events(ctx, 0)
		m, err := n.Send(ctx, node.SendRequest{Type: "incident.report", To: []string{"B"}, Body: incident(t)}, node.RoleOfficer)
		if err != nil {
			t.Fatal(err)
		}
		if !m.Time.Equal(start) {
			t.Errorf("statement time %v, want the bubble's %v", m.Time, start)
		}
		deadline := m.Recipients[0].Verdict.ReceiptDeadline
		if want := start.Add(time.Minute); !deadline.Equal(want) {
			t.Fatalf("receipt deadline %v, want %v", deadline, want)
		}

		var overdue node.Event
		var sawLink bool
	wait:
		for {
			select {
			case ev := <-evs:
				switch ev.Kind {
				case node.EventOverdue:
					overdue = ev
					break wait
				case node.EventLink:
					sawLink = true // the link to B was never up; nothing to announce
				}
			case <-time.After(2 * time.Minute):
				t.Fatal("no overdue event two minutes after the statement")
			}
		}
		// The verdict turns at the first deadline tick strictly after the
		// deadline: ticks fall on whole seconds from start, so exactly one
		// tick after it.
		if want := deadline.Add(tick); !overdue.Time.Equal(want) || !time.Now().Equal(want) {
			t.Errorf("overdue announced at %v (now %v), want %v", overdue.Time, time.Now(), want)
		}
		if overdue.Ref != m.Ref || overdue.Party != "B" {
			t.Errorf("overdue event %+v", overdue)
		}
		if sawLink {
			t.Error("link event for a peer never reached")
		}
		st := n.Status()
		if st.Overdue != 1 || len(st.Alarms) != 1 || st.Peers[0].Link != node.LinkDown || st.Peers[0].LastError == "" {
			t.Errorf("status: %+v", st)
		}
		cancel()
		if err := n.Close(); err != nil {
			t.Error(err)
		}
	})
}

// chanListener is an in-memory net.Listener whose Accept blocks on a
// channel, which a synctest bubble counts as durably blocked. No one
// connects to it.
type chanListener struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func newChanListener() *chanListener {
	return &chanListener{conns: make(chan net.Conn), done: make(chan struct{})}
}

func (l *chanListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *chanListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *chanListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)} }

// TestDeadlineVerdictsAgreeAfterOneWayCut: A's pushes to B fail and O
// cannot reach B either, so B gets A's statement by pulling and its receipt
// (made at once, in time) can reach A and O only later, through gossip,
// once O reaches B again. Sender, recipient and observer must then agree
// that the statement was receipted in time.
// Gossip carries only the newest checkpoint's cosignatures; the in-time
// receipt of the smaller checkpoint reaches A and O through the
// cosignatures endpoint (docs/spec/peer.md).
func TestDeadlineVerdictsAgreeAfterOneWayCut(t *testing.T) {
	var pAB, pOB *faultproxy.Proxy
	cn := newClockNet(t, func(nw *localnet.Network) { pAB, pOB = route(t, nw, "A", "B"), route(t, nw, "O", "B") }, threeParties...)
	clk, a, b, o := cn.clk, cn.nodes["A"], cn.nodes["B"], cn.nodes["O"]
	setMode(faultproxy.Reset, pAB, pOB)
	first := sendMessages(t, a, []string{"B"}, 1, "first")[0]
	waitFor(t, "B to pull and receipt the first message", 10*time.Second, func() bool {
		m, _ := verdicts(t, b, first)
		return m.State == regime.Receipted
	})
	clk.Advance(2 * time.Minute)
	second := sendMessages(t, a, []string{"B"}, 1, "second")[0]
	waitFor(t, "B to pull and receipt the second message", 10*time.Second, func() bool {
		m, _ := verdicts(t, b, second)
		return m.State == regime.Receipted
	})
	setMode(faultproxy.Pass, pOB)
	waitReceipts(t, a, "B", []string{first, second}, 10*time.Second)
	v := waitAgree(t, first, regime.Receipted, a, b, o)
	if v.ReceiptLate {
		t.Errorf("receipted in time by B, late by everyone's account: %+v", v)
	}
}

// TestDeadlineOverdueWhileDown: A's node is down when the acknowledgment
// deadline of its FLASH report passes. When it starts again it finds the
// report overdue (status, verdict) and must raise the overdue alarm, which
// nobody has raised yet on A's side.
func TestDeadlineOverdueWhileDown(t *testing.T) {
	cn := newClockNet(t, nil)
	a, b := cn.nodes["A"], cn.nodes["B"]
	m, err := a.Send(context.Background(), node.SendRequest{Type: "incident.report", To: []string{"B"}, Body: incident(t)}, node.RoleOfficer)
	if err != nil {
		t.Fatal(err)
	}
	waitAgree(t, m.Ref, regime.Receipted, a, b)
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	cn.clk.Advance(10 * time.Minute)
	if err := cn.nw.Relisten("A"); err != nil {
		t.Fatal(err)
	}
	a = cn.start(t, "A")
	rec := record(t, a)
	waitAgree(t, m.Ref, regime.Overdue, a, b)
	if a.Status().Overdue != 1 {
		t.Errorf("status counts %d overdue, want 1", a.Status().Overdue)
	}
	waitFor(t, "the overdue alarm after the restart", 5*time.Second, func() bool {
		evs := rec.find(node.EventOverdue, "B")
		return len(evs) == 1 && evs[0].Ref == m.Ref && len(a.Status().Alarms) == 1
	})
}
