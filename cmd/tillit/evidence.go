package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/tillit/tillit/internal/api"
)

func init() {
	register(command{"evidence", "list the evidence the node recorded: forks of peers' logs, lifted quarantines", runEvidence})
}

func runEvidence(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("evidence", "",
		"Lists the evidence records the node keeps, oldest first: a fork (two checkpoints\n"+
			"of a peer's log, both signed by its key, that contradict each other), and every\n"+
			"lifting of a quarantine with its reason. With --notes, also prints the two\n"+
			"checkpoint notes of each fork, which anyone can check with the log's public key\n"+
			"from the regime; --json prints everything, the notes as text.", stderr)
	notes := fs.Bool("notes", false, "print the checkpoint notes of each fork")
	af := addAPIFlags(fs)
	c, err := af.parseConnect(fs, args, 0)
	if err != nil {
		return err
	}
	ctx, cancel := callContext()
	defer cancel()
	ev, err := c.Evidence(ctx)
	if err != nil {
		return c.explain(err)
	}
	if *af.json {
		return writeJSON(stdout, api.EvidenceList{Evidence: ev})
	}
	if len(ev) == 0 {
		fmt.Fprintln(stdout, "no evidence recorded: no fork was detected and no quarantine lifted")
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTIME\tLOG\tKIND\tDETAIL")
	for _, e := range ev {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", e.ID, tableTime(e.Time), e.Log, e.Kind, e.Detail)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if !*notes {
		return nil
	}
	for _, e := range ev {
		for _, n := range []struct {
			what string
			note []byte
		}{{"the checkpoint this node held", e.NoteA}, {"the checkpoint that contradicts it", e.NoteB}} {
			if len(n.note) == 0 {
				continue
			}
			fmt.Fprintf(stdout, "\nevidence %d, %s's log, %s:\n%s", e.ID, e.Log, n.what, n.note)
			if n.note[len(n.note)-1] != '\n' {
				fmt.Fprintln(stdout)
			}
		}
	}
	return nil
}
