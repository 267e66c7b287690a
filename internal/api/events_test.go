package api

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tillit/tillit/internal/api/apitest"
	"github.com/tillit/tillit/node"
)

// newTestServer serves a test handler with NewServer's settings.
func newTestServer(t *testing.T, opts Options) (*apitest.Backend, *httptest.Server) {
	t.Helper()
	b, h, _ := newTestHandler(t, opts)
	ts := httptest.NewUnstartedServer(h)
	ts.Config = NewServer(h)
	ts.Start()
	t.Cleanup(ts.Close)
	return b, ts
}

// sseReader reads a raw event stream line by line.
type sseReader struct {
	t    *testing.T
	resp *http.Response
	sc   *bufio.Scanner
}

func openEvents(t *testing.T, ctx context.Context, url string, header map[string]string) *sseReader {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+auditorToken)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	return &sseReader{t: t, resp: resp, sc: bufio.NewScanner(resp.Body)}
}

func (r *sseReader) line() string {
	r.t.Helper()
	if !r.sc.Scan() {
		r.t.Fatalf("stream ended: %v", r.sc.Err())
	}
	return r.sc.Text()
}

// event reads the next event, skipping comments and the retry field, and
// checks its framing.
func (r *sseReader) event() node.Event {
	r.t.Helper()
	var lines []string
	for {
		l := r.line()
		if strings.HasPrefix(l, ":") || strings.HasPrefix(l, "retry:") {
			continue
		}
		if l == "" {
			if len(lines) == 0 {
				continue
			}
			break
		}
		lines = append(lines, l)
	}
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "id: ") || !strings.HasPrefix(lines[1], "event: ") || !strings.HasPrefix(lines[2], "data: ") {
		r.t.Fatalf("event %q, want id, event and data lines", lines)
	}
	var ev node.Event
	if err := json.Unmarshal([]byte(strings.TrimPrefix(lines[2], "data: ")), &ev); err != nil {
		r.t.Fatal(err)
	}
	if lines[0] != "id: "+strconv.FormatInt(ev.ID, 10) || lines[1] != "event: "+ev.Kind {
		r.t.Errorf("event %q does not match its data", lines)
	}
	return ev
}

func TestEventsStream(t *testing.T) {
	b, ts := newTestServer(t, Options{KeepAlive: time.Hour})
	b.Publish(node.Event{Kind: node.EventLink, Party: "RU", Msg: "link to RU up"})
	b.Publish(node.Event{Kind: node.EventReceipt, Party: "RU", Msg: "RU receipted 3"})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	r := openEvents(t, ctx, ts.URL+"/api/v1/events", nil)
	if ct := r.resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Errorf("Content-Type %q", ct)
	}
	if cc := r.resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q", cc)
	}
	for i, kind := range []string{node.EventReceived, node.EventLink, node.EventReceipt} {
		if ev := r.event(); ev.ID != int64(i+1) || ev.Kind != kind {
			t.Fatalf("event %d: %+v, want kind %s", i+1, ev, kind)
		}
	}
	// Live events follow the replay.
	b.Publish(node.Event{Kind: node.EventOverdue, Ref: received.Ref, Msg: "overdue"})
	if ev := r.event(); ev.ID != 4 || ev.Kind != node.EventOverdue || ev.Ref != received.Ref {
		t.Fatalf("live event %+v", ev)
	}

	tests := []struct {
		name   string
		query  string
		header map[string]string
		first  int64
	}{
		{"after", "?after=2", nil, 3},
		{"Last-Event-ID", "", map[string]string{"Last-Event-ID": "3"}, 4},
		{"Last-Event-ID wins", "?after=1", map[string]string{"Last-Event-ID": "2"}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := openEvents(t, ctx, ts.URL+"/api/v1/events"+tt.query, tt.header)
			if ev := r.event(); ev.ID != tt.first {
				t.Errorf("first event %d, want %d", ev.ID, tt.first)
			}
			if c := lastCall(b, "Events"); c.After != tt.first-1 {
				t.Errorf("backend asked for events after %d, want %d", c.After, tt.first-1)
			}
		})
	}
}

func TestEventsKeepAlive(t *testing.T) {
	_, ts := newTestServer(t, Options{KeepAlive: 20 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r := openEvents(t, ctx, ts.URL+"/api/v1/events?after=1", nil)
	if l := r.line(); l != "retry: 2000" {
		t.Errorf("first line %q", l)
	}
	r.line()
	if l := r.line(); l != ": keep-alive" {
		t.Errorf("line %q, want a keep-alive comment", l)
	}
}

// TestEventsShutdown checks that Shutdown ends event streams rather than
// waiting for them.
func TestEventsShutdown(t *testing.T) {
	_, h, _ := newTestHandler(t, Options{})
	ts := httptest.NewUnstartedServer(h)
	srv := NewServer(h)
	ts.Config = srv
	ts.Start()
	defer ts.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r := openEvents(t, ctx, ts.URL+"/api/v1/events", nil)
	r.event()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	for r.sc.Scan() {
	}
}

// TestEventsBackendCloses checks that the stream ends when the node closes.
func TestEventsBackendCloses(t *testing.T) {
	b, ts := newTestServer(t, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r := openEvents(t, ctx, ts.URL+"/api/v1/events", nil)
	r.event()
	b.Close()
	for r.sc.Scan() {
		if l := r.sc.Text(); strings.HasPrefix(l, "data:") {
			t.Errorf("event after close: %s", l)
		}
	}
	if err := r.sc.Err(); err != nil {
		t.Errorf("stream ended with %v, want a clean end", err)
	}
}
