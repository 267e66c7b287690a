package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tillit/tillit/internal/api"
	"github.com/tillit/tillit/internal/api/apitest"
	"github.com/tillit/tillit/node"
	"github.com/tillit/tillit/regime"
)

var apiTestNow = time.Date(2022, 1, 16, 10, 0, 0, 0, time.UTC)

// receivedRef is the reference of the statement in a test node's inbox.
const receivedRef = "nato-russia-2022/RU/41#bo0g0sSO15yZ/nj5CwGOq2O5XEOaglhTHDprJr4n+OI="

// testNode is an operator API over a fake backend, and a node directory
// with a node.toml pointing at it and a token file per role.
type testNode struct {
	b   *apitest.Backend
	h   http.Handler
	srv *httptest.Server
	dir string
}

func newTestNode(t *testing.T) *testNode {
	t.Helper()
	t.Setenv("TILLIT_NODE", "")
	t.Setenv("TILLIT_TOKEN", "")
	old := timeNow
	timeNow = func() time.Time { return apiTestNow }
	t.Cleanup(func() { timeNow = old })

	dir := t.TempDir()
	roles := []string{node.RoleOfficer, node.RoleAnalyst, node.RoleAuditor}
	var cfg node.APIConfig
	if err := os.Mkdir(filepath.Join(dir, "tokens"), 0o700); err != nil {
		t.Fatal(err)
	}
	for _, role := range roles {
		tok := role + "-secret"
		cfg.Tokens = append(cfg.Tokens, node.Token{Name: role, Role: role, SHA256: node.HashToken(tok)})
		if err := os.WriteFile(filepath.Join(dir, "tokens", role+".token"), []byte(tok+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	b := apitest.New("nato-russia-2022", "NATO", func() time.Time { return apiTestNow })
	b.Receive(node.Message{
		Ref: receivedRef, Log: "nato-russia-2022/RU", Index: 41, From: "RU", To: []string{"NATO"},
		Type: "notify.exercise", Precedence: "PRIORITY", Time: apiTestNow.Add(-time.Hour),
		Body: json.RawMessage(`{"text":"exercise"}`),
		Recipients: []node.Recipient{{Party: "NATO", Verdict: regime.Verdict{
			State: regime.Receipted, ReceiptDeadline: apiTestNow, Receipt: apiTestNow.Add(-59 * time.Minute),
			AckDeadline: apiTestNow.Add(time.Hour), Next: apiTestNow.Add(time.Hour),
		}}},
		State: regime.Receipted,
	})
	h := api.NewHandler(b, cfg, slog.New(slog.DiscardHandler))
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)

	var toml strings.Builder
	fmt.Fprintf(&toml, `party = "NATO"
regime = "regime.toml"
data = "data"
log_key = "log.key"
cosign_key = "cosign.key"
tls_key = "tls.key"

[peer]
listen = "127.0.0.1:7101"

[api]
listen = %q
`, srv.Listener.Addr().String())
	for _, tk := range cfg.Tokens {
		fmt.Fprintf(&toml, "\n[[api.token]]\nname = %q\nrole = %q\nsha256 = %q\n", tk.Name, tk.Role, tk.SHA256)
	}
	if err := os.WriteFile(filepath.Join(dir, "node.toml"), []byte(toml.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return &testNode{b: b, h: h, srv: srv, dir: dir}
}

// run runs a tillit command with --node set to the test node.
func (n *testNode) run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	args = append(args[:1:1], append([]string{"--node", n.dir}, args[1:]...)...)
	return runTillit(args...)
}

func runTillit(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// lastCall returns the last call of method the backend got.
func (n *testNode) lastCall(method string) apitest.Call {
	calls := n.b.Calls()
	for i := len(calls) - 1; i >= 0; i-- {
		if calls[i].Method == method {
			return calls[i]
		}
	}
	return apitest.Call{}
}

// lastSend returns the last send request the backend got.
func (n *testNode) lastSend(t *testing.T) apitest.Call {
	t.Helper()
	c := n.lastCall("Send")
	if c.Method == "" {
		t.Fatal("no send request")
	}
	return c
}

func TestAPIConnectionErrors(t *testing.T) {
	n := newTestNode(t)

	// Nothing listens.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	code, _, stderr := runTillit("status", "--node", n.dir, "--api", addr)
	if code != 1 || !strings.Contains(stderr, "tillit: couldn't reach the node's API at http://"+addr+": ") ||
		!strings.Contains(stderr, "connection refused") ||
		!strings.Contains(stderr, "hint: is the node running? start it with 'tillit serve --config "+filepath.Join(n.dir, "node.toml")+"'") {
		t.Errorf("connection refused: code %d\n%s", code, stderr)
	}

	// A token the node does not know, from the environment.
	t.Setenv("TILLIT_TOKEN", "guess")
	code, _, stderr = n.run(t, "status")
	if code != 1 || !strings.Contains(stderr, "tillit: 401 Missing or unknown token: the bearer token is not one of this node's [[api.token]] entries\n") ||
		!strings.Contains(stderr, "hint: the node did not accept the token from $TILLIT_TOKEN; its SHA-256 must be in an [[api.token]] of "+filepath.Join(n.dir, "node.toml")) {
		t.Errorf("bad token: code %d\n%s", code, stderr)
	}
	// --token-file wins over TILLIT_TOKEN.
	if code, _, stderr = n.run(t, "status", "--token-file", filepath.Join(n.dir, "tokens", "auditor.token")); code != 0 {
		t.Errorf("--token-file: code %d\n%s", code, stderr)
	}
	t.Setenv("TILLIT_TOKEN", "")

	// A token file that is not there.
	code, _, stderr = n.run(t, "status", "--token-file", filepath.Join(n.dir, "nope.token"))
	if code != 1 || !strings.Contains(stderr, "nope.token does not exist") || !strings.Contains(stderr, "hint: pass --token-file FILE") {
		t.Errorf("missing token file: code %d\n%s", code, stderr)
	}

	// No node.toml.
	code, _, stderr = runTillit("inbox", "--node", t.TempDir())
	if code != 1 || !strings.Contains(stderr, "node.toml does not exist") || !strings.Contains(stderr, "hint: run this in the node's directory, or pass --node DIR or set TILLIT_NODE") {
		t.Errorf("no node.toml: code %d\n%s", code, stderr)
	}

	// TILLIT_NODE finds the node; --api without a scheme is http.
	t.Setenv("TILLIT_NODE", n.dir)
	if code, _, stderr = runTillit("status"); code != 0 {
		t.Errorf("TILLIT_NODE: code %d\n%s", code, stderr)
	}
	if code, _, stderr = runTillit("status", "--api", n.srv.Listener.Addr().String()); code != 0 {
		t.Errorf("--api host:port: code %d\n%s", code, stderr)
	}
}

func TestAPIURL(t *testing.T) {
	// Addresses that are not loopback are refused by the configuration
	// (want ""): the API is plain HTTP.
	tests := []struct{ listen, want string }{
		{"127.0.0.1:7201", "http://127.0.0.1:7201"},
		{"[::1]:7201", "http://[::1]:7201"},
		{"localhost:7201", "http://localhost:7201"},
		{":7201", ""},
		{"0.0.0.0:7201", ""},
		{"[::]:7201", ""},
		{"node.example:80", ""},
	}
	for _, tt := range tests {
		dir := t.TempDir()
		cfg := fmt.Sprintf("party = \"A\"\nregime = \"r\"\ndata = \"d\"\nlog_key = \"k\"\ncosign_key = \"c\"\ntls_key = \"t\"\n[peer]\nlisten = \":1\"\n[api]\nlisten = %q\n[[api.token]]\nname = \"x\"\nrole = \"officer\"\nsha256 = %q\n",
			tt.listen, node.HashToken("x"))
		if err := os.WriteFile(filepath.Join(dir, "node.toml"), []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := apiURL(dir)
		if tt.want == "" {
			if err == nil || !strings.Contains(err.Error(), "not a loopback address") {
				t.Errorf("api.listen %q: %q, %v; want it refused", tt.listen, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("api.listen %q: %q, %v; want %q", tt.listen, got, err, tt.want)
		}
	}
}

func TestShortRef(t *testing.T) {
	tests := []struct{ ref, want string }{
		{receivedRef, "RU/41#bo0g0sSO"},
		{"a/b#c/7#" + strings.Repeat("A", 43) + "=", "b#c/7#AAAAAAAA"},
		{"short", "short"},
		{"not a reference but a long string", "not a reference but a l…"},
	}
	for _, tt := range tests {
		if got := shortRef(tt.ref); got != tt.want {
			t.Errorf("shortRef(%q) = %q, want %q", tt.ref, got, tt.want)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for a command writing while a test
// reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
