package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tillit/tillit/escrow"
	"github.com/tillit/tillit/inspect"
	"github.com/tillit/tillit/regime"
	"github.com/tillit/tillit/statement"
)

// This file reads one inspection back from the logs (docs/spec/inspect.md):
// every step the parties have logged so far, each checked as a third party
// would check it. The commands use it to decide the next step; verify prints
// its checks.

// A trace receives the checks made while reading an inspection or a
// declaration: ok is false for a statement that breaks the specs or a
// deadline that was missed. Notes say where things stand. Either may be
// nil.
type trace struct {
	check func(ok bool, msg string)
	note  func(msg string)
}

func (t *trace) ok(ok bool, format string, args ...any) {
	if t != nil && t.check != nil {
		t.check(ok, fmt.Sprintf(format, args...))
	}
}

func (t *trace) info(format string, args ...any) {
	if t != nil && t.note != nil {
		t.note(fmt.Sprintf(format, args...))
	}
}

// inspection is what the logs show of one inspection.
type inspection struct {
	reg        *regime.Regime
	rules      inspectionRules
	now        time.Time
	reqE       *entry
	req        *inspect.Logged[inspect.Request]
	decl       *entry
	commitment *escrow.Commitment
	reply      *inspect.Logged[inspect.Reply]
	status     inspect.Status

	commits map[string]*entry // each party's first beacon.commit
	reveals map[string]*entry // each party's first beacon.reveal
	verdict *inspect.BeaconVerdict

	index      *escrow.IndexReveal
	indexE     *entry
	lists      map[string]*escrow.SitesReveal // by region
	listE      map[string]*entry
	missing    []string // what the host has yet to reveal for the selection
	candidates []inspect.Candidate
	chosen     *inspect.Candidate

	opening  *escrow.SiteOpening
	openingE *entry
	findings *inspect.Logged[inspect.Findings]
	reports  map[string]*inspect.Logged[inspect.Report] // by party
	reportE  map[string]*entry
}

func (in *inspection) inspector() string { return in.req.Body.Inspector }
func (in *inspection) host() string      { return in.req.Body.Host }

// other returns the other party of the inspection.
func (in *inspection) other(party string) string {
	if party == in.host() {
		return in.inspector()
	}
	return in.host()
}

// beaconContext is the inspection's beacon context.
func (in *inspection) beaconContext() string { return inspect.BeaconContext(in.req.Ref) }

