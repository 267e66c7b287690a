package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/tillit/tillit/escrow"
	"github.com/tillit/tillit/inspect"
	"github.com/tillit/tillit/node"
	"github.com/tillit/tillit/regime"
	"github.com/tillit/tillit/statement"
)

// This file holds the steps of an inspection (docs/spec/inspect.md §Overview)
// as one party takes them: each reads the inspection back from the logs,
// refuses a step that is not due or not this party's, and sends one
// statement (the host's open step may send several reveals).

// load reads the inspection at reqRef as this party's node sees it now.
func (a *arms) load(ctx context.Context, reqRef statement.Ref) (*inspection, error) {
	return loadInspection(ctx, newView(backendSource{a.b}), a.reg, a.rules, reqRef, a.now(), nil)
}

// mustBe refuses a step that is not for this party.
func (a *arms) mustBe(in *inspection, party, step string) error {
	if a.party != party {
		return withHint(fmt.Errorf("%s is %s's step in this inspection, and this node is %s's", step, party, a.party),
			fmt.Sprintf("run it on %s's node", party))
	}
	return nil
}

// nextHint says what an inspection waits for.
func nextHint(in *inspection, reqRef statement.Ref) string {
	p, step := in.next()
	if p == "" {
		return "the inspection is over: see 'tillit inspect verify " + reqRef.String() + "'"
	}
	return fmt.Sprintf("next: %s runs 'tillit inspect %s %s'", p, strings.Replace(step, "reply accept|refuse", "reply", 1), reqRef)
}

// request sends an inspection.request for a site of host's newest
// declaration, after checking the quotas against the requests this node
// knows of.
func (a *arms) request(ctx context.Context, host string, scope inspect.Scope, region string, year int, reason string) (node.Message, *inspect.Request, error) {
	if err := a.canInspect(host); err != nil {
		return node.Message{}, nil, err
	}
	v := newView(backendSource{a.b})
	decl, _, err := a.latestCommit(ctx, v, host)
	if err != nil {
		return node.Message{}, nil, err
	}
	if decl == nil {
		return node.Message{}, nil, withHint(fmt.Errorf("this node holds no declaration of %s", host),
			fmt.Sprintf("%s declares first ('tillit declare FILE' on its node); its declaration.commit then reaches this node", host))
	}
	now := a.now().UTC()
	if year == 0 {
		year = now.Year()
	}
	req := &inspect.Request{Inspector: a.party, Host: host, Declaration: inspect.Ref(decl.ref), Scope: scope, Region: region, Year: year, Reason: reason}
	body, err := req.Encode()
	if err != nil {
		return node.Message{}, nil, err
	}
	hist, err := quotaHistory(ctx, v, a.reg, a.rules, host, statement.Ref{}, now)
	if err != nil {
		return node.Message{}, nil, err
	}
	cand := inspect.Inspection{Request: inspect.Logged[inspect.Request]{
		Ref: statement.Ref{Log: a.reg.Origin(a.party), Index: a.size}, Time: now.Truncate(1e6), Body: *req}}
	if err := inspect.CheckQuota(a.rules.quotas, hist, cand); err != nil {
		if errors.Is(err, inspect.ErrQuota) {
			msg := err.Error()
			if _, after, ok := strings.Cut(msg, inspect.ErrQuota.Error()+": "); ok {
				msg = after
			}
			return node.Message{}, nil, withHint(fmt.Errorf("over quota: %s", msg),
				fmt.Sprintf("regime %s allows %d inspections of a party a year, %d of them by any one inspector; a refused or unanswered request frees its place", a.reg.ID, a.rules.quotas.PerHostPerYear, a.rules.quotas.PerInspectorPerYear))
		}
		return node.Message{}, nil, withHint(err, "the year must be the current year of the node's clock: pass --year")
	}
	m, err := a.send(ctx, inspect.TypeRequest, []string{host}, []statement.Ref{decl.ref}, body, "")
	if err != nil {
		return node.Message{}, nil, err
	}
	if m.Time.UTC().Year() != year {
		return m, req, fmt.Errorf("the request was logged at %s, but names the quota year %d: it is not a valid request; send another with --year %d", stamp(m.Time), year, m.Time.UTC().Year())
	}
	return m, req, nil
}

