package regime

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tillit/tillit/statement"
)

// stmt builds and parses a statement of regime id.
func stmt(t testing.TB, regime, from string, to []string, typ string, prec statement.Precedence, tm string, refs []statement.Ref, body string) *statement.Statement {
	t.Helper()
	at, err := time.Parse(time.RFC3339, tm)
	if err != nil {
		t.Fatal(err)
	}
	b, err := statement.Encode(&statement.Statement{Regime: regime, From: from, To: to, Type: typ, Precedence: prec,
		Time: at, Refs: refs, Body: []byte(body)})
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}
	s, err := statement.Parse(b)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return s
}

var someRef = statement.Ref{Log: "nato-russia-2022/RU", Index: 41, Hash: [32]byte{1, 2, 3}}

var loadExample = sync.OnceValues(func() (*Regime, error) {
	return Load(filepath.Join(exampleDir, "regime.toml"))
})

func example(t testing.TB) *Regime {
	t.Helper()
	r, err := loadExample()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestExampleSchemas checks a valid and several invalid bodies of every type
// of the example regime; errors must name the JSON path of the problem.
func TestExampleSchemas(t *testing.T) {
	r := example(t)
	const (
		hashA   = "lOswYAzy2DNZPHNqS2HcRH8nrGzHWIIpWCshht7Dw9o="
		refRU   = "nato-russia-2022/RU/0#" + hashA
		circle  = `{"center": {"lat": 55.75, "lon": 37.62}, "radius_km": 50}`
		polygon = `{"name": "Barents Sea", "polygon": [{"lat": 70, "lon": 30}, {"lat": 72, "lon": 40}, {"lat": 70, "lon": 45}]}`
		launch  = `"launch_window": {"start": "2022-01-20T06:00:00Z", "end": "2022-01-20T10:00:00Z"}, "missile": "RS-24", "launch_area": ` + circle
	)
	tests := []struct {
		typ, body string
		refs      int
		path, msg string // for an invalid body: the path and a substring of the message
	}{
		{"launch.notice", `{` + launch + `, "impact_area": ` + polygon + `}`, 0, "", ""},
		{"launch.notice", `{` + launch + `}`, 0, "body", "missing property 'impact_area'"},
		{"launch.notice", `{` + strings.Replace(launch, "2022-01-20T06:00:00Z", "20 January 2022", 1) + `, "impact_area": ` + circle + `}`, 0, "body.launch_window.start", "date-time"},
		{"launch.notice", `{` + launch + `, "impact_area": {"polygon": [{"lat": 70, "lon": 30}, {"lat": 71, "lon": 30}]}}`, 0, "body.impact_area.polygon", "minItems: got 2, want 3"},
		{"launch.notice", `{` + launch + `, "impact_area": {"center": {"lat": 91, "lon": 0}, "radius_km": 5}}`, 0, "body.impact_area.center.lat", "maximum: got 91, want 90"},
		{"launch.notice", `{` + launch + `, "impact_area": ` + circle + `, "warhead": "none"}`, 0, "body", "additional properties 'warhead' not allowed"},
		{"exercise.notice", `{"name": "Zapad", "start": "2022-03-01T00:00:00Z", "end": "2022-03-10T00:00:00Z", "area": ` + polygon + `, "troops": 30000, "tanks": 200, "aircraft": 40}`, 0, "", ""},
		{"exercise.notice", `{"start": "2022-03-01T00:00:00Z", "end": "2022-03-10T00:00:00Z", "area": ` + circle + `, "troops": -1, "tanks": 200, "aircraft": 40}`, 0, "body.troops", "minimum"},
		{"exercise.notice", `{"start": "2022-03-01T00:00:00Z", "end": "2022-03-10T00:00:00Z", "area": ` + circle + `, "troops": 1, "tanks": "many", "aircraft": 40}`, 0, "body.tanks", "want integer"},
		{"exercise.notice", `{"start": "2022-03-01T00:00:00Z", "end": "2022-03-10T00:00:00Z", "area": ` + circle + `, "troops": 1, "tanks": 2}`, 0, "body", "missing property 'aircraft'"},
		{"deployment.change", `{"changed_at": "2022-01-10T00:00:00Z", "items": [{"id": "SS-26/1234", "category": "Iskander-M launcher", "from_site": "Luga", "to_site": "Kaliningrad"}]}`, 0, "", ""},
		{"deployment.change", `{"changed_at": "2022-01-10T00:00:00Z", "items": []}`, 0, "body.items", "minItems"},
		{"deployment.change", `{"changed_at": "2022-01-10T00:00:00Z", "items": [{"id": "no spaces", "category": "x", "from_site": "a", "to_site": "b"}]}`, 0, "body.items[0].id", "does not match pattern"},
		{"incident.report", `{"time": "2022-01-15T10:00:00Z", "position": {"lat": 54.5, "lon": 19.9}, "units": ["Su-27", "RC-135"], "description": "Intercept at 10 m over the Baltic"}`, 0, "", ""},
		{"incident.report", `{"time": "2022-01-15T10:00:00Z", "position": {"lat": 54.5, "lon": 19.9}, "units": [], "description": "x"}`, 0, "body.units", "minItems"},
		{"incident.report", `{"time": "2022-01-15T10:00:00Z", "position": {"lat": 54.5}, "units": ["x"], "description": "x"}`, 0, "body.position", "missing property 'lon'"},
		{"consultation.request", `{"subject": "Missile deployments in Europe", "text": "We propose talks."}`, 0, "", ""},
		{"consultation.request", `{"text": "We propose talks."}`, 0, "body", "missing property 'subject'"},
		{"consultation.reply", `{"text": "Agreed."}`, 1, "", ""},
		{"consultation.reply", `{"text": ""}`, 1, "body.text", "minLength"},
		{"message", `{"lang": "ru", "text": "Здравствуйте"}`, 0, "", ""},
		{"message", `{"lang": "sr-Latn-RS", "text": "Zdravo"}`, 0, "", ""},
		{"message", `{"lang": "Russian!", "text": "x"}`, 0, "body.lang", "does not match pattern"},
		{"translation", `{"lang": "en", "text": "Hello"}`, 1, "", ""},
		{"translation", `{"lang": "en"}`, 1, "body", "missing property 'text'"},
		{"link.test", `{}`, 0, "", ""},
		{"link.test", `{"seq": 7}`, 0, "", ""},
		{"link.test", `{"seq": -1}`, 0, "body.seq", "minimum"},
		{"ack", `{}`, 1, "", ""},
		{"ack", `{"text": "Received."}`, 1, "", ""},
		{"ack", `{"txt": "Received."}`, 1, "body", "additional properties 'txt' not allowed"},

		// The escrow and inspection types; example_bodies_test.go checks
		// them against the escrow and inspect packages' JSON.
		{"declaration.commit", `{"scheme": "tillit/escrow/v1", "regime": "nato-russia-2022", "party": "RU", "version": 2, "prev": "", "size": 8, "items_root": "` + hashA + `", "index": "` + hashA + `"}`, 0, "body.prev", "minLength"},
		{"declaration.commit", `{"scheme": "tillit/escrow/v1", "regime": "inf-2026", "party": "RU", "version": 1, "prev": "", "size": 8, "items_root": "` + hashA + `", "index": "` + hashA + `"}`, 0, "body.regime", "nato-russia-2022"},
		{"beacon.commit", `{"commit": "` + hashA + `"}`, 1, "", ""},
		{"beacon.commit", `{"commit": "` + hashA[:42] + `B="}`, 1, "body.commit", "does not match pattern"},
		{"beacon.reveal", `{"r": "` + hashA + `"}`, 2, "body", "missing property 'nonce'"},
		{"inspection.request", `{"inspector": "NATO", "host": "RU", "declaration": "` + refRU + `", "scope": "region", "year": 2022}`, 1, "body", "missing property 'region'"},
		{"inspection.request", `{"inspector": "NATO", "host": "RU", "declaration": "` + refRU + `", "scope": "any", "region": "Kaliningrad", "year": 2022}`, 1, "body", "not"},
		{"inspection.request", `{"inspector": "NATO", "host": "RU", "declaration": "inf-2026/RU/0#` + hashA + `", "scope": "any", "year": 2022}`, 1, "body.declaration", "does not match pattern"},
		{"inspection.reply", `{"request": "` + refRU + `", "decision": "accept"}`, 1, "", ""},
		{"inspection.reply", `{"request": "` + refRU + `", "decision": "refuse"}`, 1, "body", "missing property 'reason'"},
		{"inspection.reply", `{"request": "` + refRU + `", "decision": "refuse", "reason": " "}`, 1, "", ""},
		{"inspection.findings", `{"request": "` + refRU + `", "seed": "` + hashA + `", "beacon": [], "region": "K", "site": "C", "opening": "` + refRU + `"}`, 3, "body.beacon", "minItems"},
		{"inspection.report", `{"request": "` + refRU + `", "findings": "` + refRU + `", "opening": "` + refRU + `", "region": "K", "site": " C"}`, 3, "body.site", "does not match pattern"},
	}
	for i, tt := range tests {
		t.Run(fmt.Sprintf("%s/%d", tt.typ, i), func(t *testing.T) {
			var refs []statement.Ref
			for range tt.refs {
				refs = append(refs, someRef)
			}
			s := stmt(t, "nato-russia-2022", "RU", []string{"NATO"}, tt.typ, statement.Priority, "2022-01-12T09:30:00Z", refs, tt.body)
			err := r.CheckStatement(s)
			if tt.path == "" {
				if err != nil {
					t.Fatalf("valid body refused: %v", err)
				}
				return
			}
			var se *StatementError
			if !errors.As(err, &se) || !errors.Is(err, ErrBody) || !errors.Is(err, ErrStatement) {
				t.Fatalf("error %v, want a *StatementError wrapping ErrBody and ErrStatement", err)
			}
			if se.Path != tt.path || !strings.Contains(se.Msg, tt.msg) {
				t.Errorf("error at %q: %q\nwant at %q: %q", se.Path, se.Msg, tt.path, tt.msg)
			}
		})
	}
}

func TestCheckStatement(t *testing.T) {
	r := mustParse(t, testTOML())
	ok := `{"window": {"start": "2022-01-20T06:00:00Z"}}`
	tests := []struct {
		name  string
		s     func(t *testing.T) *statement.Statement
		path  string
		msg   string
		isErr error
	}{
		{"valid", func(t *testing.T) *statement.Statement {
			return stmt(t, testID, "A", []string{"B", "O"}, "notice", statement.Routine, "2022-01-12T09:30:00Z", nil, ok)
		}, "", "", nil},
		{"to all", func(t *testing.T) *statement.Statement {
			return stmt(t, testID, "O", []string{"*"}, "notice", statement.Flash, "2022-01-12T09:30:00Z", nil, ok)
		}, "", "", nil},
		{"other regime", func(t *testing.T) *statement.Statement {
			return stmt(t, "other", "A", []string{"B"}, "notice", statement.Routine, "2022-01-12T09:30:00Z", nil, ok)
		}, "regime", `is "other", but this regime is "test-regime"`, ErrStatement},
		{"unknown sender", func(t *testing.T) *statement.Statement {
			return stmt(t, testID, "X", []string{"B"}, "notice", statement.Routine, "2022-01-12T09:30:00Z", nil, ok)
		}, "from", `"X" is not a party of test-regime`, ErrStatement},
		{"unknown recipient", func(t *testing.T) *statement.Statement {
			return stmt(t, testID, "A", []string{"B", "Y"}, "notice", statement.Routine, "2022-01-12T09:30:00Z", nil, ok)
		}, "to[1]", `"Y" is not a party`, ErrStatement},
		{"to itself", func(t *testing.T) *statement.Statement {
			return stmt(t, testID, "A", []string{"A"}, "notice", statement.Routine, "2022-01-12T09:30:00Z", nil, ok)
		}, "to[0]", "A sends to itself", ErrStatement},
		{"unknown type", func(t *testing.T) *statement.Statement {
			return stmt(t, testID, "A", []string{"B"}, "launch.notice", statement.Routine, "2022-01-12T09:30:00Z", nil, ok)
		}, "type", `"launch.notice" is not a statement type of test-regime`, ErrStatement},
		{"too few refs", func(t *testing.T) *statement.Statement {
			return stmt(t, testID, "A", []string{"B"}, "ack", statement.Routine, "2022-01-12T09:30:00Z", nil, `{}`)
		}, "refs", "a ack must refer to at least 1 earlier statement, not 0", ErrStatement},
		{"body mismatch", func(t *testing.T) *statement.Statement {
			return stmt(t, testID, "A", []string{"B"}, "notice", statement.Routine, "2022-01-12T09:30:00Z", nil, `{"window": {"start": 5}}`)
		}, "body.window.start", "want string", ErrBody},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := r.CheckStatement(tt.s(t))
			if tt.isErr == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var se *StatementError
			if !errors.As(err, &se) || !errors.Is(err, tt.isErr) {
				t.Fatalf("error %v, want a *StatementError wrapping %v", err, tt.isErr)
			}
			if se.Path != tt.path || !strings.Contains(se.Msg, tt.msg) {
				t.Errorf("error at %q: %q\nwant at %q: %q", se.Path, se.Msg, tt.path, tt.msg)
			}
			if want := "regime: statement: " + tt.path + ": "; !strings.HasPrefix(err.Error(), want) {
				t.Errorf("error %q does not start with %q", err, want)
			}
		})
	}
}

