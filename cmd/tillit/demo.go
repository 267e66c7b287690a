package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/tillit/tillit/internal/api"
	"github.com/tillit/tillit/internal/link"
	"github.com/tillit/tillit/internal/link/faultproxy"
	"github.com/tillit/tillit/internal/localnet"
	"github.com/tillit/tillit/node"
	"github.com/tillit/tillit/regime"
)

func init() {
	register(command{"demo", "play the January 2022 scenario on three nodes on loopback, verifying everything", runDemo})
}

// demoStart is when the demo's simulated clock starts: the day after the
// NATO–Russia Council of 12 January 2022, as NATO's offer of talks went out.
var demoStart = time.Date(2022, 1, 26, 9, 0, 0, 0, time.UTC)

// simClock is the demo's clock: it runs at real speed from demoStart and
// jumps forward where the scenario says so, so that deadlines of hours
// pass in seconds. All three nodes read it.
type simClock struct {
	mu     sync.Mutex
	real0  time.Time
	offset time.Duration
}

func (c *simClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return demoStart.Add(time.Since(c.real0) + c.offset)
}

func (c *simClock) advance(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}

type demo struct {
	out     io.Writer
	dir     string
	clock   *simClock
	nw      *localnet.Network
	reg     *regime.Regime
	nodes   map[string]*node.Node
	apis    map[string]string            // operator API URLs
	proxies map[string]*faultproxy.Proxy // "A>B": A's route to B
	servers []*http.Server
	checks  int
	failed  int
}

func runDemo(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("demo", "", `Play the January 2022 NATO–Russia scenario on three nodes (NATO, RU, and the
OSCE as observer) on loopback, with fresh state and the example regime: a
consultation on missile deployments answered within 48 hours, an exercise
notice, a FLASH incident report acknowledged in time, an acknowledgment that
is missed and turns overdue, and a link cut and healed with nothing lost.
Then every log is verified from every node's point of view. The clock is
simulated (it jumps where the transcript says). Exits 0 only if every check
passes.`, stderr)
	dir := fs.String("dir", "", "directory for the demo's state (default: a new temporary directory, removed at exit unless --keep)")
	keep := fs.Bool("keep", false, "leave the network running after the scenario and write parties.json into --dir; stop with Ctrl-C")
	verbose := fs.Bool("v", false, "log the nodes' warnings to stderr")
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
	} else if entries, err := os.ReadDir(*dir); err == nil && len(entries) > 0 {
		return withHint(fmt.Errorf("%s is not empty", *dir), "the demo starts from fresh state; give a new or empty --dir")
	}
	level := slog.Level(100) // silent
	if *verbose {
		level = slog.LevelWarn
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	d := &demo{out: stdout, dir: *dir, clock: &simClock{real0: time.Now()}, nodes: map[string]*node.Node{},
		apis: map[string]string{}, proxies: map[string]*faultproxy.Proxy{}}
	defer d.close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := d.setup(ctx, logger); err != nil {
		return err
	}
	if err := d.scenario(ctx); err != nil {
		d.check(false, "scenario: %v", err)
	} else {
		d.audit(ctx)
	}
	fmt.Fprintf(stdout, "\n%d checks, %d failed\n", d.checks, d.failed)
	if d.failed > 0 {
		return fmt.Errorf("%d of %d demo checks failed", d.failed, d.checks)
	}
	if *keep {
		return d.keep(stdout)
	}
	return nil
}

func (d *demo) close() {
	for _, s := range d.servers {
		s.Close()
	}
	for _, n := range d.nodes {
		n.Close()
	}
	for _, p := range d.proxies {
		p.Close()
	}
	if d.nw != nil {
		d.nw.Close()
	}
}

func (d *demo) check(ok bool, format string, args ...any) bool {
	d.checks++
	mark := "ok  "
	if !ok {
		mark = "FAIL"
		d.failed++
	}
	fmt.Fprintf(d.out, "  [%s] %s\n", mark, fmt.Sprintf(format, args...))
	return ok
}

func (d *demo) say(format string, args ...any) {
	fmt.Fprintf(d.out, format+"\n", args...)
}