// loadInspection reads the inspection requested at reqRef from v as of now.
// It fails only if the request or the host's declaration cannot be read;
// everything else that is wrong or missing is left out and reported to t.
func loadInspection(ctx context.Context, v *view, reg *regime.Regime, rules inspectionRules, reqRef statement.Ref, now time.Time, t *trace) (*inspection, error) {
	in := &inspection{reg: reg, rules: rules, now: now, commits: map[string]*entry{}, reveals: map[string]*entry{},
		lists: map[string]*escrow.SitesReveal{}, listE: map[string]*entry{}, reports: map[string]*inspect.Logged[inspect.Report]{}, reportE: map[string]*entry{}}
	var err error
	if in.reqE, err = v.get(ctx, reqRef); err != nil {
		t.ok(false, "request %s: %v", shortRef(reqRef.String()), err)
		return nil, err
	}
	if in.req, err = inspect.RequestFromStatement(in.reqE.st, reqRef.Index); err != nil {
		t.ok(false, "request %s: %v", shortRef(reqRef.String()), err)
		return nil, fmt.Errorf("%s is not a valid inspection request: %w", reqRef, err)
	}
	r := in.req.Body
	scope := "any declared site"
	if r.Scope == inspect.ScopeRegion {
		scope = "a site in region " + r.Region
	}
	t.ok(true, "request %s (its bytes hash to the reference): %s asks %s to accept an inspection of %s, quota year %d, at %s",
		shortRef(reqRef.String()), r.Inspector, r.Host, scope, r.Year, stamp(in.req.Time))
	if err := in.loadDeclaration(ctx, v, t); err != nil {
		return nil, err
	}
	if err := in.loadQuota(ctx, v, t); err != nil {
		return nil, err
	}
	if err := in.loadReply(ctx, v, t); err != nil || in.status.State != inspect.Accepted {
		return in, err
	}
	if err := in.loadBeacon(ctx, v, t); err != nil {
		return in, err
	}
	if err := in.loadSelection(ctx, v, t); err != nil || in.chosen == nil {
		return in, err
	}
	if err := in.loadOpening(ctx, v, t); err != nil || in.opening == nil {
		return in, err
	}
	if err := in.loadFindings(ctx, v, t); err != nil || in.findings == nil {
		return in, err
	}
	return in, in.loadReports(ctx, v, t)
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05Z") }

func (in *inspection) loadDeclaration(ctx context.Context, v *view, t *trace) error {
	ref := statement.Ref(in.req.Body.Declaration)
	var err error
	if in.decl, err = v.get(ctx, ref); err != nil {
		t.ok(false, "declaration %s: %v", shortRef(ref.String()), err)
		return err
	}
	if in.decl.st.Type != typeCommit {
		err = fmt.Errorf("a %s statement, not %s", in.decl.st.Type, typeCommit)
	} else if in.commitment, err = escrow.ParseCommitment(in.decl.st.Body); err == nil &&
		(in.commitment.Party != in.host() || in.commitment.Regime != in.reg.ID) {
		err = fmt.Errorf("a commitment of %s in regime %s, not of the host %s in %s", in.commitment.Party, in.commitment.Regime, in.host(), in.reg.ID)
	}
	if err != nil {
		t.ok(false, "declaration %s: %s", shortRef(ref.String()), cleanEscrowError(err))
		return fmt.Errorf("the request's declaration %s: %s", ref, cleanEscrowError(err))
	}
	t.ok(true, "declaration %s: %s's commitment, version %d, %d leaves (items and padding)", shortRef(ref.String()), in.host(), in.commitment.Version, in.commitment.Size)
	return nil
}

// loadQuota checks the request against the quotas, given the other requests
// of the same host that v holds.
func (in *inspection) loadQuota(ctx context.Context, v *view, t *trace) error {
	hist, err := quotaHistory(ctx, v, in.reg, in.rules, in.host(), in.req.Ref, in.now)
	if err != nil {
		return err
	}
	q := in.rules.quotas
	if err := inspect.CheckQuota(q, hist, inspect.Inspection{Request: *in.req}); err != nil {
		t.info("over quota, so %s may refuse it: %v", in.host(), err)
	} else {
		t.ok(true, "within quota: %d per host and %d per inspector a year, counting the %d other requests to %s known here", q.PerHostPerYear, q.PerInspectorPerYear, len(hist), in.host())
	}
	return nil
}

// quotaHistory returns the inspection requests to host in v other than
// exclude, each with its first valid reply and, once accepted, its beacon.
func quotaHistory(ctx context.Context, v *view, reg *regime.Regime, rules inspectionRules, host string, exclude statement.Ref, now time.Time) ([]inspect.Inspection, error) {
	es, err := v.ofType(ctx, inspect.TypeRequest)
	if err != nil {
		return nil, err
	}
	var out []inspect.Inspection
	for _, e := range es {
		if e.ref == exclude {
			continue
		}
		req, err := inspect.RequestFromStatement(e.st, e.ref.Index)
		if err != nil || req.Body.Host != host {
			continue
		}
		in := &inspection{reg: reg, rules: rules, now: now, reqE: e, req: req, commits: map[string]*entry{}, reveals: map[string]*entry{}}
		if err := in.loadReply(ctx, v, nil); err != nil {
			return nil, err
		}
		if in.status.State == inspect.Accepted {
			if err := in.loadBeacon(ctx, v, nil); err != nil {
				return nil, err
			}
		}
		out = append(out, inspect.Inspection{Request: *req, Reply: in.reply, Beacon: in.verdict})
	}
	return out, nil
}

func (in *inspection) loadReply(ctx context.Context, v *view, t *trace) error {
	es, err := v.from(ctx, inspect.TypeReply, in.host(), in.req.Ref, true)
	if err != nil {
		return err
	}
	for _, e := range es {
		r, err := inspect.ReplyFromStatement(e.st, e.ref.Index, in.req)
		if err != nil {
			t.ok(false, "reply %s: %v", shortRef(e.String()), err)
			continue
		}
		in.reply = r
		break
	}
	within := in.rules.quotas.ReplyWithin
	x := inspect.Inspection{Request: *in.req, Reply: in.reply}
	in.status = x.Status(within, in.now)
	due := stamp(in.status.Due)
	switch {
	case in.reply == nil && in.status.State == inspect.Pending:
		t.info("waiting for %s's reply, due by %s", in.host(), due)
	case in.reply == nil:
		t.ok(false, "%s did not reply by the deadline %s", in.host(), due)
	case in.status.Late:
		t.ok(false, "reply %s: %s answered %s at %s, after the deadline %s", shortRef(in.reply.Ref.String()), in.host(), in.reply.Body.Decision, stamp(in.reply.Time), due)
	case in.status.State == inspect.Refused:
		t.ok(true, "reply %s: %s refused at %s (reason: %s)", shortRef(in.reply.Ref.String()), in.host(), stamp(in.reply.Time), in.reply.Body.Reason)
	default:
		t.ok(true, "reply %s: %s accepted at %s, by the deadline %s", shortRef(in.reply.Ref.String()), in.host(), stamp(in.reply.Time), due)
	}
	return nil
}

// beaconCommitBody is the body of a beacon.commit statement, as the
// regime's schema defines it.
type beaconCommitBody struct {
	Commit escrow.Hash `json:"commit"`
}

func parseBeaconCommit(b []byte) (escrow.Hash, error) {
	var c beaconCommitBody
	if err := strictJSON(b, &c); err != nil {
		return escrow.Hash{}, err
	}
	return c.Commit, nil
}

func (in *inspection) loadBeacon(ctx context.Context, v *view, t *trace) error {
	due := inspect.RevealDue(in.reply.Time, in.rules.beaconWithin)
	b := inspect.Beacon{Request: in.req.Ref, Due: due}
	for _, p := range []string{in.inspector(), in.host()} {
		part := inspect.BeaconPart{Party: p}
		commits, err := v.from(ctx, typeBeaconCommit, p, in.req.Ref, true)
		if err != nil {
			return err
		}
		for _, e := range commits {
			h, err := parseBeaconCommit(e.st.Body)
			switch {
			case err != nil:
				t.ok(false, "beacon commit %s by %s: %v", shortRef(e.String()), p, err)
				continue
			case e.st.Time.After(due):
				t.ok(false, "beacon commit %s by %s: logged at %s, after the beacon deadline %s", shortRef(e.String()), p, stamp(e.st.Time), stamp(due))
				continue
			}
			in.commits[p], part.Commit = e, h
			break
		}
		reveals, err := v.from(ctx, typeBeaconReveal, p, in.req.Ref, true)
		if err != nil {
			return err
		}
		for _, e := range reveals {
			r, err := escrow.ParseBeaconReveal(e.st.Body)
			if err != nil {
				t.ok(false, "beacon reveal %s by %s: %s", shortRef(e.String()), p, cleanEscrowError(err))
				continue
			}
			in.reveals[p], part.Reveal, part.Time = e, r, e.st.Time
			break
		}
		if p == in.inspector() {
			b.Inspector = part
		} else {
			b.Host = part
		}
		in.traceBeaconPart(part, due, t)
	}
	var err error
	if in.verdict, err = b.Resolve(in.rules.fallback, in.now); err != nil {
		return err
	}
	x := inspect.Inspection{Request: *in.req, Reply: in.reply, Beacon: in.verdict}
	in.status = x.Status(in.rules.quotas.ReplyWithin, in.now)
	switch o := in.verdict.Outcome; {
	case o == inspect.BeaconPending:
		t.info("the beacon is pending until both parties reveal, at the latest %s", stamp(due))
	case o == inspect.BeaconSeeded && in.verdict.Decider == "":
		t.ok(true, "beacon seed %s from both contributions (escrow §Beacon): neither party chose it alone", in.verdict.Seed)
	case o == inspect.BeaconSeeded:
		t.ok(false, "beacon: %s is at fault; under the forfeit fallback %s's contribution alone gives the seed %s", strings.Join(in.verdict.Blame(), ", "), in.verdict.Decider, in.verdict.Seed)
	default:
		t.ok(false, "beacon: %s (%s at fault, fallback %s)", o, strings.Join(in.verdict.Blame(), ", "), in.rules.fallback)
	}
	return nil
}

func (in *inspection) traceBeaconPart(part inspect.BeaconPart, due time.Time, t *trace) {
	p := part.Party
	c := in.commits[p]
	switch {
	case c == nil:
		t.info("waiting for %s's beacon commit, due by %s", p, stamp(due))
	case part.Reveal == nil:
		t.ok(true, "beacon commit %s by %s at %s", shortRef(c.String()), p, stamp(c.st.Time))
		t.info("waiting for %s's beacon reveal, due by %s", p, stamp(due))
	default:
		err := escrow.VerifyBeaconReveal(in.beaconContext(), p, part.Commit, part.Reveal)
		when := ""
		if part.Time.After(due) {
			when = ", but after the deadline " + stamp(due)
		}
		if err != nil {
			t.ok(false, "beacon reveal %s by %s does not match its commit %s: %s", shortRef(in.reveals[p].String()), p, shortRef(c.String()), cleanEscrowError(err))
		} else {
			t.ok(when == "", "beacon commit %s and reveal %s by %s (at %s%s): the reveal matches the commit", shortRef(c.String()), shortRef(in.reveals[p].String()), p, stamp(part.Time), when)
		}
	}
}

// fromHostFor returns the host's statements of typ that refer to the
// request or to its declaration, in log order.
func (in *inspection) fromHostFor(ctx context.Context, v *view, typ string) ([]*entry, error) {
	es, err := v.from(ctx, typ, in.host(), statement.Ref{}, false)
	if err != nil {
		return nil, err
	}
	var out []*entry
	for _, e := range es {
		if slices.Contains(e.st.Refs, in.req.Ref) || slices.Contains(e.st.Refs, in.decl.ref) {
			out = append(out, e)
		}
	}
	return out, nil
}

// loadSelection finds the host's index and site list reveals, the candidate
// sites and, once the beacon has a seed, the chosen site.
func (in *inspection) loadSelection(ctx context.Context, v *view, t *trace) error {
	r := in.req.Body
	if r.Scope == inspect.ScopeAny {
		es, err := in.fromHostFor(ctx, v, typeIndex)
		if err != nil {
			return err
		}
		for _, e := range es {
			x, err := escrow.ParseIndexReveal(e.st.Body)
			if err == nil {
				err = escrow.VerifyIndex(in.commitment, x)
			}
			if err != nil {
				t.ok(false, "index reveal %s: %s", shortRef(e.String()), cleanEscrowError(err))
				continue
			}
			in.index, in.indexE = x, e
			break
		}
		if in.index == nil {
			in.missing = append(in.missing, "its index")
		}
	}
	es, err := in.fromHostFor(ctx, v, typeSites)
	if err != nil {
		return err
	}
	for _, e := range es {
		x, err := escrow.ParseSitesReveal(e.st.Body)
		if err == nil {
			err = escrow.VerifySites(in.commitment, x)
		}
		if err != nil {
			t.ok(false, "site list reveal %s: %s", shortRef(e.String()), cleanEscrowError(err))
			continue
		}
		if in.lists[x.Region.Entry.Name] == nil {
			in.lists[x.Region.Entry.Name], in.listE[x.Region.Entry.Name] = x, e
		}
	}
	var inScope []string
	switch {
	case r.Scope == inspect.ScopeRegion:
		inScope = []string{r.Region}
	case in.index != nil:
		for _, e := range in.index.Regions {
			inScope = append(inScope, e.Name)
		}
	}
	var lists []*escrow.SitesReveal
	var refs []string
	for _, name := range inScope {
		if l := in.lists[name]; l != nil {
			lists = append(lists, l)
			refs = append(refs, shortRef(in.listE[name].String()))
		} else {
			in.missing = append(in.missing, "the site list of region "+name)
		}
	}
	if len(in.missing) > 0 {
		t.info("waiting for %s to reveal %s", in.host(), strings.Join(in.missing, ", "))
		return nil
	}
	if in.candidates, err = inspect.Candidates(in.commitment, &r, in.index, lists); err != nil {
		t.ok(false, "candidate sites: %v", err)
		return nil
	}
	from := "site lists " + strings.Join(refs, ", ")
	if in.indexE != nil {
		from = "index " + shortRef(in.indexE.String()) + " and " + from
	}
	t.ok(true, "%d candidate sites, from %s's %s, each verified against the commitment", len(in.candidates), in.host(), from)
	if in.verdict == nil || in.verdict.Outcome != inspect.BeaconSeeded {
		return nil
	}
	c, err := inspect.Select(in.verdict.Seed, in.candidates, in.rules.selection)
	if err != nil {
		t.ok(false, "selection: %v", err)
		return nil
	}
	in.chosen = &c
	t.ok(true, "selection (%s, label %s): the seed chooses %s/%s, which declares %d items", in.rules.selection, inspect.SelectionLabel, c.Region, c.Site, c.Items)
	return nil
}

func (in *inspection) loadOpening(ctx context.Context, v *view, t *trace) error {
	es, err := v.from(ctx, typeSite, in.host(), statement.Ref{}, false)
	if err != nil {
		return err
	}
	for _, e := range es {
		if !slices.Contains(e.st.Refs, in.req.Ref) {
			continue
		}
		o, err := escrow.ParseSiteOpening(e.st.Body)
		if err == nil {
			err = escrow.VerifySiteOpening(in.commitment, o)
		}
		if err != nil {
			t.ok(false, "site opening %s: %s", shortRef(e.String()), cleanEscrowError(err))
			continue
		}
		if region, site := o.Opened(); region != in.chosen.Region || site.Name != in.chosen.Site {
			t.ok(false, "site opening %s opens %s/%s, not the chosen site", shortRef(e.String()), region, site.Name)
			continue
		}
		in.opening, in.openingE = o, e
		break
	}
	if in.opening == nil {
		t.info("waiting for %s to open %s/%s", in.host(), in.chosen.Region, in.chosen.Site)
		return nil
	}
	t.ok(true, "site opening %s verifies against the commitment (escrow §Site opening): %d items with their salts; the range proof shows none was left out or added",
		shortRef(in.openingE.String()), len(in.opening.Items))
	return nil
}

func (in *inspection) loadFindings(ctx context.Context, v *view, t *trace) error {
	es, err := v.from(ctx, inspect.TypeFindings, in.inspector(), in.req.Ref, true)
	if err != nil {
		return err
	}
	for _, e := range es {
		f, err := inspect.FindingsFromStatement(e.st, e.ref.Index, in.req)
		if err == nil {
			err = inspect.CheckFindings(&f.Body, in.verdict, *in.chosen)
		}
		if err == nil && statement.Ref(f.Body.Opening) != in.openingE.ref {
			err = fmt.Errorf("they refer to the opening %s, not %s", shortRef(f.Body.Opening.String()), shortRef(in.openingE.String()))
		}
		if err != nil {
			t.ok(false, "findings %s: %v", shortRef(e.String()), err)
			continue
		}
		in.findings = f
		break
	}
	if in.findings == nil {
		t.info("waiting for %s's findings", in.inspector())
		return nil
	}
	t.ok(true, "findings %s by %s: %d items observed at the chosen site; the seed and beacon references are the beacon's", shortRef(in.findings.Ref.String()), in.inspector(), len(in.findings.Body.Items))
	return nil
}

func (in *inspection) loadReports(ctx context.Context, v *view, t *trace) error {
	var first []byte
	for _, p := range []string{in.inspector(), in.host()} {
		es, err := v.from(ctx, inspect.TypeReport, p, in.req.Ref, true)
		if err != nil {
			return err
		}
		for _, e := range es {
			r, err := inspect.ReportFromStatement(e.st, e.ref.Index, in.req)
			if err == nil && statement.Ref(r.Body.Findings) != in.findings.Ref {
				err = fmt.Errorf("it reports on the findings %s, not %s", r.Body.Findings, in.findings.Ref)
			}
			if err == nil {
				err = inspect.Verify(in.opening, &in.findings.Body, in.findings.Ref, e.st.Body)
			}
			if err != nil {
				t.ok(false, "report %s by %s: %v", shortRef(e.String()), p, err)
				continue
			}
			in.reports[p], in.reportE[p] = r, e
			break
		}
		e := in.reportE[p]
		switch {
		case e == nil:
			t.info("waiting for %s's report", p)
		case first == nil:
			first = e.st.Body
			t.ok(true, "report %s by %s: recomputed from the opening and the findings, byte for byte", shortRef(e.String()), p)
		default:
			t.ok(string(e.st.Body) == string(first), "report %s by %s: recomputed, and the same bytes as %s's", shortRef(e.String()), p, in.inspector())
		}
	}
	return nil
}

// next says what the inspection waits for, and who does it.
func (in *inspection) next() (party, step string) {
	switch {
	case in.reply == nil && in.status.State == inspect.Pending:
		return in.host(), "reply accept|refuse"
	case in.status.State != inspect.Accepted:
		return "", ""
	case in.verdict != nil && in.verdict.Outcome == inspect.BeaconPending:
		for _, p := range []string{in.inspector(), in.host()} {
			if in.commits[p] == nil {
				return p, "beacon commit"
			}
		}
		for _, p := range []string{in.inspector(), in.host()} {
			if in.reveals[p] == nil {
				return p, "beacon reveal"
			}
		}
	case in.verdict == nil || in.verdict.Outcome != inspect.BeaconSeeded:
		return "", ""
	case in.chosen == nil || in.opening == nil:
		return in.host(), "open"
	case in.findings == nil:
		return in.inspector(), "findings"
	}
	for _, p := range []string{in.inspector(), in.host()} {
		if in.reports[p] == nil {
			return p, "report"
		}
	}
	return "", ""
}

// describeReport lists a report's discrepancies, one a line.
func describeReport(r *inspect.Report) []string {
	if r.Clean() {
		return []string{"clean: the site holds what was declared there"}
	}
	var out []string
	for _, d := range r.Items {
		out = append(out, d.String())
	}
	for _, c := range r.Counts {
		out = append(out, c.String())
	}
	return out
}
