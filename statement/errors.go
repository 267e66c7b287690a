package statement

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Sentinel errors. Every error returned by [Parse], [Encode] and [ParseRef] is
// an [*Error] that wraps exactly one of them, so callers can use [errors.Is].
var (
	// ErrTooLarge means the entry is longer than [MaxSize] bytes, or the body
	// nests deeper than [MaxDepth] levels (spec section "Limits").
	ErrTooLarge = errors.New("too large")

	// ErrSyntax means the bytes are not an I-JSON message: not JSON, invalid
	// UTF-8, a surrogate or noncharacter, a duplicate key, or data after the
	// value (spec section "Encoding").
	ErrSyntax = errors.New("syntax error")

	// ErrInvalid means the bytes are well-formed JSON but not a valid
	// statement: a missing, unknown or malformed field (spec section "Fields").
	ErrInvalid = errors.New("invalid statement")
)

// Error describes why an entry, a statement or a reference was rejected.
type Error struct {
	// Path is the field the problem is in, like "refs[2].index" or
	// `body.site["ref no"]`, or empty for the entry as a whole.
	Path string
	// Offset is the byte offset in the input of [Parse] (or in
	// Statement.Body, for [Encode]) at which a syntax error or the nesting
	// limit was found, or -1. Error() includes it for syntax errors.
	Offset int
	// Err is ErrTooLarge, ErrSyntax or ErrInvalid.
	Err error
	// Msg says what is wrong.
	Msg string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("statement: ")
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	if e.Err == ErrSyntax && e.Offset >= 0 {
		b.WriteString(" at offset ")
		b.WriteString(strconv.Itoa(e.Offset))
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// seg is one step of a field path: a member name, or an array index if
// index >= 0.
type seg struct {
	key   []byte
	index int
}

// formatPath renders a field path: simple member names as "a.b", other names
// quoted as `a["b c"]`, array elements as "a[3]".
func formatPath(path []seg) string {
	var b strings.Builder
	for i, s := range path {
		switch {
		case s.index >= 0:
			fmt.Fprintf(&b, "[%d]", s.index)
		case simpleKey(s.key):
			if i > 0 {
				b.WriteByte('.')
			}
			b.Write(s.key)
		default:
			fmt.Fprintf(&b, "[%s]", strconv.Quote(truncate(string(s.key))))
		}
	}
	return b.String()
}

func simpleKey(k []byte) bool {
	if len(k) == 0 || len(k) > 64 {
		return false
	}
	for _, c := range k {
		if !isNameByte(c) || c == '.' {
			return false
		}
	}
	return true
}

func invalidf(path, format string, args ...any) *Error {
	return &Error{Path: path, Offset: -1, Err: ErrInvalid, Msg: fmt.Sprintf(format, args...)}
}
