package main

import (
	"fmt"
	"io"
)

func runInspectBeacon(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("inspect beacon", "commit|reveal REQUEST",
		"Runs this party's part of the beacon that chooses the site to inspect (escrow\n"+
			"spec §Beacon): 'commit' draws a random contribution, keeps it in DIR/escrow/\n"+
			"(0600) and logs a commitment to it; 'reveal', once both parties' commits are\n"+
			"logged, logs the contribution. The seed comes from both, so neither party\n"+
			"chooses the site.", stderr)
	af := addAPIFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 2 || (fs.Arg(0) != "commit" && fs.Arg(0) != "reveal") {
		fs.Usage()
		return errUsage
	}
	ref, err := requestRef(fs.Arg(1))
	if err != nil {
		return err
	}
	a, c, err := connectArms(af)
	if err != nil {
		return err
	}
	ctx, cancel := callContext()
	defer cancel()
	step := a.beaconCommit
	if fs.Arg(0) == "reveal" {
		step = a.beaconReveal
	}
	m, err := step(ctx, ref)
	if err != nil {
		return c.explain(err)
	}
	if *af.json {
		return writeJSON(stdout, map[string]any{"ref": m.Ref, "request": ref.String(), "message": m})
	}
	fmt.Fprintln(stdout, m.Ref)
	if fs.Arg(0) == "commit" {
		fmt.Fprintf(stdout, "committed to %s's beacon contribution for %s; it is kept in %s\n", a.party, shortRef(ref.String()), beaconPath(a.dir, a.reg.ID, ref, a.party))
	} else {
		fmt.Fprintf(stdout, "revealed %s's beacon contribution for %s\n", a.party, shortRef(ref.String()))
	}
	fmt.Fprintln(stdout, "sent "+messageSummary(m))
	return nil
}
