// Package apitest provides an in-memory api.Backend for tests of the
// operator API, its client and the commands that use it.
package apitest

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tillit/tillit/node"
	"github.com/tillit/tillit/regime"
	"github.com/tillit/tillit/statement"
)

// Backend is an in-memory node: Send appends to the outbox, Ack answers a
// statement of the inbox, and both publish events. It is safe for concurrent
// use. The zero value is not usable; call New.
type Backend struct {
	mu       sync.Mutex
	party    string
	regime   string
	now      func() time.Time
	inbox    []node.Message
	outbox   []node.Message
	others   []node.Message // statements between other parties
	status   node.Status
	evidence []node.Evidence
	events   []node.Event
	wake     chan struct{} // closed and replaced when events change
	closed   bool
	err      error
	calls    []Call
	defaults map[string]string
}

// Call is a request the backend received.
type Call struct {
	// Method is "Send", "Ack", "Inbox", "Outbox", "Statements", "Message",
	// "Status", "Evidence", "LiftQuarantine" or "Events".
	Method string
	Send   node.SendRequest
	Role   string
	Ack    node.AckRequest
	Query  node.Query
	Ref    string
	After  int64
	Party  string // LiftQuarantine's party
	Reason string // LiftQuarantine's reason
}

// New returns a backend for party in regime, whose clock is now.
func New(regimeID, party string, now func() time.Time) *Backend {
	return &Backend{
		party:    party,
		regime:   regimeID,
		now:      now,
		wake:     make(chan struct{}),
		defaults: map[string]string{},
		status:   node.Status{Party: party, Regime: regimeID, Log: node.LogStatus{Origin: regimeID + "/" + party}},
	}
}

// SetDefaultPrecedence sets the default precedence of a statement type; it
// is ROUTINE for types without one.
func (b *Backend) SetDefaultPrecedence(typ, precedence string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.defaults[typ] = precedence
}

// SetError makes every call that can fail return err, until it is set to nil.
func (b *Backend) SetError(err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.err = err
}

// SetStatus sets what Status returns.
func (b *Backend) SetStatus(s node.Status) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.status = s
}

// AddEvidence adds an evidence record with the next ID, which it returns.
// A zero time is the backend's clock.
func (b *Backend) AddEvidence(e node.Evidence) int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.addEvidenceLocked(e)
}

func (b *Backend) addEvidenceLocked(e node.Evidence) int64 {
	e.ID = int64(len(b.evidence)) + 1
	if e.Time.IsZero() {
		e.Time = b.now().UTC()
	}
	b.evidence = append(b.evidence, e)
	return e.ID
}

// Receive adds a statement to the inbox, as if a peer had sent it, and
// publishes a received event.
func (b *Backend) Receive(m node.Message) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.inbox = append(b.inbox, m)
	b.publishLocked(node.Event{Kind: node.EventReceived, Ref: m.Ref, Party: m.From, Msg: m.Type + " from " + m.From})
}

// Log adds a statement between other parties, as if the node held it in
// its mirror of the sender's log: Statements and Message see it, the inbox
// and outbox do not.
func (b *Backend) Log(m node.Message) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.others = append(b.others, m)
}

// Publish adds an event with the next ID, which it returns.
func (b *Backend) Publish(ev node.Event) int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.publishLocked(ev)
}

func (b *Backend) publishLocked(ev node.Event) int64 {
	ev.ID = int64(len(b.events)) + 1
	if ev.Time.IsZero() {
		ev.Time = b.now().UTC()
	}
	b.events = append(b.events, ev)
	close(b.wake)
	b.wake = make(chan struct{})
	return ev.ID
}

// Close makes the backend act as a closing node: calls fail with
// node.ErrClosed and event streams end.
func (b *Backend) Close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	close(b.wake)
	b.wake = make(chan struct{})
}

// Calls returns the calls made so far.
func (b *Backend) Calls() []Call {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.calls)
}

// Party implements api.Backend.
func (b *Backend) Party() string { return b.party }

