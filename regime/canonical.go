package regime

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"
	"unicode/utf16"
)

// The canonical encoding (spec section "Canonical encoding") is the RFC 8785
// (JCS) serialisation of a JSON value built from the parsed regime: every
// setting present, defaults filled in, durations as integer milliseconds,
// parties and types sorted by name, witnesses sorted, schemas as strings
// holding their text verbatim. Only strings, integers, null, arrays and
// objects occur, so JCS reduces to: members sorted by the UTF-16 code units
// of their names, no white space, minimal string escapes.

// obj is a JSON object under construction.
type obj map[string]any

func encodeCanonical(r *Regime) []byte {
	parties := slices.Clone(r.Parties)
	slices.SortFunc(parties, func(a, b Party) int { return compareNames(a.Name, b.Name) })
	var ps []any
	for _, p := range parties {
		ps = append(ps, obj{
			"cosign_key": p.CosignKey,
			"endpoints":  anys(p.Endpoints),
			"log_key":    p.LogKey,
			"name":       p.Name,
			"role":       string(p.Role),
			"tls_key":    p.TLSPin(),
		})
	}
	types := slices.Clone(r.Types)
	slices.SortFunc(types, func(a, b Type) int { return compareNames(a.Name, b.Name) })
	var ts []any
	for _, t := range types {
		o := obj{
			"ack_within":     nil,
			"min_refs":       int64(t.MinRefs),
			"name":           t.Name,
			"notice_before":  nil,
			"notify_within":  nil,
			"precedence":     t.Precedence.String(),
			"receipt_within": ms(t.ReceiptWithin),
			"reply_type":     nil,
			"schema":         t.Schema,
		}
		if t.AckWithin != 0 {
			o["ack_within"], o["reply_type"] = ms(t.AckWithin), t.ReplyType
		}
		if n := t.NoticeBefore; n != nil {
			o["notice_before"] = obj{"at_least": ms(n.AtLeast), "field": n.Field}
		}
		if n := t.NotifyWithin; n != nil {
			o["notify_within"] = obj{"field": n.Field, "within": ms(n.Within)}
		}
		ts = append(ts, o)
	}
	var quorum any = "all"
	if r.WitnessPolicy.Quorum != 0 {
		quorum = int64(r.WitnessPolicy.Quorum)
	}
	doc := obj{
		"clock_tolerance": ms(r.ClockTolerance),
		"heartbeat":       ms(r.Heartbeat),
		"id":              r.ID,
		"inspections":     nil,
		"log_access":      string(r.LogAccess),
		"parties":         ps,
		"previous":        nil,
		"title":           r.Title,
		"types":           ts,
		"version":         r.Version,
		"witness_policy":  obj{"quorum": quorum, "witnesses": anys(r.WitnessPolicy.Witnesses)},
	}
	if r.Previous != nil {
		doc["previous"] = r.Previous.String()
	}
	if in := r.Inspections; in != nil {
		doc["inspections"] = obj{
			"per_host_per_year":      int64(in.PerHostPerYear),
			"per_inspector_per_year": int64(in.PerInspectorPerYear),
		}
	}
	var b bytes.Buffer
	writeJCS(&b, doc)
	return b.Bytes()
}

func ms(d time.Duration) int64 { return d.Milliseconds() }

func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// compareNames orders party and type names bytewise; names are ASCII, so
// this is also the order of their UTF-16 code units.
func compareNames(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// writeJCS writes v as RFC 8785 JSON. v holds only obj, []any, string,
// int64 (within ±2^53) and nil.
func writeJCS(b *bytes.Buffer, v any) {
	switch v := v.(type) {
	case nil:
		b.WriteString("null")
	case string:
		writeJCSString(b, v)
	case int64:
		if v > 1<<53 || v < -(1<<53) {
			panic("regime: integer out of the JCS range")
		}
		b.WriteString(strconv.FormatInt(v, 10))
	case []any:
		b.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJCS(b, e)
		}
		b.WriteByte(']')
	case obj:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, compareUTF16)
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJCSString(b, k)
			b.WriteByte(':')
			writeJCS(b, v[k])
		}
		b.WriteByte('}')
	default:
		panic(fmt.Sprintf("regime: cannot encode %T canonically", v))
	}
}

// compareUTF16 orders strings by their UTF-16 code units (RFC 8785, section
// 3.2.3).
func compareUTF16(a, b string) int {
	return slices.Compare(utf16.Encode([]rune(a)), utf16.Encode([]rune(b)))
}

