package statement

import (
	"bytes"
	"fmt"
	"unicode/utf8"
)

// scanner is a strict JSON scanner for I-JSON (RFC 7493) messages: it
// rejects invalid UTF-8, surrogates, noncharacters and duplicate member names
// at any depth, which encoding/json does not. It keeps the current field path
// so that errors can name the field they are in.
type scanner struct {
	b     []byte
	i     int
	keyAt int // offset of the current member name
	path  []seg
}

const eof = -1

func (s *scanner) peek() int {
	if s.i < len(s.b) {
		return int(s.b[s.i])
	}
	return eof
}

// ws skips JSON whitespace (RFC 8259, Section 2).
func (s *scanner) ws() {
	b, i := s.b, s.i
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	s.i = i
}

func (s *scanner) pushKey(k []byte) { s.path = append(s.path, seg{key: k, index: -1}) }
func (s *scanner) pushIndex(i int)  { s.path = append(s.path, seg{index: i}) }
func (s *scanner) pop()             { s.path = s.path[:len(s.path)-1] }

func (s *scanner) errorf(kind error, format string, args ...any) *Error {
	return &Error{Path: formatPath(s.path), Offset: s.i, Err: kind, Msg: fmt.Sprintf(format, args...)}
}

func (s *scanner) syntaxf(format string, args ...any) *Error {
	return s.errorf(ErrSyntax, format, args...)
}

func (s *scanner) invalidf(format string, args ...any) *Error {
	e := s.errorf(ErrInvalid, format, args...)
	e.Offset = -1
	return e
}

// duplicateKey reports that the current member name is a duplicate.
func (s *scanner) duplicateKey() *Error {
	e := s.syntaxf("duplicate key")
	e.Offset = s.keyAt
	return e
}

// unexpected reports the byte at s.i, which is not what the grammar allows
// there.
func (s *scanner) unexpected(context string) *Error {
	c := s.peek()
	if c == eof {
		return s.syntaxf("unexpected end of input %s", context)
	}
	return s.syntaxf("invalid character %s %s", quoteByte(byte(c)), context)
}

func quoteByte(c byte) string {
	if c < utf8.RuneSelf {
		return fmt.Sprintf("%q", rune(c))
	}
	return fmt.Sprintf("'\\x%02x'", c)
}

// expect consumes the byte c, or fails with context.
func (s *scanner) expect(c byte, context string) error {
	if s.peek() != int(c) {
		return s.unexpected(context)
	}
	s.i++
	return nil
}

// end checks that nothing but whitespace follows the value.
func (s *scanner) end() error {
	s.ws()
	if s.i != len(s.b) {
		return s.syntaxf("invalid character %s after top-level value", quoteByte(s.b[s.i]))
	}
	return nil
}

// value scans any JSON value. depth is the nesting level of the container
// the value is in; objects and arrays are one level deeper.
func (s *scanner) value(depth int) error {
	switch c := s.peek(); c {
	case '{':
		return s.object(depth + 1)
	case '[':
		return s.array(depth + 1)
	case '"':
		_, err := s.str()
		return err
	case 't':
		return s.literal("true")
	case 'f':
		return s.literal("false")
	case 'n':
		return s.literal("null")
	default:
		if c == '-' || isDigit(c) {
			_, err := s.num()
			return err
		}
		return s.unexpected("looking for beginning of value")
	}
}

func (s *scanner) literal(lit string) error {
	for j := 0; j < len(lit); j++ {
		if s.peek() != int(lit[j]) {
			return s.unexpected("in literal " + lit)
		}
		s.i++
	}
	return nil
}

func (s *scanner) tooDeep(depth int) error {
	if depth > MaxDepth {
		return s.errorf(ErrTooLarge, "nesting exceeds %d levels", MaxDepth)
	}
	return nil
}

// object scans an object at nesting level depth, rejecting duplicate names.
func (s *scanner) object(depth int) error {
	if err := s.tooDeep(depth); err != nil {
		return err
	}
	var keys keySet
	return s.members(func(k []byte) error {
		if keys.add(k) {
			return s.duplicateKey()
		}
		return s.value(depth)
	})
}

