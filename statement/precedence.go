package statement

import "fmt"

// Precedence is how urgently a statement must be handled (spec section
// "Precedence"). Greater values are more urgent, so Flash > Immediate >
// Priority > Routine. The zero value is not a valid precedence.
type Precedence uint8

// The precedences, least urgent first.
const (
	Routine Precedence = iota + 1
	Priority
	Immediate
	Flash
)

var precedenceNames = [...]string{
	Routine:   "ROUTINE",
	Priority:  "PRIORITY",
	Immediate: "IMMEDIATE",
	Flash:     "FLASH",
}

// Valid reports whether p is one of the four precedences.
func (p Precedence) Valid() bool { return Routine <= p && p <= Flash }

// String returns the name of p as it appears in a statement, like "FLASH".
func (p Precedence) String() string {
	if !p.Valid() {
		return fmt.Sprintf("Precedence(%d)", uint8(p))
	}
	return precedenceNames[p]
}

// ParsePrecedence parses a precedence name: exactly one of FLASH, IMMEDIATE,
// PRIORITY or ROUTINE, in capitals.
func ParsePrecedence(s string) (Precedence, error) {
	for p := Routine; p <= Flash; p++ {
		if s == precedenceNames[p] {
			return p, nil
		}
	}
	return 0, invalidf("precedence", "unknown precedence %q (want FLASH, IMMEDIATE, PRIORITY or ROUTINE)", truncate(s))
}

// MarshalText implements [encoding.TextMarshaler].
func (p Precedence) MarshalText() ([]byte, error) {
	if !p.Valid() {
		return nil, invalidf("precedence", "invalid precedence %d", uint8(p))
	}
	return []byte(p.String()), nil
}

// UnmarshalText implements [encoding.TextUnmarshaler].
func (p *Precedence) UnmarshalText(b []byte) error {
	v, err := ParsePrecedence(string(b))
	if err != nil {
		return err
	}
	*p = v
	return nil
}

// truncate shortens s for an error message.
func truncate(s string) string {
	const max = 70
	if len(s) <= max {
		return s
	}
	return s[:max] + "..."
}
