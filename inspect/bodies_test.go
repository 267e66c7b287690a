package inspect

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	bodies := map[string]interface{ Encode() ([]byte, error) }{
		TypeRequest: sampleRequest(), TypeReply: sampleReply(), TypeFindings: sampleFindings(), TypeReport: sampleReport(),
		"request any": &Request{Inspector: "US", Host: "RU", Declaration: Ref(fakeRef("RU", 9)), Scope: ScopeAny, Year: 1},
		"refusal":     &Reply{Request: Ref(fakeRef("NATO", 1)), Decision: Refuse, Reason: "force majeure"},
		"no items":    &Findings{Request: Ref(fakeRef("NATO", 0)), Beacon: []Ref{Ref(fakeRef("RU", 1))}, Region: "r", Site: "s", Opening: Ref(fakeRef("RU", 2))},
		"clean":       &Report{Request: Ref(fakeRef("NATO", 0)), Findings: Ref(fakeRef("NATO", 1)), Opening: Ref(fakeRef("RU", 2)), Region: "r", Site: "s"},
	}
	for name, v := range bodies {
		t.Run(name, func(t *testing.T) {
			b, err := v.Encode()
			if err != nil {
				t.Fatal(err)
			}
			var got interface{ Encode() ([]byte, error) }
			switch v.(type) {
			case *Request:
				got, err = ParseRequest(b)
			case *Reply:
				got, err = ParseReply(b)
			case *Findings:
				got, err = ParseFindings(b)
			case *Report:
				got, err = ParseReport(b)
			}
			if err != nil {
				t.Fatalf("parse %s: %v", b, err)
			}
			if !reflect.DeepEqual(got, v) {
				t.Fatalf("round trip: got %+v, want %+v", got, v)
			}
			b2, _ := got.Encode()
			if !bytes.Equal(b, b2) {
				t.Fatalf("re-encoding differs:\n%s\n%s", b, b2)
			}
			// Insignificant whitespace is accepted and dropped by Encode.
			var indented bytes.Buffer
			json.Indent(&indented, b, "", "  ")
			got2, err := parseAny(v, indented.Bytes())
			if err != nil {
				t.Fatalf("indented: %v", err)
			}
			if b3, _ := got2.Encode(); !bytes.Equal(b, b3) {
				t.Fatalf("indented round trip differs")
			}
		})
	}
}

func parseAny(like any, b []byte) (interface{ Encode() ([]byte, error) }, error) {
	switch like.(type) {
	case *Request:
		return ParseRequest(b)
	case *Reply:
		return ParseReply(b)
	case *Findings:
		return ParseFindings(b)
	default:
		return ParseReport(b)
	}
}

func TestCanonicalEncodings(t *testing.T) {
	req, _ := sampleRequest().Encode()
	want := `{"inspector":"NATO","host":"RU","declaration":"inf-2026/RU/0#` + fakeRef("RU", 0).String()[len("inf-2026/RU/0#"):] +
		`","scope":"region","region":"Kaliningrad","year":2026,"reason":"Vienna Document \u003cevaluation\u003e \u0026 check"}`
	if string(req) != want {
		t.Fatalf("request encoding:\n got %s\nwant %s", req, want)
	}
}

type parseCase struct {
	name  string
	body  string // with "$REQ" etc. replaced
	field string // expected ParseError.Field
	err   error
}

func runParseCases(t *testing.T, parse func([]byte) error, cases []parseCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := parse([]byte(c.body))
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("got %v, want a *ParseError", err)
			}
			if !errors.Is(err, c.err) {
				t.Fatalf("got %v, want %v", err, c.err)
			}
			if pe.Field != c.field {
				t.Fatalf("got field %q (%v), want %q", pe.Field, err, c.field)
			}
		})
	}
}

