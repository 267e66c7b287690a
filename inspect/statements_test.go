package inspect

import (
	"strings"
	"testing"

	"github.com/tillit/tillit/statement"
)

// alter re-encodes st with f applied and parses the result.
func alter(t *testing.T, st *statement.Statement, f func(*statement.Statement)) *statement.Statement {
	t.Helper()
	c := *st
	c.To = append([]string(nil), st.To...)
	c.Refs = append([]statement.Ref(nil), st.Refs...)
	c.Body = append([]byte(nil), st.Body...)
	f(&c)
	b, err := statement.Encode(&c)
	if err != nil {
		t.Fatal(err)
	}
	out, err := statement.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func replaceBody(old, new string) func(*statement.Statement) {
	return func(s *statement.Statement) { s.Body = []byte(strings.Replace(string(s.Body), old, new, 1)) }
}

func TestFromStatement(t *testing.T) {
	sc := buildScenario(t)
	reqSt, reqIdx := findType(t, sc.nato.parsed, TypeRequest, 0)
	req, err := RequestFromStatement(reqSt, reqIdx)
	if err != nil {
		t.Fatal(err)
	}
	replySt, replyIdx := findType(t, sc.ru.parsed, TypeReply, 0)
	findSt, findIdx := findType(t, sc.nato.parsed, TypeFindings, 0)
	repSt, repIdx := findType(t, sc.ru.parsed, TypeReport, 0)
	otherRef := fakeRef(testInspector, 42)

	type check func(*statement.Statement, int64) error
	request := func(st *statement.Statement, i int64) error { _, err := RequestFromStatement(st, i); return err }
	reply := func(st *statement.Statement, i int64) error { _, err := ReplyFromStatement(st, i, req); return err }
	findings := func(st *statement.Statement, i int64) error { _, err := FindingsFromStatement(st, i, req); return err }
	report := func(st *statement.Statement, i int64) error { _, err := ReportFromStatement(st, i, req); return err }
	tests := []struct {
		name  string
		st    *statement.Statement
		index int64
		check check
		edit  func(*statement.Statement)
		want  error
	}{
		{"request ok", reqSt, reqIdx, request, func(*statement.Statement) {}, nil},
		{"request to all", reqSt, reqIdx, request, func(s *statement.Statement) { s.To = []string{statement.All} }, nil},
		{"request wrong type", reqSt, reqIdx, request, func(s *statement.Statement) { s.Type = "inspection.requests" }, ErrMismatch},
		{"request wrong sender", reqSt, reqIdx, request, func(s *statement.Statement) { s.From = "US" }, ErrMismatch},
		{"request not to host", reqSt, reqIdx, request, func(s *statement.Statement) { s.To = []string{"OSCE"} }, ErrMismatch},
		{"request declaration of another log", reqSt, reqIdx, request, replaceBody(`"inf-2026/RU/0#`, `"inf-2026/BY/0#`), ErrMismatch},
		{"request other regime", reqSt, reqIdx, request, func(s *statement.Statement) { s.Regime = "inf-2027" }, ErrMismatch},
		{"request year", reqSt, reqIdx, request, replaceBody(`"year":2026`, `"year":2025`), ErrMismatch},
		{"request no refs", reqSt, reqIdx, request, func(s *statement.Statement) { s.Refs = nil }, ErrMismatch},
		{"request refs[0] other", reqSt, reqIdx, request, func(s *statement.Statement) { s.Refs[0] = otherRef }, ErrMismatch},
		{"request extra refs", reqSt, reqIdx, request, func(s *statement.Statement) { s.Refs = append(s.Refs, otherRef) }, nil},
		{"request bad body", reqSt, reqIdx, request, replaceBody(`"scope"`, `"Scope"`), ErrMalformed},

		{"reply ok", replySt, replyIdx, reply, func(*statement.Statement) {}, nil},
		{"reply from inspector", replySt, replyIdx, reply, func(s *statement.Statement) { s.From = testInspector; s.To = []string{testHost} }, ErrMismatch},
		{"reply not to inspector", replySt, replyIdx, reply, func(s *statement.Statement) { s.To = []string{"OSCE"} }, ErrMismatch},
		{"reply to another request", replySt, replyIdx, reply, replaceBody(req.Ref.String(), otherRef.String()), ErrMismatch},
		{"reply refs[0] other", replySt, replyIdx, reply, func(s *statement.Statement) { s.Refs[0] = otherRef }, ErrMismatch},
		{"reply other regime", replySt, replyIdx, reply, func(s *statement.Statement) { s.Regime = "inf-2027" }, ErrMismatch},
		{"reply wrong type", replySt, replyIdx, reply, func(s *statement.Statement) { s.Type = TypeRequest }, ErrMismatch},

		{"findings ok", findSt, findIdx, findings, func(*statement.Statement) {}, nil},
		{"findings from host", findSt, findIdx, findings, func(s *statement.Statement) { s.From = testHost; s.To = []string{testInspector} }, ErrMismatch},
		{"findings of another request", findSt, findIdx, findings, replaceBody(req.Ref.String(), otherRef.String()), ErrMismatch},
		{"findings opening in the inspector's log", findSt, findIdx, findings, replaceBody(`"opening":"inf-2026/RU/`, `"opening":"inf-2026/NATO/`), ErrMismatch},
		{"findings beacon in a third log", findSt, findIdx, findings, replaceBody(`"beacon":["inf-2026/NATO/`, `"beacon":["inf-2026/US/`), ErrMismatch},
		{"findings refs out of order", findSt, findIdx, findings, func(s *statement.Statement) { s.Refs[1], s.Refs[2] = s.Refs[2], s.Refs[1] }, ErrMismatch},
		{"findings refs short", findSt, findIdx, findings, func(s *statement.Statement) { s.Refs = s.Refs[:3] }, ErrMismatch},

		{"report ok", repSt, repIdx, report, func(*statement.Statement) {}, nil},
		{"report from inspector", repSt, repIdx, report, func(s *statement.Statement) { s.From = testInspector; s.To = []string{testHost} }, nil},
		{"report from observer", repSt, repIdx, report, func(s *statement.Statement) { s.From = "OSCE" }, ErrMismatch},
		{"report not to the other party", repSt, repIdx, report, func(s *statement.Statement) { s.To = []string{"OSCE"} }, ErrMismatch},
		{"report refs", repSt, repIdx, report, func(s *statement.Statement) { s.Refs = s.Refs[:2] }, ErrMismatch},
		{"report findings in host log", repSt, repIdx, report, replaceBody(`"findings":"inf-2026/NATO/`, `"findings":"inf-2026/RU/`), ErrMismatch},
		{"report of another request", repSt, repIdx, report, replaceBody(req.Ref.String(), otherRef.String()), ErrMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantErr(t, tt.check(alter(t, tt.st, tt.edit), tt.index), tt.want)
		})
	}
}

