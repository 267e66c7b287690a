package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/tillit/tillit/node"
	"github.com/tillit/tillit/regime"
)

func TestInbox(t *testing.T) {
	n := newTestNode(t)
	code, stdout, stderr := n.run(t, "inbox")
	if code != 0 {
		t.Fatalf("code %d\n%s", code, stderr)
	}
	want := "" +
		"TIME                  REF             FROM  TYPE             PRECEDENCE  STATE      NEXT DEADLINE\n" +
		"2022-01-16 09:00:00Z  RU/41#bo0g0sSO  RU    notify.exercise  PRIORITY    receipted  2022-01-16 11:00:00Z\n"
	if stdout != want {
		t.Errorf("inbox:\n%s\nwant:\n%s", stdout, want)
	}

	// --json has the full reference.
	code, stdout, _ = n.run(t, "inbox", "--json", "--type", "notify.exercise", "--state", "receipted", "--limit", "7")
	var list struct {
		Messages []struct{ Ref, State string }
	}
	if err := json.Unmarshal([]byte(stdout), &list); code != 0 || err != nil || len(list.Messages) != 1 ||
		list.Messages[0].Ref != receivedRef || list.Messages[0].State != "receipted" {
		t.Errorf("--json: %d %v\n%s", code, err, stdout)
	}
	if q := n.lastCall("Inbox").Query; q.Type != "notify.exercise" || q.State != regime.Receipted || q.Limit != 7 {
		t.Errorf("query %+v", q)
	}

	if _, stdout, _ = n.run(t, "inbox", "--state", "overdue"); stdout != "no statements in the inbox match\n" {
		t.Errorf("filtered: %q", stdout)
	}
	if _, stdout, _ = n.run(t, "inbox", "--outbox"); stdout != "the outbox is empty\n" {
		t.Errorf("empty outbox: %q", stdout)
	}
	n.run(t, "send", "notify.exercise", "--to", "RU,US", "text=x")
	_, stdout, _ = n.run(t, "inbox", "--outbox", "--token-file", n.dir+"/tokens/auditor.token")
	if !strings.Contains(stdout, "TO   ") || !strings.Contains(stdout, "NATO/0#") || !strings.Contains(stdout, "RU,US") || !strings.Contains(stdout, "pending") {
		t.Errorf("outbox:\n%s", stdout)
	}

	// --all lists statements between other parties too, with both ends.
	n.b.Log(node.Message{Ref: "nato-russia-2022/RU/42#AAAAAAAAAAAA", Log: "nato-russia-2022/RU", Index: 42, From: "RU", To: []string{"US"},
		Type: "inspection.request", Precedence: "ROUTINE", Time: time.Date(2022, 1, 16, 9, 30, 0, 0, time.UTC), Body: json.RawMessage(`{}`), State: regime.Pending})
	_, stdout, _ = n.run(t, "inbox", "--all", "--from", "RU")
	if !strings.Contains(stdout, "FROM  TO") || !strings.Contains(stdout, "RU    US    inspection.request") || !strings.Contains(stdout, "RU    NATO  notify.exercise") || strings.Contains(stdout, "NATO/0#") {
		t.Errorf("--all --from RU:\n%s", stdout)
	}
	if q := n.lastCall("Statements").Query; q.From != "RU" {
		t.Errorf("query %+v", q)
	}
	if code, _, stderr = n.run(t, "inbox", "--outbox", "--all"); code != 1 || !strings.Contains(stderr, "exclude each other") {
		t.Errorf("--outbox --all: %d %q", code, stderr)
	}
	if code, _, stderr = n.run(t, "inbox", "--from", "RU"); code != 1 || !strings.Contains(stderr, "--from needs --all") {
		t.Errorf("--from without --all: %d %q", code, stderr)
	}

	code, _, stderr = n.run(t, "inbox", "--state", "late")
	if code != 1 || stderr != "tillit: --state: \"late\" is not pending, receipted, acknowledged or overdue\n" {
		t.Errorf("bad state: %d %q", code, stderr)
	}
	if code, _, stderr = n.run(t, "inbox", "--limit", "5000"); code != 1 || !strings.Contains(stderr, "--limit 5000 is not from 1 to 1000") {
		t.Errorf("bad limit: %d %q", code, stderr)
	}
}
