package regime

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tillit/tillit/statement"
)

// State is where a statement stands with one recipient (spec section
// "Deadlines").
type State uint8

const (
	// Pending: not receipted yet, and the receipt deadline has not passed.
	Pending State = iota + 1
	// Receipted: receipted; either the type needs no acknowledgment, or the
	// acknowledgment deadline has not passed.
	Receipted
	// Acknowledged: the acknowledgment has arrived (in time or late).
	Acknowledged
	// Overdue: a receipt or acknowledgment deadline passed without it.
	Overdue
)

var stateNames = [...]string{Pending: "pending", Receipted: "receipted", Acknowledged: "acknowledged", Overdue: "overdue"}

func (s State) String() string {
	if s < Pending || s > Overdue {
		return "State(" + strconv.Itoa(int(s)) + ")"
	}
	return stateNames[s]
}

// MarshalText implements [encoding.TextMarshaler].
func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText implements [encoding.TextUnmarshaler]: it accepts the names
// MarshalText writes.
func (s *State) UnmarshalText(b []byte) error {
	for i, n := range stateNames {
		if n != "" && n == string(b) {
			*s = State(i)
			return nil
		}
	}
	return fmt.Errorf("unknown state %q", b)
}

// Events are the log data about one statement and one of its recipients.
// Both times come from cosignatures (c2sp.org/tlog-cosignature), which
// carry whole seconds.
type Events struct {
	// Receipt is when the recipient receipted the statement: the timestamp
	// of its earliest cosignature on a checkpoint of the sender's log that
	// includes the statement. Zero if there is none yet.
	Receipt time.Time
	// Ack is when the acknowledgment (see [Regime.Acknowledges]) reached the
	// sender: the timestamp of the sender's earliest cosignature on a
	// checkpoint of the recipient's log that includes it. Zero if there is
	// none yet.
	Ack time.Time
}

// A Verdict is where a statement stands with one recipient, and which rules
// it broke, as of a given time.
type Verdict struct {
	State State `json:"state"`
	// ReceiptDeadline is the statement's time plus the type's ReceiptWithin.
	ReceiptDeadline time.Time `json:"receipt_deadline"`
	// Receipt is the receipt time used: Events.Receipt, or Events.Ack if
	// only the acknowledgment is known. Zero if neither is.
	Receipt     time.Time `json:"receipt,omitzero"`
	ReceiptLate bool      `json:"receipt_late,omitempty"`
	// AckDeadline is when the acknowledgment is due, or zero if the type
	// needs none or the statement is not receipted yet.
	AckDeadline time.Time `json:"ack_deadline,omitzero"`
	Ack         time.Time `json:"ack,omitzero"`
	AckLate     bool      `json:"ack_late,omitempty"`
	// Next is the deadline the verdict waits on: if no new log data comes,
	// it changes at the first instant after Next. Zero if no deadline is
	// pending.
	Next time.Time `json:"next,omitzero"`
	// Violations are the rules the statement or its recipient broke.
	Violations []Violation `json:"violations,omitempty"`
	// Reasons explain the state, for people.
	Reasons []string `json:"reasons"`
}

// A Violation is a broken rule.
type Violation struct {
	// Rule is the regime setting that was broken: "receipt_within",
	// "ack_within", "notice_before", "notify_within" or "clock_tolerance".
	Rule string `json:"rule"`
	// Party is who broke it: the sender or the recipient.
	Party string `json:"party"`
	Msg   string `json:"msg"`
}

// Evaluate computes where statement s stands with one recipient, given the
// log data ev about that recipient, as of time now (spec section
// "Deadlines"). It is a pure function: it reads no clock, and the same
// arguments give the same Verdict to every party and to any auditor. now is
// the time the evaluation speaks for, such as the newest cosignature
// timestamp an auditor holds.
//
// The rules, with "late" meaning strictly after a deadline:
//
//   - The receipt is due at s.Time + ReceiptWithin. Without a receipt the
//     state is Pending until then and Overdue after; an acknowledgment
//     without a receipt counts as the receipt.
//   - If the type needs an acknowledgment, it is due AckWithin after the
//     receipt, or after the receipt deadline if the receipt was late, so a
//     late receipt buys no time. Without it the state is Receipted until
//     then and Overdue after. A late acknowledgment is Acknowledged and
//     recorded as late.
//   - Notice rules measure from the time the statement was provided: its
//     receipt, or the receipt deadline if the receipt was late or is
//     missing, so a recipient cannot make a timely notice late. They are
//     judged once that time is known.
//
// s must have passed [Regime.CheckStatement]; Evaluate returns an error only
// if its type is unknown or a rule's body field is unreadable.
func (r *Regime) Evaluate(s *statement.Statement, ev Events, now time.Time) (Verdict, error) {
	return r.evaluate(s, ev, now, false)
}

