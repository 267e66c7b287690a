// Package regime implements tillit regimes, specified in docs/spec/regime.md:
// a treaty as configuration (a TOML file), its canonical hash, the parties'
// signatures that put it in force, amendments, the checking of statements
// against it, and the deadlines and notice rules it sets.
//
// Guarantees:
//
//   - [Parse] and [Load] accept only regimes that are complete and
//     meaningful. Unknown keys are errors that name the key; every value is
//     checked and an error names the field (and the party or type it
//     belongs to); settings that are dangerous or meaningless (a zero
//     heartbeat, an acknowledgment deadline shorter than the receipt
//     deadline, two parties with one key, a receipt (cosign) key that is the
//     log key, a log or cosign key not named "<id>/<party>", a schema that
//     refers to outside documents, ...) are refused with the reason. Errors
//     are [*Error] values wrapping one of [ErrSyntax], [ErrUnknownKey],
//     [ErrInvalid] or [ErrUnsafe].
//   - [Regime.Canonical] is a deterministic encoding of the parsed regime
//     (spec section "Canonical encoding"), not of the TOML text: two files
//     that say the same thing in a different order or spelling have the
//     same [Regime.Hash]. [ParseCanonical] accepts exactly the canonical
//     encodings of valid regimes, so the signed bytes alone describe the
//     regime.
//   - A regime is in force only when every signatory has signed its hash
//     (spec section "Signatures"): for version 1 every party, for an
//     amendment every party of the previous version with its previous key
//     and every party whose key is new. [Regime.Verify] and
//     [Regime.VerifyAmendment] name exactly who has not signed.
//   - Every party has a log key (signed-note, type 0x01), which signs its
//     checkpoints and the regime, and a separate cosign key
//     (c2sp.org/tlog-cosignature, type 0x04), which signs its receipts.
//     [Regime.ReceiptPolicy] turns the witness policy into a
//     c2sp.org/tlog-policy over those keys, so that whether a checkpoint is
//     final is decided from the signed note alone.
//   - [Regime.CheckStatement] and [Regime.Evaluate] are pure functions of
//     their arguments: given the same statement, receipt and acknowledgment
//     times, every party and any auditor reach the same [Verdict]. Nothing in
//     this package reads the clock.
//
// Limits: a regime file is at most [MaxFileSize] bytes, with at most
// [MaxParties] parties and [MaxTypes] types; a schema is at most
// [MaxSchemaSize] bytes and may not refer to other documents. Body schemas
// are JSON Schema draft 2020-12 as implemented by
// github.com/santhosh-tekuri/jsonschema/v6 with format assertions on and Go
// (RE2) regular expressions; implementations in other languages must match
// its behaviour on the schemas they accept.
//
// The package does not talk to the network, store anything or keep time: a
// node or an auditor supplies the log data (receipt timestamps, references
// between statements) and the evaluation time.
package regime

import (
	"errors"
	"strings"
	"time"
)

// Limits (spec section "Limits").
const (
	MaxFileSize   = 1 << 20 // bytes in a regime file
	MaxSchemaSize = 64 << 10
	MaxParties    = 32
	MaxTypes      = 128
	MaxEndpoints  = 8
	// MaxDuration is the longest duration any setting may have.
	MaxDuration = 366 * 24 * time.Hour
)

// Sentinel errors. Errors from [Parse], [Load] and [ParseCanonical] are
// [*Error] values wrapping one of ErrSyntax, ErrUnknownKey, ErrInvalid or
// ErrUnsafe; the other functions wrap the sentinel named in their comment.
var (
	// ErrSyntax means the file is not valid TOML (or, for ParseCanonical,
	// not the canonical JSON encoding), or a value has the wrong TOML type.
	ErrSyntax = errors.New("syntax error")
	// ErrUnknownKey means the file has a key this format does not define.
	ErrUnknownKey = errors.New("unknown key")
	// ErrInvalid means a value is missing, malformed or inconsistent.
	ErrInvalid = errors.New("invalid regime")
	// ErrUnsafe means a setting is well-formed but dangerous or meaningless,
	// and refused for the reason given.
	ErrUnsafe = errors.New("unsafe setting")

	// ErrStatement means a statement does not conform to the regime
	// ([Regime.CheckStatement]).
	ErrStatement = errors.New("statement does not conform to the regime")
	// ErrBody means a statement's body does not match its type's schema. It
	// is always returned together with ErrStatement.
	ErrBody = errors.New("body does not match the schema")

	// ErrNotInForce means some signatories have not signed the regime.
	ErrNotInForce = errors.New("regime not in force")
	// ErrBadSignature means a signature file is malformed, is for another
	// regime or hash, or holds a signature by a signatory's key that does
	// not verify.
	ErrBadSignature = errors.New("bad regime signature")
	// ErrNotSignatory means a key is not the key of anyone who must sign.
	ErrNotSignatory = errors.New("not a signatory")
	// ErrAmendment means a version does not validly amend the previous one.
	ErrAmendment = errors.New("invalid amendment")

	// ErrClock means a time is further from the local clock than the
	// regime's clock tolerance.
	ErrClock = errors.New("clock out of tolerance")
	// ErrQuota means an inspection request exceeds the regime's quotas.
	ErrQuota = errors.New("inspection quota exceeded")
)

// Error describes what is wrong with a regime file.
type Error struct {
	// File is the file the problem is in, or empty.
	File string
	// Field locates the problem, like `party "RU".log_key` or
	// `type "launch.notice".notice_before.at_least`, or is empty.
	Field string
	// Err is one of the sentinels.
	Err error
	// Msg says what is wrong and, for ErrUnsafe, why it is refused.
	Msg string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("regime: ")
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteString(": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }
