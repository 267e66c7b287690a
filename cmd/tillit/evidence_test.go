package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/tillit/tillit/internal/api"
	"github.com/tillit/tillit/node"
)

const (
	testNoteA = "nato-russia-2022/US\n7\nAAAA\n\n— nato-russia-2022/US sig=\n"
	testNoteB = "nato-russia-2022/US\n7\nBBBB\n\n— nato-russia-2022/US sig=\n"
)

// quarantineUS sets a status in which US's log is quarantined and records
// the fork that did it.
func quarantineUS(n *testNode) {
	n.b.SetStatus(node.Status{Party: "NATO", Regime: "nato-russia-2022", Peers: []node.PeerStatus{
		{Party: "RU", Link: node.LinkUp},
		{Party: "US", Link: node.LinkUp, Quarantined: true},
	}})
	n.b.AddEvidence(node.Evidence{Log: "US", Time: apiTestNow.Add(-time.Hour), Kind: node.EvidenceFork,
		Detail: "pushed checkpoint contradicts the mirror", NoteA: []byte(testNoteA), NoteB: []byte(testNoteB)})
}

func TestEvidence(t *testing.T) {
	n := newTestNode(t)
	code, stdout, stderr := n.run(t, "evidence")
	if code != 0 || stdout != "no evidence recorded: no fork was detected and no quarantine lifted\n" {
		t.Errorf("no evidence: %d %q %q", code, stdout, stderr)
	}
	quarantineUS(n)
	n.b.AddEvidence(node.Evidence{Log: "US", Kind: node.EvidenceLifted, Detail: "quarantine lifted: settled"})
	code, stdout, stderr = n.run(t, "evidence", "--token-file", n.dir+"/tokens/auditor.token")
	if code != 0 {
		t.Fatalf("code %d\n%s", code, stderr)
	}
	want := "" +
		"ID  TIME                  LOG  KIND    DETAIL\n" +
		"1   2022-01-16 09:00:00Z  US   fork    pushed checkpoint contradicts the mirror\n" +
		"2   2022-01-16 10:00:00Z  US   lifted  quarantine lifted: settled\n"
	if stdout != want {
		t.Errorf("evidence:\n%s\nwant:\n%s", stdout, want)
	}

	_, stdout, _ = n.run(t, "evidence", "--notes")
	want += "" +
		"\nevidence 1, US's log, the checkpoint this node held:\n" + testNoteA +
		"\nevidence 1, US's log, the checkpoint that contradicts it:\n" + testNoteB
	if stdout != want {
		t.Errorf("evidence --notes:\n%s\nwant:\n%s", stdout, want)
	}

	code, stdout, _ = n.run(t, "evidence", "--json")
	var l api.EvidenceList
	if err := json.Unmarshal([]byte(stdout), &l); code != 0 || err != nil || len(l.Evidence) != 2 ||
		string(l.Evidence[0].NoteB) != testNoteB || l.Evidence[1].Kind != node.EvidenceLifted {
		t.Errorf("--json: %d %v\n%s", code, err, stdout)
	}
	if !strings.Contains(stdout, `"note_a": "nato-russia-2022/US\n7\nAAAA`) {
		t.Errorf("--json notes are not text:\n%s", stdout)
	}
	if code, _, _ = n.run(t, "evidence", "extra"); code != 2 {
		t.Errorf("an argument: code %d, want 2", code)
	}
}

func TestQuarantineLift(t *testing.T) {
	n := newTestNode(t)
	quarantineUS(n)
	lift := func(args ...string) (int, string, string) {
		return runTillit(append([]string{"quarantine", "lift", "--node", n.dir}, args...)...)
	}

	// Refused before the node is asked.
	code, _, stderr := lift("US")
	if code != 1 || stderr != "tillit: quarantine lift needs --reason\n"+
		"hint: say why the quarantine is lifted, such as how the parties settled the dispute under the regime; the node keeps it as evidence\n" {
		t.Errorf("no reason: %d %q", code, stderr)
	}
	if code, _, stderr = lift("US", "--reason", " "); code != 1 || !strings.Contains(stderr, "needs --reason") {
		t.Errorf("blank reason: %d %q", code, stderr)
	}
	if code, _, _ = lift("--reason", "x"); code != 2 {
		t.Errorf("no party: code %d, want 2", code)
	}
	if code, _, _ = lift("US", "RU", "--reason", "x"); code != 2 {
		t.Errorf("two parties: code %d, want 2", code)
	}
	if c := n.lastCall("LiftQuarantine"); c.Method != "" {
		t.Errorf("the node was asked: %+v", c)
	}

	code, _, stderr = lift("RU", "--reason", "x")
	if code != 1 || !strings.Contains(stderr, "tillit: 404 No such quarantine: RU's log is not quarantined\n") ||
		!strings.Contains(stderr, "hint: 'tillit status' shows which peers' logs are quarantined") {
		t.Errorf("not quarantined: %d %q", code, stderr)
	}
	code, _, stderr = lift("US", "--reason", "x", "--token-file", n.dir+"/tokens/analyst.token")
	if code != 1 || !strings.Contains(stderr, "only officer tokens may") || !strings.Contains(stderr, "hint: lifting a quarantine needs an officer token") {
		t.Errorf("analyst: %d %q", code, stderr)
	}

	code, stdout, stderr := lift("US", "--reason", "settled under article 4: US withdrew the second branch")
	if code != 0 {
		t.Fatalf("code %d\n%s", code, stderr)
	}
	want := "lifted the quarantine of US's log; the reason is kept as evidence\n" +
		"if US's log still contradicts this node's mirror, it is quarantined again at the next push, pull or gossip; see 'tillit status' and 'tillit evidence'\n"
	if stdout != want {
		t.Errorf("lift:\n%s\nwant:\n%s", stdout, want)
	}
	if c := n.lastCall("LiftQuarantine"); c.Party != "US" || c.Reason != "settled under article 4: US withdrew the second branch" {
		t.Errorf("the node got %+v", c)
	}
	_, stdout, _ = n.run(t, "evidence")
	if !strings.Contains(stdout, "US   lifted  quarantine lifted: settled under article 4") {
		t.Errorf("evidence after the lifting:\n%s", stdout)
	}
	_, stdout, _ = n.run(t, "status")
	if !strings.Contains(stdout, "US    up    never         0          0       0       no") {
		t.Errorf("status after the lifting:\n%s", stdout)
	}

	// --json prints the status; the flags may come anywhere.
	quarantineUS(n)
	code, stdout, _ = runTillit("quarantine", "lift", "--json", "--reason", "again", "US", "--node", n.dir)
	var s node.Status
	if err := json.Unmarshal([]byte(stdout), &s); code != 0 || err != nil || s.Peers[1].Quarantined {
		t.Errorf("--json: %d %v\n%s", code, err, stdout)
	}

	if code, _, stderr = runTillit("quarantine", "drop"); code != 1 || !strings.Contains(stderr, `unknown quarantine command "drop"`) {
		t.Errorf("unknown command: %d %q", code, stderr)
	}
	if code, _, stderr = runTillit("quarantine"); code != 2 || !strings.Contains(stderr, "lift") {
		t.Errorf("no command: %d %q", code, stderr)
	}
}
