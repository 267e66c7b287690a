package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tillit/tillit/internal/api/apitest"
	"github.com/tillit/tillit/node"
	"github.com/tillit/tillit/regime"
)

// The node implements Backend.
var _ Backend = (*node.Node)(nil)

var testNow = time.Date(2022, 1, 16, 10, 0, 0, 0, time.UTC)

// Tokens of the test configuration.
const (
	officerToken = "officer-secret"
	analystToken = "analyst-secret"
	auditorToken = "auditor-secret"
)

func testConfig() node.APIConfig {
	return node.APIConfig{
		Listen: "127.0.0.1:0",
		Tokens: []node.Token{
			{Name: "duty officer", Role: node.RoleOfficer, SHA256: node.HashToken(officerToken)},
			{Name: "analyst", Role: node.RoleAnalyst, SHA256: node.HashToken(analystToken)},
			{Name: "auditor", Role: node.RoleAuditor, SHA256: node.HashToken(auditorToken)},
		},
	}
}

// received is a statement in the test backend's inbox, with a reference
// that needs escaping in a path.
var received = node.Message{
	Ref:        "nato-russia-2022/RU/41#bo0g0sSO15yZ/nj5CwGOq2O5XEOaglhTHDprJr4n+OI=",
	Log:        "nato-russia-2022/RU",
	Index:      41,
	From:       "RU",
	To:         []string{"NATO"},
	Type:       "notify.exercise",
	Precedence: "PRIORITY",
	Time:       testNow.Add(-time.Hour),
	Body:       json.RawMessage(`{"text":"exercise"}`),
	Recipients: []node.Recipient{{Party: "NATO", Verdict: regime.Verdict{
		State: regime.Receipted, ReceiptDeadline: testNow, Receipt: testNow.Add(-59 * time.Minute),
		AckDeadline: testNow.Add(time.Hour), Next: testNow.Add(time.Hour), Reasons: []string{"waiting"},
	}}},
	State: regime.Receipted,
}

// logBuffer collects the handler's log for tests that check it.
type logBuffer struct{ strings.Builder }

func newTestHandler(t *testing.T, opts Options) (*apitest.Backend, http.Handler, *logBuffer) {
	t.Helper()
	b := apitest.New("nato-russia-2022", "NATO", func() time.Time { return testNow })
	b.SetDefaultPrecedence("incident.report", "FLASH")
	b.Receive(received)
	var logs logBuffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	return b, NewHandlerWithOptions(b, testConfig(), logger, opts), &logs
}

// request is one request in a table test.
type request struct {
	method, path, token, ctype, body string
	header                           map[string]string
}

func (rq request) do(h http.Handler) *httptest.ResponseRecorder {
	var body io.Reader
	if rq.body != "" {
		body = strings.NewReader(rq.body)
	}
	r := httptest.NewRequest(rq.method, "http://node"+rq.path, body)
	if rq.token != "" {
		r.Header.Set("Authorization", "Bearer "+rq.token)
	}
	if rq.ctype != "" {
		r.Header.Set("Content-Type", rq.ctype)
	}
	for k, v := range rq.header {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// readProblemBody decodes a problem answer, checking its media type.
func readProblemBody(t *testing.T, w *httptest.ResponseRecorder) Problem {
	t.Helper()
	if ct := w.Header().Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type = %q, want application/problem+json; body %s", ct, w.Body)
	}
	var p Problem
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
		t.Fatalf("problem body %s: %v", w.Body, err)
	}
	if p.Status != w.Code {
		t.Errorf("problem status %d, answer status %d", p.Status, w.Code)
	}
	if p.Type == "" || p.Title == "" || p.Detail == "" {
		t.Errorf("problem lacks type, title or detail: %+v", p)
	}
	return p
}