// TestRuleFields checks that a notice rule's field must hold a time even if
// the schema does not say so.
func TestRuleFields(t *testing.T) {
	loose := `schema = '''{"type": "object", "required": ["window"], "properties": {"window": {"type": "object", "required": ["start"], "properties": {"start": {"type": "string", "format": "date-time"}}}}}'''`
	r := mustParse(t, strings.Replace(testTOML(), loose, `schema = '''{"type": "object"}'''`, 1))
	for body, want := range map[string]string{
		`{}`:                            "body.window.start: missing: type notice measures its notice from this field",
		`{"window": 5}`:                 "body.window.start: missing",
		`{"window": {"start": 5}}`:      "body.window.start: must be an RFC 3339 time string",
		`{"window": {"start": "soon"}}`: `body.window.start: "soon" is not an RFC 3339 time`,
	} {
		s := stmt(t, testID, "A", []string{"B"}, "notice", statement.Routine, "2022-01-12T09:30:00Z", nil, body)
		if err := r.CheckStatement(s); !errors.Is(err, ErrBody) || !strings.Contains(err.Error(), want) {
			t.Errorf("body %s: error %v, want %q", body, err, want)
		}
	}
}

func TestAcknowledges(t *testing.T) {
	r := mustParse(t, testTOML())
	orig := stmt(t, testID, "A", []string{"B", "O"}, "notice", statement.Priority, "2022-01-12T09:30:00Z", nil, `{"window": {"start": "2022-01-20T06:00:00Z"}}`)
	ref := orig.Ref(7)
	req := stmt(t, testID, "A", []string{"B"}, "request", statement.Priority, "2022-01-12T09:30:00Z", nil, `{}`)
	reqRef := req.Ref(8)
	tests := []struct {
		name        string
		reply, orig *statement.Statement
		ref         statement.Ref
		want        bool
	}{
		{"ack", stmt(t, testID, "B", []string{"A"}, "ack", statement.Priority, "2022-01-12T09:31:00Z", []statement.Ref{ref}, `{}`), orig, ref, true},
		{"ack to all", stmt(t, testID, "O", []string{"*"}, "ack", statement.Priority, "2022-01-12T09:31:00Z", []statement.Ref{someRef, ref}, `{}`), orig, ref, true},
		{"ack of another statement", stmt(t, testID, "B", []string{"A"}, "ack", statement.Priority, "2022-01-12T09:31:00Z", []statement.Ref{someRef}, `{}`), orig, ref, false},
		{"ack from the sender", stmt(t, testID, "A", []string{"B"}, "ack", statement.Priority, "2022-01-12T09:31:00Z", []statement.Ref{ref}, `{}`), orig, ref, false},
		{"ack not to the sender", stmt(t, testID, "B", []string{"O"}, "ack", statement.Priority, "2022-01-12T09:31:00Z", []statement.Ref{ref}, `{}`), orig, ref, false},
		{"ack from a non-recipient", stmt(t, testID, "O", []string{"A"}, "ack", statement.Priority, "2022-01-12T09:31:00Z", []statement.Ref{reqRef}, `{}`), req, reqRef, false},
		{"reply of the reply type", stmt(t, testID, "B", []string{"A"}, "reply", statement.Priority, "2022-01-12T09:31:00Z", []statement.Ref{reqRef}, `{}`), req, reqRef, true},
		{"ack where a reply is due", stmt(t, testID, "B", []string{"A"}, "ack", statement.Priority, "2022-01-12T09:31:00Z", []statement.Ref{reqRef}, `{}`), req, reqRef, false},
		{"type without ack", stmt(t, testID, "B", []string{"A"}, "ack", statement.Priority, "2022-01-12T09:31:00Z", []statement.Ref{someRef}, `{}`),
			stmt(t, testID, "A", []string{"B"}, "change", statement.Routine, "2022-01-12T09:30:00Z", nil, `{"changed_at": "2022-01-10T00:00:00Z"}`), someRef, false},
	}
	for _, tt := range tests {
		if got := r.Acknowledges(tt.reply, tt.orig, tt.ref); got != tt.want {
			t.Errorf("%s: Acknowledges = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestCheckClock(t *testing.T) {
	r := mustParse(t, testTOML())
	now := time.Date(2022, 1, 12, 9, 30, 0, 0, time.UTC)
	for d, ok := range map[time.Duration]bool{0: true, 30 * time.Second: true, -30 * time.Second: true, 31 * time.Second: false, -time.Minute: false} {
		err := r.CheckClock(now.Add(d), now)
		if (err == nil) != ok || (err != nil && !errors.Is(err, ErrClock)) {
			t.Errorf("CheckClock(now%+v) = %v", d, err)
		}
	}
}

func TestRecipients(t *testing.T) {
	r := mustParse(t, testTOML())
	all := stmt(t, testID, "B", []string{"*"}, "ack", statement.Priority, "2022-01-12T09:31:00Z", []statement.Ref{someRef}, `{}`)
	if got := strings.Join(r.Recipients(all), ","); got != "A,O" {
		t.Errorf("Recipients(*) = %s", got)
	}
	two := stmt(t, testID, "B", []string{"O", "A"}, "ack", statement.Priority, "2022-01-12T09:31:00Z", []statement.Ref{someRef}, `{}`)
	if got := strings.Join(r.Recipients(two), ","); got != "O,A" {
		t.Errorf("Recipients = %s", got)
	}
	if r.Origin("RU") != "test-regime/RU" {
		t.Error(r.Origin("RU"))
	}
}
