package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/tillit/tillit/cosign"
	"github.com/tillit/tillit/partylog"
	"github.com/tillit/tillit/tlog"
	"golang.org/x/mod/sumdb/note"
	sumdb "golang.org/x/mod/sumdb/tlog"
)

// pullLoop polls one peer: its checkpoint (fetching the tiles the mirror
// lacks, so that nothing is lost when pushes fail) and its gossip (the
// checkpoints it holds of every log, compared with ours).
func (n *Node) pullLoop(ctx context.Context, p *peerState) {
	for {
		// Jitter keeps the nodes' polls apart.
		d := n.opts.PollInterval
		select {
		case <-time.After(d/2 + rand.N(d/2+1)):
		case <-ctx.Done():
			return
		}
		if p.quarantined() == "" {
			if err := n.pull(ctx, p); err != nil && ctx.Err() == nil {
				n.log.Debug("pull failed", "peer", p.party.Name, "err", err)
			}
		}
		if err := n.gossip(ctx, p); err != nil && ctx.Err() == nil {
			n.log.Debug("gossip failed", "peer", p.party.Name, "err", err)
		}
		if err := n.fetchCosignatures(ctx, p); err != nil && ctx.Err() == nil {
			n.log.Debug("fetching cosignatures failed", "peer", p.party.Name, "err", err)
		}
	}
}

// pull fetches the peer's checkpoint and the entries the mirror lacks, and
// adds them to the mirror.
func (n *Node) pull(ctx context.Context, p *peerState) error {
	name := p.party.Name
	origin := n.reg.Origin(name)
	resp, err := p.client.Get(ctx, LogsPrefix+name+"/checkpoint")
	if err != nil {
		return err
	}
	msg := resp.Body
	c, _, err := tlog.OpenCheckpoint(msg, origin, p.party.Verifier())
	if err != nil {
		return fmt.Errorf("%s served a checkpoint that does not verify: %w", name, err)
	}
	size := p.mirror.Size()
	if c.Tree.N <= size {
		return n.checkAgainstMirror(ctx, p, c, msg, name)
	}
	for c.Tree.N-size > maxPullEntries {
		// Too far behind for one round: catch up in steps, each ending
		// at a checkpoint the log signs for that size.
		if err := n.pullStep(ctx, p, size, c.Tree.N); err != nil {
			return err
		}
		if size = p.mirror.Size(); c.Tree.N <= size {
			return n.checkAgainstMirror(ctx, p, c, msg, name)
		}
	}
	return n.pullTo(ctx, p, size, c, msg)
}

// pullTo fetches the entries from size to c's size, adds them with the
// signed checkpoint msg to the mirror, cosigns and indexes them.
func (n *Node) pullTo(ctx context.Context, p *peerState, size int64, c tlog.Checkpoint, msg []byte) error {
	name := p.party.Name
	entries, err := n.fetchEntries(ctx, p, size, c.Tree.N)
	if err != nil {
		return err
	}
	if _, err := p.mirror.Add(ctx, msg, entries); err != nil {
		if now := p.mirror.Size(); now != size && errors.Is(err, partylog.ErrEntries) {
			// A push added entries while this pull fetched them: the
			// entries no longer fit the mirror, which says nothing about
			// the peer. Check the checkpoint against what the mirror now
			// holds, or pull the rest next round.
			if c.Tree.N <= now {
				return n.checkAgainstMirror(ctx, p, c, msg, name)
			}
			return fmt.Errorf("mirror of %s grew from %d to %d during the pull: %w", name, size, now, err)
		}
		switch {
		case errors.Is(err, partylog.ErrFork):
			held, _ := p.mirror.Latest()
			n.fork(ctx, name, "checkpoint served by the log contradicts the mirror: "+err.Error(), held.Note, msg)
		case errors.Is(err, partylog.ErrEntries):
			n.quarantine(ctx, name, "served entries that do not match its signed checkpoint: "+err.Error())
		}
		return err
	}
	text, err := tlog.NoteText(msg)
	if err != nil {
		return err
	}
	sig, ts, err := n.cosigner.Cosign(text)
	if err != nil {
		return err
	}
	if err := n.recordCosig(ctx, name, n.me.Name, c.Tree.N, ts, msg, sig); err != nil {
		return err
	}
	n.idx.submit(ixJob{party: name, start: size, entries: entries})
	n.metrics.mirrorSize.WithLabelValues(name).Set(float64(c.Tree.N))
	n.metrics.pulled.WithLabelValues(name).Add(float64(len(entries)))
	n.log.Debug("pulled", "peer", name, "from", size, "to", c.Tree.N)
	return nil
}

