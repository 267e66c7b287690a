package node

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/tillit/tillit/partylog"
	"github.com/tillit/tillit/statement"
)

// maxSendQueue bounds the statements waiting to be appended; Send blocks
// (until its context ends) when the queue is full.
const maxSendQueue = 1 << 16

// sendBatch bounds the statements one append takes from the queue.
const sendBatch = 1024

// sendWindow bounds how many entries the log may run ahead of what every
// peer whose link is up has receipted before ROUTINE and PRIORITY
// statements wait (see sendLoop). Peers whose link is degraded or down do
// not hold the others back; they catch up by pull and push later.
const sendWindow = 2048

// lag returns how many entries of the log the furthest-behind peer whose
// link is up has not receipted.
func (n *Node) lag() int64 {
	size := n.own.Size()
	var worst int64
	now := time.Now()
	for _, name := range n.order {
		if n.linkState(n.peers[name], now) != LinkUp {
			continue
		}
		last, _ := n.idx.cosList(n.me.Name, name).last()
		worst = max(worst, size-last.Size)
	}
	return worst
}

// sendItem is a statement waiting to be appended.
type sendItem struct {
	entry []byte
	prec  statement.Precedence
	done  chan sendResult
}

type sendResult struct {
	index int64
	err   error
}

// sendQueue holds statements waiting to be appended, by precedence: the
// appenders always take the highest precedence first, so a FLASH statement
// overtakes every queued lower-precedence one.
type sendQueue struct {
	mu     sync.Mutex
	queues [statement.Flash + 1][]*sendItem
	n      int
	closed bool
	ready  chan struct{} // has a token while the queue is non-empty
	space  chan struct{} // has a token while the queue has room
}

func newSendQueue() *sendQueue {
	q := &sendQueue{ready: make(chan struct{}, 1), space: make(chan struct{}, 1)}
	q.space <- struct{}{}
	return q
}

