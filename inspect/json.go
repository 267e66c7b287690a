package inspect

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/tillit/tillit/internal/jsonpos"
	"github.com/tillit/tillit/statement"
)

// This file implements spec §JSON encoding: every body has exactly one
// accepted encoding, the one encoding/json's Marshal produces, up to
// insignificant whitespace, and parsers name the field that breaks a rule.

// MaxBodySize is the largest body a parser accepts: a body is part of a
// statement, which is at most statement.MaxSize bytes.
const MaxBodySize = statement.MaxSize

// A Ref is a reference to a logged statement. In JSON it is the reference's
// text form (statement spec §Reference text form),
// "<origin>/<index>#<base64 leaf hash>". Convert with statement.Ref(r) and
// Ref(sr).
type Ref statement.Ref

// String returns the text form of r.
func (r Ref) String() string { return statement.Ref(r).String() }

// MarshalText returns the text form of r.
func (r Ref) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText parses the text form of a reference.
func (r *Ref) UnmarshalText(b []byte) error {
	sr, err := statement.ParseRef(string(b))
	if err != nil {
		var se *statement.Error
		if errors.As(err, &se) {
			return fmt.Errorf("%s: %w", se.Msg, ErrInvalid)
		}
		return fmt.Errorf("%v: %w", err, ErrInvalid)
	}
	*r = Ref(sr)
	return nil
}

// refField checks that r is a valid, non-zero reference.
func refField(field string, r Ref) error {
	if r.Log == "" {
		return invalid(field, "missing reference")
	}
	back, err := statement.ParseRef(r.String())
	if err != nil || Ref(back) != r {
		return invalid(field, "reference %q is not valid", truncate(r.String()))
	}
	return nil
}

// A body is a statement body this package defines.
type body interface {
	validate() error
}

// parseBody decodes data into a new T (spec §JSON encoding): well-formed
// UTF-8 JSON whose shape matches T exactly, whose values pass T's
// validation, and whose encoding is canonical once insignificant whitespace
// is removed.
func parseBody[T any, PT interface {
	*T
	body
}](data []byte, what string) (*T, error) {
	fail := func(field string, off int, err error) (*T, error) {
		return nil, &ParseError{Body: what, Field: field, Offset: off, Err: err}
	}
	if len(data) > MaxBodySize {
		return fail("", -1, fmt.Errorf("%d bytes, more than %d: %w", len(data), MaxBodySize, ErrMalformed))
	}
	if !utf8.Valid(data) {
		return fail("", jsonpos.InvalidUTF8(data), fmt.Errorf("invalid UTF-8: %w", ErrMalformed))
	}
	if err := checkShape(data, reflect.TypeFor[T]()); err != nil {
		var pe *ParseError
		if errors.As(err, &pe) {
			pe.Body = what
		}
		return nil, err
	}
	v := PT(new(T))
	if err := json.Unmarshal(data, v); err != nil {
		return fail("", -1, fmt.Errorf("%v: %w", err, ErrMalformed))
	}
	if err := v.validate(); err != nil {
		var fe *fieldError
		if errors.As(err, &fe) {
			return fail(fe.field, -1, fe.err)
		}
		return fail("", -1, err)
	}
	canon, err := json.Marshal(v)
	if err != nil {
		return fail("", -1, fmt.Errorf("re-encoding: %v: %w", err, ErrMalformed))
	}
	if bytes.Equal(data, canon) {
		return v, nil
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, data); err != nil {
		return fail("", -1, fmt.Errorf("%v: %w", err, ErrMalformed))
	}
	if got := compact.Bytes(); !bytes.Equal(got, canon) {
		i := jsonpos.FirstDiff(got, canon)
		return fail("", jsonpos.Original(data, i), fmt.Errorf(
			"not in canonical form: found %q where the canonical encoding has %q: %w",
			jsonpos.Window(got, i), jsonpos.Window(canon, i), ErrMalformed))
	}
	return v, nil
}

// encodeBody validates b and returns its canonical encoding.
func encodeBody(b body, what string) ([]byte, error) {
	if err := b.validate(); err != nil {
		var fe *fieldError
		if errors.As(err, &fe) {
			return nil, &ParseError{Body: what, Field: fe.field, Offset: -1, Err: fe.err}
		}
		return nil, &ParseError{Body: what, Offset: -1, Err: err}
	}
	out, err := json.Marshal(b)
	if err != nil {
		return nil, &ParseError{Body: what, Offset: -1, Err: fmt.Errorf("%v: %w", err, ErrMalformed)}
	}
	return out, nil
}

var textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()

// shape walks the JSON tokens of a body against a Go type: objects are
// structs whose json-tagged fields are REQUIRED unless tagged omitempty, and
// must appear exactly once, with exactly their names, in the order of the
// struct; omitempty fields must be omitted rather than empty; arrays are
// slices; strings are strings or encoding.TextUnmarshaler values (which are
// parsed here so that their errors name the field); integers are decimal
// digits without sign, fraction, exponent or leading zeros. null is never
// allowed.
type shape struct {
	data []byte
	dec  *json.Decoder
}

func checkShape(data []byte, t reflect.Type) error {
	s := &shape{data: data, dec: json.NewDecoder(bytes.NewReader(data))}
	s.dec.UseNumber()
	if _, err := s.value(t, ""); err != nil {
		return err
	}
	off := s.next()
	if _, err := s.dec.Token(); err != io.EOF {
		return s.fail("", off, fmt.Errorf("data after the JSON value: %w", ErrMalformed))
	}
	return nil
}

func (s *shape) fail(field string, off int, err error) error {
	return &ParseError{Field: field, Offset: off, Err: err}
}

