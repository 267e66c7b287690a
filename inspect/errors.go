package inspect

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error this package returns wraps exactly one of
// them, with context naming what failed and where (a body field, a party, a
// statement reference). Test with errors.Is.
var (
	// ErrMalformed: a body is not well-formed: not JSON, invalid UTF-8, an
	// unknown, duplicate, missing or misordered field, a value of the wrong
	// JSON type, or an encoding that is not canonical (spec §JSON encoding).
	ErrMalformed = errors.New("inspect: malformed body")
	// ErrInvalid: a field holds a value the spec does not allow (a bad name,
	// reference, year, decision, or items out of order), or a configuration
	// value is out of range.
	ErrInvalid = errors.New("inspect: invalid value")
	// ErrMismatch: two things that must agree do not: a body and its
	// statement (type, sender, recipients, time, refs), a reply or findings
	// and the request they answer, an opening and the findings, findings and
	// the beacon's choice.
	ErrMismatch = errors.New("inspect: mismatch")
	// ErrQuota: an inspection request exceeds the quotas (spec §Quotas).
	ErrQuota = errors.New("inspect: inspection quota exceeded")
	// ErrState: a step is taken in the wrong state, like findings for a
	// request that was not accepted, or a beacon without a seed.
	ErrState = errors.New("inspect: wrong state")
	// ErrNoCandidates: there is no site to select (spec §Selection).
	ErrNoCandidates = errors.New("inspect: no site to select")
	// ErrReport: a report differs from the one computed from its evidence.
	ErrReport = errors.New("inspect: report does not match its evidence")
)

// A ParseError reports where a body parser rejected its input. Err wraps
// ErrMalformed or ErrInvalid.
type ParseError struct {
	Body   string // the statement type, like "inspection.request"
	Field  string // path of the offending field, like "items[2].category"; "" for the body as a whole
	Offset int    // byte offset in the input, or -1 if unknown
	Err    error
}

func (e *ParseError) Error() string {
	s := e.Body + " body: "
	if e.Field != "" {
		s += e.Field + ": "
	}
	s += e.Err.Error()
	if e.Offset >= 0 {
		s += fmt.Sprintf(" (at byte %d)", e.Offset)
	}
	return s
}

func (e *ParseError) Unwrap() error { return e.Err }

// fieldError is a validation failure at a field path, turned into a
// ParseError by the parser.
type fieldError struct {
	field string
	err   error
}

func (e *fieldError) Error() string { return e.field + ": " + e.err.Error() }
func (e *fieldError) Unwrap() error { return e.err }

// invalid returns a fieldError wrapping ErrInvalid.
func invalid(field, format string, args ...any) error {
	return &fieldError{field, fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), ErrInvalid)}
}
