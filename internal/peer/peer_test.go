package peer

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tillit/tillit/cosign"
	"github.com/tillit/tillit/internal/keys"
	"github.com/tillit/tillit/internal/link"
	"github.com/tillit/tillit/partylog"
	"github.com/tillit/tillit/store/memstore"
	"golang.org/x/mod/sumdb/note"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// party is a log owner: its log, TLS identity and keys.
type party struct {
	origin string
	skey   string
	log    *partylog.Log
	v      note.Verifier
	id     *link.Identity
}

func newParty(t *testing.T, origin string) *party {
	t.Helper()
	skey, _, err := note.GenerateKey(rand.Reader, origin)
	if err != nil {
		t.Fatal(err)
	}
	id, err := link.GenerateIdentity()
	if err != nil {
		t.Fatal(err)
	}
	return newPartyWith(t, skey, id)
}

// newPartyWith opens a fresh log under an existing key and identity: a
// second, forked log of the same party.
func newPartyWith(t *testing.T, skey string, id *link.Identity) *party {
	t.Helper()
	s, v, _, err := keys.Parse(skey)
	if err != nil {
		t.Fatal(err)
	}
	lg, err := partylog.Open(context.Background(), memstore.New(), partylog.Options{Origin: s.Name(), Signer: s, Verifier: v, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lg.Close() })
	return &party{origin: s.Name(), skey: skey, log: lg, v: v, id: id}
}