func TestRoutes(t *testing.T) {
	sendBody := `{"type":"notify.exercise","to":["RU"],"body":{"text":"hi"}}`
	escaped := MessagePath(received.Ref)
	tests := []struct {
		name   string
		req    request
		status int
		check  func(t *testing.T, w *httptest.ResponseRecorder, b *apitest.Backend)
	}{
		{"send", request{method: "POST", path: "/api/v1/send", token: officerToken, ctype: "application/json", body: sendBody}, 201,
			func(t *testing.T, w *httptest.ResponseRecorder, b *apitest.Backend) {
				m := mustMessage(t, w)
				if m.Type != "notify.exercise" || m.From != "NATO" || string(m.Body) != `{"text":"hi"}` {
					t.Errorf("message %+v", m)
				}
				if loc := w.Header().Get("Location"); loc != MessagePath(m.Ref) || !strings.Contains(loc, "%2F") || !strings.Contains(loc, "%23") {
					t.Errorf("Location = %q, want %q", loc, MessagePath(m.Ref))
				}
				c := lastCall(b, "Send")
				if c.Role != node.RoleOfficer || c.Send.Type != "notify.exercise" {
					t.Errorf("backend got %+v", c)
				}
			}},
		{"send charset", request{method: "POST", path: "/api/v1/send", token: officerToken, ctype: "application/json; charset=UTF-8", body: sendBody}, 201, nil},
		{"ack", request{method: "POST", path: "/api/v1/ack", token: officerToken, ctype: "application/json", body: `{"ref":"` + received.Ref + `","text":"seen"}`}, 201,
			func(t *testing.T, w *httptest.ResponseRecorder, b *apitest.Backend) {
				m := mustMessage(t, w)
				if m.Type != "ack" || len(m.Refs) != 1 || m.Refs[0] != received.Ref {
					t.Errorf("ack %+v", m)
				}
				if w.Header().Get("Location") == "" {
					t.Error("no Location")
				}
			}},
		{"inbox", request{method: "GET", path: "/api/v1/inbox", token: auditorToken}, 200,
			func(t *testing.T, w *httptest.ResponseRecorder, b *apitest.Backend) {
				var l struct{ Messages []json.RawMessage }
				mustJSON(t, w, &l)
				if len(l.Messages) != 1 || !strings.Contains(string(l.Messages[0]), `"state":"receipted"`) {
					t.Errorf("inbox %s", w.Body)
				}
				if q := lastCall(b, "Inbox").Query; q != (node.Query{Limit: 100}) {
					t.Errorf("query %+v, want the default limit 100", q)
				}
			}},
		{"inbox query", request{method: "GET", path: "/api/v1/inbox?type=ack&state=overdue&limit=1000", token: analystToken}, 200,
			func(t *testing.T, w *httptest.ResponseRecorder, b *apitest.Backend) {
				if q := lastCall(b, "Inbox").Query; q != (node.Query{Type: "ack", State: regime.Overdue, Limit: 1000}) {
					t.Errorf("query %+v", q)
				}
				if strings.TrimSpace(w.Body.String()) != `{"messages":[]}` {
					t.Errorf("empty listing is %s, want an empty array", w.Body)
				}
			}},
		{"outbox", request{method: "GET", path: "/api/v1/outbox?state=pending", token: officerToken}, 200,
			func(t *testing.T, w *httptest.ResponseRecorder, b *apitest.Backend) {
				if q := lastCall(b, "Outbox").Query; q.State != regime.Pending {
					t.Errorf("query %+v", q)
				}
			}},
		{"statements", request{method: "GET", path: "/api/v1/statements?from=RU&type=notify.exercise", token: auditorToken}, 200,
			func(t *testing.T, w *httptest.ResponseRecorder, b *apitest.Backend) {
				var l MessageList
				mustJSON(t, w, &l)
				if len(l.Messages) != 1 || l.Messages[0].Ref != received.Ref {
					t.Errorf("statements %s", w.Body)
				}
				if q := lastCall(b, "Statements").Query; q != (node.Query{Type: "notify.exercise", From: "RU", Limit: 100}) {
					t.Errorf("query %+v", q)
				}
			}},
		{"message escaped", request{method: "GET", path: escaped, token: auditorToken}, 200,
			func(t *testing.T, w *httptest.ResponseRecorder, b *apitest.Backend) {
				if ref := lastCall(b, "Message").Ref; ref != received.Ref {
					t.Errorf("backend got ref %q, want %q", ref, received.Ref)
				}
			}},
		{"message slashes unescaped", request{method: "GET", path: "/api/v1/messages/nato-russia-2022/RU/41%23bo0g0sSO15yZ/nj5CwGOq2O5XEOaglhTHDprJr4n+OI=", token: auditorToken}, 200, nil},
		{"message unknown", request{method: "GET", path: MessagePath("nato-russia-2022/RU/7#AAAA"), token: auditorToken}, 404,
			func(t *testing.T, w *httptest.ResponseRecorder, b *apitest.Backend) {
				if p := readProblemBody(t, w); p.Type != TypeNotFound || !strings.Contains(p.Detail, "nato-russia-2022/RU/7#AAAA") || strings.HasPrefix(p.Detail, "not found") {
					t.Errorf("problem %+v", p)
				}
			}},
		{"status", request{method: "GET", path: "/api/v1/status", token: auditorToken}, 200,
			func(t *testing.T, w *httptest.ResponseRecorder, b *apitest.Backend) {
				var s node.Status
				mustJSON(t, w, &s)
				if s.Party != "NATO" || s.Regime != "nato-russia-2022" {
					t.Errorf("status %+v", s)
				}
			}},
		{"openapi", request{method: "GET", path: "/api/openapi.json"}, 200,
			func(t *testing.T, w *httptest.ResponseRecorder, b *apitest.Backend) {
				if !json.Valid(w.Body.Bytes()) || w.Header().Get("Content-Type") != "application/json" {
					t.Errorf("openapi: %s", w.Header())
				}
			}},
		{"healthz", request{method: "GET", path: "/healthz"}, 200,
			func(t *testing.T, w *httptest.ResponseRecorder, b *apitest.Backend) {
				if w.Body.String() != "ok\n" {
					t.Errorf("healthz body %q", w.Body)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, h, _ := newTestHandler(t, Options{})
			w := tt.req.do(h)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d; body %s", w.Code, tt.status, w.Body)
			}
			if got := w.Header().Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control = %q", got)
			}
			if got := w.Header().Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options = %q", got)
			}
			if tt.check != nil {
				tt.check(t, w, b)
			}
		})
	}
}