func (a *arms) canInspect(host string) error {
	me, other := a.reg.Party(a.party), a.reg.Party(host)
	switch {
	case a.reg.Inspections == nil:
		return fmt.Errorf("regime %s provides no inspections", a.reg.ID)
	case other == nil:
		return fmt.Errorf("%q is not a party of regime %s", host, a.reg.ID)
	case host == a.party:
		return fmt.Errorf("a party does not inspect itself")
	case me.Role != regime.RoleParty || other.Role != regime.RoleParty:
		return fmt.Errorf("only parties with role %q make and host inspections; %s is %s and %s is %s", regime.RoleParty, a.party, me.Role, host, other.Role)
	}
	return nil
}

// reply sends the host's answer to a request.
func (a *arms) reply(ctx context.Context, reqRef statement.Ref, d inspect.Decision, reason string) (node.Message, *inspection, error) {
	in, err := a.load(ctx, reqRef)
	if err != nil {
		return node.Message{}, nil, err
	}
	if err := a.mustBe(in, in.host(), "the reply"); err != nil {
		return node.Message{}, nil, err
	}
	if in.reply != nil {
		return node.Message{}, nil, withHint(fmt.Errorf("%s already replied to this request: %s (%s)", a.party, in.reply.Ref, in.reply.Body.Decision),
			"only the first reply counts")
	}
	body, err := (&inspect.Reply{Request: inspect.Ref(reqRef), Decision: d, Reason: reason}).Encode()
	if err != nil {
		if d == inspect.Refuse && reason == "" {
			return node.Message{}, nil, withHint(fmt.Errorf("a refusal must give its reason"), "pass --reason TEXT")
		}
		return node.Message{}, nil, err
	}
	m, err := a.send(ctx, inspect.TypeReply, allParties, []statement.Ref{reqRef}, body, "")
	return m, in, err
}

// beaconSecret is a party's stored beacon contribution.
type beaconSecret struct {
	Context string               `json:"context"`
	Party   string               `json:"party"`
	Reveal  *escrow.BeaconReveal `json:"reveal"`
}

// beaconCommit draws the party's beacon contribution, stores it in the node
// directory and logs its commit.
func (a *arms) beaconCommit(ctx context.Context, reqRef statement.Ref) (node.Message, error) {
	in, err := a.load(ctx, reqRef)
	if err != nil {
		return node.Message{}, err
	}
	if err := a.beaconStep(in, "commit"); err != nil {
		return node.Message{}, err
	}
	if c := in.commits[a.party]; c != nil {
		return node.Message{}, withHint(fmt.Errorf("%s already committed to its beacon contribution: %s", a.party, c.ref), nextHint(in, reqRef))
	}
	path := beaconPath(a.dir, a.reg.ID, reqRef, a.party)
	bs, err := readBeaconSecret(path)
	if errors.Is(err, fs.ErrNotExist) {
		// Draw a contribution and keep it before anything is logged.
		r, err := escrow.NewBeaconReveal(nil)
		if err != nil {
			return node.Message{}, err
		}
		bs = &beaconSecret{Context: in.beaconContext(), Party: a.party, Reveal: r}
		b, _ := json.Marshal(bs)
		if err := writeSecret(path, b); err != nil {
			return node.Message{}, err
		}
	} else if err != nil {
		return node.Message{}, err
	}
	if bs.Context != in.beaconContext() || bs.Party != a.party {
		return node.Message{}, fmt.Errorf("%s is for another beacon (%s, %s)", path, bs.Context, bs.Party)
	}
	body, _ := json.Marshal(beaconCommitBody{Commit: bs.Reveal.Commit(bs.Context, a.party)})
	return a.send(ctx, typeBeaconCommit, allParties, []statement.Ref{reqRef}, body, "")
}

func readBeaconSecret(path string) (*beaconSecret, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var bs beaconSecret
	if err := strictJSON(b, &bs); err != nil || bs.Reveal == nil {
		return nil, fmt.Errorf("%s is not a beacon secret: %v", path, err)
	}
	return &bs, nil
}

// beaconStep refuses a beacon step out of turn.
func (a *arms) beaconStep(in *inspection, step string) error {
	if a.party != in.host() && a.party != in.inspector() {
		return fmt.Errorf("%s is neither the inspector nor the host of this inspection", a.party)
	}
	if in.status.State != inspect.Accepted {
		return withHint(fmt.Errorf("the request is %s, not accepted: there is no beacon", in.status.State), nextHint(in, in.req.Ref))
	}
	if in.verdict != nil && in.verdict.Outcome != inspect.BeaconPending {
		return fmt.Errorf("the beacon is over (%s)", in.verdict.Outcome)
	}
	return nil
}

