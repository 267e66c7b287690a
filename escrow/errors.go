package escrow

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error returned by this package wraps one of them,
// except a failure of the random source, with context that names what failed
// and where (a line and field for parsers; a region, site, item or proof
// position for verifiers). Test with errors.Is.
var (
	// ErrMalformed: the input is not well-formed: syntax, shape, unknown or
	// missing fields, wrong lengths, or a non-canonical JSON encoding.
	ErrMalformed = errors.New("escrow: malformed input")
	// ErrInvalidName: a name, id, category, attribute or parameter breaks
	// the rules of spec §Names.
	ErrInvalidName = errors.New("escrow: invalid name")
	// ErrDuplicate: an item id, a region or site name, or an attribute key
	// appears twice where it must be unique.
	ErrDuplicate = errors.New("escrow: duplicate")
	// ErrInvalidParams: commitment parameters are out of range.
	ErrInvalidParams = errors.New("escrow: invalid parameters")
	// ErrNotFound: the secret has no such region, site or item.
	ErrNotFound = errors.New("escrow: not found")

	// ErrIndex: a region entry, the region list or the index salt does not
	// match the commitment's index.
	ErrIndex = errors.New("escrow: region entry does not match the index commitment")
	// ErrSites: a site entry or site list does not match its region entry.
	ErrSites = errors.New("escrow: site entry does not match the region's site list")
	// ErrItems: opened items, salts or proof do not match the items root.
	ErrItems = errors.New("escrow: opened items do not match the items root")
	// ErrInconsistent: authenticated parts contradict each other (ranges that
	// do not tile, counts that do not add up, names out of order).
	ErrInconsistent = errors.New("escrow: opening is inconsistent")

	// ErrVersion: a commitment does not follow the previous version.
	ErrVersion = errors.New("escrow: not the next declaration version")
	// ErrChange: a deployment change does not explain the difference between
	// two opened states.
	ErrChange = errors.New("escrow: change does not match the opened states")

	// ErrBeaconMismatch: a beacon reveal does not match its commit.
	ErrBeaconMismatch = errors.New("escrow: beacon reveal does not match its commit")
	// ErrNoReveal: a party did not reveal its beacon contribution.
	ErrNoReveal = errors.New("escrow: no beacon reveal")
)

// ParseError reports where a parser rejected its input. Err wraps one of the
// sentinel errors (ErrMalformed, ErrInvalidName, ErrDuplicate, ...).
type ParseError struct {
	Line   int    // 1-based line of the offending input, 0 if unknown
	Column int    // 1-based column (bytes), 0 if unknown
	Field  string // e.g. "id" or "regions[0].sites[2].items[5].category"
	Err    error
}

func (e *ParseError) Error() string {
	s := ""
	if e.Line > 0 {
		s += fmt.Sprintf("line %d", e.Line)
		if e.Column > 0 {
			s += fmt.Sprintf(", column %d", e.Column)
		}
		s += ": "
	}
	if e.Field != "" {
		s += e.Field + ": "
	}
	return s + e.Err.Error()
}

func (e *ParseError) Unwrap() error { return e.Err }