func mustJSON(t *testing.T, w *httptest.ResponseRecorder, v any) {
	t.Helper()
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	if err := json.Unmarshal(w.Body.Bytes(), v); err != nil {
		t.Fatalf("body %s: %v", w.Body, err)
	}
}

// mustMessage decodes a Message answer.
func mustMessage(t *testing.T, w *httptest.ResponseRecorder) node.Message {
	t.Helper()
	var m wireMessage
	mustJSON(t, w, &m)
	return m.message()
}

func lastCall(b *apitest.Backend, method string) apitest.Call {
	calls := b.Calls()
	for i := len(calls) - 1; i >= 0; i-- {
		if calls[i].Method == method {
			return calls[i]
		}
	}
	return apitest.Call{}
}

// TestProblems checks the error answers: status, problem type, and a detail
// that says what is wrong.
func TestProblems(t *testing.T) {
	send := func(token, body string) request {
		return request{method: "POST", path: "/api/v1/send", token: token, ctype: "application/json", body: body}
	}
	tests := []struct {
		name   string
		req    request
		status int
		typ    string
		detail string // substring
		header [2]string
	}{
		// Authentication and roles.
		{"no token", request{method: "GET", path: "/api/v1/status"}, 401, TypeUnauthorized, "no Authorization header", [2]string{"WWW-Authenticate", "Bearer"}},
		{"unknown token", request{method: "GET", path: "/api/v1/status", token: "guess"}, 401, TypeUnauthorized, "not one of this node's", [2]string{"WWW-Authenticate", `Bearer error="invalid_token"`}},
		{"basic auth", request{method: "GET", path: "/api/v1/status", header: map[string]string{"Authorization": "Basic b2ZmaWNlcjp4"}}, 401, TypeUnauthorized, "not \"Bearer <token>\"", [2]string{}},
		{"auditor sends", send(auditorToken, `{}`), 403, TypeForbidden, "auditor tokens are read-only", [2]string{}},
		{"auditor acks", request{method: "POST", path: "/api/v1/ack", token: auditorToken, ctype: "application/json", body: `{"ref":"x"}`}, 403, TypeForbidden, "may not acknowledge", [2]string{}},
		{"analyst acks", request{method: "POST", path: "/api/v1/ack", token: analystToken, ctype: "application/json", body: `{"ref":"x"}`}, 403, TypeForbidden, "only officer tokens", [2]string{}},
		{"analyst FLASH", send(analystToken, `{"type":"t","to":["RU"],"precedence":"FLASH","body":{}}`), 403, TypeForbidden, "not FLASH", [2]string{}},
		{"analyst IMMEDIATE", send(analystToken, `{"type":"t","to":["RU"],"precedence":"IMMEDIATE","body":{}}`), 403, TypeForbidden, "not IMMEDIATE", [2]string{}},
		{"analyst FLASH default", send(analystToken, `{"type":"incident.report","to":["RU"],"body":{}}`), 403, TypeForbidden, "an analyst may not send FLASH statements (the default of type incident.report)", [2]string{}},
		// Routing.
		{"unknown path", request{method: "GET", path: "/api/v1/nothing", token: officerToken}, 404, "about:blank", "/api/v1/nothing", [2]string{}},
		{"empty ref", request{method: "GET", path: "/api/v1/messages/", token: officerToken}, 404, "about:blank", "no endpoint", [2]string{}},
		{"GET send", request{method: "GET", path: "/api/v1/send", token: officerToken}, 405, "about:blank", "use POST", [2]string{"Allow", "POST"}},
		{"DELETE message", request{method: "DELETE", path: MessagePath(received.Ref), token: officerToken}, 405, "about:blank", "use GET", [2]string{"Allow", "GET"}},
		{"POST healthz", request{method: "POST", path: "/healthz"}, 405, "about:blank", "use GET", [2]string{"Allow", "GET"}},
		// Media type and size.
		{"no content type", request{method: "POST", path: "/api/v1/send", token: officerToken, body: `{}`}, 415, TypeUnsupportedMedia, "no Content-Type", [2]string{}},
		{"text/plain", send(officerToken, `{}`), 0, "", "", [2]string{}}, // replaced below
		{"latin1", request{method: "POST", path: "/api/v1/send", token: officerToken, ctype: "application/json; charset=latin1", body: `{}`}, 415, TypeUnsupportedMedia, "charset \"latin1\"", [2]string{}},
		{"too large", send(officerToken, `{"type":"t","to":["RU"],"body":{"text":"`+strings.Repeat("x", 1<<20)+`"}}`), 413, TypeBodyTooLarge, "body larger than 1 MiB", [2]string{}},
		// Strict JSON.
		{"unknown field", send(officerToken, `{"tp":"x"}`), 400, TypeInvalidBody, `unknown field "tp"`, [2]string{}},
		{"empty body", send(officerToken, ``), 400, TypeInvalidBody, "body is empty", [2]string{}},
		{"two values", send(officerToken, `{"type":"t","to":["RU"],"body":{}} {}`), 400, TypeInvalidBody, "unexpected data after the JSON object", [2]string{}},
		{"array", send(officerToken, `[1]`), 400, TypeInvalidBody, "must be a JSON object, not an array", [2]string{}},
		{"null", send(officerToken, `null`), 400, TypeInvalidBody, "must be a JSON object, not null", [2]string{}},
		{"syntax", send(officerToken, `{"type":}`), 400, TypeInvalidBody, "not valid JSON: invalid character '}'", [2]string{}},
		{"truncated", send(officerToken, `{"type":"t"`), 400, TypeInvalidBody, "ends inside the JSON object", [2]string{}},
		{"wrong type", send(officerToken, `{"type":"t","to":"RU","body":{}}`), 400, TypeInvalidBody, `field "to" must be an array of strings, not a string`, [2]string{}},
		{"wrong type number", send(officerToken, `{"type":7,"to":["RU"],"body":{}}`), 400, TypeInvalidBody, `field "type" must be a string, not a number`, [2]string{}},
		{"repeated field", send(officerToken, `{"type":"a","type":"b","to":["RU"],"body":{}}`), 400, TypeInvalidBody, `field "type" appears more than once`, [2]string{}},
		{"bad utf-8", send(officerToken, "{\"type\":\"\xff\"}"), 400, TypeInvalidBody, "not valid UTF-8 at byte 9", [2]string{}},
		// Checks before the backend.
		{"no type", send(officerToken, `{"to":["RU"],"body":{}}`), 422, TypeInvalidRequest, `field "type" is missing`, [2]string{}},
		{"no to", send(officerToken, `{"type":"t","body":{}}`), 422, TypeInvalidRequest, `field "to" is missing`, [2]string{}},
		{"no body", send(officerToken, `{"type":"t","to":["RU"]}`), 422, TypeInvalidRequest, `field "body" is missing`, [2]string{}},
		{"body not object", send(officerToken, `{"type":"t","to":["RU"],"body":[1]}`), 422, TypeInvalidRequest, `field "body" must be a JSON object`, [2]string{}},
		{"bad precedence", send(officerToken, `{"type":"t","to":["RU"],"precedence":"flash","body":{}}`), 422, TypeInvalidRequest, `"flash" is not ROUTINE`, [2]string{}},
		{"ack no ref", request{method: "POST", path: "/api/v1/ack", token: officerToken, ctype: "application/json", body: `{"text":"x"}`}, 422, TypeInvalidRequest, `field "ref" is missing`, [2]string{}},
		{"ack unknown", request{method: "POST", path: "/api/v1/ack", token: officerToken, ctype: "application/json", body: `{"ref":"a/B/1#x"}`}, 404, TypeNotFound, "no received statement a/B/1#x", [2]string{}},
		// Queries.
		{"bad state", request{method: "GET", path: "/api/v1/inbox?state=late", token: officerToken}, 400, TypeInvalidQuery, `"late" is not pending, receipted, acknowledged or overdue`, [2]string{}},
		{"limit 0", request{method: "GET", path: "/api/v1/inbox?limit=0", token: officerToken}, 400, TypeInvalidQuery, "from 1 to 1000", [2]string{}},
		{"limit 1001", request{method: "GET", path: "/api/v1/outbox?limit=1001", token: officerToken}, 400, TypeInvalidQuery, "from 1 to 1000", [2]string{}},
		{"limit x", request{method: "GET", path: "/api/v1/outbox?limit=x", token: officerToken}, 400, TypeInvalidQuery, `"x" is not a whole number`, [2]string{}},
		{"unknown param", request{method: "GET", path: "/api/v1/inbox?typ=ack", token: officerToken}, 400, TypeInvalidQuery, `unknown query parameter "typ"`, [2]string{}},
		{"repeated param", request{method: "GET", path: "/api/v1/inbox?type=a&type=b", token: officerToken}, 400, TypeInvalidQuery, `"type" is given 2 times`, [2]string{}},
		{"from on inbox", request{method: "GET", path: "/api/v1/inbox?from=RU", token: officerToken}, 400, TypeInvalidQuery, `unknown query parameter "from"; the known ones are type, state and limit`, [2]string{}},
		{"unknown param statements", request{method: "GET", path: "/api/v1/statements?to=RU", token: officerToken}, 400, TypeInvalidQuery, `the known ones are type, state, limit and from`, [2]string{}},
		{"bad after", request{method: "GET", path: "/api/v1/events?after=-1", token: officerToken}, 400, TypeInvalidQuery, `"-1" is not an event ID`, [2]string{}},
		{"bad Last-Event-ID", request{method: "GET", path: "/api/v1/events", token: officerToken, header: map[string]string{"Last-Event-ID": "x"}}, 400, TypeInvalidQuery, "Last-Event-ID header", [2]string{}},
	}
	for _, tt := range tests {
		if tt.name == "text/plain" {
			tt.req.ctype = "text/plain"
			tt.status, tt.typ, tt.detail = 415, TypeUnsupportedMedia, "Content-Type is text/plain; send the body as application/json"
		}
		t.Run(tt.name, func(t *testing.T) {
			b, h, _ := newTestHandler(t, Options{})
			w := tt.req.do(h)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d; body %s", w.Code, tt.status, w.Body)
			}
			p := readProblemBody(t, w)
			if p.Type != tt.typ {
				t.Errorf("type %q, want %q", p.Type, tt.typ)
			}
			if !strings.Contains(p.Detail, tt.detail) {
				t.Errorf("detail %q, want it to contain %q", p.Detail, tt.detail)
			}
			if k := tt.header[0]; k != "" && w.Header().Get(k) != tt.header[1] {
				t.Errorf("%s = %q, want %q", k, w.Header().Get(k), tt.header[1])
			}
			if w.Header().Get("Location") != "" {
				t.Errorf("a problem with a Location header")
			}
			// Only the node knows a type's default precedence.
			byNode := tt.name == "analyst FLASH default"
			if !byNode && (tt.status == 401 || tt.status == 403 || (tt.status >= 400 && tt.status < 500 && tt.status != 422 && tt.status != 404)) {
				for _, c := range b.Calls() {
					if c.Method == "Send" || c.Method == "Ack" || c.Method == "Events" {
						t.Errorf("the backend was called: %+v", c)
					}
				}
			}
		})
	}
}

