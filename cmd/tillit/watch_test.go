package main

import (
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tillit/tillit/node"
)

// TestWatch follows events, then interrupts the command as a user would
// with ^C: it ends cleanly with exit status 0.
func TestWatch(t *testing.T) {
	if testing.Short() {
		t.Skip("sends SIGINT to the test process")
	}
	n := newTestNode(t)
	n.b.Publish(node.Event{Kind: node.EventLink, Party: "RU", Msg: "link to RU up"})
	var stdout, stderr syncBuffer
	done := make(chan int)
	go func() { done <- run([]string{"watch", "--node", n.dir, "--json", "--after", "0"}, &stdout, &stderr) }()
	waitFor(t, &stdout, 2)

	// The node restarts on another port, which it writes to its data
	// directory; watch finds it there and misses nothing.
	srv2 := httptest.NewServer(n.h)
	defer srv2.Close()
	if err := os.MkdirAll(filepath.Join(n.dir, "data"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(n.dir, "data", "api.url"), []byte(srv2.URL+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	n.srv.CloseClientConnections()
	n.srv.Close()
	n.b.Publish(node.Event{Kind: node.EventOverdue, Ref: receivedRef, Msg: "not acknowledged in time"})
	waitFor(t, &stdout, 3)
	if !strings.Contains(stderr.String(), "tillit: the node's API is now at "+srv2.URL+"\n") {
		t.Errorf("stderr:\n%s", stderr.String())
	}
	// The command has its signal handler in place: it is reading events.
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("code %d after SIGINT\n%s", code, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("watch did not stop on SIGINT")
	}
	var kinds []string
	for _, l := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
		var ev node.Event
		if err := json.Unmarshal([]byte(l), &ev); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		kinds = append(kinds, ev.Kind)
	}
	if strings.Join(kinds, ",") != "received,link,overdue" {
		t.Errorf("events %v", kinds)
	}
}

func waitFor(t *testing.T, b *syncBuffer, lines int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for strings.Count(b.String(), "\n") < lines {
		if time.Now().After(deadline) {
			t.Fatalf("waited for %d lines, got:\n%s", lines, b.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestEventLine(t *testing.T) {
	tests := []struct {
		ev   node.Event
		want string
	}{
		{node.Event{Kind: node.EventReceived, Time: apiTestNow, Party: "RU", Ref: receivedRef, Msg: "notify.exercise from RU"},
			"2022-01-16 10:00:00Z  received    RU      RU/41#bo0g0sSO    notify.exercise from RU"},
		{node.Event{Kind: node.EventFinal, Time: apiTestNow, Msg: "checkpoint 12 is final"},
			"2022-01-16 10:00:00Z  final       -       -                 checkpoint 12 is final"},
	}
	for _, tt := range tests {
		if got := eventLine(tt.ev); got != tt.want {
			t.Errorf("eventLine:\n%q\nwant\n%q", got, tt.want)
		}
	}
}

func TestWatchErrors(t *testing.T) {
	n := newTestNode(t)
	t.Setenv("TILLIT_TOKEN", "guess")
	code, _, stderr := n.run(t, "watch")
	if code != 1 || !strings.Contains(stderr, "tillit: 401 Missing or unknown token") || !strings.Contains(stderr, "hint: the node did not accept the token from $TILLIT_TOKEN") {
		t.Errorf("code %d\n%s", code, stderr)
	}
	n.srv.Close()
	t.Setenv("TILLIT_TOKEN", "")
	code, _, stderr = n.run(t, "watch")
	if code != 1 || !strings.Contains(stderr, "hint: is the node running?") {
		t.Errorf("code %d\n%s", code, stderr)
	}
}
