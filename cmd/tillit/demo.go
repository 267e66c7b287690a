package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tillit/tillit/examples"
	"github.com/tillit/tillit/regime"
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
	{"NATO", "RU", "consultation.request", statement.Priority, `{"subject":"deployment of short- and intermediate-range missiles in Europe","text":"We propose talks on reciprocal transparency measures and limits."}`, -1},
	{"RU", "NATO", "consultation.reply", statement.Priority, `{"text":"Ready to discuss missile deployments and military risk reduction."}`, 0},
	{"NATO", "*", "exercise.notice", statement.Priority, `{"name":"Cold Response 2022","start":"2022-03-14T00:00:00Z","end":"2022-04-01T00:00:00Z","area":{"name":"Norway","center":{"lat":68.4,"lon":17.4},"radius_km":400},"troops":30000,"tanks":220,"aircraft":200}`, -1},
	{"RU", "NATO", "incident.report", statement.Flash, `{"time":"2022-01-26T14:02:00Z","position":{"lat":55.3,"lon":19.9},"units":["Su-27"],"description":"unplanned intercept over the Baltic Sea"}`, -1},
	{"NATO", "RU", "ack", statement.Flash, `{"text":"Incident report received; our aircraft withdrew."}`, 3},
}

// demoBad is a statement the regime refuses: an exercise notice without the
// number of tanks.
const demoBad = `{"name":"unnamed","start":"2022-05-01T00:00:00Z","end":"2022-05-10T00:00:00Z","area":{"center":{"lat":54.7,"lon":20.5},"radius_km":100},"troops":9000,"aircraft":40}`

type demo struct {
	out    io.Writer
	regime *regime.Regime
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
	if err := d.loadRegime(); err != nil {
		return err
	}
	for _, party := range []string{"NATO", "RU"} {
		origin := demoRegime + "/" + party
		dir := filepath.Join(d.dir, party)
		keyPath, err := d.demoKey(party)
		if err != nil {
			return err
		}
		if err := initLogDir(dir, origin, keyPath); err != nil {
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
		fmt.Fprintf(d.out, "%-4s log %s\n     key %s (the regime's public demo key)\n     served at %s\n", party, origin, l.vkey, url)
	}
	fmt.Fprintln(d.out, "\nstatements (January 2022):")
	if err := d.sendAll(ctx); err != nil {
		return err
	}
	fmt.Fprintln(d.out, "\nauditor, trusting only the keys in the signed regime:")
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
		if err := d.regime.CheckStatement(parsed); err != nil {
			return fmt.Errorf("demo statement %d does not conform to the regime: %w", i, err)
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
	// The regime refuses a statement that does not match its type's schema,
	// before anything is logged.
	bad, err := statement.Encode(&statement.Statement{Regime: demoRegime, From: "RU", To: []string{statement.All},
		Type: "exercise.notice", Precedence: statement.Priority, Time: t0.Add(30 * 24 * time.Hour), Body: json.RawMessage(demoBad)})
	if err != nil {
		return err
	}
	parsed, err := statement.Parse(bad)
	if err == nil {
		err = d.regime.CheckStatement(parsed)
	}
	d.check(err != nil, "an exercise notice without the number of tanks is refused by the regime: %v", err)
	return nil
}

// loadRegime loads the embedded example regime and checks that every party
// has signed it.
func (d *demo) loadRegime() error {
	fsys, err := fs.Sub(examples.NATORussia2022, "nato-russia-2022")
	if err != nil {
		return err
	}
	data, err := fs.ReadFile(fsys, "regime.toml")
	if err != nil {
		return err
	}
	if d.regime, err = regime.Parse(data, fsys); err != nil {
		return err
	}
	sigs, err := fs.ReadFile(fsys, "regime.sigs")
	if err != nil {
		return err
	}
	s, err := regime.ParseSignatures(sigs)
	if err != nil {
		return err
	}
	st, err := d.regime.Verify(s)
	var names []string
	for _, sg := range st.Signatories {
		names = append(names, sg.Party)
	}
	d.check(err == nil && st.InForce(), "regime %s v%d (%s) is in force: signed by %s", st.ID, st.Version, st.Hash, strings.Join(names, ", "))
	fmt.Fprintln(d.out)
	return nil
}

// demoKey writes a party's PUBLIC DEMO log key from the embedded example into
// the state directory, with the mode tillit requires of key files.
func (d *demo) demoKey(party string) (string, error) {
	b, err := fs.ReadFile(examples.NATORussia2022, "nato-russia-2022/demo-keys/"+party+".key")
	if err != nil {
		return "", err
	}
	path := filepath.Join(d.dir, party+".demo.key")
	return path, os.WriteFile(path, b, 0o600)
}

func (d *demo) audit(ctx context.Context) {
	for _, party := range []string{"NATO", "RU"} {
		l := d.logs[party]
		want := l.log.Latest()
		v := d.regime.Party(party).Verifier() // the auditor trusts the regime's keys only
		f, _ := tlog.HTTPFetcher(d.urls[party], nil)
		c, err := tlog.VerifyLog(ctx, f, v.Name(), v, tlog.VerifyOptions{Entry: d.checkStatement})
		d.check(err == nil && c.Tree == want.Tree, "%s log over HTTP: every entry, tile and the root recomputed, signed by the regime's key, every statement conforms (size %d)%s", party, c.Tree.N, errSuffix(err))
		exp := filepath.Join(d.dir, "export", party)
		_, err = l.log.Export(ctx, exp, nil)
		if err == nil {
			c, err = tlog.VerifyLog(ctx, tlog.DirFetcher(exp), v.Name(), v, tlog.VerifyOptions{Entry: d.checkStatement})
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

func (d *demo) checkStatement(index int64, entry []byte) error {
	s, err := statement.Parse(entry)
	if err != nil {
		return err
	}
	return d.regime.CheckStatement(s)
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
