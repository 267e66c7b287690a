package statement

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// checkRoundTrip checks the canonical encoding properties for a parsed s:
// Encode succeeds, its output parses to an equal Statement that is canonical,
// Encode is idempotent, and the canonical form is never longer than the input.
func checkRoundTrip(t testing.TB, s *Statement) {
	t.Helper()
	enc, err := Encode(s)
	if err != nil {
		t.Fatalf("Encode(Parse(b)): %v", err)
	}
	s2, err := Parse(enc)
	if err != nil {
		t.Fatalf("Parse(Encode(Parse(b))): %v\n%s", err, enc)
	}
	if d := diff(s, s2); d != "" {
		t.Fatalf("Parse(Encode(s)) differs from s: %s", d)
	}
	if !s2.IsCanonical() {
		t.Fatalf("Encode output is not canonical:\n%s", enc)
	}
	enc2, err := Encode(s2)
	if err != nil {
		t.Fatalf("Encode(Parse(Encode(s))): %v", err)
	}
	if !bytes.Equal(enc, enc2) {
		t.Fatalf("Encode is not idempotent:\n%s\n%s", enc, enc2)
	}
	if len(enc) > len(s.Raw()) {
		t.Fatalf("canonical encoding is %d bytes, longer than the %d input bytes", len(enc), len(s.Raw()))
	}
}

// diff describes how a and b differ, ignoring whitespace in Body.
func diff(a, b *Statement) string {
	switch {
	case a.Regime != b.Regime:
		return fmt.Sprintf("Regime %q != %q", a.Regime, b.Regime)
	case a.From != b.From:
		return fmt.Sprintf("From %q != %q", a.From, b.From)
	case !slices.Equal(a.To, b.To):
		return fmt.Sprintf("To %q != %q", a.To, b.To)
	case a.Type != b.Type:
		return fmt.Sprintf("Type %q != %q", a.Type, b.Type)
	case a.Precedence != b.Precedence:
		return fmt.Sprintf("Precedence %v != %v", a.Precedence, b.Precedence)
	case !a.Time.Equal(b.Time) || b.Time.Location() != time.UTC:
		return fmt.Sprintf("Time %v != %v", a.Time, b.Time)
	case !slices.Equal(a.Refs, b.Refs):
		return fmt.Sprintf("Refs %v != %v", a.Refs, b.Refs)
	case !bytes.Equal(appendCompact(nil, a.Body), appendCompact(nil, b.Body)):
		return fmt.Sprintf("Body %s != %s", a.Body, b.Body)
	}
	return ""
}

func example() *Statement {
	return &Statement{
		Regime:     "nato-russia-2022",
		From:       "RU",
		To:         []string{"NATO", "US"},
		Type:       "launch.notice",
		Precedence: Priority,
		Time:       time.Date(2022, 1, 12, 9, 30, 0, 0, time.UTC),
		Body:       json.RawMessage(`{"vehicle": "ICBM"}`),
	}
}

func TestEncode(t *testing.T) {
	b, err := Encode(example())
	if err != nil {
		t.Fatal(err)
	}
	want := `{"v":1,"regime":"nato-russia-2022","from":"RU","to":["NATO","US"],"type":"launch.notice",` +
		`"precedence":"PRIORITY","time":"2022-01-12T09:30:00.000Z","refs":[],"body":{"vehicle":"ICBM"}}`
	if string(b) != want {
		t.Errorf("Encode =\n%s\nwant\n%s", b, want)
	}
	s, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	checkRoundTrip(t, s)
}

func TestEncodeTimeZone(t *testing.T) {
	s := example()
	s.Time = time.Date(2022, 1, 12, 12, 30, 0, 5e6, time.FixedZone("MSK", 3*3600))
	b, err := Encode(s)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(`"time":"2022-01-12T09:30:00.005Z"`)) {
		t.Errorf("time not converted to UTC: %s", b)
	}
}