// TestBackendErrors checks how the handler answers the node's errors, and
// that unexpected ones do not leak.
func TestBackendErrors(t *testing.T) {
	tests := []struct {
		err    error
		status int
		typ    string
		detail string
	}{
		{fmt.Errorf("%w: to[0]: %q is not a party of the regime", node.ErrInvalid, "XX"), 422, TypeInvalidRequest, `to[0]: "XX" is not a party of the regime`},
		{node.ErrInvalid, 422, TypeInvalidRequest, "the node refused the request"},
		{fmt.Errorf("%w: refs[0] a/b/1#x", node.ErrNotFound), 404, TypeNotFound, "refs[0] a/b/1#x"},
		{fmt.Errorf("%w: an auditor may not send statements", node.ErrForbidden), 403, TypeForbidden, "an auditor may not send statements"},
		{fmt.Errorf("couldn't append: %w", node.ErrClosed), 503, TypeUnavailable, "shutting down"},
		{errors.New("disk /var/secret/db full"), 500, "about:blank", "its log has the cause"},
	}
	for _, tt := range tests {
		t.Run(tt.err.Error(), func(t *testing.T) {
			b, h, logs := newTestHandler(t, Options{})
			b.SetError(tt.err)
			w := request{method: "POST", path: "/api/v1/send", token: officerToken, ctype: "application/json",
				body: `{"type":"t","to":["RU"],"body":{}}`}.do(h)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d; body %s", w.Code, tt.status, w.Body)
			}
			p := readProblemBody(t, w)
			if p.Type != tt.typ || p.Detail != tt.detail && !strings.Contains(p.Detail, tt.detail) {
				t.Errorf("problem %+v, want type %s and detail %q", p, tt.typ, tt.detail)
			}
			if strings.Contains(w.Body.String(), "/var/secret") {
				t.Errorf("internal error leaked: %s", w.Body)
			}
			if tt.status == 500 && !strings.Contains(logs.String(), "/var/secret/db full") {
				t.Errorf("internal error not logged: %s", logs)
			}
			if tt.status == 503 && w.Header().Get("Retry-After") == "" {
				t.Error("503 without Retry-After")
			}
		})
	}
}