func (p *party) append(t *testing.T, n int) {
	t.Helper()
	ctx := context.Background()
	for i := range n {
		if _, err := p.log.Append(ctx, fmt.Appendf(nil, "%s entry %d/%d", p.origin, p.log.Size(), i)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := p.log.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
}

// mirrorNode is the receiving node: mirrors of the senders' logs behind a
// pinned-TLS push server.
type mirrorNode struct {
	id      *link.Identity
	mirrors map[string]*partylog.Mirror
	owners  map[string]link.Pin
	cosig   *cosign.Verifier
	srv     *httptest.Server
	forks   atomic.Int32
}

func newMirrorNode(t *testing.T, senders ...*party) *mirrorNode {
	t.Helper()
	n := &mirrorNode{mirrors: map[string]*partylog.Mirror{}, owners: map[string]link.Pin{}}
	var err error
	if n.id, err = link.GenerateIdentity(); err != nil {
		t.Fatal(err)
	}
	var pins []link.Pin
	for _, s := range senders {
		m, err := partylog.OpenMirror(context.Background(), memstore.New(), partylog.MirrorOptions{Origin: s.origin, Verifier: s.v, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		n.mirrors[s.origin] = m
		n.owners[s.origin] = s.id.Pin()
		pins = append(pins, s.id.Pin())
	}
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	signer, err := cosign.NewSigner("example/mirror", priv, nil)
	if err != nil {
		t.Fatal(err)
	}
	n.cosig = signer.Verifier()
	server := &Server{
		Mirror: func(origin string) *partylog.Mirror { return n.mirrors[origin] },
		Authorized: func(r *http.Request, origin string) bool {
			pin, ok := link.PeerFromRequest(r)
			return ok && pin == n.owners[origin]
		},
		Cosigner: signer,
		OnFork:   func(string, []byte, error) { n.forks.Add(1) },
		Logger:   quiet,
		MaxBody:  1 << 20,
	}
	mux := http.NewServeMux()
	mux.Handle(PushPath, server)
	n.srv = httptest.NewUnstartedServer(mux)
	peers, err := link.NewPeerSet(pins...)
	if err != nil {
		t.Fatal(err)
	}
	n.srv.TLS = link.ServerConfig(n.id, peers)
	n.srv.StartTLS()
	t.Cleanup(n.srv.Close)
	return n
}

func (n *mirrorNode) pusher(t *testing.T, from *party) *Pusher {
	t.Helper()
	c, err := link.NewClient(from.id, n.id.Pin(), []string{n.srv.URL}, link.ClientOptions{Attempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	return &Pusher{Log: from.log, Client: c, Cosigner: n.cosig}
}

func TestPushReceipts(t *testing.T) {
	ctx := context.Background()
	a := newParty(t, "example/A")
	n := newMirrorNode(t, a)
	p := n.pusher(t, a)
	for i, grow := range []int{0, 1, 300, 0, 5, 700} {
		a.append(t, grow)
		r, err := p.Push(ctx)
		if err != nil {
			t.Fatalf("push %d: %v", i, err)
		}
		if r.Checkpoint.Tree != a.log.Latest().Tree {
			t.Fatalf("push %d: receipt for %v, want %v", i, r.Checkpoint.Tree, a.log.Latest().Tree)
		}
		if d := time.Since(r.Time); d < -time.Second || d > time.Minute {
			t.Fatalf("push %d: receipt time %v", i, r.Time)
		}
		if got := n.mirrors[a.origin].Size(); got != a.log.Size() {
			t.Fatalf("push %d: mirror holds %d, log %d", i, got, a.log.Size())
		}
	}
	// A new pusher knows nothing of the mirror: it learns its size from a
	// 409 and gets a receipt anyway; so does one that thinks it is ahead.
	a.append(t, 3)
	for _, next := range []int64{0, a.log.Size() - 1, a.log.Size() + 5} {
		q := n.pusher(t, a)
		q.next = next
		if _, err := q.Push(ctx); err != nil {
			t.Fatalf("push from a pusher at %d: %v", next, err)
		}
	}
	for i := int64(0); i < a.log.Size(); i++ {
		want, _ := a.log.Entry(ctx, i)
		got, err := n.mirrors[a.origin].Entry(ctx, i)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("mirrored entry %d = %q, %v", i, got, err)
		}
	}
}

func TestPushRefused(t *testing.T) {
	ctx := context.Background()
	a := newParty(t, "example/A")
	x := newParty(t, "example/X")
	n := newMirrorNode(t, a, x)
	a.append(t, 10)
	x.append(t, 10)
	status := func(err error) int {
		var se *link.StatusError
		if errors.As(err, &se) {
			return se.StatusCode
		}
		return 0
	}
	// A may not push X's log, though both are known.
	c, _ := link.NewClient(a.id, n.id.Pin(), []string{n.srv.URL}, link.ClientOptions{Attempts: 1})
	if _, err := (&Pusher{Log: x.log, Client: c, Cosigner: n.cosig}).Push(ctx); status(err) != http.StatusForbidden {
		t.Errorf("pushing another party's log: %v, want 403", err)
	}
	// A party whose TLS key is not pinned is refused at the handshake.
	stranger := newParty(t, "example/A")
	c2, _ := link.NewClient(stranger.id, n.id.Pin(), []string{n.srv.URL}, link.ClientOptions{Attempts: 1})
	if _, err := (&Pusher{Log: a.log, Client: c2, Cosigner: n.cosig}).Push(ctx); err == nil || status(err) != 0 {
		t.Errorf("push from an unpinned key: %v, want a handshake failure", err)
	}
	// Entries that do not hash to the signed root are refused, and nothing is stored.
	cp := a.log.Latest()
	entries, _ := a.log.Entries(ctx, 0, cp.Tree.N)
	entries[4] = []byte("forged")
	body, _ := (&Push{Origin: a.origin, Start: 0, Checkpoint: cp.Note, Entries: entries}).Marshal()
	if _, err := c.Post(ctx, PushPath, "application/octet-stream", body); status(err) != http.StatusUnprocessableEntity {
		t.Errorf("forged entries: %v, want 422", err)
	}
	if n.mirrors[a.origin].Size() != 0 {
		t.Fatal("forged push was stored")
	}
	// A checkpoint signed by another key is refused.
	body, _ = (&Push{Origin: a.origin, Start: 0, Checkpoint: stranger.log.Latest().Note}).Marshal()
	if _, err := c.Post(ctx, PushPath, "application/octet-stream", body); status(err) != http.StatusForbidden {
		t.Errorf("checkpoint by another key: %v, want 403", err)
	}
	// A fork: A shows the mirror one tree, then signs another of the same size.
	if _, err := n.pusher(t, a).Push(ctx); err != nil {
		t.Fatal(err)
	}
	fork := newPartyWith(t, a.skey, a.id)
	fork.append(t, 3) // other entries, same key: another tree of size 10
	fork.append(t, 7)
	if fork.log.Latest().Tree.N != a.log.Size() || fork.log.Latest().Tree.Hash == a.log.Latest().Tree.Hash {
		t.Fatal("fork setup: want another root for the same size")
	}
	if _, err := n.pusher(t, fork).Push(ctx); status(err) != http.StatusUnprocessableEntity || n.forks.Load() != 1 {
		t.Errorf("forked checkpoint: %v (forks reported: %d), want 422 and one fork", err, n.forks.Load())
	}
	// Garbage and oversized bodies.
	if _, err := c.Post(ctx, PushPath, "application/octet-stream", []byte{0, 5, 'x'}); status(err) != http.StatusBadRequest {
		t.Errorf("garbage push: %v, want 400", err)
	}
	if _, err := c.Post(ctx, PushPath, "application/octet-stream", make([]byte, 2<<20)); status(err) != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized push: %v, want 413", err)
	}
	body, _ = (&Push{Origin: "example/nobody", Start: 0, Checkpoint: cp.Note}).Marshal()
	if _, err := c.Post(ctx, PushPath, "application/octet-stream", body); status(err) != http.StatusNotFound {
		t.Errorf("unknown origin: %v, want 404", err)
	}
}
