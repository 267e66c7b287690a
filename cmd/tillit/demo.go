package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/tillit/tillit/statement"
	"github.com/tillit/tillit/tlog"
)

const demoRegime = "nato-russia-2022"

// demoStep is one statement of the scenario.
type demoStep struct {
	from, to, typ string
	prec          statement.Precedence
	body          string
	refStep       int // index into the steps of the statement this one answers, or -1
}

var demoSteps = []demoStep{
	{"NATO", "RU", "consultation.request", statement.Routine, `{"subject":"deployment of short- and intermediate-range missiles in Europe","proposal":"reciprocal transparency measures and limits"}`, -1},
	{"RU", "NATO", "consultation.reply", statement.Routine, `{"text":"ready to discuss missile deployments and military risk reduction"}`, 0},
	{"NATO", "*", "exercise.notice", statement.Priority, `{"name":"exercise notice","start":"2022-03-14","end":"2022-04-01","area":"Norway","troops":30000,"tanks":220,"aircraft":200}`, -1},
	{"RU", "NATO", "incident.report", statement.Flash, `{"time":"2022-01-26T14:02:00.000Z","position":"55.3N 19.9E","units":["Su-27"],"description":"unplanned intercept over the Baltic Sea"}`, -1},
	{"NATO", "RU", "ack", statement.Flash, `{"text":"incident report received; our aircraft withdrew"}`, 3},
}

type demo struct {
	out    io.Writer
	dir    string
	logs   map[string]*logDir
	urls   map[string]string
	refs   []statement.Ref
	checks []string
	failed int
}

func runDemo(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("demo", "", "Shows tillit's log working end to end on loopback: two parties append treaty\nstatements to their own logs, a FLASH statement is checkpointed at once, an\nauditor fetches and verifies both logs over HTTP and from an offline export,\nchecks an inclusion proof, and catches a tampered copy. Exits 0 only if every\ncheck passes.", stderr)
	dir := fs.String("dir", "", "directory for the demo's state (default: a new temporary directory, removed at exit)")
	keep := fs.Bool("keep", false, "keep the state directory")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		fs.Usage()
		return errUsage
	}
	if *dir == "" {
		d, err := os.MkdirTemp("", "tillit-demo-")
		if err != nil {
			return err
		}
		*dir = d
		if !*keep {
			defer os.RemoveAll(d)
		}
	}
	d := &demo{out: stdout, dir: *dir, logs: map[string]*logDir{}, urls: map[string]string{}}
	defer d.close()
	if err := d.run(context.Background(), stderr); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\n%d checks, %d failed\n", len(d.checks), d.failed)
	if *keep {
		fmt.Fprintf(stdout, "state kept in %s\n", *dir)
	}
	if d.failed > 0 {
		return fmt.Errorf("%d of %d demo checks failed", d.failed, len(d.checks))
	}
	return nil
}

func (d *demo) close() {
	for _, l := range d.logs {
		l.Close()
	}
}

func (d *demo) check(ok bool, format string, args ...any) {
	mark := "ok  "
	if !ok {
		mark = "FAIL"
		d.failed++
	}
	line := fmt.Sprintf(format, args...)
	d.checks = append(d.checks, line)
	fmt.Fprintf(d.out, "  [%s] %s\n", mark, line)
}

func (d *demo) run(ctx context.Context, stderr io.Writer) error {
	fmt.Fprintf(d.out, "tillit demo: each party's statements in its own transparency log\nstate in %s\n\n", d.dir)
	for _, party := range []string{"NATO", "RU"} {
		origin := demoRegime + "/" + party
		dir := filepath.Join(d.dir, party)
		if err := initLogDir(dir, origin, ""); err != nil {
			return err
		}
		l, err := openLogDir(ctx, dir, cliLogger(stderr), nil)
		if err != nil {
			return err
		}
		d.logs[party] = l
		url, err := serveDemo(l)
		if err != nil {
			return err
		}
		d.urls[party] = url
		fmt.Fprintf(d.out, "%-4s log %s\n     key %s\n     served at %s\n", party, origin, l.vkey, url)
	}
	fmt.Fprintln(d.out, "\nstatements (January 2022):")
	if err := d.sendAll(ctx); err != nil {
		return err
	}
	fmt.Fprintln(d.out, "\nauditor, trusting only the two verifier keys:")
	d.audit(ctx)
	return nil
}

