package regime

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"slices"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/tillit/tillit/cosign"
	"github.com/tillit/tillit/statement"
	"golang.org/x/mod/sumdb/note"
)

// A Regime is a parsed, validated regime (spec section "Regime file").
//
// A Regime returned by [Parse], [Load] or [ParseCanonical] must not be
// modified: its canonical encoding and hash were computed when it was parsed.
type Regime struct {
	ID       string // regime id, a statement name like "nato-russia-2022"
	Title    string // human-readable title
	Version  int64  // 1 for a new regime, previous version + 1 for an amendment
	Previous *Hash  // hash of the previous version; nil for version 1

	Parties []Party // in file order
	Types   []Type  // in file order

	WitnessPolicy  WitnessPolicy
	LogAccess      LogAccess
	ClockTolerance time.Duration // how far statement and cosignature times may be from a node's clock
	Heartbeat      time.Duration // longest interval between two pushes of a node's checkpoint
	Inspections    *Inspections  // nil if the regime has no inspections

	canonical []byte
	hash      Hash
	parties   map[string]int
	types     map[string]int
}

// A Party is a party to a regime (spec section "Parties").
type Party struct {
	Name   string
	Role   Role
	LogKey string // signed-note Ed25519 verifier key (type 0x01) named "<regime id>/<name>"
	// CosignKey is the party's receipt key: the c2sp.org/tlog-cosignature
	// verifier key (type 0x04) with which it cosigns the checkpoints of the
	// logs it mirrors, also named "<regime id>/<name>".
	CosignKey string
	TLSKey    ed25519.PublicKey // pinned key of the party's TLS certificates
	Endpoints []string          // https URLs, in order of preference

	verifier note.Verifier
	cosigner *cosign.Verifier
}

// Verifier returns the verifier of the party's log key.
func (p *Party) Verifier() note.Verifier { return p.verifier }

// Cosigner returns the verifier of the party's receipt key, which checks
// its c2sp.org/tlog-cosignature cosignatures (receipts) on the checkpoints
// of other parties' logs.
func (p *Party) Cosigner() *cosign.Verifier { return p.cosigner }

// TLSPin returns the party's TLS key in the form it has in the regime file,
// "ed25519:<base64 key>".
func (p *Party) TLSPin() string { return tlsPinPrefix + base64.StdEncoding.EncodeToString(p.TLSKey) }

// A Role is what a party does in a regime.
type Role string

const (
	// RoleParty is a full party: it sends and receives statements, hosts
	// and makes inspections.
	RoleParty Role = "party"
	// RoleObserver receives, mirrors and cosigns every log and may send
	// statements, but neither hosts nor makes inspections.
	RoleObserver Role = "observer"
)

// LogAccess says who may read the parties' logs.
type LogAccess string

const (
	// AccessParties allows only the parties of the regime.
	AccessParties LogAccess = "parties"
	// AccessPublic allows anyone.
	AccessPublic LogAccess = "public"
)

// A Type is a statement type (spec section "Types").
type Type struct {
	Name       string
	Schema     string               // the JSON Schema of the body, verbatim
	Precedence statement.Precedence // default precedence
	// ReceiptWithin is how long after the statement's time every recipient
	// must have receipted (cosigned) it.
	ReceiptWithin time.Duration
	// AckWithin is how long after the receipt the acknowledgment must
	// arrive, or 0 if the type needs none.
	AckWithin time.Duration
	// ReplyType is the type of the statement that acknowledges this one
	// ("ack" unless the regime says otherwise), or "" if AckWithin is 0.
	ReplyType string
	// MinRefs is the least number of references a statement of this type
	// must carry.
	MinRefs int
	// NoticeBefore, if not nil, requires the statement to be provided at
	// least AtLeast before the time in body field Field.
	NoticeBefore *NoticeRule
	// NotifyWithin, if not nil, requires the statement to be provided at
	// most Within after the time in body field Field.
	NotifyWithin *NotifyRule

	schema *jsonschema.Schema
}

// A NoticeRule is an advance-notice rule: the statement must be provided at
// least AtLeast before the time in the body field Field.
type NoticeRule struct {
	Field   string // dotted path into the body, like "launch_window.start"
	AtLeast time.Duration
}