// EvaluateBrief is Evaluate without the explanations: the Verdict has the
// same State, times, lateness and violated rules, but no Reasons and no
// Violation messages. It is for callers that evaluate often and explain
// rarely, such as a node tracking many statements.
func (r *Regime) EvaluateBrief(s *statement.Statement, ev Events, now time.Time) (Verdict, error) {
	return r.evaluate(s, ev, now, true)
}

func (r *Regime) evaluate(s *statement.Statement, ev Events, now time.Time, brief bool) (Verdict, error) {
	t := r.Type(s.Type)
	if t == nil {
		return Verdict{}, stmtErr(ErrStatement, "type", "%q is not a statement type of %s", truncate(s.Type), r.ID)
	}
	e := evaluation{r: r, t: t, s: s, now: now.UTC(), brief: brief}
	e.v.ReceiptDeadline = s.Time.UTC().Add(t.ReceiptWithin)
	e.receipt(ev)
	if err := e.notice(); err != nil {
		return Verdict{}, err
	}
	return e.v, nil
}

type evaluation struct {
	r     *Regime
	t     *Type
	s     *statement.Statement
	now   time.Time
	v     Verdict
	brief bool // no explanations (EvaluateBrief)
}

func (e *evaluation) reason(format string, args ...any) {
	if e.brief {
		return
	}
	e.v.Reasons = append(e.v.Reasons, fmt.Sprintf(format, args...))
}

func (e *evaluation) violate(rule, party, format string, args ...any) {
	v := Violation{Rule: rule, Party: party}
	if !e.brief {
		v.Msg = fmt.Sprintf(format, args...)
	}
	e.v.Violations = append(e.v.Violations, v)
}

func (e *evaluation) receipt(ev Events) {
	v, t := &e.v, e.t
	v.Receipt, v.Ack = ev.Receipt.UTC(), ev.Ack.UTC()
	if ev.Receipt.IsZero() {
		v.Receipt = time.Time{}
	}
	if ev.Ack.IsZero() {
		v.Ack = time.Time{}
	}
	if v.Receipt.IsZero() && !v.Ack.IsZero() {
		v.Receipt = v.Ack
		if !e.brief {
			e.reason("no receipt is known; the acknowledgment of %s shows the statement was received by then", stamp(v.Ack))
		}
	}
	if v.Receipt.IsZero() {
		if e.now.After(v.ReceiptDeadline) {
			v.State = Overdue
			if !e.brief {
				e.reason("not receipted by %s (receipt within %s)", stamp(v.ReceiptDeadline), human(t.ReceiptWithin))
			}
			e.violate("receipt_within", "recipient", "not receipted within %s of the statement's time", human(t.ReceiptWithin))
			return
		}
		v.State, v.Next = Pending, v.ReceiptDeadline
		if !e.brief {
			e.reason("waiting for the receipt, due by %s", stamp(v.ReceiptDeadline))
		}
		return
	}
	if early := e.s.Time.Sub(v.Receipt); early > e.r.ClockTolerance {
		e.violate("clock_tolerance", "sender", "receipted %s before the statement's own time: the sender's clock is ahead by more than %s",
			human(early), human(e.r.ClockTolerance))
	}
	ackStart := v.Receipt
	if v.Receipt.After(v.ReceiptDeadline) {
		v.ReceiptLate, ackStart = true, v.ReceiptDeadline
		if !e.brief {
			e.reason("receipted %s, %s late (due by %s)", stamp(v.Receipt), human(v.Receipt.Sub(v.ReceiptDeadline)), stamp(v.ReceiptDeadline))
		}
		e.violate("receipt_within", "recipient", "receipted %s after the deadline of %s", human(v.Receipt.Sub(v.ReceiptDeadline)), human(t.ReceiptWithin))
	} else {
		if !e.brief {
			e.reason("receipted %s, in time (due by %s)", stamp(v.Receipt), stamp(v.ReceiptDeadline))
		}
	}
	if t.AckWithin == 0 {
		v.State = Receipted
		if !e.brief {
			e.reason("type %s needs no acknowledgment", t.Name)
		}
		return
	}
	v.AckDeadline = ackStart.Add(t.AckWithin)
	switch {
	case !v.Ack.IsZero() && v.Ack.After(v.AckDeadline):
		v.State, v.AckLate = Acknowledged, true
		if !e.brief {
			e.reason("acknowledged %s, %s late (due by %s)", stamp(v.Ack), human(v.Ack.Sub(v.AckDeadline)), stamp(v.AckDeadline))
		}
		e.violate("ack_within", "recipient", "acknowledged %s after the deadline of %s", human(v.Ack.Sub(v.AckDeadline)), human(t.AckWithin))
	case !v.Ack.IsZero():
		v.State = Acknowledged
		if !e.brief {
			e.reason("acknowledged %s, in time (due by %s)", stamp(v.Ack), stamp(v.AckDeadline))
		}
	case e.now.After(v.AckDeadline):
		v.State = Overdue
		if !e.brief {
			e.reason("not acknowledged by %s (%s within %s)", stamp(v.AckDeadline), t.ReplyType, human(t.AckWithin))
		}
		e.violate("ack_within", "recipient", "not acknowledged within %s of the receipt", human(t.AckWithin))
	default:
		v.State, v.Next = Receipted, v.AckDeadline
		if !e.brief {
			e.reason("waiting for the acknowledgment (%s), due by %s", t.ReplyType, stamp(v.AckDeadline))
		}
	}
}

