package inspect

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/tillit/tillit/escrow"
)

// SelectionLabel is the label of the beacon stream that selects the site
// (spec §Selection).
const SelectionLabel = "tillit/inspect/v1/site"

// A Selection is how the beacon chooses among candidate sites.
type Selection int

const (
	// SelectUniform: every candidate site is equally likely, empty or not.
	SelectUniform Selection = iota + 1
	// SelectWeighted: a site's chance is proportional to its number of
	// declared items; a site that declares none is never chosen, unless no
	// candidate declares any, when the choice is uniform.
	SelectWeighted
)

var selectionNames = [...]string{SelectUniform: "uniform", SelectWeighted: "weighted"}

func (s Selection) String() string {
	if s > 0 && int(s) < len(selectionNames) {
		return selectionNames[s]
	}
	return fmt.Sprintf("Selection(%d)", int(s))
}

// ParseSelection parses "uniform" or "weighted".
func ParseSelection(s string) (Selection, error) {
	for i, name := range selectionNames {
		if name != "" && name == s {
			return Selection(i), nil
		}
	}
	return 0, fmt.Errorf("selection %q: %w: want %q or %q", truncate(s), ErrInvalid, SelectUniform, SelectWeighted)
}

// A Candidate is a site the beacon may choose, with its number of declared
// items.
type Candidate struct {
	Region string
	Site   string
	Items  uint64
}

// Candidates returns the sites within the request's scope, in canonical
// order (region name, then site name, bytewise), from the host's verified
// reveals (spec §Selection). Each site list reveal is verified against the
// commitment c with escrow.VerifySites. For ScopeRegion, lists must hold
// the region's site list; index may be nil. For ScopeAny, index is the
// host's index reveal, verified with escrow.VerifyIndex, and lists must hold
// the site list of every region it names. Lists of regions outside the scope
// are ignored. Errors wrap the escrow error, ErrMismatch for a missing or
// repeated list, or ErrNoCandidates if the scope has no site.
func Candidates(c *escrow.Commitment, req *Request, index *escrow.IndexReveal, lists []*escrow.SitesReveal) ([]Candidate, error) {
	if err := req.validate(); err != nil {
		return nil, fmt.Errorf("candidates: request: %w", err)
	}
	if c.Party != req.Host {
		return nil, fmt.Errorf("candidates: %w: commitment of %q, request to inspect %q", ErrMismatch, c.Party, req.Host)
	}
	var regions []string
	if req.Scope == ScopeRegion {
		regions = []string{req.Region}
	} else {
		if index == nil {
			return nil, fmt.Errorf("candidates: %w: scope %q needs the index reveal", ErrMismatch, ScopeAny)
		}
		if err := escrow.VerifyIndex(c, index); err != nil {
			return nil, fmt.Errorf("candidates: %w", err)
		}
		for _, e := range index.Regions {
			regions = append(regions, e.Name)
		}
	}
	byRegion := make(map[string]*escrow.SitesReveal)
	for _, l := range lists {
		name := l.Region.Entry.Name
		if !slices.Contains(regions, name) {
			continue
		}
		if byRegion[name] != nil {
			return nil, fmt.Errorf("candidates: region %q: %w: two site lists", name, ErrMismatch)
		}
		if err := escrow.VerifySites(c, l); err != nil {
			return nil, fmt.Errorf("candidates: %w", err)
		}
		byRegion[name] = l
	}
	var out []Candidate
	for _, r := range regions {
		l := byRegion[r]
		if l == nil {
			return nil, fmt.Errorf("candidates: region %q: %w: no site list reveal", r, ErrMismatch)
		}
		for _, s := range l.Sites {
			out = append(out, Candidate{Region: r, Site: s.Name, Items: s.End - s.Start})
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("candidates: scope %s: %w", describeScope(req), ErrNoCandidates)
	}
	slices.SortFunc(out, compareCandidates)
	return out, nil
}

func describeScope(r *Request) string {
	if r.Scope == ScopeRegion {
		return fmt.Sprintf("region %q", r.Region)
	}
	return string(ScopeAny)
}

func compareCandidates(a, b Candidate) int {
	if c := cmp.Compare(a.Region, b.Region); c != 0 {
		return c
	}
	return cmp.Compare(a.Site, b.Site)
}

// Select chooses the site to inspect from the beacon seed (spec
// §Selection): it sorts the candidates in canonical order and draws from
// escrow.NewStream(seed, SelectionLabel) either Uniform(n) or, for
// SelectWeighted, Weighted(item counts). Both parties, given the same
// candidates, choose the same site. Errors wrap ErrNoCandidates if there is
// none, or ErrInvalid for a repeated site or an unknown mode.
func Select(seed escrow.Hash, candidates []Candidate, mode Selection) (Candidate, error) {
	if len(candidates) == 0 {
		return Candidate{}, fmt.Errorf("select: %w", ErrNoCandidates)
	}
	cs := slices.Clone(candidates)
	slices.SortFunc(cs, compareCandidates)
	var total uint64
	for i, c := range cs {
		if i > 0 && compareCandidates(c, cs[i-1]) == 0 {
			return Candidate{}, fmt.Errorf("select: region %q, site %q: %w: listed twice", c.Region, c.Site, ErrInvalid)
		}
		if total+c.Items < total {
			return Candidate{}, fmt.Errorf("select: item counts overflow: %w", ErrInvalid)
		}
		total += c.Items
	}
	s := escrow.NewStream(seed, SelectionLabel)
	switch {
	case mode == SelectUniform || (mode == SelectWeighted && total == 0):
		i, err := s.Uniform(uint64(len(cs)))
		if err != nil {
			return Candidate{}, fmt.Errorf("select: %w: %w", ErrInvalid, err)
		}
		return cs[i], nil
	case mode == SelectWeighted:
		weights := make([]uint64, len(cs))
		for i, c := range cs {
			weights[i] = c.Items
		}
		i, err := s.Weighted(weights)
		if err != nil {
			return Candidate{}, fmt.Errorf("select: %w: %w", ErrInvalid, err)
		}
		return cs[i], nil
	}
	return Candidate{}, fmt.Errorf("select: mode %d: %w", int(mode), ErrInvalid)
}
