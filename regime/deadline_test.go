package regime

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tillit/tillit/statement"
)

// t0 is the time of the statements in the deadline tests.
var t0 = time.Date(2022, 1, 12, 9, 30, 0, 0, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

const (
	sec  = time.Second
	min  = time.Minute
	hour = time.Hour
	day  = 24 * time.Hour
)

func TestEvaluate(t *testing.T) {
	r := mustParse(t, testTOML())
	report := stmt(t, testID, "A", []string{"B"}, "report", statement.Flash, t0.Format(time.RFC3339), nil, `{}`)
	notice := func(start time.Time) *statement.Statement {
		return stmt(t, testID, "A", []string{"B"}, "notice", statement.Priority, t0.Format(time.RFC3339), nil,
			`{"window": {"start": "`+start.Format(time.RFC3339)+`"}}`)
	}
	change := func(changed time.Time) *statement.Statement {
		return stmt(t, testID, "A", []string{"B"}, "change", statement.Routine, t0.Format(time.RFC3339), nil,
			`{"changed_at": "`+changed.Format(time.RFC3339)+`"}`)
	}
	request := stmt(t, testID, "A", []string{"B"}, "request", statement.Priority, t0.Format(time.RFC3339), nil, `{}`)
	var zero time.Time

	tests := []struct {
		name        string
		s           *statement.Statement
		receipt     time.Time
		ack         time.Time
		now         time.Time
		state       State
		receiptLate bool
		ackLate     bool
		ackDeadline time.Time
		next        time.Time
		violations  []string // "rule: substring of the message"
	}{
		{"waiting for the receipt", report, zero, zero, at(30 * sec), Pending, false, false, zero, at(60 * sec), nil},
		{"receipt due at the deadline itself", report, zero, zero, at(60 * sec), Pending, false, false, zero, at(60 * sec), nil},
		{"no receipt", report, zero, zero, at(61 * sec), Overdue, false, false, zero, zero,
			[]string{"receipt_within: not receipted within 1m"}},
		{"waiting for the ack", report, at(10 * sec), zero, at(2 * min), Receipted, false, false, at(5*min + 10*sec), at(5*min + 10*sec), nil},
		{"acknowledged", report, at(10 * sec), at(3 * min), at(3 * min), Acknowledged, false, false, at(5*min + 10*sec), zero, nil},
		{"acknowledged at the deadline", report, at(10 * sec), at(5*min + 10*sec), at(time.Hour), Acknowledged, false, false, at(5*min + 10*sec), zero, nil},
		{"acknowledged late", report, at(10 * sec), at(6 * min), at(6 * min), Acknowledged, false, true, at(5*min + 10*sec), zero,
			[]string{"ack_within: acknowledged 50s after the deadline of 5m"}},
		{"no ack", report, at(10 * sec), zero, at(6 * min), Overdue, false, false, at(5*min + 10*sec), zero,
			[]string{"ack_within: not acknowledged within 5m of the receipt"}},
		{"late receipt buys no time", report, at(2 * min), at(6*min + 30*sec), at(7 * min), Acknowledged, true, true, at(6 * min), zero,
			[]string{"receipt_within: receipted 1m after the deadline of 1m", "ack_within: acknowledged 30s after"}},
		{"ack without receipt", report, zero, at(30 * sec), at(30 * sec), Acknowledged, false, false, at(5*min + 30*sec), zero, nil},
		{"receipt before the statement", report, at(-2 * min), at(1 * min), at(1 * min), Acknowledged, false, false, at(3 * min), zero,
			[]string{"clock_tolerance: receipted 2m before the statement's own time"}},
		{"receipt within clock tolerance before", report, at(-20 * sec), zero, at(1 * min), Receipted, false, false, at(4*min + 40*sec), at(4*min + 40*sec), nil},

		{"notice in time", notice(at(48 * hour)), at(10 * sec), at(20 * min), at(20 * min), Acknowledged, false, false, at(hour + 10*sec), zero, nil},
		{"notice too late", notice(at(20 * hour)), at(10 * sec), zero, at(20 * min), Receipted, false, false, at(hour + 10*sec), at(hour + 10*sec),
			[]string{"notice_before: provided 2022-01-12T09:30:10Z, 19h59m50s before window.start (2022-01-13T05:30:00Z); at least 1d is required"}},
		{"notice measured at the receipt", notice(at(24*hour + 30*sec)), at(50 * sec), zero, at(2 * min), Receipted, false, false, at(hour + 50*sec), at(hour + 50*sec),
			[]string{"notice_before: provided 2022-01-12T09:30:50Z, 23h59m40s before"}},
		{"late receipt does not make a notice late", notice(at(24*hour + 90*sec)), at(10 * min), zero, at(11 * min), Receipted, true, false, at(hour + 60*sec), at(hour + 60*sec),
			[]string{"receipt_within: receipted 9m after"}},
		{"notice not judged before the receipt", notice(at(hour)), zero, zero, at(30 * sec), Pending, false, false, zero, at(60 * sec), nil},
		{"notice judged once the receipt is overdue", notice(at(hour)), zero, zero, at(2 * min), Overdue, false, false, zero, zero,
			[]string{"receipt_within: not receipted", "notice_before: provided 2022-01-12T09:31:00Z, 59m before"}},

		{"change notified in time", change(at(-4 * day)), at(5 * sec), zero, at(5 * sec), Receipted, false, false, zero, zero, nil},
		{"change notified at the limit", change(at(-5*day + 5*sec)), at(5 * sec), zero, at(5 * sec), Receipted, false, false, zero, zero, nil},
		{"change notified late", change(at(-6 * day)), at(5 * sec), zero, at(5 * sec), Receipted, false, false, zero, zero,
			[]string{"notify_within: provided 2022-01-12T09:30:05Z, 6d5s after changed_at (2022-01-06T09:30:00Z); at most 5d is allowed"}},

		{"reply in time", request, at(5 * sec), at(47 * hour), at(47 * hour), Acknowledged, false, false, at(48*hour + 5*sec), zero, nil},
		{"reply late", request, at(5 * sec), at(49 * hour), at(49 * hour), Acknowledged, false, true, at(48*hour + 5*sec), zero,
			[]string{"ack_within: acknowledged 59m55s after the deadline of 2d"}},
		{"no reply", request, at(5 * sec), zero, at(49 * hour), Overdue, false, false, at(48*hour + 5*sec), zero,
			[]string{"ack_within: not acknowledged within 2d"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := r.Evaluate(tt.s, Events{Receipt: tt.receipt, Ack: tt.ack}, tt.now)
			if err != nil {
				t.Fatal(err)
			}
			// EvaluateBrief agrees on everything but the explanations.
			b, err := r.EvaluateBrief(tt.s, Events{Receipt: tt.receipt, Ack: tt.ack}, tt.now)
			if err != nil {
				t.Fatal(err)
			}
			full := v
			full.Reasons = nil
			full.Violations = nil
			for _, x := range v.Violations {
				full.Violations = append(full.Violations, Violation{Rule: x.Rule, Party: x.Party})
			}
			if b.Reasons != nil || !reflect.DeepEqual(b, full) {
				t.Errorf("EvaluateBrief = %+v\nwant %+v", b, full)
			}
			if v.State != tt.state || v.ReceiptLate != tt.receiptLate || v.AckLate != tt.ackLate ||
				!v.AckDeadline.Equal(tt.ackDeadline) || !v.Next.Equal(tt.next) || !v.ReceiptDeadline.Equal(at(time.Minute)) {
				t.Errorf("verdict = %s, receipt late %v, ack late %v, ack due %v, next %v\nwant %s, %v, %v, %v, %v\nreasons: %q",
					v.State, v.ReceiptLate, v.AckLate, v.AckDeadline, v.Next, tt.state, tt.receiptLate, tt.ackLate, tt.ackDeadline, tt.next, v.Reasons)
			}
			if len(v.Violations) != len(tt.violations) {
				t.Fatalf("violations = %+v, want %q", v.Violations, tt.violations)
			}
			for i, want := range tt.violations {
				got := v.Violations[i].Rule + ": " + v.Violations[i].Msg
				if !strings.HasPrefix(got, strings.SplitN(want, ":", 2)[0]+":") || !strings.Contains(got, strings.SplitN(want, ": ", 2)[1]) {
					t.Errorf("violation %d = %q, want %q", i, got, want)
				}
			}
			if len(v.Reasons) == 0 {
				t.Error("no reasons given")
			}
		})
	}
}

// TestEvaluateDeterministic checks that the verdict depends on the instants
// given, not on their time zones or on when it is computed.
func TestEvaluateDeterministic(t *testing.T) {
	r := mustParse(t, testTOML())
	s := stmt(t, testID, "A", []string{"B"}, "notice", statement.Priority, t0.Format(time.RFC3339), nil, `{"window": {"start": "2022-01-13T09:00:00+03:00"}}`)
	moscow := time.FixedZone("MSK", 3*3600)
	v1, err := r.Evaluate(s, Events{Receipt: at(10 * sec), Ack: at(2 * hour)}, at(3*hour))
	if err != nil {
		t.Fatal(err)
	}
	v2, err := r.Evaluate(s, Events{Receipt: at(10 * sec).In(moscow), Ack: at(2 * hour).In(moscow)}, at(3*hour).In(moscow))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(v1, v2) {
		t.Errorf("verdicts differ with the time zone:\n%+v\n%+v", v1, v2)
	}
	j1, _ := json.Marshal(v1)
	j2, _ := json.Marshal(v2)
	if string(j1) != string(j2) || !strings.Contains(string(j1), `"state":"acknowledged"`) {
		t.Errorf("JSON differs or lacks the state:\n%s\n%s", j1, j2)
	}
	if _, err := r.Evaluate(stmt(t, testID, "A", []string{"B"}, "nothing", statement.Priority, t0.Format(time.RFC3339), nil, `{}`), Events{}, t0); err == nil {
		t.Error("Evaluate of an unknown type succeeded")
	}
}

// TestEvaluateSynctest runs a deadline tracker on the fake clock of a
// testing/synctest bubble: it sleeps until the verdict's Next and finds the
// statement overdue exactly then, without waiting in real time.
func TestEvaluateSynctest(t *testing.T) {
	r := mustParse(t, testTOML())
	synctest.Test(t, func(t *testing.T) {
		start := time.Now().UTC().Truncate(time.Millisecond)
		s := stmt(t, testID, "A", []string{"B"}, "report", statement.Flash, start.Format(time.RFC3339Nano), nil, `{}`)
		receipts := make(chan time.Time, 1)
		go func() {
			time.Sleep(20 * time.Second)
			receipts <- time.Now().Truncate(time.Second) // cosignatures carry whole seconds
		}()
		var ev Events
		var states []string
		for {
			v, err := r.Evaluate(s, ev, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			states = append(states, v.State.String()+"@"+time.Since(start).String())
			if v.Next.IsZero() {
				break
			}
			select {
			case ev.Receipt = <-receipts:
			case <-time.After(time.Until(v.Next) + time.Nanosecond):
			}
		}
		want := "pending@0s receipted@20s overdue@5m20.000000001s"
		if got := strings.Join(states, " "); got != want {
			t.Errorf("states = %s\nwant     %s", got, want)
		}
	})
}

// TestNoClock guards the package's promise that it never reads the clock.
func TestNoClock(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, call := range []string{"time.Now(", "time.Since(", "time.Until(", "time.Sleep(", "time.After("} {
			if strings.Contains(string(b), call) {
				t.Errorf("%s calls %s", f, call)
			}
		}
	}
}

func TestStateText(t *testing.T) {
	for _, s := range []State{Pending, Receipted, Acknowledged, Overdue} {
		b, err := s.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var got State
		if err := got.UnmarshalText(b); err != nil || got != s {
			t.Errorf("round trip of %v: %v, %v", s, got, err)
		}
	}
	var s State
	if err := s.UnmarshalText([]byte("late")); err == nil {
		t.Error("unknown state accepted")
	}
}
