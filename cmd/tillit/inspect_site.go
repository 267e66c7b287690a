package main

import (
	"fmt"
	"io"
)

func runInspectOpen(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("inspect open", "REQUEST",
		"The host's step once the beacon has a seed: reveals what the selection needs if it\n"+
			"has not already (the index, for an inspection of any site, and the site list of\n"+
			"each region in scope), computes the site the seed chooses (docs/spec/inspect.md\n"+
			"§Selection), and opens it: every declared item with its salt and a range proof.", stderr)
	af := addAPIFlags(fs)
	ref, a, c, err := connectRequest(fs, af, args)
	if err != nil {
		return err
	}
	ctx, cancel := callContext()
	defer cancel()
	res, err := a.open(ctx, ref)
	if res != nil && !*af.json {
		for _, r := range res.Sent {
			fmt.Fprintf(stdout, "%s\nrevealed %s\n", r.Msg.Ref, r.What)
		}
	}
	if err != nil {
		return c.explain(err)
	}
	if *af.json {
		var sent []map[string]any
		for _, r := range res.Sent {
			sent = append(sent, map[string]any{"ref": r.Msg.Ref, "type": r.Msg.Type, "discloses": r.What})
		}
		return writeJSON(stdout, map[string]any{"request": ref.String(), "chosen": map[string]any{"region": res.Chosen.Region, "site": res.Chosen.Site,
			"items": res.Chosen.Items}, "sent": sent})
	}
	fmt.Fprintf(stdout, "the beacon chose %s/%s; it is open for inspection\n", res.Chosen.Region, res.Chosen.Site)
	return nil
}

func runInspectFindings(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("inspect findings", "REQUEST -f FILE",
		"The inspector logs every item observed at the site the beacon chose and the host\n"+
			"opened. FILE (- for stdin) is CSV whose first line is id,category, then one line\n"+
			"per item, or JSON [{\"id\":…,\"category\":…}, …]. Ids are unique: an id seen on\n"+
			"two objects is recorded the second time under an id of your own.", stderr)
	file := fs.String("f", "", "the observed items (required)")
	format := fs.String("format", "", "csv or json (default: by the file's extension, else by its first character)")
	af := addAPIFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 || *file == "" {
		fs.Usage()
		return errUsage
	}
	ref, err := requestRef(fs.Arg(0))
	if err != nil {
		return err
	}
	data, err := readInput(*file)
	if err != nil {
		return err
	}
	items, err := parseObserved(*file, *format, data)
	if err != nil {
		return err
	}
	a, c, err := connectArms(af)
	if err != nil {
		return err
	}
	ctx, cancel := callContext()
	defer cancel()
	m, in, err := a.findings(ctx, ref, items)
	if err != nil {
		return c.explain(err)
	}
	if *af.json {
		return writeJSON(stdout, map[string]any{"ref": m.Ref, "request": ref.String(), "region": in.chosen.Region, "site": in.chosen.Site,
			"items": len(items), "message": m})
	}
	fmt.Fprintln(stdout, m.Ref)
	fmt.Fprintf(stdout, "logged %d items observed at %s/%s\n", len(items), in.chosen.Region, in.chosen.Site)
	fmt.Fprintf(stdout, "next: both parties run 'tillit inspect report %s'\n", ref)
	fmt.Fprintln(stdout, "sent "+messageSummary(m))
	return nil
}

func runInspectReport(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("inspect report", "REQUEST",
		"Computes the inspection's discrepancy report from the host's site opening and the\n"+
			"inspector's findings (docs/spec/inspect.md §Report computation) and logs it.\n"+
			"Both parties run it and log the same bytes; nothing in it is typed by hand.", stderr)
	af := addAPIFlags(fs)
	ref, a, c, err := connectRequest(fs, af, args)
	if err != nil {
		return err
	}
	ctx, cancel := callContext()
	defer cancel()
	m, r, err := a.report(ctx, ref)
	if err != nil {
		return c.explain(err)
	}
	if *af.json {
		return writeJSON(stdout, map[string]any{"ref": m.Ref, "request": ref.String(), "report": r, "clean": r.Clean(), "message": m})
	}
	fmt.Fprintln(stdout, m.Ref)
	printReport(stdout, r)
	fmt.Fprintln(stdout, "sent "+messageSummary(m))
	return nil
}
