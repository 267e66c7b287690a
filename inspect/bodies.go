package inspect

import (
	"fmt"

	"github.com/tillit/tillit/escrow"
)

// Statement types (spec §Statements).
const (
	TypeRequest  = "inspection.request"
	TypeReply    = "inspection.reply"
	TypeFindings = "inspection.findings"
	TypeReport   = "inspection.report"
)

// A Scope says where an inspection may take place (spec §Request).
type Scope string

const (
	// ScopeAny: any site of the host's declaration.
	ScopeAny Scope = "any"
	// ScopeRegion: any site of the region named in the request.
	ScopeRegion Scope = "region"
)

// A Request is the body of an inspection.request statement (spec §Request):
// the inspecting party asks the host for an inspection of a site chosen by
// the beacon within Scope, counted against the quotas of Year.
type Request struct {
	Inspector   string `json:"inspector"`        // the inspecting party, the statement's sender
	Host        string `json:"host"`             // the inspected party
	Declaration Ref    `json:"declaration"`      // the host's declaration.commit statement
	Scope       Scope  `json:"scope"`            // ScopeAny or ScopeRegion
	Region      string `json:"region,omitempty"` // the region, if Scope is ScopeRegion
	Year        int    `json:"year"`             // the quota year: the UTC year of the statement's time
	Reason      string `json:"reason,omitempty"` // free text, optional
}

func (r *Request) validate() error {
	if err := partyField("inspector", r.Inspector); err != nil {
		return err
	}
	if err := partyField("host", r.Host); err != nil {
		return err
	}
	if r.Host == r.Inspector {
		return invalid("host", "%q is also the inspector: a party cannot inspect itself", r.Host)
	}
	if err := refField("declaration", r.Declaration); err != nil {
		return err
	}
	switch r.Scope {
	case ScopeAny:
		if r.Region != "" {
			return invalid("region", "must be omitted when scope is %q", ScopeAny)
		}
	case ScopeRegion:
		if err := nameField("region", r.Region); err != nil {
			return err
		}
	default:
		return invalid("scope", "%q: must be %q or %q", truncate(string(r.Scope)), ScopeAny, ScopeRegion)
	}
	if r.Year < MinYear || r.Year > MaxYear {
		return invalid("year", "%d: not in [%d, %d]", r.Year, MinYear, MaxYear)
	}
	if msg := checkReason(r.Reason); msg != "" {
		return invalid("reason", "%s", msg)
	}
	return nil
}

// ParseRequest decodes and checks an inspection.request body.
func ParseRequest(data []byte) (*Request, error) { return parseBody[Request](data, TypeRequest) }

// Encode checks r and returns its canonical encoding.
func (r *Request) Encode() ([]byte, error) { return encodeBody(r, TypeRequest) }

// A Decision is the host's answer to a request.
type Decision string

const (
	Accept Decision = "accept"
	Refuse Decision = "refuse"
)

// A Reply is the body of an inspection.reply statement (spec §Reply): the
// host accepts or refuses a request. A refusal states its reason.
type Reply struct {
	Request  Ref      `json:"request"`          // the inspection.request statement
	Decision Decision `json:"decision"`         // Accept or Refuse
	Reason   string   `json:"reason,omitempty"` // REQUIRED for a refusal
}

func (r *Reply) validate() error {
	if err := refField("request", r.Request); err != nil {
		return err
	}
	switch r.Decision {
	case Accept:
	case Refuse:
		if r.Reason == "" {
			return invalid("reason", "a refusal must state its reason")
		}
	default:
		return invalid("decision", "%q: must be %q or %q", truncate(string(r.Decision)), Accept, Refuse)
	}
	if msg := checkReason(r.Reason); msg != "" {
		return invalid("reason", "%s", msg)
	}
	return nil
}

// ParseReply decodes and checks an inspection.reply body.
func ParseReply(data []byte) (*Reply, error) { return parseBody[Reply](data, TypeReply) }

// Encode checks r and returns its canonical encoding.
func (r *Reply) Encode() ([]byte, error) { return encodeBody(r, TypeReply) }

// An Observed item is what inspectors saw: an object's unique identifier
// and its category.
type Observed struct {
	ID       string `json:"id"`
	Category string `json:"category"`
}

// Findings are the body of an inspection.findings statement (spec
// §Findings): what the inspectors observed at the site the beacon chose and
// the host opened.
type Findings struct {
	Request Ref         `json:"request"`         // the inspection.request statement
	Seed    escrow.Hash `json:"seed"`            // the beacon seed that chose the site
	Beacon  []Ref       `json:"beacon"`          // the beacon.reveal statements the seed came from: 1 or 2
	Region  string      `json:"region"`          // the inspected site's region
	Site    string      `json:"site"`            // the inspected site
	Opening Ref         `json:"opening"`         // the host's statement opening that site
	Items   []Observed  `json:"items,omitempty"` // every item observed, in ascending bytewise id order
}

func (f *Findings) validate() error {
	if err := refField("request", f.Request); err != nil {
		return err
	}
	if len(f.Beacon) < 1 || len(f.Beacon) > 2 {
		return invalid("beacon", "%d references, want 1 or 2", len(f.Beacon))
	}
	for i, r := range f.Beacon {
		if err := refField(fmt.Sprintf("beacon[%d]", i), r); err != nil {
			return err
		}
	}
	if len(f.Beacon) == 2 && f.Beacon[0] == f.Beacon[1] {
		return invalid("beacon[1]", "the same reveal twice")
	}
	if err := nameField("region", f.Region); err != nil {
		return err
	}
	if err := nameField("site", f.Site); err != nil {
		return err
	}
	if err := refField("opening", f.Opening); err != nil {
		return err
	}
	return checkObserved(f.Items)
}

func checkObserved(items []Observed) error {
	for i, it := range items {
		if err := nameField(fmt.Sprintf("items[%d].id", i), it.ID); err != nil {
			return err
		}
		if err := nameField(fmt.Sprintf("items[%d].category", i), it.Category); err != nil {
			return err
		}
		if i > 0 && it.ID <= items[i-1].ID {
			what := "not after"
			if it.ID == items[i-1].ID {
				what = "the same id as"
			}
			return invalid(fmt.Sprintf("items[%d].id", i), "%q is %s %q: ids must be unique and in ascending bytewise order",
				truncate(it.ID), what, truncate(items[i-1].ID))
		}
	}
	return nil
}

// ParseFindings decodes and checks an inspection.findings body.
func ParseFindings(data []byte) (*Findings, error) { return parseBody[Findings](data, TypeFindings) }

// Encode checks f and returns its canonical encoding.
func (f *Findings) Encode() ([]byte, error) { return encodeBody(f, TypeFindings) }