func TestParseRequestErrors(t *testing.T) {
	valid, _ := sampleRequest().Encode()
	v := string(valid)
	r := func(old, new string) string { return strings.Replace(v, old, new, 1) }
	runParseCases(t, func(b []byte) error { _, err := ParseRequest(b); return err }, []parseCase{
		{"unknown field", r(`"year":2026`, `"year":2026,"extra":1`), "extra", ErrMalformed},
		{"unknown field case", r(`"host"`, `"Host"`), "Host", ErrMalformed},
		{"duplicate", r(`"year":2026`, `"year":2026,"year":2026`), "year", ErrMalformed},
		{"missing host", r(`"host":"RU",`, ``), "host", ErrMalformed},
		{"order", r(`"inspector":"NATO","host":"RU"`, `"host":"RU","inspector":"NATO"`), "inspector", ErrMalformed},
		{"null", r(`"year":2026`, `"year":null`), "year", ErrMalformed},
		{"year string", r(`"year":2026`, `"year":"2026"`), "year", ErrMalformed},
		{"year float", r(`"year":2026`, `"year":2026.0`), "year", ErrMalformed},
		{"year exp", r(`"year":2026`, `"year":2.026e3`), "year", ErrMalformed},
		{"year negative", r(`"year":2026`, `"year":-1`), "year", ErrMalformed},
		{"year leading zero", r(`"year":2026`, `"year":02026`), "", ErrMalformed},
		{"year zero", r(`"year":2026`, `"year":0`), "year", ErrInvalid},
		{"year huge", r(`"year":2026`, `"year":99999999999999999999`), "year", ErrInvalid},
		{"year 10000", r(`"year":2026`, `"year":10000`), "year", ErrInvalid},
		{"empty reason present", r(`"reason":"Vienna Document \u003cevaluation\u003e \u0026 check"`, `"reason":""`), "reason", ErrMalformed},
		{"bad inspector", r(`"inspector":"NATO"`, `"inspector":"NA TO"`), "inspector", ErrInvalid},
		{"self inspection", r(`"inspector":"NATO"`, `"inspector":"RU"`), "host", ErrInvalid},
		{"bad ref", r(`"declaration":"inf-2026/RU/0#`, `"declaration":"inf-2026/RU/x#`), "declaration", ErrInvalid},
		{"bad scope", r(`"scope":"region"`, `"scope":"site"`), "scope", ErrInvalid},
		{"region with any", r(`"scope":"region"`, `"scope":"any"`), "region", ErrInvalid},
		{"bad region", r(`"region":"Kaliningrad"`, `"region":" Kaliningrad"`), "region", ErrInvalid},
		{"control in reason", r(`check"`, `check\n"`), "reason", ErrInvalid},
		{"not canonical escape", r(`"NATO"`, `"N\u0041TO"`), "", ErrMalformed},
		{"not canonical html", r(`\u003cevaluation`, `<evaluation`), "", ErrMalformed},
		{"trailing data", v + "{}", "", ErrMalformed},
		{"not an object", `[]`, "", ErrMalformed},
		{"truncated", v[:len(v)-3], "reason", ErrMalformed},
		{"invalid utf8", r(`check`, "check\xff"), "", ErrMalformed},
		{"empty", ``, "", ErrMalformed},
	})
}

func TestParseRegionScopeMissingRegion(t *testing.T) {
	r := sampleRequest()
	r.Region = ""
	_, err := r.Encode()
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Field != "region" || !errors.Is(err, ErrInvalid) {
		t.Fatalf("got %v", err)
	}
}

func TestParseReplyErrors(t *testing.T) {
	valid, _ := (&Reply{Request: Ref(fakeRef("NATO", 0)), Decision: Refuse, Reason: "no"}).Encode()
	v := string(valid)
	r := func(old, new string) string { return strings.Replace(v, old, new, 1) }
	runParseCases(t, func(b []byte) error { _, err := ParseReply(b); return err }, []parseCase{
		{"refusal without reason", r(`,"reason":"no"`, ``), "reason", ErrInvalid},
		{"bad decision", r(`"refuse"`, `"maybe"`), "decision", ErrInvalid},
		{"decision case", r(`"refuse"`, `"Refuse"`), "decision", ErrInvalid},
		{"missing request", r(`"request":"`+fakeRef("NATO", 0).String()+`",`, ``), "request", ErrMalformed},
		{"request number", r(`"`+fakeRef("NATO", 0).String()+`"`, `7`), "request", ErrMalformed},
		{"hash not canonical", r(`=","decision"`, `","decision"`), "request", ErrInvalid},
	})
}

