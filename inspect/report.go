package inspect

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"

	"github.com/tillit/tillit/escrow"
	"github.com/tillit/tillit/internal/jsonpos"
	"github.com/tillit/tillit/statement"
)

// A Kind names what is wrong with one item (spec §Report).
type Kind string

const (
	// Undeclared: an item observed at the site is not declared at the site.
	Undeclared Kind = "undeclared"
	// Missing: an item declared at the site was not observed there.
	Missing Kind = "missing"
	// WrongCategory: an item was observed at the site with another
	// category than declared there.
	WrongCategory Kind = "category"
)

// An ItemDiscrepancy is one item that the opening and the findings disagree
// about. Declared is the item's category in the opening ("" if it is not
// declared at the site); Observed its category in the findings ("" if it was
// not observed).
type ItemDiscrepancy struct {
	Kind     Kind   `json:"kind"`
	ID       string `json:"id"`
	Declared string `json:"declared,omitempty"`
	Observed string `json:"observed,omitempty"`
}

// A CountDiscrepancy is a category whose number of items at the site
// differs between the opening (Declared) and the findings (Observed).
type CountDiscrepancy struct {
	Category string `json:"category"`
	Declared uint64 `json:"declared"`
	Observed uint64 `json:"observed"`
}

// A Report is the body of an inspection.report statement (spec §Report):
// the discrepancies between what the host's opening declares at the site
// and what the findings observed there. It is computed by Compare, never
// written by hand, and both parties log the same bytes.
type Report struct {
	Request  Ref                `json:"request"`          // the inspection.request statement
	Findings Ref                `json:"findings"`         // the inspection.findings statement
	Opening  Ref                `json:"opening"`          // the host's site opening statement
	Region   string             `json:"region"`           // the inspected site's region
	Site     string             `json:"site"`             // the inspected site
	Items    []ItemDiscrepancy  `json:"items,omitempty"`  // in ascending bytewise id order
	Counts   []CountDiscrepancy `json:"counts,omitempty"` // in ascending bytewise category order
}

// Clean reports whether the report found no discrepancy.
func (r *Report) Clean() bool { return len(r.Items) == 0 && len(r.Counts) == 0 }

func (r *Report) validate() error {
	for _, f := range []struct {
		name string
		ref  Ref
	}{{"request", r.Request}, {"findings", r.Findings}, {"opening", r.Opening}} {
		if err := refField(f.name, f.ref); err != nil {
			return err
		}
	}
	if err := nameField("region", r.Region); err != nil {
		return err
	}
	if err := nameField("site", r.Site); err != nil {
		return err
	}
	for i := range r.Items {
		if err := r.Items[i].check(fmt.Sprintf("items[%d]", i)); err != nil {
			return err
		}
		if i > 0 && r.Items[i].ID <= r.Items[i-1].ID {
			return invalid(fmt.Sprintf("items[%d].id", i), "%q is not after %q: ids must be unique and in ascending bytewise order",
				truncate(r.Items[i].ID), truncate(r.Items[i-1].ID))
		}
	}
	for i, c := range r.Counts {
		field := fmt.Sprintf("counts[%d]", i)
		if err := nameField(field+".category", c.Category); err != nil {
			return err
		}
		if i > 0 && c.Category <= r.Counts[i-1].Category {
			return invalid(field+".category", "%q is not after %q: categories must be unique and in ascending bytewise order",
				truncate(c.Category), truncate(r.Counts[i-1].Category))
		}
		if c.Declared == c.Observed {
			return invalid(field+".observed", "equals declared (%d): not a discrepancy", c.Declared)
		}
	}
	return nil
}

func (d *ItemDiscrepancy) check(field string) error {
	if err := nameField(field+".id", d.ID); err != nil {
		return err
	}
	declared, observed := d.Declared != "", d.Observed != ""
	if declared {
		if err := nameField(field+".declared", d.Declared); err != nil {
			return err
		}
	}
	if observed {
		if err := nameField(field+".observed", d.Observed); err != nil {
			return err
		}
	}
	switch d.Kind {
	case Undeclared:
		if declared || !observed {
			return invalid(field, "kind %q needs observed and no declared", d.Kind)
		}
	case Missing:
		if !declared || observed {
			return invalid(field, "kind %q needs declared and no observed", d.Kind)
		}
	case WrongCategory:
		if !declared || !observed || d.Declared == d.Observed {
			return invalid(field, "kind %q needs declared and observed, and they must differ", d.Kind)
		}
	default:
		return invalid(field+".kind", "%q: must be %q, %q or %q", truncate(string(d.Kind)), Undeclared, Missing, WrongCategory)
	}
	return nil
}

