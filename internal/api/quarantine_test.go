package api

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tillit/tillit/node"
)

// forkNote is a checkpoint note as evidence holds it.
const forkNote = "nato-russia-2022/RU\n7\nAAAA\n\n— nato-russia-2022/RU sig=\n"

// quarantinedStatus is a status in which RU's log is quarantined and US's
// is not.
func quarantinedStatus() node.Status {
	return node.Status{Party: "NATO", Regime: "nato-russia-2022", Peers: []node.PeerStatus{
		{Party: "RU", Link: node.LinkUp, Quarantined: true},
		{Party: "US", Link: node.LinkUp},
	}}
}

func TestEvidenceRoute(t *testing.T) {
	b, h, _ := newTestHandler(t, Options{})
	w := request{method: "GET", path: "/api/v1/evidence", token: auditorToken}.do(h)
	if w.Code != 200 || strings.TrimSpace(w.Body.String()) != `{"evidence":[]}` {
		t.Errorf("no evidence: %d %s", w.Code, w.Body)
	}
	b.AddEvidence(node.Evidence{Log: "RU", Kind: node.EvidenceFork, Detail: "two roots", NoteA: []byte(forkNote), NoteB: []byte(forkNote)})
	for _, tok := range []string{auditorToken, analystToken, officerToken} {
		w = request{method: "GET", path: "/api/v1/evidence", token: tok}.do(h)
		if w.Code != 200 {
			t.Fatalf("status %d; body %s", w.Code, w.Body)
		}
		var l EvidenceList
		mustJSON(t, w, &l)
		if len(l.Evidence) != 1 || l.Evidence[0].ID != 1 || l.Evidence[0].Kind != "fork" || string(l.Evidence[0].NoteA) != forkNote {
			t.Errorf("evidence %s", w.Body)
		}
	}
	// The notes are text in the answer.
	if !strings.Contains(w.Body.String(), `"note_a":"nato-russia-2022/RU\n7\nAAAA\n\n— nato-russia-2022/RU sig=\n"`) {
		t.Errorf("notes not as text: %s", w.Body)
	}
	b.SetError(node.ErrClosed)
	if w = (request{method: "GET", path: "/api/v1/evidence", token: auditorToken}).do(h); w.Code != 503 {
		t.Errorf("closing node: %d %s", w.Code, w.Body)
	}
}

