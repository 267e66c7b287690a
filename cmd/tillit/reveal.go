package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/tillit/tillit/statement"
)

func init() {
	register(command{"reveal", "reveal part of this party's declaration: index, sites, region, site or item", runReveal})
}

func runReveal(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("reveal", "index | sites REGION | region REGION | site REGION/SITE | item ID",
		"Reveals part of this party's declaration (docs/spec/escrow.md §Reveals) from the\n"+
			"secret kept in DIR/escrow/, and logs it as a declaration.<kind> statement that\n"+
			"refers to the commitment:\n\n"+
			"  index              every region's name, leaf range and item counts per category\n"+
			"  sites REGION       every site of a region, with its range and counts\n"+
			"  region REGION      every item of a region, with salts and a range proof\n"+
			"  site REGION/SITE   every item of a site, with salts and a range proof\n"+
			"  item ID            one item, with its salt and an inclusion proof\n\n"+
			"Anyone holding the commitment can check a reveal ('tillit declaration verify').\n"+
			"A statement is at most 64 KiB: a reveal that would not fit is refused, with\n"+
			"what to do instead.", stderr)
	version := fs.Uint64("version", 0, "the declaration version to reveal from (default the newest)")
	forReq := fs.String("for", "", "the inspection request this reveal answers; it is referred to after the commitment")
	var to listFlag
	to.comma = true
	fs.Var(&to, "to", "recipients, comma-separated (default * for every other party)")
	af := addAPIFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	kind, arg, err := revealArgs(fs.Args())
	if err != nil {
		if err == errUsage {
			fs.Usage()
		}
		return err
	}
	var extra []statement.Ref
	if *forReq != "" {
		r, err := statement.ParseRef(*forReq)
		if err != nil {
			return fmt.Errorf("--for: %w", err)
		}
		extra = append(extra, r)
	}
	a, c, err := connectArms(af)
	if err != nil {
		return err
	}
	ctx, cancel := callContext()
	defer cancel()
	res, err := a.reveal(ctx, *version, kind, arg, recipients(to), extra)
	if err != nil {
		return c.explain(err)
	}
	if *af.json {
		return writeJSON(stdout, map[string]any{"ref": res.Msg.Ref, "type": res.Msg.Type, "commit": res.Commit.String(),
			"version": res.Version, "discloses": res.What, "message": res.Msg})
	}
	fmt.Fprintln(stdout, res.Msg.Ref)
	fmt.Fprintf(stdout, "revealed %s of declaration version %d (%s)\n", res.What, res.Version, shortRef(res.Commit.String()))
	fmt.Fprintln(stdout, "sent "+messageSummary(res.Msg))
	return nil
}

// revealArgs checks the positional arguments of reveal.
func revealArgs(args []string) (kind, arg string, err error) {
	if len(args) == 0 {
		return "", "", errUsage
	}
	kind = args[0]
	want := 1
	switch kind {
	case revealIndex:
		want = 0
	case revealSites, revealRegion, revealItem:
	case revealSite:
		if len(args) == 3 { // site REGION SITE
			return kind, args[1] + "/" + args[2], nil
		}
	default:
		return "", "", withHint(fmt.Errorf("unknown reveal %q", kind), "reveal index, sites REGION, region REGION, site REGION/SITE or item ID")
	}
	if len(args)-1 != want {
		what := map[string]string{revealIndex: "no argument", revealSites: "a region", revealRegion: "a region",
			revealSite: "REGION/SITE", revealItem: "an item id"}[kind]
		if len(args) == 1 {
			return "", "", withHint(fmt.Errorf("reveal %s needs %s", kind, what), "run 'tillit reveal -h' for the forms")
		}
		return "", "", fmt.Errorf("reveal %s takes %s, not %q", kind, what, strings.Join(args[1:], " "))
	}
	if want == 1 {
		arg = args[1]
	}
	return kind, arg, nil
}