// ParseReport decodes and checks an inspection.report body. It does not
// check that the report is the right one: Verify does.
func ParseReport(data []byte) (*Report, error) { return parseBody[Report](data, TypeReport) }

// Encode checks r and returns its canonical encoding, the bytes both parties
// log (spec §JSON encoding).
func (r *Report) Encode() ([]byte, error) { return encodeBody(r, TypeReport) }

// Compare computes the report of an inspection (spec §Report computation)
// from the host's site opening, the findings, and the reference of the
// findings statement. The opening must have been accepted by
// escrow.VerifySiteOpening against the commitment the request names; Compare
// does not verify it again. It fails, wrapping ErrMismatch, if the opening
// and the findings are not about the same site, or ErrInvalid if either is
// malformed.
//
// Compare looks at this one site only: an observed item that the host
// declared at another site is still undeclared at this one.
func Compare(opening *escrow.SiteOpening, f *Findings, findingsRef statement.Ref) (*Report, error) {
	if err := f.validate(); err != nil {
		return nil, fmt.Errorf("couldn't compare: findings: %w", err)
	}
	region, site := opening.Opened()
	if region != f.Region || site.Name != f.Site {
		return nil, fmt.Errorf("couldn't compare: %w: the opening is of region %q, site %q; the findings are of region %q, site %q",
			ErrMismatch, truncate(region), truncate(site.Name), truncate(f.Region), truncate(f.Site))
	}
	declared := make([]Observed, len(site.Items))
	for i, it := range site.Items {
		declared[i] = Observed{ID: it.ID, Category: it.Category}
	}
	slices.SortFunc(declared, func(a, b Observed) int { return cmp.Compare(a.ID, b.ID) })
	if err := checkObserved(declared); err != nil {
		return nil, fmt.Errorf("couldn't compare: opening: %w", err)
	}
	r := &Report{Request: f.Request, Findings: Ref(findingsRef), Opening: f.Opening, Region: f.Region, Site: f.Site}
	if err := refField("findings", r.Findings); err != nil {
		return nil, fmt.Errorf("couldn't compare: %w", err)
	}
	r.Items = compareItems(declared, f.Items)
	r.Counts = compareCounts(declared, f.Items)
	return r, nil
}

// compareItems merges two lists in ascending id order.
func compareItems(declared, observed []Observed) []ItemDiscrepancy {
	var out []ItemDiscrepancy
	i, j := 0, 0
	for i < len(declared) || j < len(observed) {
		switch {
		case j == len(observed) || (i < len(declared) && declared[i].ID < observed[j].ID):
			out = append(out, ItemDiscrepancy{Kind: Missing, ID: declared[i].ID, Declared: declared[i].Category})
			i++
		case i == len(declared) || observed[j].ID < declared[i].ID:
			out = append(out, ItemDiscrepancy{Kind: Undeclared, ID: observed[j].ID, Observed: observed[j].Category})
			j++
		default:
			if d, o := declared[i], observed[j]; d.Category != o.Category {
				out = append(out, ItemDiscrepancy{Kind: WrongCategory, ID: d.ID, Declared: d.Category, Observed: o.Category})
			}
			i++
			j++
		}
	}
	return out
}

func compareCounts(declared, observed []Observed) []CountDiscrepancy {
	counts := make(map[string]*CountDiscrepancy)
	get := func(c string) *CountDiscrepancy {
		if counts[c] == nil {
			counts[c] = &CountDiscrepancy{Category: c}
		}
		return counts[c]
	}
	for _, it := range declared {
		get(it.Category).Declared++
	}
	for _, it := range observed {
		get(it.Category).Observed++
	}
	var out []CountDiscrepancy
	for _, c := range counts {
		if c.Declared != c.Observed {
			out = append(out, *c)
		}
	}
	slices.SortFunc(out, func(a, b CountDiscrepancy) int { return cmp.Compare(a.Category, b.Category) })
	return out
}

