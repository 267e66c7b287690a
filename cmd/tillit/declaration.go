package main

import (
	"fmt"
	"io"

	"github.com/tillit/tillit/statement"
)

func init() {
	register(command{"declaration", "verify a party's declaration and its reveals from the logs", runDeclaration})
}

func runDeclaration(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "verify" {
		if len(args) > 0 && args[0] != "-h" && args[0] != "--help" {
			return withHint(fmt.Errorf("unknown declaration command %q", args[0]), "the command is 'tillit declaration verify REF|PARTY'")
		}
		fmt.Fprintln(stderr, "Usage: tillit declaration verify [flags] REF|PARTY")
		if len(args) == 0 {
			return errUsage
		}
		return nil
	}
	fs := newFlags("declaration verify", "REF|PARTY",
		"Checks a declaration from the logs alone, as a third party would: the\n"+
			"declaration.commit statement REF (or PARTY's newest one), that it follows the\n"+
			"version it names as previous, and every reveal of it this node holds\n"+
			"(index, site lists, region, site and item openings) against the commitment\n"+
			"(docs/spec/escrow.md). Each statement is fetched through this node and\n"+
			"checked against its reference's leaf hash. Prints each check; exits 1 if any\n"+
			"fails. An auditor token is enough.", stderr)
	af := addAPIFlags(fs)
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errUsage
	}
	a, c, err := connectArms(af)
	if err != nil {
		return err
	}
	ctx, cancel := callContext()
	defer cancel()
	v := newView(backendSource{c.Client})
	ref, err := statement.ParseRef(fs.Arg(0))
	if err != nil {
		party := fs.Arg(0)
		if a.reg.Party(party) == nil {
			return withHint(fmt.Errorf("%q is neither a statement reference nor a party of regime %s", party, a.reg.ID),
				"give a declaration.commit reference (<origin>/<index>#<hash>) or a party's name")
		}
		e, _, err := a.latestCommit(ctx, v, party)
		if err != nil {
			return c.explain(err)
		}
		if e == nil {
			return fmt.Errorf("this node holds no declaration of %s", party)
		}
		ref = e.ref
	}
	var l checkList
	var w io.Writer
	if !*af.json {
		w = stdout
	}
	err = verifyDeclaration(ctx, v, a.reg, ref, l.trace(w))
	if *af.json {
		if werr := writeJSON(stdout, map[string]any{"declaration": ref.String(), "ok": l.failed == 0 && err == nil, "checks": l.Checks, "notes": l.Notes}); werr != nil {
			return werr
		}
	} else {
		fmt.Fprintf(stdout, "%d checks, %d failed\n", len(l.Checks), l.failed)
	}
	if err != nil {
		return c.explain(err)
	}
	return l.result()
}