func TestParseFindingsErrors(t *testing.T) {
	valid, _ := sampleFindings().Encode()
	v := string(valid)
	r := func(old, new string) string { return strings.Replace(v, old, new, 1) }
	runParseCases(t, func(b []byte) error { _, err := ParseFindings(b); return err }, []parseCase{
		{"items out of order", r(`{"id":"L-0002","category":"9M729.launcher"},{"id":"M-0001","category":"9M729.missile"}`,
			`{"id":"M-0001","category":"9M729.missile"},{"id":"L-0002","category":"9M729.launcher"}`), "items[1].id", ErrInvalid},
		{"duplicate id", r(`"M-0001"`, `"L-0002"`), "items[1].id", ErrInvalid},
		{"item unknown field", r(`"category":"9M729.missile"`, `"category":"9M729.missile","attrs":{}`), "items[1].attrs", ErrMalformed},
		{"item missing category", r(`,"category":"9M729.missile"`, ``), "items[1].category", ErrMalformed},
		{"empty category", r(`"category":"9M729.missile"`, `"category":""`), "items[1].category", ErrInvalid},
		{"empty items", r(v[strings.Index(v, `,"items"`):len(v)-1], `,"items":[]`), "items", ErrMalformed},
		{"null items", r(v[strings.Index(v, `,"items"`):len(v)-1], `,"items":null`), "items", ErrMalformed},
		{"bad seed", r(`"seed":"`, `"seed":"x`), "seed", ErrInvalid},
		{"no beacon", r(v[strings.Index(v, `"beacon":[`):strings.Index(v, `,"region"`)], `"beacon":[]`), "beacon", ErrInvalid},
		{"same beacon twice", r(fakeRef("RU", 5).String(), fakeRef("NATO", 2).String()), "beacon[1]", ErrInvalid},
		{"beacon not array", r(`"beacon":[`, `"beacon":{"a":[`), "beacon", ErrMalformed},
	})
}

func TestParseReportErrors(t *testing.T) {
	valid, _ := sampleReport().Encode()
	v := string(valid)
	r := func(old, new string) string { return strings.Replace(v, old, new, 1) }
	runParseCases(t, func(b []byte) error { _, err := ParseReport(b); return err }, []parseCase{
		{"undeclared with declared", r(`"kind":"undeclared","id":"M-0099"`, `"kind":"undeclared","id":"M-0099","declared":"x"`), "items[2]", ErrInvalid},
		{"missing with observed", r(`"kind":"missing","id":"M-0003","declared":"9M729.missile"`, `"kind":"missing","id":"M-0003","declared":"9M729.missile","observed":"x"`), "items[1]", ErrInvalid},
		{"category same", r(`"declared":"9M729.launcher","observed":"9M729.missile"`, `"declared":"9M729.missile","observed":"9M729.missile"`), "items[0]", ErrInvalid},
		{"bad kind", r(`"kind":"missing"`, `"kind":"lost"`), "items[1].kind", ErrInvalid},
		{"items order", r(`"id":"M-0099"`, `"id":"A-0099"`), "items[2].id", ErrInvalid},
		{"counts equal", r(`"declared":2,"observed":4`, `"declared":2,"observed":2`), "counts[1].observed", ErrInvalid},
		{"counts order", r(`"category":"9M729.missile","declared":2`, `"category":"0","declared":2`), "counts[1].category", ErrInvalid},
		{"count negative", r(`"declared":2,`, `"declared":-2,`), "counts[1].declared", ErrMalformed},
		{"count missing", r(`"declared":2,`, ``), "counts[1].declared", ErrMalformed},
	})
}

func TestReportCountZero(t *testing.T) {
	// A declared or observed count of 0 is written, not omitted.
	r := sampleReport()
	b, _ := r.Encode()
	if !strings.Contains(string(b), `"observed":0`) {
		t.Fatalf("zero count omitted: %s", b)
	}
}

func TestParseErrorMessage(t *testing.T) {
	_, err := ParseRequest([]byte(`{"inspector":"NATO","hots":"RU"}`))
	if got, want := err.Error(), `inspection.request body: hots: unknown field: inspect: malformed body (at byte 20)`; got != want {
		t.Fatalf("got %q\nwant %q", got, want)
	}
}

// TestNamesAgree checks this package's name rules against the statement and
// escrow packages', which they restate.
func TestNamesAgree(t *testing.T) {
	for _, s := range []string{"", "RU", "NATO", "a.b_c-d", ".", "..", "a b", "é", strings.Repeat("x", 64), strings.Repeat("x", 65), "a/b", "a\x00"} {
		if got, want := checkParty(s) == "", statementValidName(s); got != want {
			t.Errorf("party %q: valid %v, statement says %v", s, got, want)
		}
	}
	for _, s := range []string{"", "x", " x", "x ", "a b", "\u00a0", "é", "\ufffd", "\xff", "a\tb", strings.Repeat("x", 128), strings.Repeat("x", 129), "日本"} {
		if got, want := checkName(s) == "", escrowValidName(s); got != want {
			t.Errorf("name %q: valid %v, escrow says %v", s, got, want)
		}
	}
}
