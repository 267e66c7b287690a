package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/tillit/tillit/internal/api"
	"github.com/tillit/tillit/node"
)

func init() {
	register(command{"inbox", "list statements received (or, with --outbox, sent) by the node", runInbox})
}

func runInbox(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("inbox", "",
		"Lists the statements addressed to this party, newest first, with where each\n"+
			"stands: pending (not receipted yet), receipted, acknowledged or overdue, and\n"+
			"the next deadline. With --outbox, the statements this party made. --json\n"+
			"prints the full statements, with their references in full.", stderr)
	outbox := fs.Bool("outbox", false, "list the statements this party made")
	typ := fs.String("type", "", "only statements of this type")
	state := fs.String("state", "", "only statements in this state: pending, receipted, acknowledged or overdue")
	limit := fs.Int("limit", 0, fmt.Sprintf("at most this many statements, 1 to %d (default 100)", api.MaxLimit))
	af := addAPIFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		fs.Usage()
		return errUsage
	}
	q := node.Query{Type: *typ, Limit: *limit}
	if *state != "" {
		s, err := api.ParseState(*state)
		if err != nil {
			return fmt.Errorf("--state: %w", err)
		}
		q.State = s
	}
	if *limit < 0 || *limit > api.MaxLimit {
		return fmt.Errorf("--limit %d is not from 1 to %d", *limit, api.MaxLimit)
	}
	box := api.BoxInbox
	if *outbox {
		box = api.BoxOutbox
	}
	c, err := af.connect()
	if err != nil {
		return err
	}
	ctx, cancel := callContext()
	defer cancel()
	ms, err := c.Inbox(ctx, box, q)
	if err != nil {
		return c.explain(err)
	}
	if *af.json {
		return writeJSON(stdout, api.MessageList{Messages: ms})
	}
	if len(ms) == 0 {
		if *typ != "" || *state != "" {
			fmt.Fprintf(stdout, "no statements in the %s match\n", box)
		} else {
			fmt.Fprintf(stdout, "the %s is empty\n", box)
		}
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	party := "FROM"
	if *outbox {
		party = "TO"
	}
	fmt.Fprintf(tw, "TIME\tREF\t%s\tTYPE\tPRECEDENCE\tSTATE\tNEXT DEADLINE\n", party)
	for _, m := range ms {
		who := m.From
		if *outbox {
			who = strings.Join(m.To, ",")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", tableTime(m.Time), shortRef(m.Ref), who, m.Type, m.Precedence, m.State, tableTime(nextDeadline(m)))
	}
	return tw.Flush()
}