// setup creates the three parties from the example regime and its demo
// keys, routes the NATO–RU link through fault proxies (so it can be cut),
// and starts the nodes and their operator APIs.
func (d *demo) setup(ctx context.Context, logger *slog.Logger) error {
	d.say("tillit demo: the NATO–Russia regime of January 2022 on three nodes on loopback")
	d.say("state in %s", d.dir)
	d.say("The clock is simulated: it starts at %s, runs at real speed and jumps where\nthe transcript says so, so that deadlines of minutes and hours pass in seconds.\n", demoStart.Format("2006-01-02 15:04 UTC"))
	nw, err := localnet.Example(d.dir)
	if err != nil {
		return err
	}
	d.nw, d.reg = nw, nw.Regime
	st, err := d.reg.Verify(nw.Sigs)
	var names []string
	if st != nil {
		for _, s := range st.Signatories {
			if s.Signed {
				names = append(names, s.Party)
			}
		}
	}
	d.check(err == nil && st.InForce(), "regime %s v%d (%s) is in force: signed by %s", d.reg.ID, d.reg.Version, d.reg.Hash(), strings.Join(names, ", "))
	if err != nil {
		return err
	}
	for _, pair := range [][2]string{{"NATO", "RU"}, {"RU", "NATO"}} {
		p, err := faultproxy.New(nw.Listeners[pair[1]].Addr().String(), faultproxy.Options{})
		if err != nil {
			return err
		}
		d.proxies[pair[0]+">"+pair[1]] = p
		nw.Configs[pair[0]].Peer.Endpoints[pair[1]] = []string{"https://" + p.Addr()}
	}
	d.say("nodes:")
	for _, party := range nw.Parties {
		n, err := nw.Open(ctx, party, node.Options{Logger: logger.With("node", party), Now: d.clock.Now,
			PollInterval: 300 * time.Millisecond, DeadlineTick: 100 * time.Millisecond,
			ClientOptions: &link.ClientOptions{Attempts: 2, Timeout: 2 * time.Second, MinBackoff: 100 * time.Millisecond, MaxBackoff: time.Second}})
		if err != nil {
			return err
		}
		d.nodes[party] = n
		if err := n.Start(ctx); err != nil {
			return err
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		srv := api.NewServer(api.NewHandler(n, nw.Configs[party].API, logger))
		d.servers = append(d.servers, srv)
		go srv.Serve(ln)
		d.apis[party] = "http://" + ln.Addr().String()
		role := d.reg.Party(party).Role
		d.say("  %-4s (%s)  peers https://%s  operator API %s", party, role, n.PeerAddr(), d.apis[party])
	}
	d.say("")
	ok := d.waitUntil(ctx, 15*time.Second, func() bool {
		for _, n := range d.nodes {
			for _, p := range n.Status().Peers {
				if p.Link != node.LinkUp {
					return false
				}
			}
		}
		return true
	})
	d.check(ok, "every link is up: each node holds fresh receipts from both others")
	return nil
}

// waitUntil polls cond until it holds or the timeout passes.
func (d *demo) waitUntil(ctx context.Context, timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}

// keep writes parties.json and serves until interrupted.
func (d *demo) keep(stdout io.Writer) error {
	type party struct {
		Name     string `json:"name"`
		Role     string `json:"role"`
		Origin   string `json:"log_origin"`
		Verifier string `json:"verifier_key"`
		LogURL   string `json:"log_url"`
		APIURL   string `json:"operator_api_url"`
		Token    string `json:"operator_token"`
		Dir      string `json:"dir"`
	}
	var ps []party
	for _, name := range d.nw.Parties {
		p := d.reg.Party(name)
		ps = append(ps, party{Name: name, Role: string(p.Role), Origin: d.reg.Origin(name), Verifier: p.LogKey,
			LogURL: fmt.Sprintf("https://%s/logs/%s/", d.nodes[name].PeerAddr(), name), APIURL: d.apis[name],
			Token: d.nw.Tokens[name], Dir: filepath.Join(d.dir, name)})
	}
	b, err := json.MarshalIndent(map[string]any{"regime": d.reg.ID, "parties": ps}, "", "  ")
	if err != nil {
		return err
	}
	// The command line finds each node's operator API through this file,
	// as it does for 'tillit serve'.
	for _, name := range d.nw.Parties {
		cfg := d.nw.Configs[name]
		if err := os.WriteFile(filepath.Join(cfg.Path(cfg.Data), apiURLFile), []byte(d.apis[name]+"\n"), 0o600); err != nil {
			return err
		}
	}
	path := filepath.Join(d.dir, "parties.json")
	if err := os.WriteFile(path, append(b, '\n'), 0o600); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nThe network keeps running. %s lists each party's log URL (pinned TLS),\noperator API URL and officer token; for example:\n  tillit status --node %s\n  tillit watch --node %s\nStop it with Ctrl-C.\n",
		path, filepath.Join(d.dir, "NATO"), filepath.Join(d.dir, "RU"))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	fmt.Fprintln(stdout, "stopping")
	return nil
}