// Verify recomputes the report of an inspection with Compare and checks that
// report holds exactly its canonical encoding. Errors wrap ErrReport, naming
// the first difference, or the errors of Compare. As for Compare, the
// opening must already be verified against the host's commitment.
func Verify(opening *escrow.SiteOpening, f *Findings, findingsRef statement.Ref, report []byte) error {
	want, err := Compare(opening, f, findingsRef)
	if err != nil {
		return fmt.Errorf("couldn't verify report: %w", err)
	}
	wantBytes, err := want.Encode()
	if err != nil {
		return fmt.Errorf("couldn't verify report: %w", err)
	}
	if bytes.Equal(report, wantBytes) {
		return nil
	}
	got, err := ParseReport(report)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrReport, err)
	}
	return fmt.Errorf("%w: %s", ErrReport, describeDiff(got, want, report, wantBytes))
}

// describeDiff names the first difference between two reports.
func describeDiff(got, want *Report, gotBytes, wantBytes []byte) string {
	switch {
	case got.Request != want.Request:
		return fmt.Sprintf("request is %s, want %s", got.Request, want.Request)
	case got.Findings != want.Findings:
		return fmt.Sprintf("findings is %s, want %s", got.Findings, want.Findings)
	case got.Opening != want.Opening:
		return fmt.Sprintf("opening is %s, want %s", got.Opening, want.Opening)
	case got.Region != want.Region || got.Site != want.Site:
		return fmt.Sprintf("site is region %q, site %q, want region %q, site %q", got.Region, got.Site, want.Region, want.Site)
	}
	if s := diffLists("items", got.Items, want.Items); s != "" {
		return s
	}
	if s := diffLists("counts", got.Counts, want.Counts); s != "" {
		return s
	}
	i := jsonpos.FirstDiff(gotBytes, wantBytes)
	return fmt.Sprintf("not the canonical encoding: found %q at byte %d where it has %q", jsonpos.Window(gotBytes, i), i, jsonpos.Window(wantBytes, i))
}

// diffLists names the first entry of want missing from got, or else the
// first entry of got that is not in want.
func diffLists[T comparable](name string, got, want []T) string {
	for _, w := range want {
		if !slices.Contains(got, w) {
			return fmt.Sprintf("%s: %v is not reported", name, w)
		}
	}
	for i, g := range got {
		if !slices.Contains(want, g) {
			return fmt.Sprintf("%s[%d]: reports %v, but the evidence does not show it", name, i, g)
		}
	}
	return ""
}

func (d ItemDiscrepancy) String() string {
	switch d.Kind {
	case Undeclared:
		return fmt.Sprintf("undeclared item %q (observed as %q)", d.ID, d.Observed)
	case Missing:
		return fmt.Sprintf("missing item %q (declared as %q)", d.ID, d.Declared)
	case WrongCategory:
		return fmt.Sprintf("item %q declared as %q, observed as %q", d.ID, d.Declared, d.Observed)
	}
	return fmt.Sprintf("item %q: %q", d.ID, string(d.Kind))
}

func (c CountDiscrepancy) String() string {
	return fmt.Sprintf("category %q: %d declared, %d observed", c.Category, c.Declared, c.Observed)
}

// Evidence is a statement that shows a discrepancy: the host's opening or
// the findings, and the item within it (spec §Evidence).
type Evidence struct {
	Ref  statement.Ref
	Item string // the item's id in the statement, or "" when the statement is evidence by what it does not contain
}

// ItemEvidence returns the evidence of an item discrepancy of r: the opening
// (with the item if it is declared at the site) and the findings (with the
// item if it was observed).
func (r *Report) ItemEvidence(d ItemDiscrepancy) []Evidence {
	out := []Evidence{{Ref: statement.Ref(r.Opening)}, {Ref: statement.Ref(r.Findings)}}
	if d.Declared != "" {
		out[0].Item = d.ID
	}
	if d.Observed != "" {
		out[1].Item = d.ID
	}
	return out
}

// CountEvidence returns the evidence of a count discrepancy of r: the
// opening and the findings, each through all of its items of the category.
func (r *Report) CountEvidence(CountDiscrepancy) []Evidence {
	return []Evidence{{Ref: statement.Ref(r.Opening)}, {Ref: statement.Ref(r.Findings)}}
}
