package node

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/tillit/tillit/cosign"
	"github.com/tillit/tillit/tlog"
	"golang.org/x/mod/sumdb/note"
)

// CosignaturesPrefix serves every cosignature a node holds on a log's
// checkpoints: GET /cosignatures/<party>?after=SEQ answers the cosigned
// checkpoint notes of that party's log that the node recorded after its
// sequence number SEQ, in the order it recorded them, at most
// maxCosigsAnswer of them (docs/spec/peer.md). Gossip carries only the
// newest checkpoint; this is how a receipt made on the pull path, or one
// whose push answer was lost, reaches the log's owner and every other
// party, so that all of them evaluate deadlines from the same
// cosignatures.
const CosignaturesPrefix = "/cosignatures/"

const maxCosigsAnswer = 1000

// CosignedNote is one entry of a cosignatures answer: a checkpoint note
// signed by the log and cosigned by Witness.
type CosignedNote struct {
	Seq     int64  `json:"seq"` // the serving node's sequence number
	Witness string `json:"witness"`
	Size    int64  `json:"size"`
	Note    string `json:"note"`
}

func (n *Node) serveCosignatures(w http.ResponseWriter, r *http.Request) {
	log := r.PathValue("party")
	if n.reg.Party(log) == nil {
		http.Error(w, fmt.Sprintf("no party %q", log), http.StatusNotFound)
		return
	}
	after, err := strconv.ParseInt(r.URL.Query().Get("after"), 10, 64)
	if r.URL.Query().Get("after") == "" {
		after, err = 0, nil
	}
	if err != nil || after < 0 {
		http.Error(w, "after must be a sequence number", http.StatusBadRequest)
		return
	}
	last, err := n.state.lastSeq(r.Context())
	var rows []CosignedNote
	if err == nil {
		rows, err = n.state.cosignedAfter(r.Context(), log, after, maxCosigsAnswer)
	}
	if err != nil {
		n.log.Error("couldn't read cosignatures", "log", log, "err", err)
		http.Error(w, "couldn't read cosignatures", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(cosignaturesAnswer{Last: last, Cosignatures: rows})
}

// fetchCosignatures asks peer p for the cosignatures it holds on every
// log's checkpoints beyond what was fetched from it before, and records
// those that verify and agree with this node's view.
func (n *Node) fetchCosignatures(ctx context.Context, p *peerState) error {
	for _, party := range n.partyNames() {
		p.mu.Lock()
		if p.cosigCursor == nil {
			p.cosigCursor = make(map[string]int64)
		}
		after := p.cosigCursor[party]
		p.mu.Unlock()
		resp, err := p.client.Get(ctx, CosignaturesPrefix+url.PathEscape(party)+"?after="+strconv.FormatInt(after, 10))
		if err != nil {
			return err
		}
		var a cosignaturesAnswer
		if err := json.Unmarshal(resp.Body, &a); err != nil {
			return fmt.Errorf("cosignatures from %s: %w", p.party.Name, err)
		}
		next := after
		if a.Last < after {
			// The peer's numbering is behind ours: its database is new.
			// Start again from its beginning.
			n.log.Warn("peer's cosignature numbering restarted; fetching all again", "peer", p.party.Name, "log", party)
			next = 0
		}
		for _, c := range a.Cosignatures {
			if c.Seq <= next {
				break // not in order: ignore the rest
			}
			if _, known := n.acceptCosigned(ctx, party, c); !known {
				break // beyond what this node holds of the log: ask again later
			}
			next = c.Seq
		}
		if next != after {
			p.mu.Lock()
			p.cosigCursor[party] = next
			p.mu.Unlock()
			if err := n.state.setCursor(ctx, p.party.Name, party, next); err != nil && ctx.Err() == nil {
				n.log.Warn("couldn't record how far cosignatures were fetched", "peer", p.party.Name, "err", err)
			}
		}
	}
	return nil
}

// cosignaturesAnswer is the body of a cosignatures answer.
type cosignaturesAnswer struct {
	// Last is the serving node's largest sequence number (of any log), so
	// that a client whose cursor is beyond it knows the numbering restarted.
	Last         int64          `json:"last"`
	Cosignatures []CosignedNote `json:"cosignatures"`
}

// acceptCosigned checks and records one cosigned note of log's checkpoint.
// known is false if the checkpoint is beyond what this node holds of the
// log, so that it cannot be checked yet.
func (n *Node) acceptCosigned(ctx context.Context, log string, c CosignedNote) (ok, known bool) {
	owner := n.reg.Party(log)
	witness := n.reg.Party(c.Witness)
	if witness == nil || c.Witness == log {
		return false, true
	}
	msg := []byte(c.Note)
	if n.cosignedAlready(log, c) {
		return true, true
	}
	cp, _, err := tlog.OpenCheckpoint(msg, n.reg.Origin(log), owner.Verifier())
	if err != nil || cp.Tree.N != c.Size {
		return false, true
	}
	var held int64
	if log == n.me.Name {
		held = n.own.Size()
	} else {
		held = n.peers[log].mirror.Size()
	}
	if cp.Tree.N > held {
		return false, false
	}
	var root tlog.Checkpoint
	if log == n.me.Name {
		root.Tree.Hash, err = n.own.TreeHash(ctx, cp.Tree.N)
	} else {
		root.Tree.Hash, err = n.peers[log].mirror.TreeHash(ctx, cp.Tree.N)
	}
	if err != nil || root.Tree.Hash != cp.Tree.Hash {
		return false, true // gossip's comparison raises forks; here it is only not accepted
	}
	text, err := tlog.NoteText(msg)
	if err != nil {
		return false, true
	}
	v := witness.Cosigner()
	nt, err := note.Open(msg, note.VerifierList(owner.Verifier(), v))
	if err != nil {
		return false, true
	}
	for _, sig := range nt.Sigs {
		if sig.Name != v.Name() || sig.Hash != v.KeyHash() {
			continue
		}
		ts, err := cosign.VerifyCosignature(text, sig, v)
		if err != nil || cosign.CheckNotFuture(ts, n.now(), n.reg.ClockTolerance) != nil {
			return false, true
		}
		if n.idx.cosList(log, c.Witness).has(cp.Tree.N, ts) {
			return true, true // already recorded
		}
		var base []byte
		for _, s := range nt.Sigs {
			if s.Name == owner.Verifier().Name() && s.Hash == owner.Verifier().KeyHash() {
				base = []byte(text + "\n" + cosign.FormatLine(s) + "\n")
			}
		}
		if err := n.recordCosig(ctx, log, c.Witness, cp.Tree.N, ts, base, sig); err != nil {
			return false, true
		}
		return true, true
	}
	return false, true
}

// cosignedAlready reports, without verifying anything, whether the
// cosignature that ends note c is one this node has recorded (same witness,
// size and time or earlier): a peer's answer mostly repeats what this node
// already holds, and checking signatures again would be wasted work.
func (n *Node) cosignedAlready(log string, c CosignedNote) bool {
	body := strings.TrimSuffix(c.Note, "\n")
	i := strings.LastIndexByte(body, '\n')
	if i < 0 {
		return false
	}
	sig, err := cosign.ParseLine(body[i+1:])
	if err != nil {
		return false
	}
	ts, err := cosign.Timestamp(sig)
	if err != nil {
		return false
	}
	return n.idx.cosList(log, c.Witness).has(c.Size, ts)
}