// Send implements api.Backend. Analysts may not send IMMEDIATE or FLASH
// statements, also by the type's default.
func (b *Backend) Send(ctx context.Context, req node.SendRequest, role string) (node.Message, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.calls = append(b.calls, Call{Method: "Send", Send: req, Role: role})
	if err := b.failLocked(); err != nil {
		return node.Message{}, err
	}
	prec := req.Precedence
	if prec == "" {
		prec = b.defaults[req.Type]
	}
	if prec == "" {
		prec = "ROUTINE"
	}
	p, err := statement.ParsePrecedence(prec)
	if err != nil {
		return node.Message{}, fmt.Errorf("%w: %v", node.ErrInvalid, err)
	}
	if role == node.RoleAnalyst && p > statement.Priority {
		return node.Message{}, fmt.Errorf("%w: an analyst may not send %s statements (the default of type %s)", node.ErrForbidden, prec, req.Type)
	}
	m := b.newMessageLocked(b.party, req.To, req.Type, prec, req.Refs, req.Body)
	b.outbox = append(b.outbox, m)
	b.publishLocked(node.Event{Kind: node.EventSent, Ref: m.Ref, Msg: "sent " + m.Type + " to " + strings.Join(m.To, ", ")})
	return m, nil
}

// Ack implements api.Backend.
func (b *Backend) Ack(ctx context.Context, req node.AckRequest) (node.Message, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.calls = append(b.calls, Call{Method: "Ack", Ack: req})
	if err := b.failLocked(); err != nil {
		return node.Message{}, err
	}
	i := slices.IndexFunc(b.inbox, func(m node.Message) bool { return m.Ref == req.Ref })
	if i < 0 {
		return node.Message{}, fmt.Errorf("%w: no received statement %s", node.ErrNotFound, req.Ref)
	}
	body := []byte(`{}`)
	if req.Text != "" {
		body = fmt.Appendf(nil, `{"text":%q}`, req.Text)
	}
	m := b.newMessageLocked(b.party, []string{b.inbox[i].From}, "ack", "PRIORITY", []string{req.Ref}, body)
	b.outbox = append(b.outbox, m)
	b.inbox[i].AckedBy = append(b.inbox[i].AckedBy, m.Ref)
	b.publishLocked(node.Event{Kind: node.EventSent, Ref: m.Ref, Msg: "acknowledged " + req.Ref})
	return m, nil
}

func (b *Backend) newMessageLocked(from string, to []string, typ, prec string, refs []string, body []byte) node.Message {
	index := int64(len(b.outbox))
	t := b.now().UTC()
	h := sha256.Sum256(fmt.Appendf(nil, "%s/%s/%d", b.regime, from, index))
	m := node.Message{
		Ref:        fmt.Sprintf("%s/%s/%d#%s", b.regime, from, index, base64.StdEncoding.EncodeToString(h[:])),
		Log:        b.regime + "/" + from,
		Index:      index,
		From:       from,
		To:         slices.Clone(to),
		Type:       typ,
		Precedence: prec,
		Time:       t,
		Refs:       slices.Clone(refs),
		Body:       slices.Clone(body),
		State:      regime.Pending,
	}
	for _, p := range to {
		m.Recipients = append(m.Recipients, node.Recipient{Party: p, Verdict: regime.Verdict{
			State:           regime.Pending,
			ReceiptDeadline: t.Add(5 * time.Minute),
			Next:            t.Add(5 * time.Minute),
			Reasons:         []string{"waiting for the receipt"},
		}})
	}
	return m
}

func (b *Backend) failLocked() error {
	if b.closed {
		return node.ErrClosed
	}
	return b.err
}

// Inbox implements api.Backend.
func (b *Backend) Inbox(q node.Query) []node.Message {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.calls = append(b.calls, Call{Method: "Inbox", Query: q})
	return filter(b.inbox, q)
}

// Outbox implements api.Backend.
func (b *Backend) Outbox(q node.Query) []node.Message {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.calls = append(b.calls, Call{Method: "Outbox", Query: q})
	return filter(b.outbox, q)
}

