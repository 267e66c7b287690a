package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tillit/tillit/internal/api"
	"github.com/tillit/tillit/internal/localnet"
	"github.com/tillit/tillit/node"
	"github.com/tillit/tillit/regime"
)

// armsNet is three nodes (NATO, RU and the observer OSCE) on loopback, each
// with its operator API, for running the commands against. The regime has
// the example's id, which the example's declaration schemas name.
type armsNet struct {
	nw    *localnet.Network
	nodes map[string]*node.Node
	apis  map[string]string
}

func newArmsNet(t *testing.T) *armsNet {
	t.Helper()
	t.Setenv("TILLIT_NODE", "")
	t.Setenv("TILLIT_TOKEN", "")
	nw, err := localnet.New(t.TempDir(), "nato-russia-2022", []localnet.Party{{Name: "NATO"}, {Name: "RU"}, {Name: "OSCE", Role: regime.RoleObserver}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nw.Close)
	an := &armsNet{nw: nw, nodes: map[string]*node.Node{}, apis: map[string]string{}}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx := context.Background()
	for _, p := range nw.Parties {
		n, err := nw.Open(ctx, p, node.Options{Logger: logger, PollInterval: 200 * time.Millisecond, DeadlineTick: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if err := n.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { n.Close() })
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv := api.NewServer(api.NewHandler(n, nw.Configs[p].API, logger))
		go srv.Serve(ln)
		t.Cleanup(func() { srv.Close() })
		an.nodes[p], an.apis[p] = n, "http://"+ln.Addr().String()
	}
	return an
}

// run runs a command as party, against its node.
func (an *armsNet) run(t *testing.T, party string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	full := append(append([]string{}, args...), "--node", filepath.Join(an.nw.Dir, party), "--api", an.apis[party])
	code = run(full, &out, &errb)
	t.Logf("%s$ tillit %s\n%s%s", party, strings.Join(args, " "), out.String(), errb.String())
	return code, out.String(), errb.String()
}

// must runs a command that must succeed and returns the first line of its
// output (the reference of what it sent).
func (an *armsNet) must(t *testing.T, party string, args ...string) (ref, stdout string) {
	t.Helper()
	code, out, errs := an.run(t, party, args...)
	if code != 0 {
		t.Fatalf("%s: tillit %s: exit %d\n%s%s", party, strings.Join(args, " "), code, out, errs)
	}
	first, _, _ := strings.Cut(out, "\n")
	return first, out
}

// fails runs a command that must fail and checks its error output.
func (an *armsNet) fails(t *testing.T, party, want string, args ...string) {
	t.Helper()
	code, out, errs := an.run(t, party, args...)
	if code != 1 || !strings.Contains(errs, want) {
		t.Fatalf("%s: tillit %s: exit %d, want 1 and %q in\n%s%s", party, strings.Join(args, " "), code, want, out, errs)
	}
}

// delivered waits until every other party has receipted ref, from party's
// log.
func (an *armsNet) delivered(t *testing.T, party, ref string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, p := range an.nw.Parties {
		if p == party {
			continue
		}
		if _, err := an.nodes[party].WaitReceipt(ctx, ref, p); err != nil {
			t.Fatalf("%s's receipt of %s: %v", p, ref, err)
		}
	}
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestArmsEndToEnd runs a declaration and a whole inspection with the
// commands, against three nodes, and has the observer verify it.
func TestArmsEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three nodes")
	}
	an := newArmsNet(t)
	files := t.TempDir()

	// RU declares; its secret stays in its node directory.
	ru := writeFile(t, files, "ru.csv", demoInventoryRU)
	decl, out := an.must(t, "RU", "declare", ru)
	if !strings.Contains(out, "declared version 1 of RU's inventory: 2 regions, 4 sites, 16 items (5 9M729.launcher, 11 9M729.missile), committed as 16 leaves") {
		t.Errorf("declare output:\n%s", out)
	}
	secret := filepath.Join(an.nw.Dir, "RU", "escrow", "nato-russia-2022-v1.secret")
	if fi, err := os.Stat(secret); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("secret %s: %v %v", secret, fi, err)
	}
	an.delivered(t, "RU", decl)
	m, err := an.nodes["NATO"].Message(decl)
	if err != nil || strings.Contains(string(m.Body), "M-1011") || strings.Contains(string(m.Body), "Kaliningrad") {
		t.Fatalf("NATO's copy of the commitment: %s, %v", m.Body, err)
	}
	nato := writeFile(t, files, "nato.json", demoInventoryNATO)
	if _, out := an.must(t, "NATO", "declare", nato, "--json"); !strings.Contains(out, `"items": 10`) {
		t.Errorf("declare --json:\n%s", out)
	}

	// NATO requests; a second request is over quota and not sent.
	req, _ := an.must(t, "NATO", "inspect", "request", "RU", "--reason", "Vienna Document evaluation visit")
	an.fails(t, "NATO", "over quota: NATO already has 1 accepted or pending inspection of RU", "inspect", "request", "RU")
	an.delivered(t, "NATO", req)
	an.fails(t, "NATO", "the reply is RU's step in this inspection", "inspect", "reply", req, "accept")
	an.fails(t, "RU", "the request is pending, not accepted", "inspect", "beacon", "commit", req)
	reply, _ := an.must(t, "RU", "inspect", "reply", req, "accept")
	an.delivered(t, "RU", reply)
	an.fails(t, "RU", "RU already replied", "inspect", "reply", req, "refuse", "--reason", "changed our mind")

	// The beacon.
	c1, _ := an.must(t, "NATO", "inspect", "beacon", "commit", req)
	an.fails(t, "NATO", "RU has not logged its beacon commit yet", "inspect", "beacon", "reveal", req)
	an.delivered(t, "NATO", c1)
	c2, _ := an.must(t, "RU", "inspect", "beacon", "commit", req)
	an.delivered(t, "RU", c2)
	an.fails(t, "RU", "the beacon has given no seed yet", "inspect", "open", req)
	r1, _ := an.must(t, "NATO", "inspect", "beacon", "reveal", req)
	an.delivered(t, "NATO", r1)
	r2, _ := an.must(t, "RU", "inspect", "beacon", "reveal", req)
	an.delivered(t, "RU", r2)

	// RU opens the chosen site.
	_, out = an.must(t, "RU", "inspect", "open", req, "--json")
	var opened struct {
		Chosen struct{ Region, Site string }
		Sent   []struct{ Ref, Type string }
	}
	if err := json.Unmarshal([]byte(out), &opened); err != nil || len(opened.Sent) != 4 {
		t.Fatalf("inspect open --json: %v\n%s", err, out)
	}
	for _, s := range opened.Sent {
		an.delivered(t, "RU", s.Ref)
	}

	// NATO's findings: the declared items of the site and one more.
	d, err := parseInventory("ru.csv", "", []byte(demoInventoryRU))
	if err != nil {
		t.Fatal(err)
	}
	var csv strings.Builder
	csv.WriteString("id,category\n")
	for _, r := range d.Regions {
		for _, s := range r.Sites {
			for _, it := range s.Items {
				if r.Name == opened.Chosen.Region && s.Name == opened.Chosen.Site {
					fmt.Fprintf(&csv, "%s,%s\n", it.ID, it.Category)
				}
			}
		}
	}
	csv.WriteString("M-1999,9M729.missile\n")
	findings := writeFile(t, files, "findings.csv", csv.String())
	f, _ := an.must(t, "NATO", "inspect", "findings", req, "-f", findings)
	an.delivered(t, "NATO", f)

	// Both log the report.
	for _, p := range []string{"NATO", "RU"} {
		rep, out := an.must(t, p, "inspect", "report", req)
		if !strings.Contains(out, `undeclared item "M-1999" (observed as "9M729.missile")`) {
			t.Errorf("%s's report:\n%s", p, out)
		}
		an.delivered(t, p, rep)
	}
	an.fails(t, "RU", "RU already logged the report", "inspect", "report", req)

	// More reveals, then the observer verifies everything through its API.
	an.must(t, "RU", "reveal", "item", "M-1011")
	an.must(t, "RU", "reveal", "region", "Kaliningrad")
	an.fails(t, "RU", `no site "Kaliningrad/Nowhere" in the declaration`, "reveal", "site", "Kaliningrad/Nowhere")
	last, _ := an.must(t, "RU", "reveal", "site", "Western Russia", "Luga", "--to", "NATO,OSCE")
	an.delivered(t, "RU", last)
	// A reveal to NATO alone, and the request (to RU alone), are not in the
	// observer's inbox, but it finds them in its mirrors through the API.
	hidden, _ := an.must(t, "RU", "reveal", "item", "M-2011", "--to", "NATO")
	an.delivered(t, "RU", hidden)
	for _, ref := range []string{req, hidden} {
		for _, m := range an.nodes["OSCE"].Inbox(node.Query{Limit: 1000}) {
			if m.Ref == ref {
				t.Fatalf("%s is in OSCE's inbox", ref)
			}
		}
	}
	_, out = an.must(t, "OSCE", "inbox", "--all", "--type", "inspection.request")
	if !strings.Contains(out, "NATO  RU  inspection.request") {
		t.Errorf("OSCE's inbox --all:\n%s", out)
	}
	_, out = an.must(t, "OSCE", "inspect", "list")
	if !strings.Contains(out, "NATO       RU    reported") {
		t.Errorf("OSCE's inspect list:\n%s", out)
	}
	_, out = an.must(t, "OSCE", "inspect", "verify", req)
	for _, want := range []string{"[ok  ] beacon seed", "[ok  ] site opening", "the same bytes as NATO's", "undeclared item \"M-1999\"", "0 failed"} {
		if !strings.Contains(out, want) {
			t.Errorf("inspect verify: no %q in\n%s", want, out)
		}
	}
	_, out = an.must(t, "OSCE", "declaration", "verify", "RU")
	for _, want := range []string{"declaration.item", "item M-1011 (9M729.missile) is declared at Kaliningrad/Chernyakhovsk",
		"item M-2011 (9M729.missile) is declared at Western Russia/Luga",
		"region Kaliningrad opened: 2 sites, 8 items", "site Western Russia/Luga opened: 3 items", "0 failed"} {
		if !strings.Contains(out, want) {
			t.Errorf("declaration verify: no %q in\n%s", want, out)
		}
	}
	_, out = an.must(t, "NATO", "inspect", "list")
	if !strings.Contains(out, "NATO       RU    reported") {
		t.Errorf("inspect list:\n%s", out)
	}

	// A second version refers to the first; a region too large for one
	// statement is refused with advice.
	var big strings.Builder
	big.WriteString("region,site,id,category\n")
	for s := range 2 {
		for i := range 400 {
			fmt.Fprintf(&big, "Large,Site %d,M-%d-%04d,9M729.missile\n", s, s, i)
		}
	}
	v2, out := an.must(t, "RU", "declare", writeFile(t, files, "v2.csv", big.String()))
	if !strings.Contains(out, "declared version 2") || !strings.Contains(out, "it follows version 1, "+decl) {
		t.Errorf("declare v2:\n%s", out)
	}
	code, _, errs := an.run(t, "RU", "reveal", "region", "Large")
	if code != 1 || !strings.Contains(errs, "more than a statement's limit of 65535 (64 KiB)") ||
		!strings.Contains(errs, "hint: open the region site by site instead, with 'tillit reveal site REGION/SITE' for each of its 2 sites: 'Large/Site 0', 'Large/Site 1'") {
		t.Errorf("reveal of a large region: exit %d\n%s", code, errs)
	}
	an.must(t, "RU", "reveal", "site", "Large/Site 1")
	an.delivered(t, "RU", v2)
	_, out = an.must(t, "NATO", "declaration", "verify", v2)
	if !strings.Contains(out, "it is the version after RU/0#") || !strings.Contains(out, "0 failed") {
		t.Errorf("declaration verify v2:\n%s", out)
	}
}