// next returns the offset of the next token.
func (s *shape) next() int {
	i := int(s.dec.InputOffset())
	for i < len(s.data) && strings.IndexByte(" \t\r\n:,", s.data[i]) >= 0 {
		i++
	}
	return i
}

func (s *shape) token(field string) (json.Token, int, error) {
	off := s.next()
	tok, err := s.dec.Token()
	if err != nil {
		var syn *json.SyntaxError
		switch {
		case errors.As(err, &syn):
			return nil, int(syn.Offset), s.fail(field, int(syn.Offset), fmt.Errorf("%v: %w", err, ErrMalformed))
		case err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF):
			return nil, len(s.data), s.fail(field, len(s.data), fmt.Errorf("unexpected end of input: %w", ErrMalformed))
		}
		return nil, off, s.fail(field, off, fmt.Errorf("%v: %w", err, ErrMalformed))
	}
	return tok, off, nil
}

// value checks one value of type t and reports whether it is empty (an
// empty string or array, or zero).
func (s *shape) value(t reflect.Type, field string) (empty bool, err error) {
	tok, off, err := s.token(field)
	if err != nil {
		return false, err
	}
	wrong := func(want string) (bool, error) {
		return false, s.fail(field, off, fmt.Errorf("must be %s, not %s: %w", want, describe(tok), ErrMalformed))
	}
	switch {
	case reflect.PointerTo(t).Implements(textUnmarshalerType):
		str, ok := tok.(string)
		if !ok {
			return wrong("a string")
		}
		if err := reflect.New(t).Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(str)); err != nil {
			if !errors.Is(err, ErrInvalid) {
				err = fmt.Errorf("%v: %w", err, ErrInvalid)
			}
			return false, s.fail(field, off, err)
		}
		return str == "", nil
	case t.Kind() == reflect.String:
		str, ok := tok.(string)
		if !ok {
			return wrong("a string")
		}
		return str == "", nil
	case t.Kind() == reflect.Int || t.Kind() == reflect.Uint64:
		n, ok := tok.(json.Number)
		if !ok {
			return wrong("an integer")
		}
		return s.integer(t, field, off, string(n))
	case t.Kind() == reflect.Slice:
		if tok != json.Delim('[') {
			return wrong("an array")
		}
		i := 0
		for ; s.dec.More(); i++ {
			if _, err := s.value(t.Elem(), fmt.Sprintf("%s[%d]", field, i)); err != nil {
				return false, err
			}
		}
		_, _, err := s.token(field)
		return i == 0, err
	case t.Kind() == reflect.Struct:
		if tok != json.Delim('{') {
			return wrong("an object")
		}
		return false, s.object(t, field, off)
	}
	panic("inspect: no JSON shape for " + t.String())
}

func (s *shape) integer(t reflect.Type, field string, off int, n string) (bool, error) {
	valid := n != "" && (n == "0" || n[0] != '0')
	for i := 0; i < len(n) && valid; i++ {
		valid = '0' <= n[i] && n[i] <= '9'
	}
	if !valid {
		return false, s.fail(field, off, fmt.Errorf(
			"%s: must be a non-negative integer in decimal digits, without sign, fraction, exponent or leading zeros: %w",
			truncate(n), ErrMalformed))
	}
	bits := 64
	if t.Kind() == reflect.Int {
		bits = strconv.IntSize - 1
	}
	if _, err := strconv.ParseUint(n, 10, bits); err != nil {
		return false, s.fail(field, off, fmt.Errorf("%s: out of range: %w", truncate(n), ErrInvalid))
	}
	return n == "0", nil
}

type jsonField struct {
	name      string
	omitempty bool
	typ       reflect.Type
}

func jsonFields(t reflect.Type) []jsonField {
	var fs []jsonField
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if !f.IsExported() || tag == "-" || tag == "" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		fs = append(fs, jsonField{name, opts == "omitempty", f.Type})
	}
	return fs
}

func (s *shape) object(t reflect.Type, field string, start int) error {
	fields := jsonFields(t)
	seen := make([]bool, len(fields))
	last := -1
	for s.dec.More() {
		tok, off, err := s.token(field)
		if err != nil {
			return err
		}
		key := tok.(string)
		path := key
		if field != "" {
			path = field + "." + key
		}
		i := 0
		for i < len(fields) && fields[i].name != key {
			i++
		}
		switch {
		case i == len(fields):
			return s.fail(path, off, fmt.Errorf("unknown field: %w", ErrMalformed))
		case seen[i]:
			return s.fail(path, off, fmt.Errorf("duplicate field: %w", ErrMalformed))
		case i < last:
			return s.fail(path, off, fmt.Errorf("not in canonical order: must come before %q: %w", fields[last].name, ErrMalformed))
		}
		seen[i], last = true, i
		empty, err := s.value(fields[i].typ, path)
		if err != nil {
			return err
		}
		if empty && fields[i].omitempty {
			return s.fail(path, off, fmt.Errorf("must be omitted when empty: %w", ErrMalformed))
		}
	}
	if _, _, err := s.token(field); err != nil {
		return err
	}
	for i, f := range fields {
		if !seen[i] && !f.omitempty {
			path := f.name
			if field != "" {
				path = field + "." + f.name
			}
			return s.fail(path, start, fmt.Errorf("missing field: %w", ErrMalformed))
		}
	}
	return nil
}

func describe(tok json.Token) string {
	switch v := tok.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case json.Delim:
		if v == '[' {
			return "an array"
		}
		return "an object"
	}
	return fmt.Sprintf("%T", tok)
}
