package node_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tillit/tillit/internal/localnet"
	"github.com/tillit/tillit/node"
	"github.com/tillit/tillit/partylog"
	"github.com/tillit/tillit/statement"
)

// evidenceKinds returns the kinds of n's evidence records about log, in
// order.
func evidenceKinds(t *testing.T, n *node.Node, log string) []string {
	t.Helper()
	ev, err := n.Evidence(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, e := range ev {
		if e.Log == log {
			kinds = append(kinds, e.Kind)
		}
	}
	return kinds
}

// TestLiftQuarantine has A push B two contradicting checkpoints, so that B
// quarantines A's log, then lifts the quarantine: the lifting is on record
// and announced, pushes of the branch B holds are receipted again, the
// contradicting branch quarantines the log again at once, and all of it
// survives a restart.
func TestLiftQuarantine(t *testing.T) {
	nw := newNet(t, localnet.Party{Name: "A"}, localnet.Party{Name: "B"})
	b := victim(t, nw, "B")["B"]
	rec := record(t, b)
	a := loadActor(t, nw, "A")
	c := a.client("B")
	ctx := context.Background()
	kept := a.newLog(nil, a.message([]string{"B"}, "one"))
	other := a.newLog(nil, a.message([]string{"B"}, "another one"))
	if code, body := post(t, c, pushBody(t, kept, 0)); code != http.StatusOK {
		t.Fatalf("first push: %d %q", code, body)
	}
	if code, body := post(t, c, pushBody(t, other, 1)); code != http.StatusUnprocessableEntity {
		t.Fatalf("contradicting push: %d %q, want 422", code, body)
	}
	if !peerStatus(b, "A").Quarantined {
		t.Fatal("A's log is not quarantined")
	}

	for _, tt := range []struct {
		party, reason string
		want          error
	}{
		{"A", "", node.ErrInvalid},
		{"A", " \n", node.ErrInvalid},
		{"Z", "settled", node.ErrNotFound},
		{"B", "settled", node.ErrNotFound}, // this node's own party
	} {
		if err := b.LiftQuarantine(ctx, tt.party, tt.reason); !errors.Is(err, tt.want) {
			t.Errorf("LiftQuarantine(%q, %q) = %v, want %v", tt.party, tt.reason, err, tt.want)
		}
	}
	if !peerStatus(b, "A").Quarantined || !slices.Equal(evidenceKinds(t, b, "A"), []string{node.EvidenceFork}) {
		t.Fatal("a refused lifting changed something")
	}

	reason := "settled: A withdrew the second branch"
	if err := b.LiftQuarantine(ctx, "A", reason); err != nil {
		t.Fatal(err)
	}
	if peerStatus(b, "A").Quarantined {
		t.Error("A's log is still quarantined after the lifting")
	}
	ev, err := b.Evidence(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ev) != 2 || ev[0].Kind != node.EvidenceFork || ev[1].Kind != node.EvidenceLifted || ev[1].Log != "A" ||
		!strings.Contains(ev[1].Detail, reason) || !strings.Contains(ev[1].Detail, "pushed checkpoint contradicts the mirror") {
		t.Errorf("evidence after the lifting: %+v", ev)
	}
	waitFor(t, "the lifting's event", 5*time.Second, func() bool {
		for _, ev := range rec.find(node.EventQuarantine, "A") {
			if strings.Contains(ev.Msg, "lifted") && strings.Contains(ev.Msg, reason) {
				return true
			}
		}
		return false
	})
	if err := b.LiftQuarantine(ctx, "A", reason); !errors.Is(err, node.ErrNotFound) {
		t.Errorf("lifting twice: %v, want %v", err, node.ErrNotFound)
	}

	// The branch B holds goes on: its pushes are receipted again and the
	// new statement arrives.
	appendCheckpoint(t, kept, a.message([]string{"B"}, "after the lifting"))
	p := pushBody(t, kept, 1)
	code, body := post(t, c, p)
	if code != http.StatusOK {
		t.Fatalf("push after the lifting: %d %q", code, body)
	}
	checkReceipt(t, nw, "B", p.Checkpoint, body)
	checkInbox(t, b, "A", refsOf(t, kept))

	// The contradicting branch is still a fork: the log is quarantined
	// again at once, with new evidence.
	if code, body := post(t, c, pushBody(t, other, 1)); code != http.StatusUnprocessableEntity {
		t.Errorf("contradicting push after the lifting: %d %q, want 422", code, body)
	}
	if !peerStatus(b, "A").Quarantined {
		t.Error("the contradicting branch did not quarantine A's log again")
	}
	if got, want := evidenceKinds(t, b, "A"), []string{node.EvidenceFork, node.EvidenceLifted, node.EvidenceFork}; !slices.Equal(got, want) {
		t.Errorf("evidence kinds %v, want %v", got, want)
	}

	// Quarantines and liftings are kept in node.db.
	restart := func() {
		t.Helper()
		b.Close()
		if err := nw.Relisten("B"); err != nil {
			t.Fatal(err)
		}
		b = startNode(t, nw, "B", node.Options{ClientOptions: fastClient()})
	}
	restart()
	if !peerStatus(b, "A").Quarantined {
		t.Fatal("the quarantine did not survive a restart")
	}
	if err := b.LiftQuarantine(ctx, "A", "settled again"); err != nil {
		t.Fatal(err)
	}
	restart()
	if peerStatus(b, "A").Quarantined {
		t.Error("the lifting did not survive a restart")
	}
	if got, want := evidenceKinds(t, b, "A"), []string{node.EvidenceFork, node.EvidenceLifted, node.EvidenceFork, node.EvidenceLifted}; !slices.Equal(got, want) {
		t.Errorf("evidence kinds after restarts %v, want %v", got, want)
	}
	appendCheckpoint(t, kept, a.message([]string{"B"}, "after the restart"))
	if code, body := post(t, a.client("B"), pushBody(t, kept, 2)); code != http.StatusOK {
		t.Fatalf("push after the restart: %d %q", code, body)
	}
	checkInbox(t, b, "A", refsOf(t, kept))
}

// refsOf returns the references of the statements of an actor's log.
func refsOf(t *testing.T, l *partylog.Log) []string {
	t.Helper()
	var refs []string
	for i := range l.Size() {
		e, err := l.Entry(context.Background(), i)
		if err != nil {
			t.Fatal(err)
		}
		st, err := statement.Parse(e)
		if err != nil {
			t.Fatal(err)
		}
		refs = append(refs, st.Ref(i).String())
	}
	return refs
}

// TestLiftQuarantineRealFork lifts the quarantine of a log that forked
// towards two peers: lifting does not make it consistent, and gossip
// quarantines it again within a poll interval, with new evidence.
func TestLiftQuarantineRealFork(t *testing.T) {
	nw := newNet(t, localnet.Party{Name: "X"}, localnet.Party{Name: "B"}, localnet.Party{Name: "C"})
	nodes := victim(t, nw, "B", "C")
	x := loadActor(t, nw, "X")
	both := []string{"B", "C"}
	common := x.message(both, "common")
	for _, p := range both {
		l := x.newLog(nil, common, x.message(both, "what "+p+" is told"))
		if code, body := post(t, x.client(p), pushBody(t, l, 0)); code != http.StatusOK {
			t.Fatalf("push of its view to %s: %d %q", p, code, body)
		}
	}
	for _, p := range both {
		n := nodes[p]
		waitFor(t, p+" to quarantine X's log", 10*time.Second, func() bool { return peerStatus(n, "X").Quarantined })
		if err := n.LiftQuarantine(context.Background(), "X", "lifted to see whether the fork is still there"); err != nil {
			t.Fatal(err)
		}
		waitFor(t, p+" to find the fork again", 10*time.Second, func() bool {
			kinds := evidenceKinds(t, n, "X")
			i := slices.Index(kinds, node.EvidenceLifted)
			return i >= 0 && slices.Contains(kinds[i+1:], node.EvidenceFork)
		})
		if kinds := evidenceKinds(t, n, "X"); kinds[0] != node.EvidenceFork {
			t.Errorf("%s's evidence kinds %v, want a fork first", p, kinds)
		}
		if !peerStatus(n, "X").Quarantined {
			t.Errorf("%s found the fork again but did not quarantine X's log", p)
		}
	}
}

// TestEvidenceJSON checks that evidence encodes its notes as text and
// decodes back to the same record.
func TestEvidenceJSON(t *testing.T) {
	e := node.Evidence{ID: 3, Log: "X", Time: time.Date(2026, 11, 29, 20, 0, 0, 0, time.UTC), Kind: node.EvidenceFork,
		Detail: "two checkpoints", NoteA: []byte("test/X\n2\nAAAA\n\n— test/X sig\n"), NoteB: []byte("test/X\n2\nBBBB\n\n— test/X sig\n")}
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"note_a":"test/X\n2\nAAAA\n\n— test/X sig\n"`) {
		t.Errorf("notes are not text: %s", b)
	}
	var got node.Evidence
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, e) {
		t.Errorf("round trip: %+v, want %+v", got, e)
	}
	b, _ = json.Marshal(node.Evidence{Kind: node.EvidenceLifted})
	if strings.Contains(string(b), "note_") {
		t.Errorf("a record without notes: %s", b)
	}
}
