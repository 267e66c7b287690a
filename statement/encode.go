package statement

import (
	"encoding/base64"
	"fmt"
	"strconv"
)

// Encode returns the canonical encoding of s (spec section "Canonical
// encoding"): compact JSON with the fields in the order v, regime, from, to,
// type, precedence, time, refs, body; ref fields in the order log, index,
// hash; and the body with insignificant whitespace removed but otherwise
// byte for byte as given.
//
// Encode checks s as [Parse] would and fails with an [*Error] if it is not a
// valid statement. s.Time may be in any location but must be a whole number
// of milliseconds. Parse(Encode(s)) equals s, except that Time is in UTC and
// Body is compacted.
func Encode(s *Statement) ([]byte, error) {
	if err := check(s); err != nil {
		return nil, err
	}
	b := make([]byte, 0, 160+len(s.Regime)+len(s.From)+len(s.Type)+16*len(s.To)+100*len(s.Refs)+len(s.Body))
	b = append(b, `{"v":1,"regime":`...)
	b = appendString(b, s.Regime)
	b = append(b, `,"from":`...)
	b = appendString(b, s.From)
	b = append(b, `,"to":[`...)
	for i, r := range s.To {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, r)
	}
	b = append(b, `],"type":`...)
	b = appendString(b, s.Type)
	b = append(b, `,"precedence":"`...)
	b = append(b, s.Precedence.String()...)
	b = append(b, `","time":"`...)
	b = s.Time.UTC().AppendFormat(b, timeLayout)
	b = append(b, `","refs":[`...)
	for i, r := range s.Refs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendRef(b, r)
	}
	b = append(b, `],"body":`...)
	b = appendCompact(b, s.Body)
	b = append(b, '}')
	if len(b) > MaxSize {
		return nil, &Error{Offset: -1, Err: ErrTooLarge,
			Msg: fmt.Sprintf("encoding is %d bytes, more than %d", len(b), MaxSize)}
	}
	return b, nil
}

func appendRef(b []byte, r Ref) []byte {
	b = append(b, `{"log":`...)
	b = appendString(b, r.Log)
	b = append(b, `,"index":`...)
	b = strconv.AppendInt(b, r.Index, 10)
	b = append(b, `,"hash":"`...)
	b = base64.StdEncoding.AppendEncode(b, r.Hash[:])
	return append(b, `"}`...)
}

// appendString appends s as a JSON string. s is printable ASCII (a checked
// name or origin), so only '"' and '\' need escaping.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '"' || c == '\\' {
			b = append(b, '\\')
		}
		b = append(b, s[i])
	}
	return append(b, '"')
}

// appendCompact appends the valid JSON value v without insignificant
// whitespace.
func appendCompact(b, v []byte) []byte {
	inString, escaped := false, false
	for _, c := range v {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			continue
		case c == '"':
			inString = true
		}
		b = append(b, c)
	}
	return b
}

// check validates the fields of s, as Parse does for an entry.
func check(s *Statement) error {
	for _, f := range []struct{ path, value string }{
		{"regime", s.Regime}, {"from", s.From}, {"type", s.Type},
	} {
		if msg := checkName(f.value); msg != "" {
			return invalidf(f.path, "%s", msg)
		}
	}
	if err := checkRecipients(s.To); err != nil {
		return err
	}
	if !s.Precedence.Valid() {
		return invalidf("precedence", "invalid precedence %d", uint8(s.Precedence))
	}
	if msg := checkTime(s.Time); msg != "" {
		return invalidf("time", "%s", msg)
	}
	for i, r := range s.Refs {
		if field, msg := r.check(); msg != "" {
			return invalidf(fmt.Sprintf("refs[%d].%s", i, field), "%s", msg)
		}
	}
	return checkBody(s.Body)
}

func checkRecipients(to []string) error {
	if len(to) == 0 {
		return invalidf("to", "must name at least one recipient")
	}
	var names keySet
	for i, r := range to {
		msg := ""
		switch {
		case (r == All && i > 0) || (i == 1 && to[0] == All):
			msg = `"*" (all parties) must be the only recipient`
		case r != All:
			msg = checkName(r)
		}
		if msg == "" && names.add([]byte(r)) {
			msg = fmt.Sprintf("duplicate recipient %q", r)
		}
		if msg != "" {
			return invalidf(fmt.Sprintf("to[%d]", i), "%s", msg)
		}
	}
	return nil
}

// checkBody checks that body is a single JSON object as Parse would accept.
func checkBody(body []byte) error {
	sc := &scanner{b: body}
	sc.pushKey([]byte("body"))
	sc.ws()
	if sc.peek() != '{' {
		if sc.peek() == eof {
			return invalidf("body", "missing (use {} for an empty body)")
		}
		if err := sc.value(0); err != nil {
			return err
		}
		return invalidf("body", "must be an object")
	}
	if err := sc.object(1); err != nil {
		return err
	}
	return sc.end()
}