// A NotifyRule is an after-the-fact rule: the statement must be provided at
// most Within after the time in the body field Field.
type NotifyRule struct {
	Field  string // dotted path into the body, like "changed_at"
	Within time.Duration
}

// A WitnessPolicy says when a checkpoint of a party's log is final (spec
// section "Witness policy").
type WitnessPolicy struct {
	// Witnesses are the parties whose cosignatures count, sorted by name.
	// A party never witnesses its own log.
	Witnesses []string
	// Quorum is how many of the witnesses other than the log's own party
	// must cosign, or 0 for all of them.
	Quorum int
}

// Inspections are the inspection quotas (spec section "Inspections"), counted
// per calendar year (UTC) of the request.
type Inspections struct {
	// PerHostPerYear is how many inspections a party must accept in a year.
	PerHostPerYear int
	// PerInspectorPerYear is how many of those may come from any one
	// inspecting party.
	PerInspectorPerYear int
}

// Hash is the SHA-256 hash of a regime's canonical encoding.
type Hash [32]byte

// String returns the standard base64 encoding of h.
func (h Hash) String() string { return base64.StdEncoding.EncodeToString(h[:]) }

// ParseHash parses the standard, padded base64 encoding of a hash.
func ParseHash(s string) (Hash, error) {
	var h Hash
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil || len(b) != len(h) || base64.StdEncoding.EncodeToString(b) != s {
		return h, fmt.Errorf("%q is not the standard base64 encoding of a 32-byte hash", truncate(s))
	}
	copy(h[:], b)
	return h, nil
}

// Canonical returns the canonical encoding of r (spec section "Canonical
// encoding"). The caller must not modify it.
func (r *Regime) Canonical() []byte { return r.canonical }

// Hash returns the SHA-256 hash of the canonical encoding, which the parties
// sign.
func (r *Regime) Hash() Hash { return r.hash }

// Party returns the party with the given name, or nil.
func (r *Regime) Party(name string) *Party {
	if i, ok := r.parties[name]; ok {
		return &r.Parties[i]
	}
	return nil
}

// Type returns the statement type with the given name, or nil.
func (r *Regime) Type(name string) *Type {
	if i, ok := r.types[name]; ok {
		return &r.Types[i]
	}
	return nil
}

// Origin returns the origin of a party's log, "<id>/<party>".
func (r *Regime) Origin(party string) string { return r.ID + "/" + party }

// Recipients returns the parties a statement is addressed to: the names in
// s.To, or every party but the sender if s.To is ["*"].
func (r *Regime) Recipients(s *statement.Statement) []string {
	if len(s.To) == 1 && s.To[0] == statement.All {
		var out []string
		for _, p := range r.Parties {
			if p.Name != s.From {
				out = append(out, p.Name)
			}
		}
		return out
	}
	return slices.Clone(s.To)
}

// Witnesses returns the parties whose cosignatures count towards the
// finality of the log of party log: the policy's witnesses other than log.
func (r *Regime) Witnesses(log string) []string {
	var out []string
	for _, w := range r.WitnessPolicy.Witnesses {
		if w != log {
			out = append(out, w)
		}
	}
	return out
}

// Quorum returns how many cosignatures from [Regime.Witnesses] make a
// checkpoint of party log's log final.
func (r *Regime) Quorum(log string) int {
	if r.WitnessPolicy.Quorum == 0 {
		return len(r.Witnesses(log))
	}
	return r.WitnessPolicy.Quorum
}

// Final reports whether cosignatures from the named parties make a checkpoint
// of party log's log final under the witness policy. Names that are not
// witnesses of that log, and repeated names, do not count.
func (r *Regime) Final(log string, cosigners []string) bool {
	if r.Party(log) == nil {
		return false
	}
	ws := r.Witnesses(log)
	n := 0
	for i, c := range cosigners {
		if slices.Contains(ws, c) && !slices.Contains(cosigners[:i], c) {
			n++
		}
	}
	return n >= r.Quorum(log)
}

func hashOf(b []byte) Hash { return sha256.Sum256(b) }

// truncate shortens s for an error message.
func truncate(s string) string {
	const max = 70
	if len(s) <= max {
		return s
	}
	return s[:max] + "..."
}
