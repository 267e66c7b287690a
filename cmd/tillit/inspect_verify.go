package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/tillit/tillit/inspect"
)

// checkList collects the checks and notes of a verification, for printing.
type checkList struct {
	Checks []checkLine `json:"checks"`
	Notes  []string    `json:"notes,omitempty"`
	failed int
}

type checkLine struct {
	OK   bool   `json:"ok"`
	What string `json:"what"`
}

func (l *checkList) trace(w io.Writer) *trace {
	return &trace{
		check: func(ok bool, msg string) {
			l.Checks = append(l.Checks, checkLine{ok, msg})
			if !ok {
				l.failed++
			}
			if w != nil {
				mark := "ok  "
				if !ok {
					mark = "FAIL"
				}
				fmt.Fprintf(w, "  [%s] %s\n", mark, msg)
			}
		},
		note: func(msg string) {
			l.Notes = append(l.Notes, msg)
			if w != nil {
				fmt.Fprintf(w, "  - %s\n", msg)
			}
		},
	}
}

func (l *checkList) result() error {
	if l.failed > 0 {
		return fmt.Errorf("%d of %d checks failed", l.failed, len(l.Checks))
	}
	return nil
}

func runInspectVerify(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("inspect verify", "REQUEST",
		"Checks an inspection from the logs alone, as a third party would: the request and\n"+
			"its quota, the host's declaration, the reply and its deadline, the beacon, the\n"+
			"candidate sites and the selection, the host's opening against its commitment,\n"+
			"the findings, and each party's report recomputed byte for byte. Each statement\n"+
			"is fetched through this node and checked against its reference's leaf hash.\n"+
			"Prints each check; exits 1 if any fails. An auditor token is enough.", stderr)
	af := addAPIFlags(fs)
	ref, a, c, err := connectRequest(fs, af, args)
	if err != nil {
		return err
	}
	ctx, cancel := callContext()
	defer cancel()
	var l checkList
	var w io.Writer
	if !*af.json {
		w = stdout
		fmt.Fprintf(stdout, "inspection %s, as %s's node holds it:\n", shortRef(ref.String()), a.party)
	}
	in, err := loadInspection(ctx, newView(backendSource{c.Client}), a.reg, a.rules, ref, a.now(), l.trace(w))
	if err != nil && in == nil && len(l.Checks) == 0 {
		return c.explain(err)
	}
	var report *inspect.Report
	var next string
	if in != nil {
		for _, p := range []string{in.inspector(), in.host()} {
			if r := in.reports[p]; r != nil {
				report = &r.Body
				break
			}
		}
		if p, step := in.next(); p != "" {
			next = fmt.Sprintf("%s: tillit inspect %s %s", p, step, ref)
		}
	}
	if *af.json {
		out := map[string]any{"request": ref.String(), "ok": l.failed == 0 && err == nil, "checks": l.Checks, "notes": l.Notes}
		if report != nil {
			out["report"] = report
		}
		if next != "" {
			out["next"] = next
		}
		if werr := writeJSON(stdout, out); werr != nil {
			return werr
		}
	} else {
		if report != nil {
			printReport(stdout, report)
		}
		if next != "" {
			fmt.Fprintf(stdout, "next step: %s\n", next)
		}
		fmt.Fprintf(stdout, "%d checks, %d failed\n", len(l.Checks), l.failed)
	}
	if err != nil {
		return err
	}
	return l.result()
}

func runInspectList(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("inspect list", "",
		"Lists the inspection requests in the logs this node holds, whoever made them,\n"+
			"newest first, with where each stands and whose step is next.", stderr)
	af := addAPIFlags(fs)
	if err := parseArgs(fs, args, 0); err != nil {
		return err
	}
	a, c, err := connectArms(af)
	if err != nil {
		return err
	}
	ctx, cancel := callContext()
	defer cancel()
	v := newView(backendSource{c.Client})
	es, err := v.ofType(ctx, inspect.TypeRequest)
	if err != nil {
		return c.explain(err)
	}
	type row struct {
		Ref       string `json:"ref"`
		Time      string `json:"time"`
		Inspector string `json:"inspector"`
		Host      string `json:"host"`
		State     string `json:"state"`
		Next      string `json:"next,omitempty"`
	}
	var rows []row
	for i := len(es) - 1; i >= 0; i-- {
		in, _ := loadInspection(ctx, v, a.reg, a.rules, es[i].ref, a.now(), nil)
		if in == nil {
			continue // not a valid request, or its declaration is not here
		}
		r := row{Ref: es[i].ref.String(), Time: stamp(in.req.Time), Inspector: in.inspector(), Host: in.host(), State: in.status.State.String()}
		if p, step := in.next(); p != "" {
			r.Next = p + ": " + step
		} else if len(in.reports) > 0 {
			r.State = "reported"
		}
		rows = append(rows, r)
	}
	if *af.json {
		return writeJSON(stdout, map[string]any{"requests": rows})
	}
	if len(rows) == 0 {
		fmt.Fprintln(stdout, "no inspection requests")
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tREF\tINSPECTOR\tHOST\tSTATE\tNEXT")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Time, shortRef(r.Ref), r.Inspector, r.Host, r.State, r.Next)
	}
	return tw.Flush()
}