// beaconReveal logs the party's beacon reveal, once both commits are
// logged.
func (a *arms) beaconReveal(ctx context.Context, reqRef statement.Ref) (node.Message, error) {
	in, err := a.load(ctx, reqRef)
	if err != nil {
		return node.Message{}, err
	}
	if err := a.beaconStep(in, "reveal"); err != nil {
		return node.Message{}, err
	}
	mine, other := in.commits[a.party], in.other(a.party)
	switch {
	case in.reveals[a.party] != nil:
		return node.Message{}, withHint(fmt.Errorf("%s already revealed: %s", a.party, in.reveals[a.party].ref), nextHint(in, reqRef))
	case mine == nil:
		return node.Message{}, withHint(fmt.Errorf("%s has not committed to a beacon contribution", a.party), "commit first: tillit inspect beacon commit "+reqRef.String())
	case in.commits[other] == nil:
		return node.Message{}, withHint(fmt.Errorf("%s has not logged its beacon commit yet", other),
			"reveal only once both commits are logged, or the other party could choose its contribution knowing yours; try again when it has")
	}
	bs, err := readBeaconSecret(beaconPath(a.dir, a.reg.ID, reqRef, a.party))
	if err != nil {
		return node.Message{}, withHint(err, "the beacon contribution is kept by the node that committed it: run this with --node set to that node's directory")
	}
	h, _ := parseBeaconCommit(mine.st.Body)
	if err := escrow.VerifyBeaconReveal(in.beaconContext(), a.party, h, bs.Reveal); err != nil {
		return node.Message{}, fmt.Errorf("the stored contribution does not match the logged commit %s: %s", mine.ref, cleanEscrowError(err))
	}
	body, _ := json.Marshal(bs.Reveal)
	return a.send(ctx, typeBeaconReveal, allParties, []statement.Ref{reqRef, mine.ref}, body, "")
}

// opened is the result of open: the reveals sent and the chosen site.
type opened struct {
	Sent       []*revealed
	Chosen     inspect.Candidate
	Candidates int
	Selection  inspect.Selection
}

// open is the host's step once the beacon has a seed: it reveals what the
// selection needs (the index, the site lists in scope) if it has not, then
// opens the site the seed chooses.
func (a *arms) open(ctx context.Context, reqRef statement.Ref) (*opened, error) {
	in, err := a.load(ctx, reqRef)
	if err != nil {
		return nil, err
	}
	if err := a.mustBe(in, in.host(), "opening the site"); err != nil {
		return nil, err
	}
	if in.verdict == nil || in.verdict.Outcome != inspect.BeaconSeeded {
		return nil, withHint(fmt.Errorf("the beacon has given no seed yet"), nextHint(in, reqRef))
	}
	if in.opening != nil {
		return nil, withHint(fmt.Errorf("%s already opened %s/%s: %s", a.party, in.chosen.Region, in.chosen.Site, in.openingE.ref), nextHint(in, reqRef))
	}
	out := &opened{}
	version := in.commitment.Version
	extra := []statement.Ref{reqRef}
	if in.req.Body.Scope == inspect.ScopeAny && in.index == nil {
		r, err := a.reveal(ctx, version, revealIndex, "", allParties, extra)
		if err != nil {
			return out, err
		}
		out.Sent = append(out.Sent, r)
		if in, err = a.load(ctx, reqRef); err != nil {
			return out, err
		}
	}
	for _, m := range in.missing {
		region, ok := strings.CutPrefix(m, "the site list of region ")
		if !ok {
			continue
		}
		r, err := a.reveal(ctx, version, revealSites, region, allParties, extra)
		if err != nil {
			return out, err
		}
		out.Sent = append(out.Sent, r)
	}
	if len(out.Sent) > 0 {
		if in, err = a.load(ctx, reqRef); err != nil {
			return out, err
		}
	}
	if in.chosen == nil {
		why := "the scope has no declared site"
		if len(in.missing) > 0 {
			why = "missing " + strings.Join(in.missing, ", ")
		}
		return out, fmt.Errorf("no site could be chosen: %s", why)
	}
	out.Chosen, out.Candidates, out.Selection = *in.chosen, len(in.candidates), in.rules.selection
	r, err := a.reveal(ctx, version, revealSite, in.chosen.Region+"/"+in.chosen.Site, allParties, extra)
	if err != nil {
		return out, err
	}
	out.Sent = append(out.Sent, r)
	return out, nil
}