func TestEncodeErrors(t *testing.T) {
	for _, tt := range []struct {
		name   string
		modify func(s *Statement)
		kind   error
		want   string
	}{
		{"regime", func(s *Statement) { s.Regime = "" }, ErrInvalid, "statement: regime: name is empty"},
		{"from", func(s *Statement) { s.From = "R U" }, ErrInvalid, "statement: from: invalid character ' ' in name (allowed: A-Z a-z 0-9 . _ -)"},
		{"type", func(s *Statement) { s.Type = strings.Repeat("t", 65) }, ErrInvalid, "statement: type: name is 65 bytes, more than 64"},
		{"to nil", func(s *Statement) { s.To = nil }, ErrInvalid, "statement: to: must name at least one recipient"},
		{"to star", func(s *Statement) { s.To = []string{"*", "US"} }, ErrInvalid, `statement: to[1]: "*" (all parties) must be the only recipient`},
		{"to dup", func(s *Statement) { s.To = []string{"US", "US"} }, ErrInvalid, `statement: to[1]: duplicate recipient "US"`},
		{"precedence", func(s *Statement) { s.Precedence = 0 }, ErrInvalid, "statement: precedence: invalid precedence 0"},
		{"time ns", func(s *Statement) { s.Time = s.Time.Add(time.Microsecond) }, ErrInvalid,
			"statement: time: not a whole number of milliseconds (use Truncate(time.Millisecond))"},
		{"time year", func(s *Statement) { s.Time = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }, ErrInvalid,
			"statement: time: year 10000 is outside 0000 to 9999"},
		{"ref log", func(s *Statement) { s.Refs = []Ref{{Log: "a/b"}, {Log: "a b"}} }, ErrInvalid,
			"statement: refs[1].log: invalid character ' ' in origin (allowed: printable ASCII except space)"},
		{"ref index", func(s *Statement) { s.Refs = []Ref{{Log: "a/b", Index: -1}} }, ErrInvalid,
			"statement: refs[0].index: must be a non-negative integer"},
		{"body nil", func(s *Statement) { s.Body = nil }, ErrInvalid, "statement: body: missing (use {} for an empty body)"},
		{"body array", func(s *Statement) { s.Body = json.RawMessage(`[]`) }, ErrInvalid, "statement: body: must be an object"},
		{"body dup", func(s *Statement) { s.Body = json.RawMessage(`{"a":{"x":1,"x":2}}`) }, ErrSyntax,
			"statement: body.a.x: duplicate key at offset 12"},
		{"body two values", func(s *Statement) { s.Body = json.RawMessage(`{} {}`) }, ErrSyntax,
			"statement: body: invalid character '{' after top-level value at offset 3"},
		{"body syntax", func(s *Statement) { s.Body = json.RawMessage(`{"a":}`) }, ErrSyntax,
			"statement: body.a: invalid character '}' looking for beginning of value at offset 5"},
		{"body deep", func(s *Statement) { s.Body = json.RawMessage(strings.Repeat("[", 64) + strings.Repeat("]", 64)) }, ErrInvalid,
			"statement: body: must be an object"},
		{"too large", func(s *Statement) { s.Body = json.RawMessage(`{"x":"` + strings.Repeat("x", MaxSize) + `"}`) }, ErrTooLarge,
			"statement: encoding is 65708 bytes, more than 65535"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := example()
			tt.modify(s)
			b, err := Encode(s)
			if err == nil {
				t.Fatalf("Encode succeeded: %s", b)
			}
			if err.Error() != tt.want {
				t.Errorf("error\n got %v\nwant %s", err, tt.want)
			}
			if !errors.Is(err, tt.kind) {
				t.Errorf("error is not %v", tt.kind)
			}
		})
	}
}

func TestParseCopiesInput(t *testing.T) {
	b, err := Encode(example())
	if err != nil {
		t.Fatal(err)
	}
	in := bytes.Clone(b)
	s, err := Parse(in)
	if err != nil {
		t.Fatal(err)
	}
	clear(in)
	if !bytes.Equal(s.Raw(), b) || string(s.Body) != `{"vehicle":"ICBM"}` {
		t.Errorf("Statement aliases the input of Parse")
	}
}