func (d *demo) sendAll(ctx context.Context) error {
	t0 := time.Date(2022, 1, 12, 9, 30, 0, 0, time.UTC)
	for i, s := range demoSteps {
		st := &statement.Statement{Regime: demoRegime, From: s.from, To: []string{s.to}, Type: s.typ,
			Precedence: s.prec, Time: t0.Add(time.Duration(i) * 26 * time.Hour), Body: json.RawMessage(s.body)}
		if s.refStep >= 0 {
			st.Refs = []statement.Ref{d.refs[s.refStep]}
		}
		b, err := statement.Encode(st)
		if err != nil {
			return fmt.Errorf("demo statement %d: %w", i, err)
		}
		parsed, err := statement.Parse(b)
		if err != nil {
			return fmt.Errorf("demo statement %d: %w", i, err)
		}
		l := d.logs[s.from].log
		start := time.Now()
		idx, err := l.Append(ctx, b)
		if err != nil {
			return err
		}
		durable := time.Since(start)
		d.refs = append(d.refs, parsed.Ref(idx))
		note := fmt.Sprintf("durable in %v", durable.Round(10*time.Microsecond))
		if s.prec == statement.Flash {
			cp, err := l.Checkpoint(ctx)
			if err != nil {
				return err
			}
			note += fmt.Sprintf(", FLASH: checkpoint size %d signed %v after the append", cp.Tree.N, time.Since(start).Round(10*time.Microsecond))
		}
		reply := ""
		if s.refStep >= 0 {
			reply = " re " + d.refs[s.refStep].String()
		}
		fmt.Fprintf(d.out, "  %-4s → %-4s %-21s %-9s #%d%s\n         %s\n", s.from, s.to, s.typ, s.prec, idx, reply, note)
	}
	for _, l := range d.logs {
		if _, err := l.log.Checkpoint(ctx); err != nil {
			return err
		}
	}
	return nil
}

func (d *demo) audit(ctx context.Context) {
	for _, party := range []string{"NATO", "RU"} {
		l := d.logs[party]
		want := l.log.Latest()
		f, _ := tlog.HTTPFetcher(d.urls[party], nil)
		c, err := tlog.VerifyLog(ctx, f, l.verifier.Name(), l.verifier, tlog.VerifyOptions{Entry: checkStatement})
		d.check(err == nil && c.Tree == want.Tree, "%s log over HTTP: every entry, tile and the root recomputed, signature valid (size %d)%s", party, c.Tree.N, errSuffix(err))
		exp := filepath.Join(d.dir, "export", party)
		_, err = l.log.Export(ctx, exp, nil)
		if err == nil {
			c, err = tlog.VerifyLog(ctx, tlog.DirFetcher(exp), l.verifier.Name(), l.verifier, tlog.VerifyOptions{Entry: checkStatement})
		}
		d.check(err == nil && c.Tree == want.Tree, "%s log exported to static files and verified offline%s", party, errSuffix(err))
	}
	// The FLASH incident report: a portable proof, checked offline.
	ref := d.refs[3]
	ru := d.logs["RU"]
	p, err := ru.log.Proof(ctx, ref.Index)
	if err == nil {
		p, err = tlog.ParseProof(p.Marshal())
	}
	if err == nil {
		_, _, err = tlog.VerifyProof(p, ref.Hash, ru.verifier.Name(), ru.verifier)
	}
	d.check(err == nil, "tlog-proof of RU's FLASH incident report (%s) verifies offline%s", ref, errSuffix(err))
	// The acknowledgment refers to exactly the bytes RU logged.
	ack, err := d.logs["NATO"].log.Entry(ctx, d.refs[4].Index)
	var refOK bool
	if err == nil {
		s, perr := statement.Parse(ack)
		refOK = perr == nil && len(s.Refs) == 1 && s.Refs[0] == ref
	}
	d.check(refOK, "NATO's acknowledgment refs RU's report by log, index and leaf hash")
	// A tampered copy is caught.
	exp := filepath.Join(d.dir, "export", "RU")
	bundle := filepath.Join(exp, "tile", "entries", "000.p", fmt.Sprint(ru.log.Latest().Tree.N))
	data, err := os.ReadFile(bundle)
	if err == nil {
		data = bytes.Replace(data, []byte("Su-27"), []byte("Su-30"), 1)
		err = os.WriteFile(bundle, data, 0o644)
	}
	if err == nil {
		_, err = tlog.VerifyLog(ctx, tlog.DirFetcher(exp), ru.verifier.Name(), ru.verifier, tlog.VerifyOptions{})
		var fault *tlog.Fault
		d.check(errors.As(err, &fault), "a copy of RU's log with one word changed is rejected: %v", err)
	} else {
		d.check(false, "tamper test: %v", err)
	}
}

func checkStatement(index int64, entry []byte) error {
	_, err := statement.Parse(entry)
	return err
}

func errSuffix(err error) string {
	if err != nil {
		return ": " + err.Error()
	}
	return ""
}

// serveDemo serves a log on a loopback port for the life of the process.
func serveDemo(l *logDir) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	srv := &http.Server{Handler: l.log.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	return fmt.Sprintf("http://%s/", ln.Addr()), nil
}
