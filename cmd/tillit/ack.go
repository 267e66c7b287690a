package main

import (
	"fmt"
	"io"

	"github.com/tillit/tillit/node"
)

func init() {
	register(command{"ack", "acknowledge a received statement", runAck})
}

func runAck(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("ack", "REF",
		"Acknowledges the received statement REF (as listed by 'tillit inbox --json'):\n"+
			"the node sends the type's reply statement back to its sender. Prints the\n"+
			"acknowledgment's reference and where it stands. Needs an officer token.", stderr)
	text := fs.String("text", "", "text of the acknowledgment")
	af := addAPIFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errUsage
	}
	c, err := af.connect()
	if err != nil {
		return err
	}
	ctx, cancel := callContext()
	defer cancel()
	m, err := c.Ack(ctx, node.AckRequest{Ref: fs.Arg(0), Text: *text})
	if err != nil {
		return c.explain(err)
	}
	if *af.json {
		return writeJSON(stdout, m)
	}
	fmt.Fprintln(stdout, m.Ref)
	fmt.Fprintf(stdout, "acknowledged %s: %s\n", shortRef(fs.Arg(0)), messageSummary(m))
	return nil
}
