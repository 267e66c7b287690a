package inspect

import (
	"testing"
	"time"
)

func TestStatus(t *testing.T) {
	const within = 48 * time.Hour
	req := "2026-03-01T10:00:00Z"
	due := "2026-03-03T10:00:00Z"
	tests := []struct {
		name     string
		decision Decision
		replyAt  string
		beacon   *BeaconVerdict
		now      string
		want     Status
	}{
		{"pending", "", "", nil, "2026-03-02T00:00:00Z", Status{State: Pending}},
		{"pending at the deadline", "", "", nil, due, Status{State: Pending}},
		{"overdue just after", "", "", nil, "2026-03-03T10:00:00.001Z", Status{State: Overdue}},
		{"accepted", Accept, "2026-03-01T11:00:00Z", nil, "2026-03-01T12:00:00Z", Status{State: Accepted}},
		{"accepted at the deadline", Accept, due, nil, "2026-04-01T00:00:00Z", Status{State: Accepted}},
		{"refused", Refuse, "2026-03-02T11:00:00Z", nil, "2026-03-02T11:00:00Z", Status{State: Refused}},
		{"reply not yet logged", Accept, "2026-03-02T11:00:00Z", nil, "2026-03-02T10:59:59.999Z", Status{State: Pending}},
		{"late acceptance", Accept, "2026-03-03T10:00:00.001Z", nil, "2026-03-04T00:00:00Z",
			Status{State: Overdue, Late: true, LateDecision: Accept}},
		{"late refusal", Refuse, "2026-03-05T00:00:00Z", nil, "2026-03-05T00:00:00Z",
			Status{State: Overdue, Late: true, LateDecision: Refuse}},
		{"overdue, late reply not yet logged", Accept, "2026-03-05T00:00:00Z", nil, "2026-03-04T00:00:00Z", Status{State: Overdue}},
		{"accepted, beacon pending", Accept, "2026-03-01T11:00:00Z", &BeaconVerdict{Outcome: BeaconPending, Due: date("2026-03-02T11:00:00Z")},
			"2026-03-02T00:00:00Z", Status{State: Accepted}},
		{"deemed refused before the reveal deadline", Accept, "2026-03-01T11:00:00Z",
			&BeaconVerdict{Outcome: BeaconRefusedByHost, Due: date("2026-03-02T11:00:00Z")}, "2026-03-02T11:00:00Z", Status{State: Accepted}},
		{"deemed refused", Accept, "2026-03-01T11:00:00Z",
			&BeaconVerdict{Outcome: BeaconRefusedByHost, Due: date("2026-03-02T11:00:00Z")}, "2026-03-02T11:00:00.001Z",
			Status{State: Refused, DeemedRefused: true}},
		{"forfeited by inspector stays accepted", Accept, "2026-03-01T11:00:00Z",
			&BeaconVerdict{Outcome: BeaconForfeitedByInspector, Due: date("2026-03-02T11:00:00Z")}, "2026-03-09T00:00:00Z", Status{State: Accepted}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := insp("NATO", 0, req, tt.decision, tt.replyAt)
			in.Beacon = tt.beacon
			tt.want.Due = date(due)
			if got := in.Status(within, date(tt.now)); got != tt.want {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestReplyDue(t *testing.T) {
	local := time.FixedZone("MSK", 3*3600)
	got := ReplyDue(time.Date(2026, 12, 31, 23, 0, 0, 0, local), 48*time.Hour)
	if want := time.Date(2027, 1, 2, 20, 0, 0, 0, time.UTC); !got.Equal(want) || got.Location() != time.UTC {
		t.Fatalf("got %v, want %v", got, want)
	}
	if got := RevealDue(date("2026-03-01T00:00:00Z"), time.Hour); !got.Equal(date("2026-03-01T01:00:00Z")) {
		t.Fatalf("RevealDue: %v", got)
	}
}

func TestStateStrings(t *testing.T) {
	for s, want := range map[State]string{Pending: "pending", Accepted: "accepted", Refused: "refused", Overdue: "overdue", 0: "State(0)", 9: "State(9)"} {
		if s.String() != want {
			t.Errorf("%d: %q, want %q", int(s), s.String(), want)
		}
	}
}
