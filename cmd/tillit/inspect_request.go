package main

import (
	"fmt"
	"io"

	"github.com/tillit/tillit/inspect"
)

func runInspectRequest(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("inspect request", "HOST",
		"Asks HOST for an inspection of a site of its newest declaration that this node\n"+
			"holds, chosen later by the beacon: any site, or with --region a site of one\n"+
			"region. The request is checked against the regime's quotas first, counting the\n"+
			"requests to HOST this node knows of; one over quota is not sent.", stderr)
	region := fs.String("region", "", "limit the inspection to the sites of this region")
	year := fs.Int("year", 0, "the quota year: the UTC year of the node's clock (default this year)")
	reason := fs.String("reason", "", "free text")
	af := addAPIFlags(fs)
	if err := parseArgs(fs, args, 1); err != nil {
		return err
	}
	scope := inspect.ScopeAny
	if *region != "" {
		scope = inspect.ScopeRegion
		if msg := checkEscrowName(*region); msg != "" {
			return fmt.Errorf("--region %q: %s", *region, msg)
		}
	}
	if *year != 0 && (*year < inspect.MinYear || *year > inspect.MaxYear) {
		return fmt.Errorf("--year %d is not from %d to %d", *year, inspect.MinYear, inspect.MaxYear)
	}
	a, c, err := connectArms(af)
	if err != nil {
		return err
	}
	ctx, cancel := callContext()
	defer cancel()
	m, req, err := a.request(ctx, fs.Arg(0), scope, *region, *year, *reason)
	if err != nil {
		return c.explain(err)
	}
	if *af.json {
		return writeJSON(stdout, map[string]any{"ref": m.Ref, "request": req, "message": m})
	}
	fmt.Fprintln(stdout, m.Ref)
	fmt.Fprintf(stdout, "requested an inspection of %s's declaration %s (scope %s, quota year %d); %s must reply by %s\n",
		req.Host, shortRef(req.Declaration.String()), req.Scope, req.Year, req.Host, stamp(inspect.ReplyDue(m.Time, a.rules.quotas.ReplyWithin)))
	fmt.Fprintln(stdout, "sent "+messageSummary(m))
	return nil
}

func runInspectReply(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("inspect reply", "REQUEST accept|refuse",
		"The host accepts or refuses the inspection request REQUEST. A refusal gives its\n"+
			"reason (--reason). Only the first reply counts, and only if it is logged by the\n"+
			"reply deadline.", stderr)
	reason := fs.String("reason", "", "why (required to refuse)")
	af := addAPIFlags(fs)
	if err := parseArgs(fs, args, 2); err != nil {
		return err
	}
	ref, err := requestRef(fs.Arg(0))
	if err != nil {
		return err
	}
	d := inspect.Decision(fs.Arg(1))
	switch {
	case d != inspect.Accept && d != inspect.Refuse:
		return fmt.Errorf("%q is not accept or refuse", fs.Arg(1))
	case d == inspect.Refuse && *reason == "":
		return withHint(fmt.Errorf("a refusal must give its reason"), "pass --reason TEXT")
	}
	a, c, err := connectArms(af)
	if err != nil {
		return err
	}
	ctx, cancel := callContext()
	defer cancel()
	m, in, err := a.reply(ctx, ref, d, *reason)
	if err != nil {
		return c.explain(err)
	}
	if *af.json {
		return writeJSON(stdout, map[string]any{"ref": m.Ref, "request": ref.String(), "decision": d, "message": m})
	}
	fmt.Fprintln(stdout, m.Ref)
	fmt.Fprintf(stdout, "%sed %s's request %s (reply due by %s)\n", d, in.inspector(), shortRef(ref.String()), stamp(in.status.Due))
	if m.Time.After(in.status.Due) {
		fmt.Fprintf(stdout, "the reply deadline passed at %s: this reply is on record as late, and a late acceptance starts no inspection\n", stamp(in.status.Due))
	}
	if d == inspect.Accept {
		fmt.Fprintf(stdout, "next: both parties run 'tillit inspect beacon commit %s', then 'beacon reveal', within %s\n", ref, human(a.rules.beaconWithin))
	}
	fmt.Fprintln(stdout, "sent "+messageSummary(m))
	return nil
}
