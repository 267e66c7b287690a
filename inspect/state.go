package inspect

import (
	"fmt"
	"time"

	"github.com/tillit/tillit/statement"
)

// A Logged body is a body together with where and when it was logged: the
// reference and the time of its statement.
type Logged[T any] struct {
	Ref  statement.Ref
	Time time.Time // the statement's time, UTC
	Body T
}

// An Inspection is what the logs show of one inspection request: the
// request, the host's reply if one is logged, and the beacon's verdict once
// there is one. Status and CheckQuota read it as of a given time and ignore
// what was logged later.
type Inspection struct {
	Request Logged[Request]
	Reply   *Logged[Reply] // the host's first reply, nil if it has logged none
	Beacon  *BeaconVerdict // nil until the beacon is resolved (spec §Beacon)
}

// A State is where an inspection request stands (spec §Deadlines).
type State int

const (
	// Pending: no reply yet, and the reply deadline has not passed.
	Pending State = iota + 1
	// Accepted: the host accepted the request by the deadline.
	Accepted
	// Refused: the host refused the request by the deadline, or the
	// inspection was deemed refused because the host did not reveal its
	// beacon contribution (FallbackRefused).
	Refused
	// Overdue: the deadline passed without a reply. A reply logged after the
	// deadline is recorded as late and does not change this.
	Overdue
)

var stateNames = [...]string{Pending: "pending", Accepted: "accepted", Refused: "refused", Overdue: "overdue"}

func (s State) String() string {
	if s > 0 && int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// counts reports whether an inspection in state s counts against the
// quotas (spec §Quotas).
func (s State) counts() bool { return s == Pending || s == Accepted }

// A Status is the state of an inspection request at some time.
type Status struct {
	State State
	Due   time.Time // the reply deadline
	// Late is set when a reply was logged after Due. LateDecision is what it
	// said; it does not change State, which is Overdue.
	Late         bool
	LateDecision Decision
	// DeemedRefused is set when State is Refused because the host did not
	// complete the beacon (spec §Beacon fallback).
	DeemedRefused bool
}

// ReplyDue returns the reply deadline of a request made at requested: the
// host's reply is on time if its statement's time is at or before
// requested + within (spec §Deadlines).
func ReplyDue(requested time.Time, within time.Duration) time.Time {
	return requested.UTC().Add(within)
}

// Status returns the state of the inspection request at now, when the host
// has within to reply (spec §Deadlines). Only what was logged at or before
// now counts: a reply or beacon verdict from later is ignored, so the result
// depends on the logs up to now alone. A reply's time is that of its
// statement; one at exactly the deadline is on time.
func (in *Inspection) Status(within time.Duration, now time.Time) Status {
	st := Status{Due: ReplyDue(in.Request.Time, within)}
	r := in.Reply
	switch {
	case r != nil && !r.Time.After(now) && !r.Time.After(st.Due):
		st.State = Accepted
		if r.Body.Decision != Accept {
			st.State = Refused
		}
	case now.After(st.Due):
		st.State = Overdue
		if r != nil && !r.Time.After(now) {
			st.Late, st.LateDecision = true, r.Body.Decision
		}
	default:
		st.State = Pending
	}
	if v := in.Beacon; st.State == Accepted && v != nil && v.Outcome == BeaconRefusedByHost && now.After(v.Due) {
		st.State, st.DeemedRefused = Refused, true
	}
	return st
}
