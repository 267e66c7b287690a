package main

import (
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/tillit/tillit/inspect"
	"github.com/tillit/tillit/statement"
)

func init() {
	register(command{"inspect", "inspections: request, reply, beacon, open, findings, report, verify, list", runInspect})
}

// inspectCommands are the steps of an inspection (docs/spec/inspect.md
// §Overview), in the order they are taken, and the commands that read it.
var inspectCommands = []command{
	{"request", "inspector: ask HOST for an inspection, within the quotas", runInspectRequest},
	{"reply", "host: accept or refuse a request", runInspectReply},
	{"beacon", "both: commit to, then reveal, a beacon contribution", runInspectBeacon},
	{"open", "host: reveal what the selection needs and open the site the beacon chose", runInspectOpen},
	{"findings", "inspector: log the items observed at the site", runInspectFindings},
	{"report", "both: compute the discrepancy report and log it", runInspectReport},
	{"verify", "anyone: check a whole inspection from the logs", runInspectVerify},
	{"list", "list the inspection requests this node knows, and what each waits for", runInspectList},
}

func runInspect(args []string, stdout, stderr io.Writer) error {
	return (&group{name: "inspect", width: 9, cmds: inspectCommands,
		usage: "Usage: tillit inspect <command> [flags] [args]\n\n" +
			"An inspection (docs/arms-control.md): the inspector requests, the host replies,\n" +
			"both run the beacon, the host opens the site it chooses, the inspector logs\n" +
			"findings, and both log the report computed from them."}).run(args, stdout, stderr)
}

// requestRef parses the reference of an inspection request argument.
func requestRef(s string) (statement.Ref, error) {
	r, err := statement.ParseRef(s)
	if err != nil {
		return r, withHint(fmt.Errorf("%q is not a statement reference: %v", s, err),
			"give the request's full reference, <origin>/<index>#<hash>, as 'tillit inspect list --json' prints it")
	}
	return r, nil
}

// connectRequest parses the flags of an inspect command whose one argument is
// REQUEST (see parseArgs) and connects to the node's arms control.
func connectRequest(fs *flag.FlagSet, af *apiFlags, args []string) (statement.Ref, *arms, *apiConn, error) {
	if err := parseArgs(fs, args, 1); err != nil {
		return statement.Ref{}, nil, nil, err
	}
	ref, err := requestRef(fs.Arg(0))
	if err != nil {
		return ref, nil, nil, err
	}
	a, c, err := connectArms(af)
	return ref, a, c, err
}

// printReport prints a discrepancy report for people.
func printReport(w io.Writer, r *inspect.Report) {
	fmt.Fprintf(w, "report on %s/%s:\n  %s\n", r.Region, r.Site, strings.Join(describeReport(r), "\n  "))
}