// Statements implements api.Backend: the inbox and the outbox, plus the
// statements added with Log.
func (b *Backend) Statements(q node.Query) []node.Message {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.calls = append(b.calls, Call{Method: "Statements", Query: q})
	all := slices.Concat(b.others, b.inbox, b.outbox)
	slices.SortStableFunc(all, func(x, y node.Message) int { return x.Time.Compare(y.Time) })
	return filter(all, q)
}

// filter returns the messages of ms that match q, newest first.
func filter(ms []node.Message, q node.Query) []node.Message {
	limit := q.Limit
	if limit == 0 {
		limit = 100
	}
	var out []node.Message
	for i := len(ms) - 1; i >= 0 && len(out) < limit; i-- {
		m := ms[i]
		if (q.Type == "" || m.Type == q.Type) && (q.State == 0 || m.State == q.State) && (q.From == "" || m.From == q.From) {
			out = append(out, m)
		}
	}
	return out
}

// Message implements api.Backend.
func (b *Backend) Message(ref string) (node.Message, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.calls = append(b.calls, Call{Method: "Message", Ref: ref})
	if err := b.failLocked(); err != nil {
		return node.Message{}, err
	}
	for _, m := range slices.Concat(b.inbox, b.outbox, b.others) {
		if m.Ref == ref {
			return m, nil
		}
	}
	return node.Message{}, fmt.Errorf("%w: no statement %s", node.ErrNotFound, ref)
}

// Status implements api.Backend.
func (b *Backend) Status() node.Status {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.calls = append(b.calls, Call{Method: "Status"})
	s := b.status
	s.Log.Size = int64(len(b.outbox))
	return s
}

// Evidence implements api.Backend.
func (b *Backend) Evidence(ctx context.Context) ([]node.Evidence, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.calls = append(b.calls, Call{Method: "Evidence"})
	if err := b.failLocked(); err != nil {
		return nil, err
	}
	return slices.Clone(b.evidence), nil
}

// LiftQuarantine implements api.Backend: the peer must be quarantined in
// the status set with SetStatus. The lifting clears it there, adds an
// evidence record and publishes an event, as the node does.
func (b *Backend) LiftQuarantine(ctx context.Context, party, reason string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.calls = append(b.calls, Call{Method: "LiftQuarantine", Party: party, Reason: reason})
	if err := b.failLocked(); err != nil {
		return err
	}
	if strings.TrimSpace(reason) == "" {
		return fmt.Errorf("%w: a reason is required to lift a quarantine", node.ErrInvalid)
	}
	i := slices.IndexFunc(b.status.Peers, func(p node.PeerStatus) bool { return p.Party == party })
	if i < 0 {
		return fmt.Errorf("%w: %q is not a peer of this node", node.ErrNotFound, party)
	}
	if !b.status.Peers[i].Quarantined {
		return fmt.Errorf("%w: %s's log is not quarantined", node.ErrNotFound, party)
	}
	peers := slices.Clone(b.status.Peers)
	peers[i].Quarantined = false
	b.status.Peers = peers
	b.addEvidenceLocked(node.Evidence{Log: party, Kind: node.EvidenceLifted, Detail: "quarantine lifted: " + reason})
	b.publishLocked(node.Event{Kind: node.EventQuarantine, Party: party, Msg: party + "'s log: quarantine lifted: " + reason})
	return nil
}

// Events implements api.Backend.
func (b *Backend) Events(ctx context.Context, after int64) <-chan node.Event {
	b.mu.Lock()
	b.calls = append(b.calls, Call{Method: "Events", After: after})
	b.mu.Unlock()
	ch := make(chan node.Event)
	go func() {
		defer close(ch)
		last := after
		for {
			b.mu.Lock()
			var pending []node.Event
			for _, ev := range b.events {
				if ev.ID > last {
					pending = append(pending, ev)
				}
			}
			wake, closed := b.wake, b.closed
			b.mu.Unlock()
			if closed {
				return
			}
			for _, ev := range pending {
				select {
				case ch <- ev:
					last = ev.ID
				case <-ctx.Done():
					return
				}
			}
			if len(pending) > 0 {
				continue
			}
			select {
			case <-wake:
			case <-ctx.Done():
				return
			}
		}
	}()
	return ch
}
