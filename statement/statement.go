// Package statement implements the tillit statement format v1, specified in
// docs/spec/statement.md: one entry of a party's transparency log, a JSON
// object saying who (from) tells whom (to) what (type, body) under which
// treaty (regime), how urgently (precedence), when (time), and in reply to
// which earlier entries (refs).
//
// Guarantees:
//
//   - [Parse] accepts exactly the entries the spec allows and rejects
//     everything else with an [*Error] that names the field and wraps
//     [ErrTooLarge], [ErrSyntax] or [ErrInvalid]. It is strict: valid UTF-8,
//     no surrogates or noncharacters, no duplicate keys at any depth, no
//     unknown fields, nothing after the object.
//   - The bytes are the statement. Parse keeps a copy of its input
//     ([Statement.Raw]) and nothing is ever re-serialised: the leaf hash
//     ([Statement.LeafHash]) is the RFC 6962 hash of those exact bytes.
//   - [Encode] writes the canonical encoding, which Parse accepts, and
//     Encode(Parse(Encode(s))) equals Encode(s). Parse also accepts
//     non-canonical encodings (other field order or whitespace): producers
//     SHOULD encode canonically, and [Statement.IsCanonical] checks.
//
// Limits: an entry is at most [MaxSize] (65,535) bytes, the most a
// tlog-tiles entry bundle can hold; the body nests at most [MaxDepth] (64)
// levels. Parse needs time and memory linear in the entry size.
//
// The package checks the format only. Whether the regime exists, the parties
// belong to it, the type is known, the body matches the type's schema and the
// time is plausible is for the regime to check.
package statement

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"time"
)

// Format constants (spec sections "Fields" and "Limits").
const (
	// Version is the value of the "v" field in this format.
	Version = 1
	// MaxSize is the maximum size of an entry in bytes, the largest length
	// a tlog-tiles entry bundle can encode (a uint16).
	MaxSize = 65535
	// MaxDepth is the maximum nesting depth of the body, which is itself at
	// depth 1.
	MaxDepth = 64
	// All, as the only recipient, addresses every party of the regime.
	All = "*"
)

// A Statement is one log entry (spec section "Fields").
//
// A Statement returned by [Parse] holds the bytes it was parsed from, which
// [Statement.Raw] and [Statement.LeafHash] use; changing its fields does not
// change them. To make a new statement, fill in the fields and call [Encode],
// then store the bytes, or Parse them to get the leaf hash.
type Statement struct {
	Regime     string     // name of the regime (treaty)
	From       string     // sending party, whose log holds the entry
	To         []string   // recipient parties, or exactly [All]
	Type       string     // statement type, like "launch.notice"
	Precedence Precedence // urgency
	Time       time.Time  // when the sender made the statement, UTC, whole milliseconds
	Refs       []Ref      // earlier statements this one refers to, or nil
	Body       json.RawMessage

	raw  []byte
	leaf [32]byte // SHA-256(0x00 || raw), computed by Parse
}

// Raw returns the exact bytes s was parsed from, or nil if s was not returned
// by [Parse]. The caller must not modify them.
func (s *Statement) Raw() []byte { return s.raw }

// LeafHash returns the RFC 6962 leaf hash of the entry, SHA-256(0x00 ||
// Raw()) (spec section "Hashing"). It panics if s was not returned by
// [Parse].
func (s *Statement) LeafHash() [32]byte {
	if s.raw == nil {
		panic("statement: LeafHash of a Statement not returned by Parse")
	}
	return s.leaf
}

// Origin returns the origin of the sender's log, "<regime>/<from>".
func (s *Statement) Origin() string { return s.Regime + "/" + s.From }

// Ref returns a reference to s, stored at index in the sender's log. It
// panics if s was not returned by [Parse].
func (s *Statement) Ref(index int64) Ref {
	return Ref{Log: s.Origin(), Index: index, Hash: s.LeafHash()}
}