// TestAnalystSend checks that analysts may send ROUTINE and PRIORITY
// statements and that the backend learns the role.
func TestAnalystSend(t *testing.T) {
	for _, prec := range []string{"", "ROUTINE", "PRIORITY"} {
		b, h, _ := newTestHandler(t, Options{})
		body := `{"type":"notify.exercise","to":["RU"],"precedence":"` + prec + `","body":{}}`
		w := request{method: "POST", path: "/api/v1/send", token: analystToken, ctype: "application/json", body: body}.do(h)
		if w.Code != 201 {
			t.Fatalf("precedence %q: status %d; body %s", prec, w.Code, w.Body)
		}
		if c := lastCall(b, "Send"); c.Role != node.RoleAnalyst {
			t.Errorf("backend got role %q", c.Role)
		}
	}
}

func TestBodyLimitOption(t *testing.T) {
	_, h, _ := newTestHandler(t, Options{MaxBodyBytes: 64})
	body := `{"type":"t","to":["RU"],"body":{"text":"` + strings.Repeat("x", 64) + `"}}`
	w := request{method: "POST", path: "/api/v1/send", token: officerToken, ctype: "application/json", body: body}.do(h)
	if w.Code != 413 {
		t.Fatalf("status %d; body %s", w.Code, w.Body)
	}
	if p := readProblemBody(t, w); p.Detail != "body larger than 64 bytes" {
		t.Errorf("detail %q", p.Detail)
	}
}

func TestProblemError(t *testing.T) {
	tests := []struct {
		p    Problem
		want string
	}{
		{Problem{Status: 400, Title: "Malformed request body", Detail: `unknown field "tp"`}, `400 Malformed request body: unknown field "tp"`},
		{Problem{Status: 404}, "404 Not Found"},
		{Problem{Status: 599}, "599"},
	}
	for _, tt := range tests {
		if got := tt.p.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
	for _, tt := range []struct {
		typ  string
		want error
	}{{TypeInvalidRequest, node.ErrInvalid}, {TypeInvalidBody, node.ErrInvalid}, {TypeForbidden, node.ErrForbidden}, {TypeNotFound, node.ErrNotFound}, {TypeUnavailable, node.ErrClosed}} {
		if err := error(&Problem{Type: tt.typ}); !errors.Is(err, tt.want) {
			t.Errorf("%s is not %v", tt.typ, tt.want)
		}
	}
	if errors.Is(&Problem{Type: "about:blank", Status: 404}, node.ErrNotFound) {
		t.Error("a 404 for an unknown path is node.ErrNotFound")
	}
}
