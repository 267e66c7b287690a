package node

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/tillit/tillit/cosign"
	"github.com/tillit/tillit/internal/link"
	"github.com/tillit/tillit/internal/peer"
	"github.com/tillit/tillit/partylog"
	"github.com/tillit/tillit/tlog"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/time/rate"
)

// Peer interface paths (docs/spec/peer.md).
const (
	// LogsPrefix is where logs are served in the tlog-tiles layout:
	// /logs/<party>/checkpoint, /logs/<party>/tile/..., for the node's own
	// log and each log it mirrors.
	LogsPrefix = "/logs/"
	// GossipPath serves the newest cosigned checkpoint the node holds of
	// every log.
	GossipPath = "/gossip"
)

// maxGossipSize bounds a gossip answer.
const maxGossipSize = 1 << 20

// peerHandler routes the peer interface. Every caller has already passed the
// pinned TLS handshake; each request is rate limited per peer.
func (n *Node) peerHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("POST "+peer.PushPath, n.pushSrv)
	mux.HandleFunc("GET "+GossipPath, n.serveGossip)
	mux.HandleFunc("GET "+LogsPrefix+"{party}/{rest...}", n.serveLog)
	mux.HandleFunc("GET "+CosignaturesPrefix+"{party}", n.serveCosignatures)
	mux.HandleFunc("GET "+CheckpointAtPath, n.serveCheckpointAt)
	limiters := make(map[link.Pin]*rate.Limiter)
	for _, p := range n.peerSet.Pins() {
		// Bursty enough for a catch-up pull of many tiles, bounded
		// enough that a misbehaving peer cannot monopolise the node.
		limiters[p] = rate.NewLimiter(rate.Limit(500), 1000)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pin, ok := link.PeerFromRequest(r)
		if !ok || !n.peerSet.Contains(pin) {
			http.Error(w, "unknown peer", http.StatusForbidden)
			return
		}
		if l := limiters[pin]; l != nil && !l.Allow() {
			w.Header().Set("Retry-After", "1")
			http.Error(w, "too many requests", http.StatusTooManyRequests)
			n.metrics.rateLimited.Inc()
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// partyOf returns the party whose pinned key made request r.
func (n *Node) partyOf(r *http.Request) string {
	pin, ok := link.PeerFromRequest(r)
	if !ok {
		return ""
	}
	for _, name := range n.order {
		if link.PinOf(n.peers[name].party.TLSKey) == pin {
			return name
		}
	}
	return ""
}

func (n *Node) serveLog(w http.ResponseWriter, r *http.Request) {
	party := r.PathValue("party")
	// Every caller is a party (pinned TLS), so log_access "parties" and
	// "public" both allow it here.
	var h http.Handler
	switch p := n.peers[party]; {
	case party == n.me.Name:
		if r.PathValue("rest") == "checkpoint" {
			n.serveOwnCheckpoint(w, r)
			return
		}
		h = n.own.Handler()
	case p != nil:
		h = p.mirror.Handler()
	default:
		http.Error(w, fmt.Sprintf("no log of party %q here", party), http.StatusNotFound)
		return
	}
	http.StripPrefix(LogsPrefix+party, h).ServeHTTP(w, r)
}

// serveOwnCheckpoint serves the log's newest checkpoint with the
// cosignatures collected on it so far.
func (n *Node) serveOwnCheckpoint(w http.ResponseWriter, r *http.Request) {
	cp := n.own.Latest()
	msg := n.withCosignatures(r.Context(), n.me.Name, cp.Tree.N, cp.Note)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(msg)
}

// withCosignatures appends to a checkpoint note of log the cosignature
// lines recorded for that size.
func (n *Node) withCosignatures(ctx context.Context, log string, size int64, msg []byte) []byte {
	notes, err := n.state.cosignedNotes(ctx, log, size)
	if err != nil || len(notes) == 0 {
		return msg
	}
	out := append([]byte(nil), msg...)
	for _, name := range n.partyNames() {
		cn, ok := notes[name]
		if !ok {
			continue
		}
		// The stored note is the checkpoint with the cosignature line last.
		lines := strings.Split(strings.TrimSuffix(string(cn), "\n"), "\n")
		line := lines[len(lines)-1] + "\n"
		if !strings.Contains(string(out), line) {
			out = append(out, line...)
		}
	}
	return out
}

func (n *Node) partyNames() []string {
	var out []string
	for _, p := range n.reg.Parties {
		out = append(out, p.Name)
	}
	return out
}

// GossipCheckpoint is one entry of a gossip answer.
type GossipCheckpoint struct {
	Log  string `json:"log"`  // party name
	Note string `json:"note"` // checkpoint note with the cosignatures the node holds
}

// serveGossip answers with the newest checkpoint, with cosignatures, that
// the node holds of every log: its own and its mirrors.
func (n *Node) serveGossip(w http.ResponseWriter, r *http.Request) {
	var out struct {
		Checkpoints []GossipCheckpoint `json:"checkpoints"`
	}
	cp := n.own.Latest()
	out.Checkpoints = append(out.Checkpoints, GossipCheckpoint{Log: n.me.Name, Note: string(n.withCosignatures(r.Context(), n.me.Name, cp.Tree.N, cp.Note))})
	for _, name := range n.order {
		if s, ok := n.peers[name].mirror.Latest(); ok {
			out.Checkpoints = append(out.Checkpoints, GossipCheckpoint{Log: name, Note: string(n.withCosignatures(r.Context(), name, s.Tree.N, s.Note))})
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(out)
}

// mirrorFor is peer.Server's Mirror: the mirror of an origin, unless it is
// quarantined.
func (n *Node) mirrorFor(origin string) *partylog.Mirror {
	for _, name := range n.order {
		p := n.peers[name]
		if n.reg.Origin(name) == origin {
			if p.quarantined() != "" {
				return nil
			}
			return p.mirror
		}
	}
	return nil
}

// mayPush is peer.Server's Authorized: only a log's owner pushes it.
func (n *Node) mayPush(r *http.Request, origin string) bool {
	party := n.partyOf(r)
	return party != "" && n.reg.Origin(party) == origin
}

func (n *Node) originParty(origin string) string {
	for _, p := range n.reg.Parties {
		if n.reg.Origin(p.Name) == origin {
			return p.Name
		}
	}
	return ""
}

// onPushedFork handles a pushed checkpoint that contradicts the mirror.
func (n *Node) onPushedFork(origin string, msg []byte, err error) {
	party := n.originParty(origin)
	p := n.peers[party]
	if p == nil {
		return
	}
	var held []byte
	if s, ok := p.mirror.Latest(); ok {
		held = s.Note
	}
	n.fork(context.Background(), party, "pushed checkpoint contradicts the mirror: "+err.Error(), held, msg)
}

// fork records evidence that party's log forked, quarantines it and raises
// the alarm.
func (n *Node) fork(ctx context.Context, party, detail string, a, b []byte) {
	if _, err := n.state.addEvidence(ctx, Evidence{Log: party, Time: n.now(), Kind: EvidenceFork, Detail: detail, NoteA: a, NoteB: b}); err != nil {
		n.log.Error("couldn't record fork evidence", "peer", party, "err", err)
	}
	n.metrics.forks.Inc()
	n.quarantine(ctx, party, detail)
	n.alarm(EventFork, party, "", fmt.Sprintf("%s's log forked: %s", party, detail))
}

// onCosigned records this node's cosignature on a pushed checkpoint before
// it is sent, and indexes the entries the push added.
func (n *Node) onCosigned(origin string, c tlog.Checkpoint, msg []byte, sig note.Signature, t time.Time, added [][]byte) error {
	party := n.originParty(origin)
	if err := n.recordCosig(context.Background(), party, n.me.Name, c.Tree.N, t, msg, sig); err != nil {
		return err
	}
	if len(added) > 0 {
		n.idx.submit(ixJob{party: party, start: c.Tree.N - int64(len(added)), entries: added})
	}
	n.metrics.mirrorSize.WithLabelValues(party).Set(float64(c.Tree.N))
	return nil
}

// recordCosig durably records witness's cosignature sig (made at t) on
// log's checkpoint msg of the given size, then updates the index.
func (n *Node) recordCosig(ctx context.Context, log, witness string, size int64, t time.Time, msg []byte, sig note.Signature) error {
	withSig := append(append([]byte(nil), msg...), cosign.FormatLine(sig)+"\n"...)
	if _, err := n.state.addCosig(ctx, log, witness, size, t, withSig); err != nil {
		return err
	}
	n.idx.cosigned(log, witness, cosig{Size: size, Time: t.UTC()})
	return nil
}
