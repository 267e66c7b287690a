package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/tillit/tillit/node"
)

func init() {
	register(command{"status", "show the node's party, log, peer links and alarms", runStatus})
}

func runStatus(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("status", "",
		"Shows the node's state at a glance: its party and regime, its log's size and\n"+
			"final (witnessed) size, each peer's link, last receipt, how far behind it is\n"+
			"and the size of this node's mirror of its log, overdue statements and alarms.", stderr)
	af := addAPIFlags(fs)
	c, err := af.parseConnect(fs, args, 0)
	if err != nil {
		return err
	}
	ctx, cancel := callContext()
	defer cancel()
	s, err := c.Status(ctx)
	if err != nil {
		return c.explain(err)
	}
	if *af.json {
		return writeJSON(stdout, s)
	}
	return printNodeStatus(stdout, s)
}

func printNodeStatus(w io.Writer, s node.Status) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "party\t%s\n", s.Party)
	fmt.Fprintf(tw, "regime\t%s (hash %s)\n", s.Regime, s.RegimeHash)
	final := fmt.Sprintf("final %d", s.Log.Final)
	if len(s.Log.FinalCosigners) > 0 {
		final += " (cosigned by " + strings.Join(s.Log.FinalCosigners, ", ") + ")"
	}
	fmt.Fprintf(tw, "log\t%s: size %d, %s\n", s.Log.Origin, s.Log.Size, final)
	fmt.Fprintf(tw, "overdue\t%d\n", s.Overdue)
	if len(s.Alarms) == 0 {
		fmt.Fprintf(tw, "alarms\tnone\n")
	}
	for _, a := range s.Alarms {
		fmt.Fprintf(tw, "alarm\t%s\n", a)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(s.Peers) == 0 {
		return nil
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PEER\tLINK\tLAST RECEIPT\tRECEIPTED\tBEHIND\tMIRROR\tQUARANTINED\tLAST ERROR")
	for _, p := range s.Peers {
		q := "no"
		if p.Quarantined {
			q = "YES"
		}
		lastErr := p.LastError
		if lastErr == "" {
			lastErr = "-"
		}
		age := ageOf(p.LastReceipt)
		if !s.Now.IsZero() && !p.LastReceipt.IsZero() {
			// Ages by the node's clock, which may be simulated.
			age = ageAt(s.Now, p.LastReceipt)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%s\t%s\n", p.Party, p.Link, age, p.Receipted, p.Behind, p.Mirror, q, lastErr)
	}
	return tw.Flush()
}