func TestLiftQuarantineRoute(t *testing.T) {
	b, h, logs := newTestHandler(t, Options{})
	b.SetStatus(quarantinedStatus())
	lift := func(token, path, body string) request {
		return request{method: "POST", path: path, token: token, ctype: "application/json", body: body}
	}
	w := lift(officerToken, QuarantinePath("RU"), `{"reason":"settled under article 4"}`).do(h)
	if w.Code != 200 {
		t.Fatalf("status %d; body %s", w.Code, w.Body)
	}
	var s node.Status
	mustJSON(t, w, &s)
	if len(s.Peers) != 2 || s.Peers[0].Party != "RU" || s.Peers[0].Quarantined {
		t.Errorf("status after the lifting: %s", w.Body)
	}
	if c := lastCall(b, "LiftQuarantine"); c.Party != "RU" || c.Reason != "settled under article 4" {
		t.Errorf("backend got %+v", c)
	}
	if !strings.Contains(logs.String(), "quarantine lifted") || !strings.Contains(logs.String(), "settled under article 4") {
		t.Errorf("the lifting is not logged: %s", logs)
	}

	tests := []struct {
		name   string
		req    request
		status int
		typ    string
		detail string
	}{
		{"auditor", lift(auditorToken, QuarantinePath("RU"), `{"reason":"x"}`), 403, TypeForbidden, "role auditor may not lift quarantines: auditor tokens are read-only"},
		{"analyst", lift(analystToken, QuarantinePath("RU"), `{"reason":"x"}`), 403, TypeForbidden, "role analyst may not lift quarantines: only officer tokens may"},
		{"no reason", lift(officerToken, QuarantinePath("RU"), `{}`), 422, TypeInvalidRequest, `field "reason" is missing or empty`},
		{"blank reason", lift(officerToken, QuarantinePath("RU"), `{"reason":" "}`), 422, TypeInvalidRequest, `field "reason" is missing or empty`},
		{"unknown field", lift(officerToken, QuarantinePath("RU"), `{"reason":"x","force":true}`), 400, TypeInvalidBody, `unknown field "force"`},
		{"no body", lift(officerToken, QuarantinePath("RU"), ``), 400, TypeInvalidBody, "body is empty"},
		{"not quarantined", lift(officerToken, QuarantinePath("US"), `{"reason":"x"}`), 404, TypeNotFound, "US's log is not quarantined"},
		{"not a peer", lift(officerToken, QuarantinePath("ZZ"), `{"reason":"x"}`), 404, TypeNotFound, `"ZZ" is not a peer`},
		{"GET", request{method: "GET", path: QuarantinePath("RU"), token: officerToken}, 405, "about:blank", "use POST"},
		{"no party", lift(officerToken, "/api/v1/quarantine//lift", `{"reason":"x"}`), 404, "about:blank", "no endpoint"},
		{"two segments", lift(officerToken, "/api/v1/quarantine/R/U/lift", `{"reason":"x"}`), 404, "about:blank", "no endpoint"},
		{"no lift", lift(officerToken, "/api/v1/quarantine/RU", `{"reason":"x"}`), 404, "about:blank", "no endpoint"},
		{"POST evidence", lift(officerToken, "/api/v1/evidence", `{}`), 405, "about:blank", "use GET"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, h, _ := newTestHandler(t, Options{})
			b.SetStatus(quarantinedStatus())
			w := tt.req.do(h)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d; body %s", w.Code, tt.status, w.Body)
			}
			p := readProblemBody(t, w)
			if p.Type != tt.typ || !strings.Contains(p.Detail, tt.detail) {
				t.Errorf("problem %+v, want type %s and detail %q", p, tt.typ, tt.detail)
			}
			if tt.status == 404 && tt.typ == TypeNotFound && p.Title != "No such quarantine" {
				t.Errorf("title %q", p.Title)
			}
			if tt.status != 404 || tt.typ != TypeNotFound {
				if c := lastCall(b, "LiftQuarantine"); c.Method != "" {
					t.Errorf("the backend was called: %+v", c)
				}
			}
			if !b.Status().Peers[0].Quarantined {
				t.Error("RU's quarantine was lifted")
			}
		})
	}
}

func TestClientEvidenceAndLift(t *testing.T) {
	b, ts := newTestServer(t, Options{})
	b.SetStatus(quarantinedStatus())
	b.AddEvidence(node.Evidence{Log: "RU", Kind: node.EvidenceFork, Detail: "two roots", NoteA: []byte(forkNote), NoteB: []byte(forkNote)})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := NewClient(ts.URL, officerToken)
	s, err := c.LiftQuarantine(ctx, "RU", "settled")
	if err != nil {
		t.Fatal(err)
	}
	if s.Peers[0].Quarantined {
		t.Errorf("status after the lifting: %+v", s)
	}
	ev, err := c.Evidence(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ev) != 2 || string(ev[0].NoteB) != forkNote || ev[1].Kind != node.EvidenceLifted || ev[1].Log != "RU" ||
		!ev[1].Time.Equal(testNow) || ev[1].NoteA != nil {
		t.Errorf("evidence %+v", ev)
	}
	if _, err := c.LiftQuarantine(ctx, "RU", "again"); !errors.Is(err, node.ErrNotFound) {
		t.Errorf("lifting twice: %v, want %v", err, node.ErrNotFound)
	}
	if _, err := c.LiftQuarantine(ctx, "US", ""); !errors.Is(err, node.ErrInvalid) {
		t.Errorf("no reason: %v, want %v", err, node.ErrInvalid)
	}
	// A party name that needs escaping reaches the backend whole.
	c.LiftQuarantine(ctx, "R U/x", "settled")
	if got := lastCall(b, "LiftQuarantine").Party; got != "R U/x" {
		t.Errorf("party %q", got)
	}
	if _, err := NewClient(ts.URL, auditorToken).LiftQuarantine(ctx, "RU", "x"); !errors.Is(err, node.ErrForbidden) {
		t.Errorf("auditor: %v, want %v", err, node.ErrForbidden)
	}
}