func TestCheckFindings(t *testing.T) {
	f := sampleFindings()
	v := &BeaconVerdict{Outcome: BeaconSeeded, Seed: f.Seed}
	chosen := Candidate{Region: f.Region, Site: f.Site, Items: 3}
	wantErr(t, CheckFindings(f, v, chosen), nil)
	wantErr(t, CheckFindings(f, v, Candidate{Region: f.Region, Site: "Baltiysk"}), ErrMismatch)
	wantErr(t, CheckFindings(f, &BeaconVerdict{Outcome: BeaconSeeded, Seed: hashOf("other")}, chosen), ErrMismatch)
	wantErr(t, CheckFindings(f, &BeaconVerdict{Outcome: BeaconRefusedByHost}, chosen), ErrState)
	// Under the forfeit fallback only the decider's reveal is referenced.
	forfeit := &BeaconVerdict{Outcome: BeaconSeeded, Seed: f.Seed, Decider: testHost}
	wantErr(t, CheckFindings(f, forfeit, chosen), ErrMismatch)
	one := *f
	one.Beacon = f.Beacon[1:] // RU's reveal
	wantErr(t, CheckFindings(&one, forfeit, chosen), nil)
	wantErr(t, CheckFindings(&one, v, chosen), ErrMismatch)
	one.Beacon = f.Beacon[:1] // NATO's reveal
	wantErr(t, CheckFindings(&one, forfeit, chosen), ErrMismatch)
}
