package node

import (
	"encoding/json"
	"errors"
	"time"

	"github.com/tillit/tillit/regime"
)

// Errors the operator-facing methods return. Callers map them to answers:
// ErrInvalid and ErrNotFound are the caller's fault, the others are not.
var (
	// ErrInvalid means a request is malformed or the statement it would make
	// does not conform to the regime; nothing was stored.
	ErrInvalid = errors.New("invalid request")
	// ErrNotFound means a referenced statement is not known to this node.
	ErrNotFound = errors.New("not found")
	// ErrForbidden means the caller's role may not do what it asked.
	ErrForbidden = errors.New("forbidden")
	// ErrClosed means the node is shutting down.
	ErrClosed = errors.New("node closed")
)

// SendRequest is a statement an operator asks the node to make. The node
// fills in the regime, the sender and the time.
type SendRequest struct {
	Type string   `json:"type"`
	To   []string `json:"to"` // party names, or ["*"] for every other party
	// Precedence is "ROUTINE", "PRIORITY", "IMMEDIATE" or "FLASH"; empty
	// means the type's default.
	Precedence string          `json:"precedence,omitempty"`
	Refs       []string        `json:"refs,omitempty"` // statement references in text form
	Body       json.RawMessage `json:"body"`
}

// AckRequest acknowledges a received statement: the node sends the type's
// reply statement (normally "ack") back to its sender, referring to it.
type AckRequest struct {
	Ref  string `json:"ref"`
	Text string `json:"text,omitempty"`
}

// Message is a statement as the node sees it: in its outbox (sent by this
// party), its inbox (addressed to it) or any log it holds, with its
// standing per recipient.
type Message struct {
	Ref        string          `json:"ref"`
	Log        string          `json:"log"` // origin of the log that holds it
	Index      int64           `json:"index"`
	From       string          `json:"from"`
	To         []string        `json:"to"`
	Type       string          `json:"type"`
	Precedence string          `json:"precedence"`
	Time       time.Time       `json:"time"`
	Refs       []string        `json:"refs,omitempty"`
	Body       json.RawMessage `json:"body"`
	// Recipients is where the statement stands with each recipient,
	// computed by regime.Evaluate from log data.
	Recipients []Recipient `json:"recipients"`
	// State is the least advanced state over the recipients, with Overdue
	// winning over everything.
	State regime.State `json:"state"`
	// AckedBy lists refs of statements that acknowledge this one.
	AckedBy []string `json:"acked_by,omitempty"`
}

// Recipient is where a statement stands with one recipient.
type Recipient struct {
	Party   string         `json:"party"`
	Verdict regime.Verdict `json:"verdict"`
}

// Query filters inbox, outbox and statements listings.
type Query struct {
	Type  string       // only this type, if set
	State regime.State // only this state, if nonzero
	Limit int          // at most this many, newest first; 0 means 100
	From  string       // only statements from this party, if set
}

// Event is something that happened on the node, streamed to operators.
type Event struct {
	ID   int64     `json:"id"` // increasing; resumable with Last-Event-ID
	Kind string    `json:"kind"`
	Time time.Time `json:"time"`
	// Ref is the statement the event is about, if any.
	Ref   string `json:"ref,omitempty"`
	Party string `json:"party,omitempty"` // the peer concerned, if any
	Msg   string `json:"msg"`             // one readable line
}

// Event kinds.
const (
	EventSent       = "sent"       // this node appended a statement to its log
	EventReceived   = "received"   // a statement addressed to this party arrived
	EventReceipt    = "receipt"    // a recipient receipted (cosigned) a statement
	EventAck        = "ack"        // a recipient acknowledged a statement
	EventOverdue    = "overdue"    // a deadline passed without a receipt or acknowledgment
	EventLink       = "link"       // a peer link changed state
	EventFork       = "fork"       // two signed checkpoints of one log contradict each other
	EventQuarantine = "quarantine" // a peer's log failed a check and is no longer accepted, or an operator lifted that
	EventFinal      = "final"      // a checkpoint of this node's log met the witness policy
)

// Link states.
const (
	LinkUp       = "up"       // the last push was receipted within the heartbeat interval
	LinkDegraded = "degraded" // the last receipt is older than one heartbeat, or pushes fail
	LinkDown     = "down"     // no receipt for three heartbeats
)

// Status is the node's state at a glance.
type Status struct {
	Party string `json:"party"`
	// Now is the node's clock reading, the time deadlines are judged at
	// (the demo's nodes run on a simulated clock).
	Now        time.Time    `json:"now,omitzero"`
	Regime     string       `json:"regime"`      // regime id
	RegimeHash string       `json:"regime_hash"` // base64
	Log        LogStatus    `json:"log"`
	Peers      []PeerStatus `json:"peers"`
	Overdue    int          `json:"overdue"` // statements (sent or received) with an overdue verdict
	Alarms     []string     `json:"alarms,omitempty"`
}

// LogStatus describes this node's own log.
type LogStatus struct {
	Origin string `json:"origin"`
	Size   int64  `json:"size"`
	// Final is the size of the newest checkpoint that meets the witness
	// policy, and FinalCosigners who cosigned it.
	Final          int64    `json:"final"`
	FinalCosigners []string `json:"final_cosigners,omitempty"`
}

// PeerStatus describes the link to one peer and this node's mirror of its log.
type PeerStatus struct {
	Party string `json:"party"`
	Link  string `json:"link"` // LinkUp, LinkDegraded or LinkDown
	// LastReceipt is the time of the peer's earliest cosignature on the
	// largest checkpoint of this node's log it has cosigned; zero if never.
	LastReceipt time.Time `json:"last_receipt,omitzero"`
	// Receipted is the size of this node's log the peer has cosigned.
	Receipted int64 `json:"receipted"`
	// Behind is how many entries of this node's log the peer has not receipted.
	Behind int64 `json:"behind"`
	// Mirror is the size of this node's mirror of the peer's log.
	Mirror      int64  `json:"mirror"`
	Quarantined bool   `json:"quarantined,omitempty"`
	LastError   string `json:"last_error,omitempty"`
}
