package node

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"time"

	"github.com/tillit/tillit/statement"
)

// finalityWindow is how many of each witness's newest cosignatures are
// searched for the newest final checkpoint.
const finalityWindow = 256

// maxHooks bounds the alarm hook processes running at once.
const maxHooks = 4

// maxScan bounds the entries one inbox or outbox listing reads, and the
// entries a statements listing reads of each log.
const maxScan = 20000

// Status returns the node's state at a glance.
func (n *Node) Status() Status {
	s := Status{Party: n.me.Name, Now: n.now().UTC(), Regime: n.reg.ID, RegimeHash: n.reg.Hash().String()}
	size, final, cosigners := n.finality()
	s.Log = LogStatus{Origin: n.reg.Origin(n.me.Name), Size: size, Final: final, FinalCosigners: cosigners}
	now := time.Now()
	for _, name := range n.order {
		p := n.peers[name]
		last, _ := n.idx.cosList(n.me.Name, name).last()
		ps := PeerStatus{Party: name, Link: n.linkState(p, now), LastReceipt: last.Time, Receipted: last.Size,
			Behind: max(size-last.Size, 0), Mirror: p.mirror.Size()}
		p.mu.Lock()
		ps.Quarantined = p.quarantine != ""
		switch {
		case p.lastErr != nil:
			ps.LastError = p.lastErr.Error()
		case !p.pushing.IsZero() && now.Sub(p.pushing) > stallAfter:
			ps.LastError = fmt.Sprintf("no answer to a push for %s", now.Sub(p.pushing).Round(time.Second))
		}
		p.mu.Unlock()
		s.Peers = append(s.Peers, ps)
	}
	n.idx.mu.Lock()
	s.Overdue = len(n.idx.overdue)
	n.idx.mu.Unlock()
	n.mu.Lock()
	s.Alarms = slices.Clone(n.alarms)
	n.mu.Unlock()
	return s
}

// finality returns the log's size, the size of its newest checkpoint that
// meets the witness policy (0 if none), and who cosigned that one.
func (n *Node) finality() (size, final int64, cosigners []string) {
	size = n.own.Latest().Tree.N
	ws := n.reg.Witnesses(n.me.Name)
	// Witnesses cosign the newest checkpoints they are pushed, so the
	// newest final one is among the last each has cosigned.
	bySize := make(map[int64][]string)
	for _, w := range ws {
		for _, c := range n.idx.cosList(n.me.Name, w).tail(finalityWindow) {
			bySize[c.Size] = append(bySize[c.Size], w)
		}
	}
	for sz, names := range bySize {
		if sz > final && n.reg.Final(n.me.Name, names) {
			final, cosigners = sz, names
		}
	}
	slices.Sort(cosigners)
	return size, final, cosigners
}

// FinalCheckpoint returns the newest checkpoint note of the node's log that
// meets the witness policy, with the cosignatures that make it final.
func (n *Node) FinalCheckpoint(ctx context.Context) ([]byte, error) {
	_, final, _ := n.finality()
	if final == 0 {
		return nil, fmt.Errorf("%w: no checkpoint of the log is final yet", ErrNotFound)
	}
	notes, err := n.state.cosignedNotes(ctx, n.me.Name, final)
	if err != nil {
		return nil, err
	}
	var base []byte
	for _, nt := range notes {
		base = nt[:len(nt)-len(lastLine(nt))]
		break
	}
	return n.withCosignatures(ctx, n.me.Name, final, base), nil
}

func lastLine(b []byte) []byte {
	b2 := b[:len(b)-1]
	for i := len(b2) - 1; i >= 0; i-- {
		if b2[i] == '\n' {
			return b[i+1:]
		}
	}
	return b
}