func TestErrorPaths(t *testing.T) {
	base, err := Encode(example())
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ body, want string }{
		{`{"a b":{"c":[0,1,{"d":1,"d":2}]}}`, `body["a b"].c[2].d: duplicate key`},
		{`{"x.y":[{"":"\ud800"}]}`, `body["x.y"][0][""]: lone surrogate \uD800 in string`},
		{`{"ключ":"\uFDD0"}`, `body["ключ"]: noncharacter U+FDD0 in string`},
		{`{"a":"\ud83d\u0041"}`, `body.a: lone surrogate \uD83D in string`},
		{`{"a":"\ud83d\udfff\udbff\udfff"}`, `body.a: noncharacter U+10FFFF in string`},
		{`{"a":tru}`, `body.a: invalid character '}' in literal true`},
		{`{"a":"\u12"}`, `body.a: invalid character '"' in \u hexadecimal character escape`},
		{`{"a":1 "b":2}`, `body: invalid character '"' after object key:value pair`},
		{`{"a":[1 2]}`, `body.a: invalid character '2' after array element`},
		{`{"a" 1}`, `body: invalid character '1' after object key`},
		{`{"a":-}`, `body.a: invalid character '}' in numeric literal`},
		{`{"a":1e}`, `body.a: invalid character '}' in exponent of numeric literal`},
		{`{"a":"x`, `body.a: unterminated string`},
	} {
		in := bytes.Replace(base, []byte(`{"vehicle":"ICBM"}`), []byte(tt.body), 1)
		_, err := Parse(in)
		if err == nil || !strings.HasPrefix(err.Error(), "statement: "+tt.want) {
			t.Errorf("Parse(%s):\n got %v\nwant %s", tt.body, err, tt.want)
		}
	}
}

// TestManyKeys exercises the map used for duplicate detection in objects and
// recipient lists with many members.
func TestManyKeys(t *testing.T) {
	s := example()
	var body, dup strings.Builder
	body.WriteString("{")
	for i := range 100 {
		fmt.Fprintf(&body, `"k%d":%d,`, i, i)
		s.To = append(s.To, fmt.Sprintf("P%d", i))
	}
	dup.WriteString(body.String())
	body.WriteString(`"last":0}`)
	dup.WriteString(`"k57":0}`)

	s.Body = json.RawMessage(body.String())
	if _, err := Encode(s); err != nil {
		t.Errorf("100 keys: %v", err)
	}
	s.Body = json.RawMessage(dup.String())
	if _, err := Encode(s); err == nil || !strings.Contains(err.Error(), "body.k57: duplicate key") {
		t.Errorf("duplicate of key 57: %v", err)
	}
	s.Body = json.RawMessage(`{}`)
	s.To = append(s.To, "P42")
	if _, err := Encode(s); err == nil || !strings.Contains(err.Error(), `to[102]: duplicate recipient "P42"`) {
		t.Errorf("duplicate recipient P42: %v", err)
	}
}

func TestAddressedTo(t *testing.T) {
	for _, tt := range []struct {
		to    []string
		party string
		want  bool
	}{
		{[]string{"NATO", "US"}, "US", true},
		{[]string{"NATO", "US"}, "RU", false},
		{[]string{"NATO"}, "nato", false},
		{[]string{All}, "RU", true},
		{[]string{All}, "OSCE", true},
	} {
		s := &Statement{To: tt.to}
		if got := s.AddressedTo(tt.party); got != tt.want {
			t.Errorf("To %q: AddressedTo(%q) = %v, want %v", tt.to, tt.party, got, tt.want)
		}
	}
}

func TestStatementRef(t *testing.T) {
	b, err := Encode(example())
	if err != nil {
		t.Fatal(err)
	}
	s, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Origin(); got != "nato-russia-2022/RU" {
		t.Errorf("Origin() = %q", got)
	}
	r := s.Ref(41)
	if r.Log != "nato-russia-2022/RU" || r.Index != 41 || r.Hash != s.LeafHash() {
		t.Errorf("Ref(41) = %+v", r)
	}
}

func TestLeafHashPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("LeafHash of a built Statement did not panic")
		}
	}()
	example().LeafHash()
}

func TestIsCanonicalBuilt(t *testing.T) {
	if example().IsCanonical() {
		t.Error("IsCanonical() is true for a Statement not returned by Parse")
	}
}
