package node_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tillit/tillit/cosign"
	"github.com/tillit/tillit/internal/keys"
	"github.com/tillit/tillit/internal/link"
	"github.com/tillit/tillit/internal/localnet"
	"github.com/tillit/tillit/internal/peer"
	"github.com/tillit/tillit/node"
	"github.com/tillit/tillit/partylog"
	"github.com/tillit/tillit/statement"
	"github.com/tillit/tillit/store/memstore"
	"github.com/tillit/tillit/tlog"
	"golang.org/x/mod/sumdb/note"
)

// The byzantine suite puts a real node (the victim) in front of parties that
// do not run a node but speak the peer protocol directly, with their own
// keys from the network directory (internal/peer, internal/link): they forge
// checkpoints, push entries that do not match them, fork their log towards
// two peers, replay pushes, push other parties' logs, and log garbage. Each
// test checks what the victim refuses (and with which status), what it
// stores, and what it raises.

// actor is a party of a network acting without a node, with its keys.
type actor struct {
	t        *testing.T
	nw       *localnet.Network
	name     string
	origin   string
	signer   note.Signer
	verifier note.Verifier
	id       *link.Identity
	cosigner *cosign.Signer
}

func loadActor(t *testing.T, nw *localnet.Network, name string) *actor {
	t.Helper()
	dir := filepath.Join(nw.Dir, name)
	signer, verifier, _, err := keys.Load(filepath.Join(dir, localnet.LogKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	id, err := link.LoadIdentity(filepath.Join(dir, localnet.TLSKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, localnet.CosignKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	cs, err := cosign.NewSignerFromKey(strings.TrimSpace(string(b)), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	return &actor{t: t, nw: nw, name: name, origin: nw.Regime.Origin(name), signer: signer, verifier: verifier, id: id, cosigner: cs}
}

// client returns a client for party to's node that presents the actor's
// TLS identity and tries once.
func (a *actor) client(to string) *link.Client {
	return clientAs(a.t, a.nw, a.id, to)
}

func clientAs(t *testing.T, nw *localnet.Network, id *link.Identity, to string) *link.Client {
	t.Helper()
	c, err := link.NewClient(id, link.PinOf(nw.Regime.Party(to).TLSKey),
		[]string{"https://" + nw.Listeners[to].Addr().String()}, link.ClientOptions{Attempts: 1, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

// message returns a valid message statement from the actor.
func (a *actor) message(to []string, text string) []byte {
	return a.statement(&statement.Statement{From: a.name, To: to, Type: "message", Precedence: statement.Routine,
		Body: body(a.t, map[string]string{"lang": "en", "text": text})})
}

func (a *actor) statement(s *statement.Statement) []byte {
	s.Regime = a.nw.Regime.ID
	if s.Time.IsZero() {
		s.Time = time.Now().UTC().Truncate(time.Millisecond)
	}
	b, err := statement.Encode(s)
	if err != nil {
		a.t.Fatal(err)
	}
	return b
}

// newLog returns an in-memory log of the actor signed with signer (its own
// log key if nil), holding entries, checkpointed.
func (a *actor) newLog(signer note.Signer, entries ...[]byte) *partylog.Log {
	a.t.Helper()
	if signer == nil {
		signer = a.signer
	}
	l, err := partylog.Open(context.Background(), memstore.New(), partylog.Options{Origin: a.origin, Signer: signer,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		a.t.Fatal(err)
	}
	a.t.Cleanup(func() { l.Close() })
	appendCheckpoint(a.t, l, entries...)
	return l
}

// appendCheckpoint appends entries to l and returns a checkpoint covering
// them.
func appendCheckpoint(t *testing.T, l *partylog.Log, entries ...[]byte) partylog.Signed {
	t.Helper()
	ctx := context.Background()
	if len(entries) > 0 {
		if _, err := l.AppendAll(ctx, entries); err != nil {
			t.Fatal(err)
		}
	}
	cp, err := l.Checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return cp
}

// pushBody is a push of l's latest checkpoint with its entries from start.
func pushBody(t *testing.T, l *partylog.Log, start int64) *peer.Push {
	t.Helper()
	cp := l.Latest()
	es, err := l.Entries(context.Background(), start, cp.Tree.N)
	if err != nil {
		t.Fatal(err)
	}
	return &peer.Push{Origin: l.Origin(), Start: start, Checkpoint: cp.Note, Entries: es}
}

// post sends a push and returns the status and body of the answer.
func post(t *testing.T, c *link.Client, p *peer.Push) (int, []byte) {
	t.Helper()
	b, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Post(context.Background(), peer.PushPath, "application/octet-stream", b)
	var se *link.StatusError
	if errors.As(err, &se) {
		return se.StatusCode, se.Body
	}
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Body
}

// victim starts a node for party with fast-failing clients; the network's
// other parties have no node (their listeners are closed, so that the
// victim's pushes and pulls to them fail at once).
func victim(t *testing.T, nw *localnet.Network, parties ...string) map[string]*node.Node {
	t.Helper()
	nodes := map[string]*node.Node{}
	for _, p := range nw.Parties {
		if !contains(parties, p) {
			nw.Listeners[p].Close()
		}
	}
	for _, p := range parties {
		nodes[p] = startNode(t, nw, p, node.Options{ClientOptions: fastClient()})
	}
	return nodes
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// checkReceipt checks that body is a valid receipt by party of the
// checkpoint note msg.
func checkReceipt(t *testing.T, nw *localnet.Network, party string, msg, body []byte) time.Time {
	t.Helper()
	text, err := tlog.NoteText(msg)
	if err != nil {
		t.Fatal(err)
	}
	_, ts, err := cosign.VerifyResponse(text, body, nw.Regime.Party(party).Cosigner(), time.Now(), time.Minute)
	if err != nil {
		t.Fatalf("receipt from %s does not verify: %v", party, err)
	}
	return ts
}

// TestByzantineForgedCheckpoint pushes a log signed with a key of the right
// name but not the one the regime gives the party: the victim refuses it
// with 403 before storing anything, gives no receipt, and does not hold it
// against the real party.
func TestByzantineForgedCheckpoint(t *testing.T) {
	nw := newNet(t, localnet.Party{Name: "A"}, localnet.Party{Name: "B"})
	b := victim(t, nw, "B")["B"]
	a := loadActor(t, nw, "A")
	skey, _, err := keys.Generate(a.origin)
	if err != nil {
		t.Fatal(err)
	}
	forger, _, _, err := keys.Parse(skey)
	if err != nil {
		t.Fatal(err)
	}
	forged := a.newLog(forger, a.message([]string{"B"}, "forged"))
	c := a.client("B")
	for _, start := range []int64{0, 1} {
		// With start 1 the push carries no entries, as a first push does.
		p := pushBody(t, forged, start)
		code, body := post(t, c, p)
		if start == 1 {
			// The victim holds nothing, so it first asks for the entries;
			// the checkpoint is judged when they come.
			if code != http.StatusConflict {
				t.Errorf("checkpoint alone: %d %q, want 409", code, body)
			}
			continue
		}
		if code != http.StatusForbidden {
			t.Errorf("forged checkpoint: %d %q, want 403", code, body)
		}
	}
	if m := b.Mirror("A"); m.Size() != 0 {
		t.Errorf("mirror of A has %d entries after a forged push", m.Size())
	} else if _, ok := m.Latest(); ok {
		t.Error("mirror of A holds a checkpoint after a forged push")
	}
	if len(b.Inbox(node.Query{})) != 0 {
		t.Error("forged statement in the inbox")
	}

	// The real A is not blamed: its genuine push is receipted.
	real := a.newLog(nil, a.message([]string{"B"}, "genuine"))
	p := pushBody(t, real, 0)
	code, body := post(t, c, p)
	if code != http.StatusOK {
		t.Fatalf("genuine push after a forged one: %d %q", code, body)
	}
	checkReceipt(t, nw, "B", p.Checkpoint, body)
	checkHealthy(t, map[string]*node.Node{"B": b})
}

// TestByzantineInconsistentTree pushes A's genuinely signed checkpoint with
// entries that do not hash to its root: refused with 422, nothing stored.
func TestByzantineInconsistentTree(t *testing.T) {
	nw := newNet(t, localnet.Party{Name: "A"}, localnet.Party{Name: "B"})
	b := victim(t, nw, "B")["B"]
	a := loadActor(t, nw, "A")
	l := a.newLog(nil, a.message([]string{"B"}, "one"), a.message([]string{"B"}, "two"))
	c := a.client("B")
	for name, change := range map[string]func(p *peer.Push){
		"other entries": func(p *peer.Push) {
			p.Entries = [][]byte{a.message([]string{"B"}, "uno"), a.message([]string{"B"}, "dos")}
		},
		"swapped": func(p *peer.Push) { p.Entries[0], p.Entries[1] = p.Entries[1], p.Entries[0] },
		"one changed byte": func(p *peer.Push) {
			p.Entries[1] = bytes.Replace(bytes.Clone(p.Entries[1]), []byte("two"), []byte("tw0"), 1)
		},
	} {
		p := pushBody(t, l, 0)
		change(p)
		if code, body := post(t, c, p); code != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d %q, want 422", name, code, body)
		}
		if n := b.Mirror("A").Size(); n != 0 {
			t.Fatalf("%s: mirror of A holds %d entries", name, n)
		}
	}
	if len(b.Inbox(node.Query{})) != 0 {
		t.Error("entries of a refused push in the inbox")
	}
}

// TestByzantineForkTowardsTwoPeers has X sign two checkpoints of the same
// size with different roots and push one to B and the other to C. Both
// accept what they get (each view is consistent on its own); gossip between
// B and C must expose the fork: evidence holding both checkpoints, a fork
// alarm, and X's log quarantined so that X's later pushes are refused.
//
// With views of different sizes, the node holding the longer one can
// compare the shorter checkpoint with its mirror and must detect the fork.
func TestByzantineForkTowardsTwoPeers(t *testing.T) {
	t.Run("same size", func(t *testing.T) { testForkTowardsTwoPeers(t, 0) })
	t.Run("different sizes", func(t *testing.T) { testForkTowardsTwoPeers(t, 2) })
}

func testForkTowardsTwoPeers(t *testing.T, extraC int) {
	nw := newNet(t, localnet.Party{Name: "X"}, localnet.Party{Name: "B"}, localnet.Party{Name: "C"})
	nodes := victim(t, nw, "B", "C")
	recs := map[string]*recorder{"B": record(t, nodes["B"]), "C": record(t, nodes["C"])}
	x := loadActor(t, nw, "X")
	both := []string{"B", "C"}
	common := x.message(both, "common")
	viewC := [][]byte{common, x.message(both, "what C is told")}
	for i := range extraC {
		viewC = append(viewC, x.message(both, fmt.Sprintf("more for C %d", i)))
	}
	views := map[string]*partylog.Log{
		"B": x.newLog(nil, common, x.message(both, "what B is told")),
		"C": x.newLog(nil, viewC...),
	}
	if views["B"].Latest().Tree.Hash == views["C"].Latest().Tree.Hash {
		t.Fatal("the two views have one root")
	}
	for _, p := range both {
		code, body := post(t, x.client(p), pushBody(t, views[p], 0))
		if code != http.StatusOK {
			t.Fatalf("push of its view to %s: %d %q", p, code, body)
		}
	}

	// Gossip between B and C compares the checkpoints.
	var detectors []string
	waitFor(t, "a fork to be detected", 10*time.Second, func() bool {
		detectors = nil
		for _, p := range both {
			if peerStatus(nodes[p], "X").Quarantined {
				detectors = append(detectors, p)
			}
		}
		return len(detectors) > 0
	})
	if extraC > 0 && !contains(detectors, "C") {
		t.Errorf("detected by %v; C, which holds the longer view, can compare and must detect it", detectors)
	}
	ctx := context.Background()
	for _, p := range detectors {
		n := nodes[p]
		ev, err := n.Evidence(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(ev) == 0 || ev[0].Log != "X" || ev[0].Kind != "fork" {
			t.Fatalf("%s's evidence: %+v", p, ev)
		}
		// The evidence holds two checkpoints of one size, both signed by
		// X's key, with different roots.
		var cps []tlog.Checkpoint
		for _, msg := range [][]byte{ev[0].NoteA, ev[0].NoteB} {
			c, _, err := tlog.OpenCheckpoint(msg, x.origin, nw.Regime.Party("X").Verifier())
			if err != nil {
				t.Fatalf("%s's evidence holds a checkpoint that does not verify: %v", p, err)
			}
			cps = append(cps, c)
		}
		if cps[0].Tree.Hash == cps[1].Tree.Hash || (extraC == 0 && cps[0].Tree.N != cps[1].Tree.N) {
			t.Errorf("%s's evidence does not show a fork: %+v", p, cps)
		}
		waitFor(t, p+"'s fork alarm", 5*time.Second, func() bool {
			return len(recs[p].find(node.EventFork, "X")) > 0 && len(recs[p].find(node.EventQuarantine, "X")) > 0
		})
		if len(n.Status().Alarms) == 0 {
			t.Errorf("%s: no alarm in the status", p)
		}

		// X's later pushes are refused and change nothing.
		size := n.Mirror("X").Size()
		appendCheckpoint(t, views[p], x.message(both, "more"))
		code, body := post(t, x.client(p), pushBody(t, views[p], size))
		if code == http.StatusOK {
			t.Errorf("%s receipted a push of a quarantined log: %q", p, body)
		}
		if got := n.Mirror("X").Size(); got != size {
			t.Errorf("%s's mirror of quarantined X grew from %d to %d", p, size, got)
		}
	}
}

// TestByzantinePushedFork pushes to one node, after a checkpoint it holds,
// another checkpoint of the same size with another root: refused with 422,
// kept as evidence, alarm raised and the log quarantined.
func TestByzantinePushedFork(t *testing.T) {
	nw := newNet(t, localnet.Party{Name: "A"}, localnet.Party{Name: "B"})
	b := victim(t, nw, "B")["B"]
	rec := record(t, b)
	a := loadActor(t, nw, "A")
	c := a.client("B")
	one := a.newLog(nil, a.message([]string{"B"}, "one"))
	other := a.newLog(nil, a.message([]string{"B"}, "another one"))
	if code, body := post(t, c, pushBody(t, one, 0)); code != http.StatusOK {
		t.Fatalf("first push: %d %q", code, body)
	}
	if code, body := post(t, c, pushBody(t, other, 1)); code != http.StatusUnprocessableEntity {
		t.Errorf("contradicting push: %d %q, want 422", code, body)
	}
	ev, err := b.Evidence(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(ev) != 1 || ev[0].Kind != "fork" || ev[0].Log != "A" ||
		!bytes.Equal(ev[0].NoteA, one.Latest().Note) || !bytes.Equal(ev[0].NoteB, other.Latest().Note) {
		t.Errorf("evidence: %+v", ev)
	}
	if !peerStatus(b, "A").Quarantined {
		t.Error("A's log is not quarantined")
	}
	waitFor(t, "fork alarm", 5*time.Second, func() bool { return len(rec.find(node.EventFork, "A")) == 1 })
	// Even the checkpoint B already holds is no longer receipted.
	if code, _ := post(t, c, pushBody(t, one, 1)); code == http.StatusOK {
		t.Error("a quarantined log's push was receipted")
	}
}

// TestByzantineReplay sends the same push body twice: the second is
// harmless (same mirror, nothing indexed twice) and is answered with a
// valid receipt.
func TestByzantineReplay(t *testing.T) {
	nw := newNet(t, localnet.Party{Name: "A"}, localnet.Party{Name: "B"})
	b := victim(t, nw, "B")["B"]
	a := loadActor(t, nw, "A")
	l := a.newLog(nil, a.message([]string{"B"}, "one"), a.message([]string{"B"}, "two"))
	p := pushBody(t, l, 0)
	c := a.client("B")
	var first time.Time
	for i := range 2 {
		code, body := post(t, c, p)
		if code != http.StatusOK {
			t.Fatalf("push %d: %d %q", i, code, body)
		}
		ts := checkReceipt(t, nw, "B", p.Checkpoint, body)
		if i == 0 {
			first = ts
		} else if ts.Before(first) {
			t.Errorf("the replay's receipt (%v) is older than the first (%v)", ts, first)
		}
		if n := b.Mirror("A").Size(); n != 2 {
			t.Fatalf("after push %d the mirror holds %d entries, want 2", i, n)
		}
	}
	var refs []string
	for i := range int64(2) {
		e, _ := l.Entry(context.Background(), i)
		st, err := statement.Parse(e)
		if err != nil {
			t.Fatal(err)
		}
		refs = append(refs, st.Ref(i).String())
	}
	checkInbox(t, b, "A", refs)
	checkHealthy(t, map[string]*node.Node{"B": b})
}

// TestByzantineWrongPusher has C push A's genuinely signed log to B: only a
// log's owner may push it (403), whatever the log holds.
func TestByzantineWrongPusher(t *testing.T) {
	nw := newNet(t, localnet.Party{Name: "A"}, localnet.Party{Name: "B"}, localnet.Party{Name: "C"})
	b := victim(t, nw, "B")["B"]
	a, c := loadActor(t, nw, "A"), loadActor(t, nw, "C")
	l := a.newLog(nil, a.message([]string{"B"}, "from A"))
	if code, body := post(t, c.client("B"), pushBody(t, l, 0)); code != http.StatusForbidden {
		t.Errorf("C pushing A's log: %d %q, want 403", code, body)
	}
	if n := b.Mirror("A").Size(); n != 0 {
		t.Errorf("mirror of A holds %d entries", n)
	}
	// Nor may C push a log that does not exist in the regime under its
	// own name.
	p := pushBody(t, l, 0)
	p.Origin = "test/Z"
	if code, body := post(t, c.client("B"), p); code != http.StatusNotFound {
		t.Errorf("push of an unknown log: %d %q, want 404", code, body)
	}
}

// TestByzantineUnknownKey connects with a TLS key that is not in the
// regime: the handshake is refused before any request is read.
func TestByzantineUnknownKey(t *testing.T) {
	nw := newNet(t, localnet.Party{Name: "A"}, localnet.Party{Name: "B"})
	victim(t, nw, "B")
	stranger, err := link.GenerateIdentity()
	if err != nil {
		t.Fatal(err)
	}
	c := clientAs(t, nw, stranger, "B")
	if _, err := c.Get(context.Background(), node.GossipPath); !errors.Is(err, link.ErrRejected) {
		t.Errorf("stranger's request: %v, want %v", err, link.ErrRejected)
	}
	// A stranger that knows A's log still cannot push it.
	a := loadActor(t, nw, "A")
	body, _ := pushBody(t, a.newLog(nil, a.message([]string{"B"}, "x")), 0).Marshal()
	if _, err := c.Post(context.Background(), peer.PushPath, "application/octet-stream", body); !errors.Is(err, link.ErrRejected) {
		t.Errorf("stranger's push: %v, want %v", err, link.ErrRejected)
	}
}

// TestByzantineInvalidEntries has A log entries that are not valid
// statements of the regime: the victim stores and receipts them (it is A's
// log, and the log must stay verifiable), raises an "invalid" alarm for
// each, and keeps them out of its inbox.
func TestByzantineInvalidEntries(t *testing.T) {
	nw := newNet(t, localnet.Party{Name: "A"}, localnet.Party{Name: "B"}, localnet.Party{Name: "C"})
	b := victim(t, nw, "B")["B"]
	rec := record(t, b)
	a := loadActor(t, nw, "A")
	valid := a.message([]string{"B"}, "valid")
	entries := [][]byte{
		valid,
		[]byte("not a statement"),
		// Someone else's statement in A's log.
		a.statement(&statement.Statement{From: "C", To: []string{"B"}, Type: "message", Precedence: statement.Routine,
			Body: body(t, map[string]string{"lang": "en", "text": "from C"})}),
		// A well-formed statement that breaks its type's schema.
		a.statement(&statement.Statement{From: "A", To: []string{"B"}, Type: "message", Precedence: statement.Routine,
			Body: body(t, map[string]string{"text": "no lang"})}),
		// A statement of a type the regime does not have.
		a.statement(&statement.Statement{From: "A", To: []string{"B"}, Type: "gossip.rumour", Precedence: statement.Routine,
			Body: body(t, map[string]string{})}),
	}
	l := a.newLog(nil, entries...)
	p := pushBody(t, l, 0)
	code, body := post(t, a.client("B"), p)
	if code != http.StatusOK {
		t.Fatalf("push: %d %q", code, body)
	}
	checkReceipt(t, nw, "B", p.Checkpoint, body)
	if n := b.Mirror("A").Size(); n != int64(len(entries)) {
		t.Errorf("mirror of A holds %d entries, want %d", n, len(entries))
	}
	invalid := len(entries) - 1
	waitFor(t, "invalid alarms", 5*time.Second, func() bool { return len(rec.find("invalid", "A")) == invalid })
	if got := len(b.Status().Alarms); got != invalid {
		t.Errorf("%d alarms in the status, want %d", got, invalid)
	}
	st, err := statement.Parse(valid)
	if err != nil {
		t.Fatal(err)
	}
	checkInbox(t, b, "A", []string{st.Ref(0).String()})
	if peerStatus(b, "A").Quarantined {
		t.Error("A's log quarantined for logging invalid statements")
	}
}

// serveAs serves h on the actor's peer listener, over pinned TLS with its
// identity, to every other party of the network.
func serveAs(t *testing.T, nw *localnet.Network, a *actor, h http.Handler) {
	t.Helper()
	var pins []link.Pin
	for _, p := range nw.Regime.Parties {
		if p.Name != a.name {
			pins = append(pins, link.PinOf(p.TLSKey))
		}
	}
	set, err := link.NewPeerSet(pins...)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, TLSConfig: link.ServerConfig(a.id, set), ErrorLog: log.New(io.Discard, "", 0)}
	ln := tls.NewListener(nw.Listeners[a.name], srv.TLSConfig)
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(ln)
	}()
	t.Cleanup(func() {
		srv.Close()
		<-done
	})
}

// atomicCounter counts requests.
type atomicCounter struct{ n atomic.Int64 }

func (c *atomicCounter) add()       { c.n.Add(1) }
func (c *atomicCounter) get() int64 { return c.n.Load() }

// TestByzantineStolenKey: someone holding B's log and TLS keys (but not
// B's node) signs a tree of B's log that B never made and pushes it to C.
// C cannot tell it from B's own; B must notice it through gossip with C,
// and C must notice the contradiction when B's genuine log arrives.
func TestByzantineStolenKey(t *testing.T) {
	nw := newNet(t, localnet.Party{Name: "B"}, localnet.Party{Name: "C"})
	nodes := startAll(t, nw, node.Options{})
	b, c := nodes["B"], nodes["C"]
	recB, recC := record(t, b), record(t, c)
	waitFor(t, "links up", 10*time.Second, func() bool { return linkOf(b, "C") == node.LinkUp })
	thief := loadActor(t, nw, "B")
	forged := thief.newLog(nil, thief.message([]string{"C"}, "not from B's node"))
	code, body := post(t, thief.client("C"), pushBody(t, forged, 0))
	if code != http.StatusOK {
		t.Fatalf("thief's push: %d %q", code, body)
	}
	waitFor(t, "B's alarm about its own log", 10*time.Second, func() bool {
		for _, ev := range recB.find(node.EventFork, "C") {
			if strings.Contains(ev.Msg, "our log key signed a tree this node did not make") {
				return true
			}
		}
		return false
	})
	sendMessages(t, b, []string{"C"}, 1, "genuine")
	waitFor(t, "C to see the fork and quarantine B", 10*time.Second, func() bool {
		return peerStatus(c, "B").Quarantined && len(recC.find(node.EventFork, "B")) > 0
	})
}