// Message returns the statement with the given reference, if this node
// holds it, with its standing per recipient.
func (n *Node) Message(ref string) (Message, error) {
	r, err := statement.ParseRef(ref)
	if err != nil {
		return Message{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if err := n.checkRef(r); err != nil {
		return Message{}, fmt.Errorf("%w: %v", ErrNotFound, err)
	}
	e, err := n.entry(context.Background(), n.originParty(r.Log), r.Index)
	if err != nil {
		return Message{}, fmt.Errorf("%w: %v", ErrNotFound, err)
	}
	st, err := statement.Parse(e)
	if err != nil {
		return Message{}, fmt.Errorf("%w: %v", ErrNotFound, err)
	}
	return n.message(st, r.Index, n.now()), nil
}

// Outbox lists the statements this party sent, newest first.
func (n *Node) Outbox(q Query) []Message {
	size := n.own.Size()
	var keys []key
	for i := size - 1; i >= 0 && size-i <= maxScan; i-- {
		keys = append(keys, key{n.me.Name, i})
	}
	return n.list(keys, q)
}

// Inbox lists the statements addressed to this party, newest first.
func (n *Node) Inbox(q Query) []Message {
	n.idx.mu.Lock()
	var keys []key
	for i := len(n.idx.inbox) - 1; i >= 0 && len(keys) < maxScan; i-- {
		keys = append(keys, n.idx.inbox[i])
	}
	n.idx.mu.Unlock()
	return n.list(keys, q)
}

// Statements lists the statements of every log this node holds, its own and
// its mirror of each peer's, whoever they are addressed to, newest first by
// statement time (then by log origin, then newest entry first). q.From limits
// it to one party's log. Like the inbox, it skips entries that are not valid
// statements of the regime. The work is bounded per log: each is read from
// its end, at most maxScan entries and at most q's limit of matches, so the
// listing takes a log's entry order for the order of its statements' times.
func (n *Node) Statements(q Query) []Message {
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	var out []Message
	for _, party := range append([]string{n.me.Name}, n.order...) {
		if q.From == "" || q.From == party {
			out = append(out, n.scanLog(party, q, limit)...)
		}
	}
	slices.SortFunc(out, func(a, b Message) int {
		return cmp.Or(b.Time.Compare(a.Time), cmp.Compare(a.Log, b.Log), cmp.Compare(b.Index, a.Index))
	})
	return out[:min(len(out), limit)]
}

// scanLog returns the newest statements of party's log that match q, at
// most limit of them, reading at most maxScan entries from the log's end.
func (n *Node) scanLog(party string, q Query, limit int) []Message {
	size := n.own.Size()
	if party != n.me.Name {
		size = n.peers[party].mirror.Size()
	}
	now := n.now()
	var out []Message
	for i := size - 1; i >= 0 && size-i <= maxScan && len(out) < limit; i-- {
		e, err := n.entry(context.Background(), party, i)
		if err != nil {
			continue
		}
		st, err := statement.Parse(e)
		if err != nil || st.From != party || (q.Type != "" && st.Type != q.Type) || n.reg.CheckStatement(st) != nil {
			continue
		}
		m := n.message(st, i, now)
		if q.State != 0 && m.State != q.State {
			continue
		}
		out = append(out, m)
	}
	return out
}

func (n *Node) list(keys []key, q Query) []Message {
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	now := n.now()
	var out []Message
	for _, k := range keys {
		if len(out) >= limit {
			break
		}
		e, err := n.entry(context.Background(), k.log, k.index)
		if err != nil {
			continue
		}
		st, err := statement.Parse(e)
		if err != nil || (q.Type != "" && st.Type != q.Type) || (q.From != "" && st.From != q.From) {
			continue
		}
		m := n.message(st, k.index, now)
		if q.State != 0 && m.State != q.State {
			continue
		}
		out = append(out, m)
	}
	return out
}

// WaitReceipt waits until party has receipted the statement ref of this
// node's log, and returns the receipt time (the cosignature's timestamp).
func (n *Node) WaitReceipt(ctx context.Context, ref string, party string) (time.Time, error) {
	r, err := statement.ParseRef(ref)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if r.Log != n.reg.Origin(n.me.Name) {
		return time.Time{}, fmt.Errorf("%w: %s is not in this node's log", ErrInvalid, ref)
	}
	if n.peers[party] == nil {
		return time.Time{}, fmt.Errorf("%w: %q is not a peer", ErrInvalid, party)
	}
	l := n.idx.cosList(n.me.Name, party)
	for {
		c, wake := l.last()
		if c.Size > r.Index {
			t, _ := l.covering(r.Index)
			return t, nil
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		}
	}
}

// runHook runs the configured alarm command, if any, with the alarm in its
// environment: TILLIT_ALARM (the kind), TILLIT_PARTY (this party),
// TILLIT_PEER, TILLIT_REF and TILLIT_MESSAGE. It runs without a shell, is
// killed after 30 seconds, and its failure is logged, not fatal.
func (n *Node) runHook(kind, peer, ref, msg string) {
	if len(n.cfg.Hook) == 0 {
		return
	}
	// At most maxHooks run at once; alarms beyond that while they run are
	// logged (and streamed as events) but start no process.
	select {
	case n.hooks <- struct{}{}:
	default:
		n.log.Warn("alarm hook skipped: too many running", "kind", kind, "ref", ref)
		return
	}
	go func() {
		defer func() { <-n.hooks }()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, n.cfg.Hook[0], n.cfg.Hook[1:]...)
		cmd.Dir = n.cfg.Dir
		cmd.Env = append(os.Environ(), "TILLIT_ALARM="+kind, "TILLIT_PARTY="+n.me.Name,
			"TILLIT_PEER="+peer, "TILLIT_REF="+ref, "TILLIT_MESSAGE="+msg)
		if out, err := cmd.CombinedOutput(); err != nil {
			n.log.Error("alarm hook failed", "cmd", n.cfg.Hook[0], "err", err, "output", string(out))
		}
	}()
}