// AddressedTo reports whether party is a recipient of s, either by name or
// because s is addressed to [All].
func (s *Statement) AddressedTo(party string) bool {
	for _, r := range s.To {
		if r == party || r == All {
			return true
		}
	}
	return false
}

// IsCanonical reports whether s was parsed from its canonical encoding, that
// is, whether Raw() equals Encode(s) (spec section "Canonical encoding").
func (s *Statement) IsCanonical() bool {
	if s.raw == nil {
		return false
	}
	b, err := Encode(s)
	return err == nil && bytes.Equal(b, s.raw)
}

// Parse parses and validates one log entry (spec sections "Encoding",
// "Fields" and "Limits"). The returned Statement keeps a copy of b.
func Parse(b []byte) (*Statement, error) {
	if len(b) > MaxSize {
		return nil, &Error{Offset: -1, Err: ErrTooLarge,
			Msg: fmt.Sprintf("entry is %d bytes, more than %d", len(b), MaxSize)}
	}
	st := &Statement{raw: append(make([]byte, 0, len(b)), b...)}
	p := &parser{scanner: scanner{b: st.raw}, st: st}
	p.path = p.pathBuf[:0]
	if err := p.parse(); err != nil {
		return nil, err
	}
	h := sha256.New()
	h.Write([]byte{0x00})
	h.Write(st.raw)
	h.Sum(st.leaf[:0])
	return st, nil
}

// fields, in canonical order.
var fieldNames = [...]string{"v", "regime", "from", "to", "type", "precedence", "time", "refs", "body"}

const (
	fieldV = iota
	fieldRegime
	fieldFrom
	fieldTo
	fieldType
	fieldPrecedence
	fieldTime
	fieldRefs
	fieldBody
)

type parser struct {
	scanner
	st      *Statement
	pathBuf [8]seg
}

func (p *parser) parse() error {
	p.ws()
	switch c := p.peek(); {
	case c == '[' || c == '"' || c == 't' || c == 'f' || c == 'n' || c == '-' || isDigit(c):
		return p.invalidf("entry must be a JSON object")
	}
	var seen uint16
	err := p.members(func(k []byte) error {
		f := fieldIndex(fieldNames[:], k)
		switch {
		case f < 0:
			return p.invalidf("unknown field")
		case seen&(1<<f) != 0:
			return p.duplicateKey()
		}
		seen |= 1 << f
		return p.field(f)
	})
	if err != nil {
		return err
	}
	if err := p.end(); err != nil {
		return err
	}
	return p.missing(fieldNames[:], uint(seen))
}

func fieldIndex(names []string, k []byte) int {
	for i, n := range names {
		if string(k) == n {
			return i
		}
	}
	return -1
}

// missing reports the first of names whose bit is not set in seen.
func (p *parser) missing(names []string, seen uint) error {
	for i, n := range names {
		if seen&(1<<i) == 0 {
			return p.invalidf("missing field %q", n)
		}
	}
	return nil
}

func (p *parser) field(f int) error {
	var err error
	st := p.st
	switch f {
	case fieldV:
		err = p.version()
	case fieldRegime:
		st.Regime, err = p.name()
	case fieldFrom:
		st.From, err = p.name()
	case fieldTo:
		err = p.recipients()
	case fieldType:
		st.Type, err = p.name()
	case fieldPrecedence:
		err = p.precedence()
	case fieldTime:
		err = p.timeValue()
	case fieldRefs:
		err = p.refs()
	case fieldBody:
		err = p.body()
	}
	return err
}

func (p *parser) version() error {
	if c := p.peek(); c != '-' && !isDigit(c) {
		return p.invalidf("must be the number 1")
	}
	n, err := p.num()
	if err != nil {
		return err
	}
	if string(n) == "1" {
		return nil
	}
	if _, msg := parseIndex(string(n)); msg == "" {
		return p.invalidf("unsupported version %s (want 1)", truncate(string(n)))
	}
	return p.invalidf("must be the integer 1, not %s", truncate(string(n)))
}

