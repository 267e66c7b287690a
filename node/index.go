package node

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tillit/tillit/regime"
	"github.com/tillit/tillit/statement"
)

// key names an entry: a party's log and an index in it.
type key struct {
	log   string
	index int64
}

// tracked is a statement whose verdict may still change.
type tracked struct {
	st    *statement.Statement
	index int64
	state regime.State
	next  time.Time       // when the verdict changes if nothing else happens; zero if never
	seen  map[string]bool // recipients whose receipt, ack or overdue was announced, by "party/state"
}

// ackCand is a statement that may acknowledge another: it refers to it and
// has a reply type; regime.Acknowledges decides.
type ackCand struct {
	log   string
	index int64
	st    *statement.Statement
}

// index is what the node derives from the logs and the cosignatures: the
// inbox, the statements whose verdicts are still open, and the candidate
// acknowledgments. It is rebuilt from the stores at every start.
type index struct {
	n *Node

	mu      sync.Mutex
	cos     map[[2]string]*cosigList // by (log, witness)
	inbox   []key                    // statements addressed to this party, in arrival order
	open    map[key]*tracked
	overdue map[key]bool
	acks    map[key][]ackCand // by the statement referred to
	quiet   bool              // rebuilding: no events

	// jobs feeds the worker that validates and indexes entries and
	// re-evaluates verdicts after cosignatures, off the paths that push,
	// pull and receipt. Nil until the worker starts (and during the
	// rebuild), when the work is done by the caller.
	jobs    chan ixJob
	done    chan struct{}
	jobMu   sync.RWMutex // guards stopped against sends on a closed jobs
	stopped bool
}

// ixJob is work for the index worker: entries to index, or a cosignature
// whose consequences to evaluate.
type ixJob struct {
	party   string
	start   int64
	entries [][]byte
	st      *statement.Statement // a statement of this node, already valid
	cos     *cosigJob
}

type cosigJob struct {
	log, witness string
	from, size   int64 // entries from..size-1 of log may have a new earliest cosignature by witness
}

// maxIndexBacklog bounds the jobs waiting for the index worker; producers
// wait when it is full.
const maxIndexBacklog = 4096

// start starts the index worker.
func (ix *index) start() {
	ix.jobs = make(chan ixJob, maxIndexBacklog)
	ix.done = make(chan struct{})
	go func() {
		defer close(ix.done)
		for j := range ix.jobs {
			ix.do(j)
		}
	}()
}

// stop lets the worker finish the jobs queued and stops it; later work is
// done by the caller.
func (ix *index) stop() {
	ix.jobMu.Lock()
	if ix.jobs == nil || ix.stopped {
		ix.jobMu.Unlock()
		return
	}
	ix.stopped = true
	close(ix.jobs)
	ix.jobMu.Unlock()
	<-ix.done
}

func (ix *index) do(j ixJob) {
	switch {
	case j.cos != nil:
		ix.reevaluate(j.cos.log, j.cos.witness, j.cos.from, j.cos.size)
	case j.st != nil:
		ix.ingestParsed(j.party, j.start, j.st)
	default:
		ix.ingest(j.party, j.start, j.entries)
	}
}

// submit hands work to the worker, or does it now if there is none.
func (ix *index) submit(j ixJob) {
	ix.jobMu.RLock()
	if ix.jobs == nil || ix.stopped {
		ix.jobMu.RUnlock()
		ix.do(j)
		return
	}
	ix.jobs <- j
	ix.jobMu.RUnlock()
}

func newIndex(n *Node, cos map[[2]string][]cosig) *index {
	ix := &index{n: n, cos: make(map[[2]string]*cosigList), open: make(map[key]*tracked),
		overdue: make(map[key]bool), acks: make(map[key][]ackCand)}
	for k, l := range cos {
		ix.cos[k] = newCosigList(l)
	}
	return ix
}

// cosList returns the cosignatures of witness on log, creating the list.
func (ix *index) cosList(log, witness string) *cosigList {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return ix.cosListLocked(log, witness)
}

func (ix *index) cosListLocked(log, witness string) *cosigList {
	k := [2]string{log, witness}
	l := ix.cos[k]
	if l == nil {
		l = newCosigList(nil)
		ix.cos[k] = l
	}
	return l
}

