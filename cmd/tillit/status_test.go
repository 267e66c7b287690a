package main

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/tillit/tillit/node"
)

func TestStatus(t *testing.T) {
	n := newTestNode(t)
	n.b.SetStatus(node.Status{
		Party: "NATO", Regime: "nato-russia-2022", RegimeHash: "q1w2e3=",
		Log: node.LogStatus{Origin: "nato-russia-2022/NATO", Final: 11, FinalCosigners: []string{"RU", "US"}},
		Peers: []node.PeerStatus{
			{Party: "RU", Link: node.LinkUp, LastReceipt: apiTestNow.Add(-12 * time.Second), Receipted: 12, Behind: 0, Mirror: 40},
			{Party: "US", Link: node.LinkDown, Receipted: 3, Behind: 9, Mirror: 7, Quarantined: true, LastError: "fork in US's log"},
		},
		Overdue: 2,
		Alarms:  []string{"US's log forked", "2 statements overdue"},
	})
	for range 2 {
		n.run(t, "send", "t", "--to", "RU")
	}
	code, stdout, stderr := n.run(t, "status")
	if code != 0 {
		t.Fatalf("code %d\n%s", code, stderr)
	}
	want := "" +
		"party    NATO\n" +
		"regime   nato-russia-2022 (hash q1w2e3=)\n" +
		"log      nato-russia-2022/NATO: size 2, final 11 (cosigned by RU, US)\n" +
		"overdue  2\n" +
		"alarm    US's log forked\n" +
		"alarm    2 statements overdue\n" +
		"\n" +
		"PEER  LINK  LAST RECEIPT  RECEIPTED  BEHIND  MIRROR  QUARANTINED  LAST ERROR\n" +
		"RU    up    12s ago       12         0       40      no           -\n" +
		"US    down  never         3          9       7       YES          fork in US's log\n"
	if stdout != want {
		t.Errorf("status:\n%s\nwant:\n%s", stdout, want)
	}

	code, stdout, _ = n.run(t, "status", "--json")
	var s node.Status
	if err := json.Unmarshal([]byte(stdout), &s); code != 0 || err != nil || s.Peers[1].LastError != "fork in US's log" || s.Log.Size != 2 {
		t.Errorf("--json: %d %v\n%s", code, err, stdout)
	}
}

func TestAgeOf(t *testing.T) {
	old := timeNow
	timeNow = func() time.Time { return apiTestNow }
	defer func() { timeNow = old }()
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0s ago"},
		{59 * time.Second, "59s ago"},
		{4*time.Minute + 5*time.Second, "4m05s ago"},
		{3*time.Hour + 7*time.Minute, "3h07m ago"},
		{72 * time.Hour, "3d ago"},
		{-time.Second, "in the future"},
	}
	for _, tt := range tests {
		if got := ageOf(apiTestNow.Add(-tt.d)); got != tt.want {
			t.Errorf("ageOf(now-%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
	if got := ageOf(time.Time{}); got != "never" {
		t.Errorf("ageOf(zero) = %q", got)
	}
}