func (q *sendQueue) put(ctx context.Context, it *sendItem) error {
	for {
		q.mu.Lock()
		if q.closed {
			q.mu.Unlock()
			return ErrClosed
		}
		// FLASH is never refused for want of room.
		if q.n < maxSendQueue || it.prec == statement.Flash {
			q.queues[it.prec] = append(q.queues[it.prec], it)
			q.n++
			q.signal()
			q.mu.Unlock()
			return nil
		}
		q.mu.Unlock()
		select {
		case <-q.space:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// signal refreshes the tokens; q.mu is held.
func (q *sendQueue) signal() {
	if q.n > 0 {
		select {
		case q.ready <- struct{}{}:
		default:
		}
	}
	if q.n < maxSendQueue {
		select {
		case q.space <- struct{}{}:
		default:
		}
	}
}

// take waits for statements of precedence minPrec or higher and returns
// up to max of them, highest precedence first and in arrival order within a
// precedence. It returns nil when ctx ends or, if wait is positive, when
// none came within wait.
func (q *sendQueue) take(ctx context.Context, max int, minPrec statement.Precedence, wait time.Duration) []*sendItem {
	var timeout <-chan time.Time
	if wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		timeout = t.C
	}
	for {
		q.mu.Lock()
		var out []*sendItem
		for p := statement.Flash; p >= minPrec && len(out) < max; p-- {
			k := min(len(q.queues[p]), max-len(out))
			out = append(out, q.queues[p][:k]...)
			q.queues[p] = q.queues[p][k:]
		}
		if len(out) > 0 {
			q.n -= len(out)
			q.signal()
			q.mu.Unlock()
			return out
		}
		q.mu.Unlock()
		select {
		case <-q.ready:
		case <-timeout:
			return nil
		case <-ctx.Done():
			return nil
		}
	}
}

// close fails every queued statement and refuses new ones.
func (q *sendQueue) close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.closed = true
	for p := range q.queues {
		for _, it := range q.queues[p] {
			it.done <- sendResult{err: ErrClosed}
		}
		q.queues[p] = nil
	}
	q.n = 0
}

// sendLoop appends queued statements to the log, a batch at a time. A batch
// with a FLASH or IMMEDIATE statement is checkpointed at once and pushed
// at once.
func (n *Node) sendLoop(ctx context.Context) {
	for {
		// Flow control: while a peer whose link is up has not receipted
		// the last sendWindow entries, only IMMEDIATE and FLASH statements
		// are appended, so that the log never runs far ahead of its
		// pushes and an urgent statement's push carries little before it.
		minPrec, wait := statement.Routine, time.Duration(0)
		if n.lag() >= sendWindow {
			minPrec, wait = statement.Immediate, 2*time.Millisecond
		}
		items := n.sendq.take(ctx, sendBatch, minPrec, wait)
		if ctx.Err() != nil {
			return
		}
		if items == nil {
			continue
		}
		entries := make([][]byte, len(items))
		urgent := false
		for i, it := range items {
			entries[i] = it.entry
			urgent = urgent || it.prec >= statement.Immediate
		}
		idx, err := n.own.AppendAll(ctx, entries)
		if err == nil && urgent {
			if _, cerr := n.own.Checkpoint(ctx); cerr != nil {
				n.log.Error("couldn't checkpoint an urgent statement at once", "err", cerr)
			}
			n.kickPushers()
		}
		for i, it := range items {
			if err != nil {
				it.done <- sendResult{err: err}
			} else {
				it.done <- sendResult{index: idx[i]}
			}
		}
	}
}

// Send makes a statement: it checks the request against the regime, appends
// the statement to the party's log and returns it once it is durable. role
// is the caller's operator role: an analyst may not send IMMEDIATE or FLASH
// statements and an auditor may not send at all. Errors wrap ErrInvalid (the
// request is wrong; nothing was stored), ErrForbidden or ErrClosed.
func (n *Node) Send(ctx context.Context, req SendRequest, role string) (Message, error) {
	st, err := n.buildStatement(req, role)
	if err != nil {
		return Message{}, err
	}
	return n.sendStatement(ctx, st)
}

// sealed encodes a checked statement canonically and parses it back, so
// that it carries its exact bytes and leaf hash.
func sealed(st *statement.Statement) (*statement.Statement, error) {
	raw, err := statement.Encode(st)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return statement.Parse(raw)
}

// sendStatement appends st, which sealed returned.
func (n *Node) sendStatement(ctx context.Context, st *statement.Statement) (Message, error) {
	raw := st.Raw()
	start := time.Now()
	it := &sendItem{entry: raw, prec: st.Precedence, done: make(chan sendResult, 1)}
	if err := n.sendq.put(ctx, it); err != nil {
		return Message{}, err
	}
	var res sendResult
	select {
	case res = <-it.done:
	case <-ctx.Done():
		// The statement may still be appended; its sender learns its
		// reference from the outbox.
		return Message{}, ctx.Err()
	}
	if res.err != nil {
		if errors.Is(res.err, partylog.ErrClosed) {
			return Message{}, ErrClosed
		}
		return Message{}, fmt.Errorf("couldn't append the statement: %w", res.err)
	}
	n.metrics.sendLatency.Observe(time.Since(start).Seconds())
	n.idx.submit(ixJob{party: n.me.Name, start: res.index, st: st})
	ref := st.Ref(res.index).String()
	n.metrics.sent.WithLabelValues(st.Type).Inc()
	n.publish(Event{Kind: EventSent, Ref: ref, Msg: fmt.Sprintf("sent %s %s to %s", st.Precedence, st.Type, joinTo(st.To))})
	return n.message(st, res.index, n.now()), nil
}

// buildStatement turns a request into a statement and checks it.
func (n *Node) buildStatement(req SendRequest, role string) (*statement.Statement, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
	}
	if role == RoleAuditor {
		return nil, fmt.Errorf("%w: an auditor may not send statements", ErrForbidden)
	}
	t := n.reg.Type(req.Type)
	if t == nil {
		return nil, bad("type %q is not in regime %s", req.Type, n.reg.ID)
	}
	prec := t.Precedence
	if req.Precedence != "" {
		p, err := statement.ParsePrecedence(req.Precedence)
		if err != nil {
			return nil, bad("precedence: %v", err)
		}
		prec = p
	}
	if role == RoleAnalyst && prec > statement.Priority {
		return nil, fmt.Errorf("%w: an analyst may not send %s statements", ErrForbidden, prec)
	}
	if len(req.To) == 0 {
		return nil, bad("to: name at least one recipient, or \"*\" for every other party")
	}
	var refs []statement.Ref
	for i, s := range req.Refs {
		r, err := statement.ParseRef(s)
		if err != nil {
			return nil, bad("refs[%d]: %v", i, err)
		}
		if err := n.checkRef(r); err != nil {
			return nil, bad("refs[%d]: %v", i, err)
		}
		refs = append(refs, r)
	}
	body := bytes.TrimSpace(req.Body)
	if len(body) == 0 {
		body = []byte("{}")
	}
	if !json.Valid(body) {
		return nil, bad("body is not valid JSON")
	}
	st := &statement.Statement{
		Regime: n.reg.ID, From: n.me.Name, To: req.To, Type: req.Type, Precedence: prec,
		Time: n.now().UTC().Truncate(time.Millisecond), Refs: refs, Body: body,
	}
	if err := n.reg.CheckStatement(st); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return sealed(st)
}