// writeJCSString writes a string as RFC 8785 (section 3.2.2.2) does: '"',
// '\\' and the control characters escaped, the latter as \b \t \n \f \r or
// \u00xx (lower-case hex), everything else as UTF-8.
func writeJCSString(b *bytes.Buffer, s string) {
	const hex = "0123456789abcdef"
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\b':
			b.WriteString(`\b`)
		case c == '\t':
			b.WriteString(`\t`)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\f':
			b.WriteString(`\f`)
		case c == '\r':
			b.WriteString(`\r`)
		case c < 0x20:
			b.WriteString(`\u00`)
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&0xF])
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
}

// The canonical encoding decoded back into settings, for ParseCanonical.
type canonRegime struct {
	ClockTolerance int64             `json:"clock_tolerance"`
	Heartbeat      int64             `json:"heartbeat"`
	ID             string            `json:"id"`
	Inspections    *fileInspections  `json:"inspections"`
	LogAccess      string            `json:"log_access"`
	Parties        []fileParty       `json:"parties"`
	Previous       *string           `json:"previous"`
	Title          string            `json:"title"`
	Types          []canonType       `json:"types"`
	Version        int64             `json:"version"`
	WitnessPolicy  *canonWitnessRule `json:"witness_policy"`
}

type canonType struct {
	AckWithin     *int64       `json:"ack_within"`
	MinRefs       int64        `json:"min_refs"`
	Name          string       `json:"name"`
	NoticeBefore  *canonNotice `json:"notice_before"`
	NotifyWithin  *canonNotify `json:"notify_within"`
	Precedence    string       `json:"precedence"`
	ReceiptWithin int64        `json:"receipt_within"`
	ReplyType     *string      `json:"reply_type"`
	Schema        string       `json:"schema"`
}

type canonNotice struct {
	AtLeast int64  `json:"at_least"`
	Field   string `json:"field"`
}

type canonNotify struct {
	Field  string `json:"field"`
	Within int64  `json:"within"`
}

type canonWitnessRule struct {
	Quorum    json.RawMessage `json:"quorum"`
	Witnesses []string        `json:"witnesses"`
}

// ParseCanonical parses the canonical encoding of a regime (spec section
// "Canonical encoding"), such as [Regime.Canonical] returns. It accepts
// exactly the canonical encodings of valid regimes: any other bytes, even
// equivalent JSON, are rejected with [ErrSyntax].
func ParseCanonical(b []byte) (*Regime, error) {
	if len(b) > MaxFileSize {
		return nil, &Error{Err: ErrInvalid, Msg: fmt.Sprintf("encoding is %d bytes, more than %d", len(b), MaxFileSize)}
	}
	var c canonRegime
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(&c); err != nil {
		return nil, &Error{Err: ErrSyntax, Msg: "not a canonical regime encoding: " + err.Error()}
	}
	r, err := build(c.file(), nil)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(r.canonical, b) {
		return nil, &Error{Err: ErrSyntax, Msg: "not a canonical regime encoding: the bytes differ from the canonical encoding of the regime they describe"}
	}
	return r, nil
}

// file turns decoded canonical JSON into the settings of a regime file, so
// that both are validated by the same code.
func (c *canonRegime) file() *fileRegime {
	dur := func(n int64) *string { s := strconv.FormatInt(n, 10) + "ms"; return &s }
	logAccess := c.LogAccess
	f := &fileRegime{
		ID: c.ID, Title: c.Title, Version: c.Version, Previous: c.Previous,
		LogAccess:      &logAccess,
		ClockTolerance: dur(c.ClockTolerance),
		Heartbeat:      dur(c.Heartbeat),
		Inspections:    c.Inspections,
		Party:          c.Parties,
	}
	if w := c.WitnessPolicy; w != nil {
		f.WitnessPolicy = &fileWitness{Witnesses: w.Witnesses}
		var q any
		if json.Unmarshal(w.Quorum, &q) == nil {
			if n, ok := q.(float64); ok && n == float64(int64(n)) {
				q = int64(n)
			}
			f.WitnessPolicy.Quorum = q
		}
	}
	for _, ct := range c.Types {
		schema, prec := ct.Schema, ct.Precedence
		t := fileType{
			Name: ct.Name, Schema: &schema, Precedence: &prec,
			ReceiptWithin: dur(ct.ReceiptWithin), ReplyType: ct.ReplyType,
		}
		if ct.MinRefs != 0 {
			t.MinRefs = &ct.MinRefs
		}
		if ct.AckWithin != nil {
			t.AckWithin = dur(*ct.AckWithin)
		}
		if n := ct.NoticeBefore; n != nil {
			t.NoticeBefore = &fileNotice{Field: n.Field, AtLeast: dur(n.AtLeast)}
		}
		if n := ct.NotifyWithin; n != nil {
			t.NotifyWithin = &fileNotify{Field: n.Field, Within: dur(n.Within)}
		}
		f.Type = append(f.Type, t)
	}
	return f
}