// findings logs what the inspectors observed at the chosen site.
func (a *arms) findings(ctx context.Context, reqRef statement.Ref, items []inspect.Observed) (node.Message, *inspection, error) {
	in, err := a.load(ctx, reqRef)
	if err != nil {
		return node.Message{}, nil, err
	}
	if err := a.mustBe(in, in.inspector(), "the findings"); err != nil {
		return node.Message{}, nil, err
	}
	switch {
	case in.opening == nil:
		return node.Message{}, in, withHint(fmt.Errorf("%s has not opened the chosen site yet", in.host()), nextHint(in, reqRef))
	case in.findings != nil:
		return node.Message{}, in, withHint(fmt.Errorf("%s already logged findings: %s", a.party, in.findings.Ref), nextHint(in, reqRef))
	}
	var beacon []inspect.Ref
	for _, p := range []string{in.inspector(), in.host()} {
		if e := in.reveals[p]; e != nil && (in.verdict.Decider == "" || in.verdict.Decider == p) {
			beacon = append(beacon, inspect.Ref(e.ref))
		}
	}
	f := &inspect.Findings{Request: inspect.Ref(reqRef), Seed: in.verdict.Seed, Beacon: beacon, Region: in.chosen.Region, Site: in.chosen.Site,
		Opening: inspect.Ref(in.openingE.ref), Items: items}
	if err := inspect.CheckFindings(f, in.verdict, *in.chosen); err != nil {
		return node.Message{}, in, err
	}
	body, err := f.Encode()
	if err != nil {
		return node.Message{}, in, err
	}
	refs := []statement.Ref{reqRef, in.openingE.ref}
	for _, b := range beacon {
		refs = append(refs, statement.Ref(b))
	}
	m, err := a.send(ctx, inspect.TypeFindings, allParties, refs, body,
		"findings list every item observed at the site; a site this large cannot be reported in one statement")
	return m, in, err
}

// report computes the inspection's report from the host's opening and the
// inspector's findings and logs it.
func (a *arms) report(ctx context.Context, reqRef statement.Ref) (node.Message, *inspect.Report, error) {
	in, err := a.load(ctx, reqRef)
	if err != nil {
		return node.Message{}, nil, err
	}
	if a.party != in.host() && a.party != in.inspector() {
		return node.Message{}, nil, fmt.Errorf("%s is neither the inspector nor the host of this inspection", a.party)
	}
	switch {
	case in.findings == nil:
		return node.Message{}, nil, withHint(fmt.Errorf("there are no findings to report on yet"), nextHint(in, reqRef))
	case in.reports[a.party] != nil:
		return node.Message{}, &in.reports[a.party].Body, withHint(fmt.Errorf("%s already logged the report: %s", a.party, in.reports[a.party].Ref), nextHint(in, reqRef))
	}
	r, err := inspect.Compare(in.opening, &in.findings.Body, in.findings.Ref)
	if err != nil {
		return node.Message{}, nil, err
	}
	body, err := r.Encode()
	if err != nil {
		return node.Message{}, nil, err
	}
	if o := in.reportE[in.other(a.party)]; o != nil && !bytes.Equal(o.st.Body, body) {
		return node.Message{}, r, fmt.Errorf("%s's report %s differs from the one computed here", in.other(a.party), o.ref)
	}
	m, err := a.send(ctx, inspect.TypeReport, allParties, []statement.Ref{reqRef, in.findings.Ref, in.openingE.ref}, body,
		"a report lists every discrepancy at the site; one this large cannot be logged in one statement")
	return m, r, err
}

// strictJSON decodes b into v, refusing unknown fields and anything but
// v's canonical encoding (encoding/json's, whitespace aside).
func strictJSON(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return err
	}
	if d.More() {
		return fmt.Errorf("data after the object")
	}
	again, err := json.Marshal(v)
	if err != nil {
		return err
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, b); err != nil || !bytes.Equal(compact.Bytes(), again) {
		return fmt.Errorf("not in canonical form")
	}
	return nil
}
