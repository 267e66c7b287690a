package regime

import (
	"fmt"
	"slices"
	"time"

	"github.com/tillit/tillit/statement"
)

// StatementError says why a statement does not conform to a regime. It
// wraps [ErrStatement], and also [ErrBody] if the body does not match the
// schema.
type StatementError struct {
	// Path is the field of the statement at fault, like "to[1]" or
	// "body.launch_window.start", or empty.
	Path string
	// Msg says what is wrong.
	Msg string

	err error // ErrStatement or ErrBody
}

func (e *StatementError) Error() string {
	if e.Path == "" {
		return "regime: statement: " + e.Msg
	}
	return "regime: statement: " + e.Path + ": " + e.Msg
}

// Unwrap returns ErrStatement, and ErrBody for a body that does not match.
func (e *StatementError) Unwrap() []error {
	if e.err == ErrBody {
		return []error{ErrStatement, ErrBody}
	}
	return []error{ErrStatement}
}

func stmtErr(sentinel error, path, format string, args ...any) *StatementError {
	return &StatementError{Path: path, Msg: fmt.Sprintf(format, args...), err: sentinel}
}

// CheckStatement checks that s conforms to r (spec section "Statements"):
// s names this regime; the sender and every recipient are parties (or the
// recipients are ["*"]), and the sender is not a recipient; the type exists;
// the precedence is valid; s carries at least the type's MinRefs references;
// the body matches the type's schema; and the body fields the type's notice
// rules measure hold RFC 3339 times.
//
// It checks neither the statement's time against a clock (see
// [Regime.CheckClock]) nor what the references point to. Errors are
// [*StatementError] values.
func (r *Regime) CheckStatement(s *statement.Statement) error {
	if s.Regime != r.ID {
		return stmtErr(ErrStatement, "regime", "is %q, but this regime is %q", truncate(s.Regime), r.ID)
	}
	if r.Party(s.From) == nil {
		return stmtErr(ErrStatement, "from", "%q is not a party of %s", truncate(s.From), r.ID)
	}
	if len(s.To) == 0 {
		return stmtErr(ErrStatement, "to", "names no recipient")
	}
	for i, to := range s.To {
		path := fmt.Sprintf("to[%d]", i)
		switch {
		case to == statement.All && len(s.To) == 1:
		case to == statement.All:
			return stmtErr(ErrStatement, path, `"*" (all parties) must be the only recipient`)
		case r.Party(to) == nil:
			return stmtErr(ErrStatement, path, "%q is not a party of %s", truncate(to), r.ID)
		case to == s.From:
			return stmtErr(ErrStatement, path, "%s sends to itself", to)
		case slices.Contains(s.To[:i], to):
			return stmtErr(ErrStatement, path, "%q is named twice", to)
		}
	}
	t := r.Type(s.Type)
	if t == nil {
		return stmtErr(ErrStatement, "type", "%q is not a statement type of %s", truncate(s.Type), r.ID)
	}
	if !s.Precedence.Valid() {
		return stmtErr(ErrStatement, "precedence", "invalid precedence %d", uint8(s.Precedence))
	}
	if len(s.Refs) < t.MinRefs {
		return stmtErr(ErrStatement, "refs", "a %s must refer to at least %d earlier %s, not %d",
			t.Name, t.MinRefs, plural(t.MinRefs, "statement", "statements"), len(s.Refs))
	}
	body, err := decodeBody(s.Body)
	if err != nil {
		return err
	}
	if err := t.validateBody(body); err != nil {
		return err
	}
	for _, field := range t.ruleFields() {
		if _, err := t.bodyTime(body, field); err != nil {
			return err
		}
	}
	return nil
}

// ruleFields returns the body fields the type's notice rules read.
func (t *Type) ruleFields() []string {
	var fs []string
	if t.NoticeBefore != nil {
		fs = append(fs, t.NoticeBefore.Field)
	}
	if t.NotifyWithin != nil {
		fs = append(fs, t.NotifyWithin.Field)
	}
	return fs
}

// bodyTime reads the RFC 3339 time at a dotted field path of a decoded body.
func (t *Type) bodyTime(body any, field string) (time.Time, error) {
	path := "body." + field
	x, ok := lookup(body, field)
	if !ok {
		return time.Time{}, stmtErr(ErrBody, path, "missing: type %s measures its notice from this field", t.Name)
	}
	s, ok := x.(string)
	if !ok {
		return time.Time{}, stmtErr(ErrBody, path, "must be an RFC 3339 time string, like \"2022-01-12T09:30:00Z\"")
	}
	tm, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, stmtErr(ErrBody, path, "%q is not an RFC 3339 time, like \"2022-01-12T09:30:00Z\"", truncate(s))
	}
	return tm.UTC(), nil
}

// CheckClock checks that a time t given by a peer (a statement's time or a
// cosignature's timestamp) is within the regime's clock tolerance of the
// local clock reading now. It wraps [ErrClock].
func (r *Regime) CheckClock(t, now time.Time) error {
	d := t.Sub(now)
	switch {
	case d > r.ClockTolerance:
		return fmt.Errorf("%w: %s is %s ahead of the local clock (tolerance %s)", ErrClock, t.UTC().Format(time.RFC3339Nano), d, r.ClockTolerance)
	case -d > r.ClockTolerance:
		return fmt.Errorf("%w: %s is %s behind the local clock (tolerance %s)", ErrClock, t.UTC().Format(time.RFC3339Nano), -d, r.ClockTolerance)
	}
	return nil
}

// Acknowledges reports whether reply acknowledges orig, the statement that
// ref refers to (spec section "Deadlines"): orig's type requires an
// acknowledgment, reply has the type's reply type, reply comes from one of
// orig's recipients and addresses orig's sender, and reply refers to ref.
// Both statements must already have passed [Regime.CheckStatement].
func (r *Regime) Acknowledges(reply, orig *statement.Statement, ref statement.Ref) bool {
	t := r.Type(orig.Type)
	if t == nil || t.ReplyType == "" || reply.Type != t.ReplyType || reply.Regime != r.ID || orig.Regime != r.ID {
		return false
	}
	if reply.From == orig.From || !slices.Contains(r.Recipients(orig), reply.From) || !reply.AddressedTo(orig.From) {
		return false
	}
	return slices.Contains(reply.Refs, ref)
}
