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
	register(command{"inbox", "list statements received by the node (--outbox: sent; --all: of every log it holds)", runInbox})
}

func runInbox(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("inbox", "",
		"Lists the statements addressed to this party, newest first, with where each\n"+
			"stands: pending (not receipted yet), receipted, acknowledged or overdue, and\n"+
			"the next deadline. With --outbox, the statements this party made; with --all,\n"+
			"the statements of every log the node holds, whoever they are addressed to.\n"+
			"--json prints the full statements, with their references in full.", stderr)
	outbox := fs.Bool("outbox", false, "list the statements this party made")
	all := fs.Bool("all", false, "list the statements of every log the node holds")
	from := fs.String("from", "", "with --all, only statements from this party")
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
	q := node.Query{Type: *typ, Limit: *limit, From: *from}
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
	if *outbox && *all {
		return fmt.Errorf("--outbox and --all exclude each other")
	}
	if *from != "" && !*all {
		return fmt.Errorf("--from needs --all: the inbox and outbox are not filtered by sender")
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
	where, empty := "the "+box, "the "+box+" is empty"
	var ms []node.Message
	if *all {
		where, empty = "the node's logs", "the node's logs hold no statements"
		ms, err = c.Statements(ctx, q)
	} else {
		ms, err = c.Inbox(ctx, box, q)
	}
	if err != nil {
		return c.explain(err)
	}
	if *af.json {
		return writeJSON(stdout, api.MessageList{Messages: ms})
	}
	if len(ms) == 0 {
		if *typ != "" || *state != "" || *from != "" {
			fmt.Fprintf(stdout, "no statements in %s match\n", where)
		} else {
			fmt.Fprintln(stdout, empty)
		}
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	party := "FROM"
	switch {
	case *outbox:
		party = "TO"
	case *all:
		party = "FROM\tTO"
	}
	fmt.Fprintf(tw, "TIME\tREF\t%s\tTYPE\tPRECEDENCE\tSTATE\tNEXT DEADLINE\n", party)
	for _, m := range ms {
		who := m.From
		switch {
		case *outbox:
			who = strings.Join(m.To, ",")
		case *all:
			who = m.From + "\t" + strings.Join(m.To, ",")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", tableTime(m.Time), shortRef(m.Ref), who, m.Type, m.Precedence, m.State, tableTime(nextDeadline(m)))
	}
	return tw.Flush()
}