// rebuild scans every log the node holds.
func (ix *index) rebuild(ctx context.Context) error {
	n := ix.n
	ix.quiet = true
	defer func() { ix.quiet = false }()
	start := time.Now()
	var total int64
	scan := func(party string, size int64, read func(ctx context.Context, a, b int64) ([][]byte, error)) error {
		for a := int64(0); a < size; a += 4096 {
			b := min(a+4096, size)
			es, err := read(ctx, a, b)
			if err != nil {
				return fmt.Errorf("couldn't read %s's log to index it: %w", party, err)
			}
			ix.ingest(party, a, es)
		}
		total += size
		return nil
	}
	if err := scan(n.me.Name, n.own.Size(), n.own.Entries); err != nil {
		return err
	}
	for _, name := range n.order {
		m := n.peers[name].mirror
		if err := scan(name, m.Size(), m.Entries); err != nil {
			return err
		}
	}
	// Receipts and acknowledgments of the past are not announced again,
	// but a deadline that passed while the node was down is (and alarmed),
	// as is every statement still overdue.
	ix.evaluateAll(n.now())
	n.log.Info("indexed logs", "entries", total, "open", len(ix.open), "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// ingest indexes entries start, start+1, … of party's log.
func (ix *index) ingest(party string, start int64, entries [][]byte) {
	for i, e := range entries {
		idx := start + int64(i)
		st, err := statement.Parse(e)
		if err == nil && st.From != party {
			err = fmt.Errorf("statement from %q in %s's log", st.From, party)
		}
		if err == nil {
			err = ix.n.reg.CheckStatement(st)
		}
		if err != nil {
			ix.n.metrics.invalid.WithLabelValues(party).Inc()
			if !ix.quiet {
				ix.n.alarm("invalid", party, "", fmt.Sprintf("entry %d of %s's log is not a valid statement of the regime: %v", idx, party, err))
			}
			continue
		}
		if ahead := st.Time.Sub(ix.n.now()); !ix.quiet && ahead > ix.n.reg.ClockTolerance {
			ix.n.alarm("clock", party, st.Ref(idx).String(), fmt.Sprintf("entry %d of %s's log is dated %s ahead of this node's clock, beyond the regime's tolerance of %s", idx, party, ahead.Round(time.Second), ix.n.reg.ClockTolerance))
		}
		ix.ingestParsed(party, idx, st)
	}
}

// ingestParsed indexes one valid statement.
func (ix *index) ingestParsed(party string, idx int64, st *statement.Statement) {
	n := ix.n
	me := n.me.Name
	k := key{party, idx}
	var received bool
	ix.mu.Lock()
	if t := n.reg.Type(st.Type); t != nil {
		for _, r := range st.Refs {
			if rp := n.originParty(r.Log); rp != "" {
				rk := key{rp, r.Index}
				ix.acks[rk] = append(ix.acks[rk], ackCand{log: party, index: idx, st: st})
				if o := ix.open[rk]; o != nil {
					o.next = time.Time{} // re-evaluate now
					ix.evaluateLocked(rk, o, n.now())
				}
			}
		}
	}
	if party == me || st.AddressedTo(me) || n.me.Role == regime.RoleObserver {
		if _, dup := ix.open[k]; !dup {
			o := &tracked{st: st, index: idx, seen: make(map[string]bool)}
			ix.open[k] = o
			if !ix.quiet {
				ix.evaluateLocked(k, o, n.now())
			}
		}
	}
	if party != me && st.AddressedTo(me) {
		ix.inbox = append(ix.inbox, k)
		received = true
	}
	ix.mu.Unlock()
	if received {
		n.metrics.received.WithLabelValues(st.Type).Inc()
		if !ix.quiet {
			n.publish(Event{Kind: EventReceived, Ref: st.Ref(idx).String(), Party: party,
				Msg: fmt.Sprintf("received %s %s from %s", st.Precedence, st.Type, party)})
		}
	}
}

// cosigned records a cosignature in the index (at once: receipt waiters
// wake) and has the worker re-evaluate what it may change.
func (ix *index) cosigned(log, witness string, c cosig) {
	_, from := ix.cosList(log, witness).addRange(c)
	if from < 0 {
		return
	}
	ix.submit(ixJob{cos: &cosigJob{log: log, witness: witness, from: from, size: c.Size}})
}

// reevaluate re-evaluates the open statements that a change in the
// earliest cosignatures by witness on entries from to size-1 of log can
// concern: those entries themselves (their receipt by witness), and
// statements of witness's log acknowledged by those entries (the arrival of
// the acknowledgment at witness).
func (ix *index) reevaluate(log, witness string, from, size int64) {
	now := ix.n.now()
	ix.mu.Lock()
	defer ix.mu.Unlock()
	in := func(i int64) bool { return i >= from && i < size }
	for k, o := range ix.open {
		switch {
		case k.log == log && in(k.index):
			ix.evaluateLocked(k, o, now)
		case k.log == witness:
			for _, a := range ix.acks[k] {
				if a.log == log && in(a.index) {
					ix.evaluateLocked(k, o, now)
					break
				}
			}
		}
	}
}

// events gathers the log data about statement st (entry idx of its
// sender's log) and one recipient. ix.mu is held.
func (ix *index) eventsLocked(st *statement.Statement, idx int64, recipient string) regime.Events {
	var ev regime.Events
	if t, ok := ix.cosListLocked(st.From, recipient).covering(idx); ok {
		ev.Receipt = t
	}
	ref := st.Ref(idx)
	for _, a := range ix.acks[key{st.From, idx}] {
		if a.log != recipient || !ix.n.reg.Acknowledges(a.st, st, ref) {
			continue
		}
		if t, ok := ix.cosListLocked(recipient, st.From).covering(a.index); ok && (ev.Ack.IsZero() || t.Before(ev.Ack)) {
			ev.Ack = t
		}
	}
	return ev
}

// verdictsLocked evaluates st with each recipient. ix.mu is held.
func (ix *index) verdictsLocked(st *statement.Statement, idx int64, now time.Time, brief bool) ([]Recipient, regime.State, time.Time) {
	var out []Recipient
	var state regime.State
	var next time.Time
	eval := ix.n.reg.Evaluate
	if brief {
		eval = ix.n.reg.EvaluateBrief
	}
	for _, r := range ix.n.reg.Recipients(st) {
		v, err := eval(st, ix.eventsLocked(st, idx, r), now)
		if err != nil {
			v = regime.Verdict{Reasons: []string{err.Error()}}
		}
		out = append(out, Recipient{Party: r, Verdict: v})
		switch {
		case v.State == regime.Overdue:
			state = regime.Overdue
		case state != regime.Overdue && (state == 0 || v.State < state):
			state = v.State
		}
		if !v.Next.IsZero() && (next.IsZero() || v.Next.Before(next)) {
			next = v.Next
		}
	}
	return out, state, next
}

// evaluateLocked re-evaluates an open statement, announces what changed and
// closes it when nothing more can change. ix.mu is held.
func (ix *index) evaluateLocked(k key, o *tracked, now time.Time) {
	n := ix.n
	rs, state, next := ix.verdictsLocked(o.st, o.index, now, true)
	o.state, o.next = state, next
	ref := ""
	for _, r := range rs {
		v := r.Verdict
		for _, ev := range []struct {
			on   bool
			what string
		}{
			{!v.Receipt.IsZero(), "receipt"},
			{v.State == regime.Acknowledged, "ack"},
			{v.State == regime.Overdue, "overdue"},
		} {
			id := r.Party + "/" + ev.what
			if !ev.on || o.seen[id] {
				continue
			}
			o.seen[id] = true
			if ix.quiet && ev.what != "overdue" {
				continue
			}
			if ref == "" {
				ref = o.st.Ref(o.index).String()
			}
			ix.announce(ev.what, k, o, r, ref)
		}
	}
	if state == regime.Overdue {
		if !ix.overdue[k] {
			ix.overdue[k] = true
			n.metrics.overdue.Set(float64(len(ix.overdue)))
		}
	} else if ix.overdue[k] {
		delete(ix.overdue, k)
		n.metrics.overdue.Set(float64(len(ix.overdue)))
	}
	settled := next.IsZero() && state != regime.Overdue && state != regime.Pending
	if settled {
		t := n.reg.Type(o.st.Type)
		if t != nil && t.AckWithin > 0 && state != regime.Acknowledged {
			settled = false
		}
	}
	if settled {
		delete(ix.open, k)
	}
}

// announce publishes a change in a statement's standing with a recipient.
// ix.mu is held; publishing does not take it.
func (ix *index) announce(what string, k key, o *tracked, r Recipient, ref string) {
	n := ix.n
	st, v := o.st, r.Verdict
	switch what {
	case "receipt":
		if k.log == n.me.Name {
			n.metrics.receiptLatency.Observe(max(v.Receipt.Sub(st.Time), 0).Seconds())
		}
		// Receipts of routine traffic are counted, not announced one by one.
		if st.Precedence >= statement.Priority || n.reg.Type(st.Type).AckWithin > 0 {
			late := ""
			if v.ReceiptLate {
				late = " (late)"
			}
			n.publish(Event{Kind: EventReceipt, Ref: ref, Party: r.Party,
				Msg: fmt.Sprintf("%s receipted %s %s from %s at %s%s", r.Party, st.Type, shortRef(ref), st.From, v.Receipt.Format(time.RFC3339), late)})
		}
	case "ack":
		late := ""
		if v.AckLate {
			late = " (late)"
		}
		n.publish(Event{Kind: EventAck, Ref: ref, Party: r.Party,
			Msg: fmt.Sprintf("%s acknowledged %s %s from %s at %s%s", r.Party, st.Type, shortRef(ref), st.From, v.Ack.Format(time.RFC3339), late)})
	case "overdue":
		// The verdict was evaluated briefly; explain it now.
		if full, err := n.reg.Evaluate(st, ix.eventsLocked(st, o.index, r.Party), n.now()); err == nil {
			v = full
		}
		why := "deadline passed"
		if len(v.Violations) > 0 {
			why = v.Violations[len(v.Violations)-1].Msg
		}
		msg := fmt.Sprintf("%s %s from %s to %s is overdue: %s", st.Type, shortRef(ref), st.From, r.Party, why)
		if st.From != n.me.Name && r.Party != n.me.Name {
			// An observer tracks others' statements, but learns their
			// receipts only through gossip, later than the parties: it
			// reports, it does not raise alarms.
			n.publish(Event{Kind: EventOverdue, Ref: ref, Party: r.Party, Msg: msg})
			return
		}
		// The alarm runs the hook; do it outside the index lock.
		go n.alarm(EventOverdue, r.Party, ref, msg)
	}
}

// shortRef shortens a reference for messages: origin/index.
func shortRef(ref string) string {
	for i := len(ref) - 1; i >= 0; i-- {
		if ref[i] == '#' {
			return ref[:i]
		}
	}
	return ref
}

// evaluateAll re-evaluates every open statement whose next deadline has
// passed.
func (ix *index) evaluateAll(now time.Time) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	for k, o := range ix.open {
		if o.state == 0 || (!o.next.IsZero() && now.After(o.next)) {
			ix.evaluateLocked(k, o, now)
		}
	}
	ix.n.metrics.overdue.Set(float64(len(ix.overdue)))
}

// message describes statement st, entry idx of its sender's log.
func (n *Node) message(st *statement.Statement, idx int64, now time.Time) Message {
	ix := n.idx
	ix.mu.Lock()
	rs, state, _ := ix.verdictsLocked(st, idx, now, false)
	var acked []string
	for _, a := range ix.acks[key{st.From, idx}] {
		if n.reg.Acknowledges(a.st, st, st.Ref(idx)) {
			acked = append(acked, a.st.Ref(a.index).String())
		}
	}
	ix.mu.Unlock()
	m := Message{
		Ref: st.Ref(idx).String(), Log: st.Origin(), Index: idx, From: st.From, To: slices.Clone(st.To),
		Type: st.Type, Precedence: st.Precedence.String(), Time: st.Time, Body: st.Body,
		Recipients: rs, State: state, AckedBy: acked,
	}
	for _, r := range st.Refs {
		m.Refs = append(m.Refs, r.String())
	}
	return m
}

// deadlineLoop re-evaluates deadlines and link states every tick.
func (n *Node) deadlineLoop(ctx context.Context) {
	t := time.NewTicker(n.opts.DeadlineTick)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-ctx.Done():
			return
		}
		n.idx.evaluateAll(n.now())
		for _, name := range n.order {
			n.updateLink(n.peers[name])
		}
		if _, final, cosigners := n.finality(); final > n.final {
			n.final = final
			n.publish(Event{Kind: EventFinal, Msg: fmt.Sprintf("checkpoint %d of %s's log is final: cosigned by %s", final, n.me.Name, strings.Join(cosigners, ", "))})
		}
	}
}