// members scans an object, calling member for each name with the scanner
// positioned at the value and the name pushed onto the path.
func (s *scanner) members(member func(key []byte) error) error {
	if err := s.expect('{', "looking for beginning of object"); err != nil {
		return err
	}
	s.ws()
	if s.peek() == '}' {
		s.i++
		return nil
	}
	for {
		if s.peek() != '"' {
			return s.unexpected("looking for beginning of object key string")
		}
		keyAt := s.i
		k, err := s.str()
		if err != nil {
			return err
		}
		s.ws()
		if err := s.expect(':', "after object key"); err != nil {
			return err
		}
		s.ws()
		s.keyAt = keyAt
		s.pushKey(k)
		if err := member(k); err != nil {
			return err
		}
		s.pop()
		s.ws()
		switch s.peek() {
		case ',':
			s.i++
			s.ws()
		case '}':
			s.i++
			return nil
		default:
			return s.unexpected("after object key:value pair")
		}
	}
}

// array scans an array at nesting level depth.
func (s *scanner) array(depth int) error {
	if err := s.tooDeep(depth); err != nil {
		return err
	}
	return s.elements(func(int) error { return s.value(depth) })
}

// elements scans an array, calling elem for each element with the scanner
// positioned at it and its index pushed onto the path.
func (s *scanner) elements(elem func(i int) error) error {
	if err := s.expect('[', "looking for beginning of array"); err != nil {
		return err
	}
	s.ws()
	if s.peek() == ']' {
		s.i++
		return nil
	}
	for n := 0; ; n++ {
		s.pushIndex(n)
		if err := elem(n); err != nil {
			return err
		}
		s.pop()
		s.ws()
		switch s.peek() {
		case ',':
			s.i++
			s.ws()
		case ']':
			s.i++
			return nil
		default:
			return s.unexpected("after array element")
		}
	}
}

// num scans a number (RFC 8259, Section 6) and returns its bytes.
func (s *scanner) num() ([]byte, error) {
	start := s.i
	if s.peek() == '-' {
		s.i++
	}
	switch c := s.peek(); {
	case c == '0':
		s.i++
		if isDigit(s.peek()) {
			return nil, s.syntaxf("invalid number: leading zero")
		}
	case isDigit(c):
		s.digits()
	default:
		return nil, s.unexpected("in numeric literal")
	}
	if s.peek() == '.' {
		s.i++
		if !isDigit(s.peek()) {
			return nil, s.unexpected("after decimal point in numeric literal")
		}
		s.digits()
	}
	if c := s.peek(); c == 'e' || c == 'E' {
		s.i++
		if c := s.peek(); c == '+' || c == '-' {
			s.i++
		}
		if !isDigit(s.peek()) {
			return nil, s.unexpected("in exponent of numeric literal")
		}
		s.digits()
	}
	return s.b[start:s.i], nil
}

func (s *scanner) digits() {
	b, i := s.b, s.i
	for i < len(b) && '0' <= b[i] && b[i] <= '9' {
		i++
	}
	s.i = i
}

func isDigit(c int) bool { return '0' <= c && c <= '9' }

// str scans a string and returns its contents with escapes decoded. If the
// string has no escapes, the result aliases the input.
func (s *scanner) str() ([]byte, error) {
	if err := s.expect('"', "looking for beginning of string"); err != nil {
		return nil, err
	}
	start := s.i
	for {
		b, i := s.b, s.i
		for i < len(b) && plain[b[i]] {
			i++
		}
		s.i = i
		if i == len(b) {
			return nil, s.syntaxf("unterminated string")
		}
		switch c := b[i]; {
		case c == '"':
			s.i++
			return b[start:i], nil
		case c == '\\':
			return s.strEscaped(append([]byte(nil), b[start:i]...))
		case c < 0x20:
			return nil, s.syntaxf("control character %s in string", quoteByte(c))
		default:
			if err := s.utf8Rune(); err != nil {
				return nil, err
			}
		}
	}
}

// plain is true for the bytes that stand for themselves in a string: ASCII
// except control characters, '"' and '\\'.
var plain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// strEscaped continues str after the first backslash, appending the decoded
// contents to buf.
func (s *scanner) strEscaped(buf []byte) ([]byte, error) {
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return buf, nil
		case c == '\\':
			r, err := s.escape()
			if err != nil {
				return nil, err
			}
			buf = utf8.AppendRune(buf, r)
		case c < 0x20:
			return nil, s.syntaxf("control character %s in string", quoteByte(c))
		case c < utf8.RuneSelf:
			buf = append(buf, c)
			s.i++
		default:
			start := s.i
			if err := s.utf8Rune(); err != nil {
				return nil, err
			}
			buf = append(buf, s.b[start:s.i]...)
		}
	}
	return nil, s.syntaxf("unterminated string")
}