// notice judges the type's advance-notice and after-the-fact rules.
func (e *evaluation) notice() error {
	t, v := e.t, &e.v
	if t.NoticeBefore == nil && t.NotifyWithin == nil {
		return nil
	}
	body, err := decodeBody(e.s.Body)
	if err != nil {
		return err
	}
	var provided time.Time
	switch {
	case !v.Receipt.IsZero() && !v.ReceiptLate:
		provided = v.Receipt
	case !v.Receipt.IsZero() || e.now.After(v.ReceiptDeadline):
		provided = v.ReceiptDeadline
	default:
		if !e.brief {
			e.reason("notice rules are judged once the statement is receipted or its receipt deadline passes")
		}
		return nil
	}
	if n := t.NoticeBefore; n != nil {
		at, err := t.bodyTime(body, n.Field)
		if err != nil {
			return err
		}
		if ahead := at.Sub(provided); ahead < n.AtLeast {
			e.violate("notice_before", "sender", "provided %s, %s before %s (%s); at least %s is required",
				stamp(provided), human(ahead), n.Field, stamp(at), human(n.AtLeast))
		} else {
			if !e.brief {
				e.reason("provided %s before %s, at least %s as required", human(ahead), n.Field, human(n.AtLeast))
			}
		}
	}
	if n := t.NotifyWithin; n != nil {
		at, err := t.bodyTime(body, n.Field)
		if err != nil {
			return err
		}
		if after := provided.Sub(at); after > n.Within {
			e.violate("notify_within", "sender", "provided %s, %s after %s (%s); at most %s is allowed",
				stamp(provided), human(after), n.Field, stamp(at), human(n.Within))
		} else {
			if !e.brief {
				e.reason("provided within %s of %s, as required", human(n.Within), n.Field)
			}
		}
	}
	return nil
}

// stamp formats a time for a verdict: UTC, RFC 3339.
func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// human formats a duration for people: "6d2h", "20h", "1m30s", "250ms";
// negative durations get a minus sign.
func human(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	var b strings.Builder
	if d < 0 {
		b.WriteByte('-')
		d = -d
	}
	for _, u := range []struct {
		unit time.Duration
		name string
	}{{24 * time.Hour, "d"}, {time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}, {time.Millisecond, "ms"}} {
		if n := d / u.unit; n > 0 {
			b.WriteString(strconv.FormatInt(int64(n), 10))
			b.WriteString(u.name)
			d -= n * u.unit
		}
	}
	if d > 0 {
		b.WriteString(d.String())
	}
	return b.String()
}