// string scans a string value.
func (p *parser) stringValue() ([]byte, error) {
	if p.peek() != '"' {
		return nil, p.invalidf("must be a string")
	}
	return p.str()
}

func (p *parser) name() (string, error) {
	b, err := p.stringValue()
	if err != nil {
		return "", err
	}
	s := string(b)
	if msg := checkName(s); msg != "" {
		return "", p.invalidf("%s", msg)
	}
	return s, nil
}

func (p *parser) recipients() error {
	if p.peek() != '[' {
		return p.invalidf("must be an array of party names")
	}
	var names keySet
	err := p.elements(func(i int) error {
		b, err := p.stringValue()
		if err != nil {
			return err
		}
		r := string(b)
		switch {
		case (r == All && i > 0) || (i == 1 && p.st.To[0] == All):
			return p.invalidf(`"*" (all parties) must be the only recipient`)
		case r == All:
		default:
			if msg := checkName(r); msg != "" {
				return p.invalidf("%s", msg)
			}
		}
		if names.add(b) {
			return p.invalidf("duplicate recipient %q", r)
		}
		p.st.To = append(p.st.To, r)
		return nil
	})
	if err == nil && len(p.st.To) == 0 {
		return p.invalidf("must name at least one recipient")
	}
	return err
}

func (p *parser) precedence() error {
	b, err := p.stringValue()
	if err != nil {
		return err
	}
	prec, err := ParsePrecedence(string(b))
	if err != nil {
		return p.invalidf("%s", err.(*Error).Msg)
	}
	p.st.Precedence = prec
	return nil
}

func (p *parser) timeValue() error {
	b, err := p.stringValue()
	if err != nil {
		return err
	}
	t, msg := parseTime(string(b))
	if msg != "" {
		return p.invalidf("%s", msg)
	}
	p.st.Time = t
	return nil
}

func (p *parser) body() error {
	if p.peek() != '{' {
		return p.invalidf("must be an object")
	}
	start := p.i
	if err := p.object(1); err != nil {
		return err
	}
	p.st.Body = json.RawMessage(p.b[start:p.i:p.i])
	return nil
}

var refFieldNames = [...]string{"log", "index", "hash"}

func (p *parser) refs() error {
	if p.peek() != '[' {
		return p.invalidf("must be an array of references")
	}
	return p.elements(func(int) error {
		r, err := p.ref()
		p.st.Refs = append(p.st.Refs, r)
		return err
	})
}

func (p *parser) ref() (Ref, error) {
	var r Ref
	if p.peek() != '{' {
		return r, p.invalidf("must be an object")
	}
	var seen uint
	err := p.members(func(k []byte) error {
		f := fieldIndex(refFieldNames[:], k)
		switch {
		case f < 0:
			return p.invalidf("unknown field")
		case seen&(1<<f) != 0:
			return p.duplicateKey()
		}
		seen |= 1 << f
		return p.refField(&r, f)
	})
	if err != nil {
		return r, err
	}
	return r, p.missing(refFieldNames[:], seen)
}

func (p *parser) refField(r *Ref, f int) error {
	var msg string
	switch f {
	case 0:
		b, err := p.stringValue()
		if err != nil {
			return err
		}
		r.Log = string(b)
		msg = checkOrigin(r.Log)
	case 1:
		if c := p.peek(); c != '-' && !isDigit(c) {
			return p.invalidf("must be a non-negative integer")
		}
		n, err := p.num()
		if err != nil {
			return err
		}
		r.Index, msg = parseIndex(string(n))
	case 2:
		b, err := p.stringValue()
		if err != nil {
			return err
		}
		r.Hash, msg = decodeHash(string(b))
	}
	if msg != "" {
		return p.invalidf("%s", msg)
	}
	return nil
}