// utf8Rune consumes one multi-byte UTF-8 sequence.
func (s *scanner) utf8Rune() error {
	r, n := utf8.DecodeRune(s.b[s.i:])
	if r == utf8.RuneError && n == 1 {
		return s.syntaxf("invalid UTF-8 in string")
	}
	if isNoncharacter(r) {
		return s.syntaxf("noncharacter U+%04X in string", r)
	}
	s.i += n
	return nil
}

// escape consumes one escape sequence, including a surrogate pair.
func (s *scanner) escape() (rune, error) {
	s.i++ // backslash
	c := s.peek()
	s.i++
	switch c {
	case '"', '\\', '/':
		return rune(c), nil
	case 'b':
		return '\b', nil
	case 'f':
		return '\f', nil
	case 'n':
		return '\n', nil
	case 'r':
		return '\r', nil
	case 't':
		return '\t', nil
	case 'u':
		return s.unicodeEscape()
	}
	s.i--
	return 0, s.unexpected("in string escape code")
}

// unicodeEscape decodes a \u escape after the "\u", and the low half of a
// surrogate pair. Errors point at the backslash.
func (s *scanner) unicodeEscape() (rune, error) {
	start := s.i - 2
	fail := func(format string, r rune) (rune, error) {
		e := s.syntaxf(format, r)
		e.Offset = start
		return 0, e
	}
	r, err := s.hex4()
	if err != nil {
		return 0, err
	}
	if 0xDC00 <= r && r <= 0xDFFF {
		return fail("lone surrogate \\u%04X in string", r)
	}
	if 0xD800 <= r && r <= 0xDBFF {
		if !bytes.HasPrefix(s.b[s.i:], []byte(`\u`)) {
			return fail("lone surrogate \\u%04X in string", r)
		}
		s.i += 2
		lo, err := s.hex4()
		if err != nil {
			return 0, err
		}
		if lo < 0xDC00 || lo > 0xDFFF {
			return fail("lone surrogate \\u%04X in string", r)
		}
		r = 0x10000 + (r-0xD800)<<10 + (lo - 0xDC00)
	}
	if isNoncharacter(r) {
		return fail("noncharacter U+%04X in string", r)
	}
	return r, nil
}

func (s *scanner) hex4() (rune, error) {
	var r rune
	for range 4 {
		c := s.peek()
		var d int
		switch {
		case '0' <= c && c <= '9':
			d = c - '0'
		case 'a' <= c && c <= 'f':
			d = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, s.unexpected("in \\u hexadecimal character escape")
		}
		r = r<<4 | rune(d)
		s.i++
	}
	return r, nil
}

// isNoncharacter reports whether r is a Unicode noncharacter, which I-JSON
// (RFC 7493, Section 2.1) forbids: U+FDD0..U+FDEF and the last two code
// points of every plane.
func isNoncharacter(r rune) bool {
	return (0xFDD0 <= r && r <= 0xFDEF) || r&0xFFFE == 0xFFFE
}

// keySet detects duplicate member names. Names are compared after escape
// decoding, so "a" and "\u0061" are the same name.
type keySet struct {
	small [8][]byte
	n     int
	large map[string]struct{}
}

// add adds k and reports whether it was already present.
func (ks *keySet) add(k []byte) bool {
	if ks.large != nil {
		if _, dup := ks.large[string(k)]; dup {
			return true
		}
		ks.large[string(k)] = struct{}{}
		return false
	}
	for _, o := range ks.small[:ks.n] {
		if bytes.Equal(o, k) {
			return true
		}
	}
	if ks.n < len(ks.small) {
		ks.small[ks.n] = k
		ks.n++
		return false
	}
	ks.large = make(map[string]struct{}, 2*len(ks.small))
	for _, o := range ks.small {
		ks.large[string(o)] = struct{}{}
	}
	ks.large[string(k)] = struct{}{}
	return false
}