// fetchEntries fetches entries start to end-1 of the peer's log as entry
// bundles.
func (n *Node) fetchEntries(ctx context.Context, p *peerState, start, end int64) ([][]byte, error) {
	out := make([][]byte, 0, end-start)
	for b := start / tlog.TileWidth; b*tlog.TileWidth < end; b++ {
		t, ok := tlog.TileForSize(tlog.EntriesLevel, b, end)
		if !ok {
			return nil, fmt.Errorf("no bundle %d in a tree of %d", b, end)
		}
		resp, err := p.client.Get(ctx, LogsPrefix+p.party.Name+"/"+tlog.TilePath(t))
		if err != nil {
			return nil, err
		}
		es, err := tlog.SplitBundle(resp.Body)
		if err != nil {
			return nil, fmt.Errorf("bundle %d from %s: %w", b, p.party.Name, err)
		}
		first := b * tlog.TileWidth
		lo, hi := max(start-first, 0), min(end-first, int64(len(es)))
		if hi < min(end-first, tlog.TileWidth) {
			return nil, fmt.Errorf("bundle %d from %s holds %d entries, want %d", b, p.party.Name, len(es), min(end-first, tlog.TileWidth))
		}
		out = append(out, es[lo:hi]...)
	}
	return out, nil
}

// checkAgainstMirror checks a checkpoint of a peer's log that the mirror
// already covers: its root must be the mirrored tree's at its size.
func (n *Node) checkAgainstMirror(ctx context.Context, p *peerState, c tlog.Checkpoint, msg []byte, source string) error {
	root, err := p.mirror.TreeHash(ctx, c.Tree.N)
	if err != nil {
		return err
	}
	if root != c.Tree.Hash {
		held, _ := p.mirror.Latest()
		detail := fmt.Sprintf("%s holds a checkpoint of size %d with root %v; the mirrored tree has %v", source, c.Tree.N, c.Tree.Hash, root)
		n.fork(ctx, p.party.Name, detail, held.Note, msg)
		return errors.New(detail)
	}
	return nil
}

// gossip fetches the checkpoints the peer holds of every log and compares
// each with what this node holds. Cosignatures on checkpoints that agree
// with ours are recorded: this is how receipts given on the pull path (and
// lost push answers) reach the log's owner.
func (n *Node) gossip(ctx context.Context, p *peerState) error {
	resp, err := p.client.Get(ctx, GossipPath)
	if err != nil {
		return err
	}
	if len(resp.Body) > maxGossipSize {
		return fmt.Errorf("gossip from %s larger than %d bytes", p.party.Name, maxGossipSize)
	}
	var g struct {
		Checkpoints []GossipCheckpoint `json:"checkpoints"`
	}
	if err := json.Unmarshal(resp.Body, &g); err != nil {
		return fmt.Errorf("gossip from %s: %w", p.party.Name, err)
	}
	for _, gc := range g.Checkpoints {
		n.compareGossip(ctx, p.party.Name, gc)
	}
	return nil
}