// checkRef checks that r refers to a statement this node holds.
func (n *Node) checkRef(r statement.Ref) error {
	party := n.originParty(r.Log)
	if party == "" {
		return fmt.Errorf("%s is not the log of a party of the regime", r.Log)
	}
	e, err := n.entry(context.Background(), party, r.Index)
	if err != nil {
		return fmt.Errorf("no statement %d in %s's log here: %v", r.Index, party, err)
	}
	st, err := statement.Parse(e)
	if err != nil || st.LeafHash() != r.Hash {
		return fmt.Errorf("entry %d of %s's log has another hash", r.Index, party)
	}
	return nil
}

// entry reads entry index of party's log (own or mirrored).
func (n *Node) entry(ctx context.Context, party string, index int64) ([]byte, error) {
	if party == n.me.Name {
		return n.own.Entry(ctx, index)
	}
	p := n.peers[party]
	if p == nil {
		return nil, fmt.Errorf("no log of party %q", party)
	}
	return p.mirror.Entry(ctx, index)
}

// Ack acknowledges a received statement: it sends the statement's reply
// type (normally "ack") to its sender, referring to it, at the higher of the
// reply type's precedence and the statement's.
func (n *Node) Ack(ctx context.Context, req AckRequest) (Message, error) {
	r, err := statement.ParseRef(req.Ref)
	if err != nil {
		return Message{}, fmt.Errorf("%w: ref: %v", ErrInvalid, err)
	}
	if err := n.checkRef(r); err != nil {
		return Message{}, fmt.Errorf("%w: %v", ErrNotFound, err)
	}
	e, _ := n.entry(ctx, n.originParty(r.Log), r.Index)
	orig, err := statement.Parse(e)
	if err != nil {
		return Message{}, fmt.Errorf("%w: %v", ErrNotFound, err)
	}
	if orig.From == n.me.Name || !orig.AddressedTo(n.me.Name) {
		return Message{}, fmt.Errorf("%w: %s was not sent to %s", ErrInvalid, req.Ref, n.me.Name)
	}
	t := n.reg.Type(orig.Type)
	if t == nil || t.ReplyType == "" {
		return Message{}, fmt.Errorf("%w: %s statements need no acknowledgment", ErrInvalid, orig.Type)
	}
	body := map[string]string{}
	if req.Text != "" {
		body["text"] = req.Text
	}
	b, _ := json.Marshal(body)
	prec := orig.Precedence
	if rt := n.reg.Type(t.ReplyType); rt != nil && rt.Precedence > prec {
		prec = rt.Precedence
	}
	st := &statement.Statement{
		Regime: n.reg.ID, From: n.me.Name, To: []string{orig.From}, Type: t.ReplyType, Precedence: prec,
		Time: n.now().UTC().Truncate(time.Millisecond), Refs: []statement.Ref{r}, Body: b,
	}
	if err := n.reg.CheckStatement(st); err != nil {
		return Message{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if st, err = sealed(st); err != nil {
		return Message{}, err
	}
	return n.sendStatement(ctx, st)
}

// linkTestLoop sends a link.test statement to every other party at the
// configured interval.
func (n *Node) linkTestLoop(ctx context.Context) {
	if n.reg.Type("link.test") == nil {
		n.log.Warn("link_test is set but the regime has no link.test type")
		return
	}
	var seq int64
	t := time.NewTicker(n.cfg.LinkTest.Duration)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-ctx.Done():
			return
		}
		seq++
		body, _ := json.Marshal(map[string]int64{"seq": seq})
		if _, err := n.Send(ctx, SendRequest{Type: "link.test", To: []string{statement.All}, Body: body}, RoleOfficer); err != nil && ctx.Err() == nil {
			n.log.Warn("couldn't send link test", "err", err)
		}
	}
}

func joinTo(to []string) string {
	if len(to) == 1 && to[0] == statement.All {
		return "all"
	}
	s := ""
	for i, p := range to {
		if i > 0 {
			s += ", "
		}
		s += p
	}
	return s
}
