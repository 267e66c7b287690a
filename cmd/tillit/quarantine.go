package main

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/tillit/tillit/internal/api"
)

func init() {
	register(command{"quarantine", "lift the quarantine of a peer's log (quarantine lift PARTY --reason TEXT)", runQuarantine})
}

var quarantineCommands = []command{
	{"lift", "accept a quarantined peer's log again, for a reason kept as evidence", runQuarantineLift},
}

func runQuarantine(args []string, stdout, stderr io.Writer) error {
	return (&group{name: "quarantine", usage: "Usage: tillit quarantine <command> [flags]", width: 6,
		footer: "'tillit status' shows which logs are quarantined; 'tillit evidence' why.", cmds: quarantineCommands}).run(args, stdout, stderr)
}

func runQuarantineLift(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("quarantine lift", "PARTY --reason TEXT",
		"Lifts the quarantine of PARTY's log: the node accepts pushes of it again, pulls\n"+
			"it, and compares the checkpoints of it that peers gossip with its mirror again.\n"+
			"The reason is kept as evidence ('tillit evidence'). Lifting does not make a\n"+
			"forked log consistent: if the log still contradicts this node's mirror, the next\n"+
			"push, pull or gossip that shows it quarantines it again. Lift a quarantine only\n"+
			"once the parties have settled the dispute under the regime. Needs an officer\n"+
			"token.", stderr)
	reason := fs.String("reason", "", "why the quarantine is lifted, such as how the dispute was settled (required)")
	af := addAPIFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errUsage
	}
	party := fs.Arg(0)
	if strings.TrimSpace(*reason) == "" {
		return withHint(errors.New("quarantine lift needs --reason"),
			"say why the quarantine is lifted, such as how the parties settled the dispute under the regime; the node keeps it as evidence")
	}
	c, err := af.connect()
	if err != nil {
		return err
	}
	ctx, cancel := callContext()
	defer cancel()
	s, err := c.LiftQuarantine(ctx, party, *reason)
	if err != nil {
		var p *api.Problem
		if errors.As(err, &p) {
			switch p.Status {
			case http.StatusNotFound:
				return withHint(p, "'tillit status' shows which peers' logs are quarantined (column QUARANTINED)")
			case http.StatusForbidden:
				return withHint(p, "lifting a quarantine needs an officer token: pass --token-file FILE (tokens/officer.token in the node's directory) or set TILLIT_TOKEN")
			}
		}
		return c.explain(err)
	}
	if *af.json {
		return writeJSON(stdout, s)
	}
	fmt.Fprintf(stdout, "lifted the quarantine of %s's log; the reason is kept as evidence\n", party)
	for _, ps := range s.Peers {
		if ps.Party == party && ps.Quarantined {
			fmt.Fprintf(stdout, "%s's log is quarantined again already: it still contradicts this node's mirror; see 'tillit evidence'\n", party)
			return nil
		}
	}
	fmt.Fprintf(stdout, "if %s's log still contradicts this node's mirror, it is quarantined again at the next push, pull or gossip; see 'tillit status' and 'tillit evidence'\n", party)
	return nil
}
