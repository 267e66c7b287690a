package inspect

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Quotas are a regime's limits on inspections (spec §Quotas), counted per
// host per calendar year (UTC) of the request time. For example:
//
//	Vienna Document: Quotas{PerHostPerYear: 3, PerInspectorPerYear: 1, ReplyWithin: 48 * time.Hour}
//	New START-like:  Quotas{PerHostPerYear: 18, PerInspectorPerYear: 18, ReplyWithin: 24 * time.Hour}
type Quotas struct {
	// PerHostPerYear is how many inspections a host must accept in a year,
	// from all inspecting parties together. At least 1.
	PerHostPerYear int
	// PerInspectorPerYear is how many of those may come from any one
	// inspecting party. From 1 to PerHostPerYear; set it to PerHostPerYear
	// for no separate limit.
	PerInspectorPerYear int
	// ReplyWithin is the host's reply deadline after the request's time
	// (spec §Deadlines). A request without a reply holds its place in the
	// quota until then. Positive.
	ReplyWithin time.Duration
}

// Validate checks that q is usable.
func (q Quotas) Validate() error {
	switch {
	case q.PerHostPerYear < 1:
		return fmt.Errorf("quotas: per host per year %d: %w: a regime with inspections allows at least 1", q.PerHostPerYear, ErrInvalid)
	case q.PerInspectorPerYear < 1 || q.PerInspectorPerYear > q.PerHostPerYear:
		return fmt.Errorf("quotas: per inspector per year %d: %w: must be from 1 to per host per year (%d)",
			q.PerInspectorPerYear, ErrInvalid, q.PerHostPerYear)
	case q.ReplyWithin <= 0:
		return fmt.Errorf("quotas: reply within %v: %w: must be positive", q.ReplyWithin, ErrInvalid)
	}
	return nil
}

// CheckQuota checks that candidate is within the quotas, given the other
// inspection requests of the logs (spec §Quotas). It is a pure function: the
// order of history does not matter, and so that both nodes and an auditor
// agree, it looks only at what was logged up to the candidate's time.
//
// Requests are ordered by time, then by the origin and index of their
// statements. Those that came before the candidate, for the same host, in the
// same UTC calendar year as the candidate's time, count if:
//
//   - they were within the quotas themselves when made (a request over quota
//     never counts, even if the host accepts it), and
//   - at the candidate's time they are accepted or still pending: a refused
//     request, one deemed refused by the beacon fallback, and one whose reply
//     deadline passed without a reply (overdue) do not count.
//
// The candidate is over quota if the host already has PerHostPerYear
// counting requests that year, or PerInspectorPerYear from the candidate's
// inspector. Errors wrap ErrQuota, or ErrInvalid for bad quotas or a
// candidate whose body year is not its time's year.
func CheckQuota(q Quotas, history []Inspection, candidate Inspection) error {
	if err := q.Validate(); err != nil {
		return err
	}
	c := &candidate.Request
	year := c.Time.UTC().Year()
	if c.Body.Year != year {
		return fmt.Errorf("request %s: year %d, but made in %d: %w", c.Ref, c.Body.Year, year, ErrInvalid)
	}
	if c.Body.Host == c.Body.Inspector {
		return fmt.Errorf("request %s: %q cannot inspect itself: %w", c.Ref, c.Body.Host, ErrInvalid)
	}
	var earlier []*Inspection
	for i := range history {
		h := &history[i]
		if h.Request.Body.Host == c.Body.Host && h.Request.Time.UTC().Year() == year &&
			h.Request.Body.Host != h.Request.Body.Inspector && before(&h.Request, c) {
			earlier = append(earlier, h)
		}
	}
	slices.SortFunc(earlier, func(a, b *Inspection) int { return compareRequests(&a.Request, &b.Request) })
	counted := countable(q, earlier)
	host, pair := 0, 0
	for i, h := range earlier {
		if counted[i] && h.Status(q.ReplyWithin, c.Time).State.counts() {
			host++
			if h.Request.Body.Inspector == c.Body.Inspector {
				pair++
			}
		}
	}
	switch {
	case host >= q.PerHostPerYear:
		return fmt.Errorf("request %s: %w: %s already has %d accepted or pending %s in %d, its quota",
			c.Ref, ErrQuota, c.Body.Host, host, plural(host, "inspection"), year)
	case pair >= q.PerInspectorPerYear:
		return fmt.Errorf("request %s: %w: %s already has %d accepted or pending %s of %s in %d, the most one party may make",
			c.Ref, ErrQuota, c.Body.Inspector, pair, plural(pair, "inspection"), c.Body.Host, year)
	}
	return nil
}

// countable reports, for requests in order, whether each was within the
// quotas when made, given the earlier ones.
func countable(q Quotas, reqs []*Inspection) []bool {
	ok := make([]bool, len(reqs))
	for i, r := range reqs {
		host, pair := 0, 0
		for j := range i {
			if ok[j] && reqs[j].Status(q.ReplyWithin, r.Request.Time).State.counts() {
				host++
				if reqs[j].Request.Body.Inspector == r.Request.Body.Inspector {
					pair++
				}
			}
		}
		ok[i] = host < q.PerHostPerYear && pair < q.PerInspectorPerYear
	}
	return ok
}

// compareRequests orders requests by time, then by the origin and index of
// their statements (spec §Quotas).
func compareRequests(a, b *Logged[Request]) int {
	if c := a.Time.Compare(b.Time); c != 0 {
		return c
	}
	if c := strings.Compare(a.Ref.Log, b.Ref.Log); c != 0 {
		return c
	}
	return cmp.Compare(a.Ref.Index, b.Ref.Index)
}

func before(a, b *Logged[Request]) bool { return compareRequests(a, b) < 0 }

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