func (n *Node) compareGossip(ctx context.Context, source string, gc GossipCheckpoint) {
	owner := n.reg.Party(gc.Log)
	if owner == nil {
		return
	}
	msg := []byte(gc.Note)
	c, _, err := tlog.OpenCheckpoint(msg, n.reg.Origin(owner.Name), owner.Verifier())
	if err != nil {
		n.log.Debug("gossip checkpoint does not verify", "source", source, "log", gc.Log, "err", err)
		return
	}
	if !n.seenCheckpoint(ctx, owner.Name, c, msg, source) {
		return
	}
	var root sumdb.Hash
	if owner.Name == n.me.Name {
		if c.Tree.N > n.own.Size() {
			n.alarm(EventFork, source, "", fmt.Sprintf("%s holds a checkpoint of our own log of size %d, larger than the log (%d): our log key signed a tree this node did not make", source, c.Tree.N, n.own.Size()))
			return
		}
		if root, err = n.own.TreeHash(ctx, c.Tree.N); err != nil {
			return
		}
		if root != c.Tree.Hash {
			n.alarm(EventFork, source, "", fmt.Sprintf("%s holds a checkpoint of our own log of size %d with a root this log never had: our log key signed a tree this node did not make", source, c.Tree.N))
			return
		}
	} else {
		p := n.peers[owner.Name]
		if p.quarantined() != "" || c.Tree.N > p.mirror.Size() {
			return // not comparable yet; the pull will fetch it
		}
		if err := n.checkAgainstMirror(ctx, p, c, msg, source); err != nil {
			return
		}
	}
	n.collectCosignatures(ctx, owner.Name, c, msg)
}

// seenCheckpoint remembers the newest gossiped checkpoint of each log and
// reports a fork if two valid ones of one size have different roots.
func (n *Node) seenCheckpoint(ctx context.Context, log string, c tlog.Checkpoint, msg []byte, source string) bool {
	n.mu.Lock()
	if n.seen == nil {
		n.seen = make(map[string]seenCP)
	}
	prev, ok := n.seen[log]
	if !ok || c.Tree.N >= prev.size {
		n.seen[log] = seenCP{size: c.Tree.N, root: c.Tree.Hash, note: msg, source: source}
	}
	n.mu.Unlock()
	if ok && prev.size == c.Tree.N && prev.root != c.Tree.Hash {
		detail := fmt.Sprintf("two checkpoints of size %d with different roots, from %s and %s", c.Tree.N, prev.source, source)
		if log == n.me.Name {
			n.alarm(EventFork, source, "", "our own log: "+detail)
		} else {
			n.fork(ctx, log, detail, prev.note, msg)
		}
		return false
	}
	return true
}

type seenCP struct {
	size   int64
	root   sumdb.Hash
	note   []byte
	source string
}

// collectCosignatures records the valid cosignatures of the regime's
// parties on a checkpoint of log that agrees with this node's view.
func (n *Node) collectCosignatures(ctx context.Context, log string, c tlog.Checkpoint, msg []byte) {
	text, err := tlog.NoteText(msg)
	if err != nil {
		return
	}
	var vs []note.Verifier
	byName := make(map[string]*cosign.Verifier)
	for i := range n.reg.Parties {
		w := &n.reg.Parties[i]
		if w.Name == log {
			continue
		}
		v := w.Cosigner()
		vs = append(vs, v)
		byName[w.Name] = v
	}
	owner := n.reg.Party(log)
	vs = append(vs, owner.Verifier())
	nt, err := note.Open(msg, note.VerifierList(vs...))
	if err != nil {
		return
	}
	var base []byte
	for _, sig := range nt.Sigs {
		if sig.Name == owner.Verifier().Name() && sig.Hash == owner.Verifier().KeyHash() {
			base = []byte(text + "\n" + cosign.FormatLine(sig) + "\n")
		}
	}
	if base == nil {
		return
	}
	for _, sig := range nt.Sigs {
		for name, v := range byName {
			if sig.Name != v.Name() || sig.Hash != v.KeyHash() {
				continue
			}
			ts, err := cosign.VerifyCosignature(text, sig, v)
			if err != nil || cosign.CheckNotFuture(ts, n.now(), n.reg.ClockTolerance) != nil {
				continue
			}
			if err := n.recordCosig(ctx, log, name, c.Tree.N, ts, base, sig); err != nil && ctx.Err() == nil {
				n.log.Error("couldn't record cosignature", "log", log, "witness", name, "err", err)
			}
		}
	}
}
