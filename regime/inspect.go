package regime

import (
	"fmt"
	"time"
)

// An Inspection is one inspection request counted against the quotas: Host
// is inspected by Inspector, requested at Time.
type Inspection struct {
	Host      string
	Inspector string
	Time      time.Time
}

// CheckInspection checks that the inspection req is within the regime's
// quotas (spec section "Inspections"), given the inspections already counted
// against them. Quotas count per calendar year (UTC) of the request time:
// a host accepts at most PerHostPerYear inspections a year, at most
// PerInspectorPerYear of them from any one inspecting party. Host and
// inspector must be different parties with role "party". Errors wrap
// [ErrQuota].
//
// CheckInspection is a pure function of its arguments; past entries for
// other hosts or years are ignored.
func (r *Regime) CheckInspection(req Inspection, past []Inspection) error {
	q := r.Inspections
	if q == nil {
		return fmt.Errorf("%w: regime %s provides no inspections", ErrQuota, r.ID)
	}
	for _, who := range []struct{ role, name string }{{"host", req.Host}, {"inspector", req.Inspector}} {
		p := r.Party(who.name)
		switch {
		case p == nil:
			return fmt.Errorf("%w: %s %q is not a party of %s", ErrQuota, who.role, truncate(who.name), r.ID)
		case p.Role != RoleParty:
			return fmt.Errorf("%w: %s %s is an observer; only parties host and make inspections", ErrQuota, who.role, p.Name)
		}
	}
	if req.Host == req.Inspector {
		return fmt.Errorf("%w: %s cannot inspect itself", ErrQuota, req.Host)
	}
	year := req.Time.UTC().Year()
	host, pair := 0, 0
	for _, in := range past {
		if in.Host != req.Host || in.Time.UTC().Year() != year {
			continue
		}
		host++
		if in.Inspector == req.Inspector {
			pair++
		}
	}
	switch {
	case host >= q.PerHostPerYear:
		return fmt.Errorf("%w: %s has already accepted %d %s in %d, its quota (per_host_per_year = %d)",
			ErrQuota, req.Host, host, plural(host, "inspection", "inspections"), year, q.PerHostPerYear)
	case pair >= q.PerInspectorPerYear:
		return fmt.Errorf("%w: %s has already inspected %s %d %s in %d, the most one party may (per_inspector_per_year = %d)",
			ErrQuota, req.Inspector, req.Host, pair, plural(pair, "time", "times"), year, q.PerInspectorPerYear)
	}
	return nil
}
