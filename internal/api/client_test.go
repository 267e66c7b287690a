package api

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tillit/tillit/node"
	"github.com/tillit/tillit/regime"
)

func TestClient(t *testing.T) {
	b, ts := newTestServer(t, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := NewClient(ts.URL+"/", officerToken)

	m, err := c.Send(ctx, node.SendRequest{Type: "notify.exercise", To: []string{"RU"}, Precedence: "PRIORITY", Body: json.RawMessage(`{"text":"hi"}`)})
	if err != nil {
		t.Fatal(err)
	}
	if m.From != "NATO" || m.Precedence != "PRIORITY" || m.State != regime.Pending || len(m.Recipients) != 1 || m.Recipients[0].Verdict.State != regime.Pending {
		t.Errorf("sent %+v", m)
	}
	got, err := c.Message(ctx, m.Ref)
	if err != nil {
		t.Fatal(err)
	}
	if got.Ref != m.Ref || !got.Time.Equal(m.Time) || string(got.Body) != `{"text":"hi"}` {
		t.Errorf("Message = %+v, want %+v", got, m)
	}

	in, err := c.Inbox(ctx, BoxInbox, node.Query{State: regime.Receipted, Limit: 5})
	if err != nil {
		t.Fatal(err)
	}
	if len(in) != 1 || in[0].Ref != received.Ref || in[0].State != regime.Receipted || in[0].Recipients[0].Verdict.Receipt.IsZero() {
		t.Errorf("inbox %+v", in)
	}
	if q := lastCall(b, "Inbox").Query; q != (node.Query{State: regime.Receipted, Limit: 5}) {
		t.Errorf("query %+v", q)
	}
	// A reference with '/', '#', '+' and '=' survives the path.
	if got, err := c.Message(ctx, received.Ref); err != nil || got.Ref != received.Ref {
		t.Errorf("Message(%q) = %q, %v", received.Ref, got.Ref, err)
	}

	ack, err := c.Ack(ctx, node.AckRequest{Ref: received.Ref, Text: "seen"})
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.Inbox(ctx, BoxOutbox, node.Query{Type: "ack"})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 1 || out[0].Ref != ack.Ref {
		t.Errorf("outbox %+v", out)
	}
	if _, err := c.Inbox(ctx, "trash", node.Query{}); err == nil {
		t.Error("Inbox accepted box \"trash\"")
	}

	// A statement between other parties is listed with every log's, not in
	// either box.
	other := node.Message{Ref: "nato-russia-2022/RU/42#AA==", Log: "nato-russia-2022/RU", Index: 42, From: "RU", To: []string{"OSCE"},
		Type: "notify.exercise", Precedence: "ROUTINE", Time: received.Time.Add(time.Minute), Body: json.RawMessage(`{}`), State: regime.Pending}
	b.Log(other)
	all, err := c.Statements(ctx, node.Query{From: "RU", Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[0].Ref != other.Ref || all[1].Ref != received.Ref {
		t.Errorf("statements %+v", all)
	}
	if q := lastCall(b, "Statements").Query; q != (node.Query{From: "RU", Limit: 10}) {
		t.Errorf("query %+v", q)
	}
	if got, err := c.Message(ctx, other.Ref); err != nil || got.Ref != other.Ref {
		t.Errorf("Message(%q) = %q, %v", other.Ref, got.Ref, err)
	}

	st, err := c.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Party != "NATO" || st.Log.Size != 2 {
		t.Errorf("status %+v", st)
	}
}

func TestClientProblems(t *testing.T) {
	_, ts := newTestServer(t, Options{})
	ctx := context.Background()

	_, err := NewClient(ts.URL, "wrong").Status(ctx)
	var p *Problem
	if !errors.As(err, &p) || p.Status != 401 || p.Type != TypeUnauthorized {
		t.Fatalf("bad token: %v", err)
	}
	if !strings.HasPrefix(err.Error(), "401 Missing or unknown token: ") {
		t.Errorf("error reads %q", err)
	}

	c := NewClient(ts.URL, auditorToken)
	if _, err := c.Ack(ctx, node.AckRequest{Ref: received.Ref}); !errors.As(err, &p) || p.Status != 403 {
		t.Errorf("auditor ack: %v", err)
	}
	if _, err := c.Message(ctx, "nato-russia-2022/RU/1#AA=="); !errors.Is(err, node.ErrNotFound) {
		t.Errorf("unknown message: %v, want node.ErrNotFound", err)
	}
	c = NewClient(ts.URL, officerToken)
	if _, err := c.Send(ctx, node.SendRequest{Type: "t", To: []string{"RU"}}); !errors.Is(err, node.ErrInvalid) || !strings.Contains(err.Error(), `"body" is missing`) {
		t.Errorf("send without body: %v", err)
	}
	if _, err := c.Inbox(ctx, BoxInbox, node.Query{Limit: 5000}); !errors.Is(err, node.ErrInvalid) {
		t.Errorf("limit 5000: %v", err)
	}

	// An answer that is not a problem still becomes one.
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "upstream exploded", http.StatusBadGateway)
	}))
	defer plain.Close()
	_, err = NewClient(plain.URL, "x").Status(ctx)
	if !errors.As(err, &p) || p.Status != 502 || err.Error() != "502 Bad Gateway: upstream exploded" {
		t.Errorf("plain 502: %v", err)
	}
}

// collectEvents runs Events until it has n events or ends.
func collectEvents(ctx context.Context, c *Client, after int64, n int, each func(node.Event)) ([]node.Event, error) {
	var evs []node.Event
	for ev, err := range c.Events(ctx, after) {
		if err != nil {
			return evs, err
		}
		evs = append(evs, ev)
		if each != nil {
			each(ev)
		}
		if len(evs) == n {
			break
		}
	}
	return evs, nil
}

func ids(evs []node.Event) []int64 {
	var out []int64
	for _, e := range evs {
		out = append(out, e.ID)
	}
	return out
}

// TestClientEventsResume drops the connection in the middle of a stream and
// checks that the client resumes after the last event it saw.
func TestClientEventsResume(t *testing.T) {
	b, ts := newTestServer(t, Options{})
	b.Publish(node.Event{Kind: node.EventLink, Msg: "2"})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c := NewClient(ts.URL, auditorToken)
	var mu sync.Mutex
	var reconnects []error
	c.OnReconnect = func(err error, wait time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		reconnects = append(reconnects, err)
	}
	evs, err := collectEvents(ctx, c, 0, 4, func(ev node.Event) {
		if ev.ID == 2 {
			// The node restarts: connections drop, events go on.
			ts.CloseClientConnections()
			b.Publish(node.Event{Kind: node.EventLink, Msg: "3"})
			b.Publish(node.Event{Kind: node.EventLink, Msg: "4"})
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids(evs), []int64{1, 2, 3, 4}) {
		t.Errorf("events %v, want 1 to 4 once each", ids(evs))
	}
	mu.Lock()
	defer mu.Unlock()
	if len(reconnects) == 0 {
		t.Error("OnReconnect was not called")
	}
	var afters []int64
	for _, c := range b.Calls() {
		if c.Method == "Events" {
			afters = append(afters, c.After)
		}
	}
	if len(afters) < 2 || afters[0] != 0 || afters[len(afters)-1] != 2 {
		t.Errorf("backend streams started after %v, want 0 then 2", afters)
	}
}

func TestClientEventsAfter(t *testing.T) {
	b, ts := newTestServer(t, Options{})
	for range 3 {
		b.Publish(node.Event{Kind: node.EventLink})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	evs, err := collectEvents(ctx, NewClient(ts.URL, auditorToken), 2, 2, nil)
	if err != nil || !slices.Equal(ids(evs), []int64{3, 4}) {
		t.Errorf("events %v, %v; want 3, 4", ids(evs), err)
	}
}

// TestClientEventsIdle checks that a stream silent for longer than
// StreamIdle is dropped and resumed.
func TestClientEventsIdle(t *testing.T) {
	b, ts := newTestServer(t, Options{KeepAlive: time.Hour})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c := NewClient(ts.URL, auditorToken)
	c.StreamIdle = 100 * time.Millisecond
	idle := make(chan error, 10)
	c.OnReconnect = func(err error, _ time.Duration) { idle <- err }
	go func() {
		err := <-idle
		if !strings.Contains(err.Error(), "no event or keep-alive for 100ms") {
			t.Errorf("reconnect after %v", err)
		}
		b.Publish(node.Event{Kind: node.EventLink})
	}()
	evs, err := collectEvents(ctx, c, 0, 2, nil)
	if err != nil || !slices.Equal(ids(evs), []int64{1, 2}) {
		t.Errorf("events %v, %v", ids(evs), err)
	}
}

func TestClientEventsErrors(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	// Nothing listens: the first connection fails, and that is the end.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	if _, err := collectEvents(ctx, NewClient("http://"+addr, officerToken), 0, 1, nil); err == nil {
		t.Error("no error without a node")
	}

	// A refused token is final.
	_, ts := newTestServer(t, Options{})
	_, err = collectEvents(ctx, NewClient(ts.URL, "wrong"), 0, 1, nil)
	var p *Problem
	if !errors.As(err, &p) || p.Status != 401 {
		t.Errorf("bad token: %v", err)
	}

	// Not an event stream.
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("hello"))
	}))
	defer plain.Close()
	if _, err := collectEvents(ctx, NewClient(plain.URL, "x"), 0, 1, nil); err == nil || !strings.Contains(err.Error(), "not an event stream") {
		t.Errorf("plain text: %v", err)
	}

	// The end of ctx ends the iteration without an error.
	short, cancelShort := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancelShort()
	evs, err := collectEvents(short, NewClient(ts.URL, officerToken), 0, 5, nil)
	if err != nil || len(evs) != 1 {
		t.Errorf("events %v, %v; want one and no error", ids(evs), err)
	}
}

func TestClientEvents503Retries(t *testing.T) {
	_, h, _ := newTestHandler(t, Options{})
	var mu sync.Mutex
	fails := 2
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		fail := fails > 0 && r.URL.Path == "/api/v1/events"
		if fail {
			fails--
		}
		mu.Unlock()
		if fail {
			writeProblem(w, problem(503, TypeUnavailable, "Node shutting down", "restarting"))
			return
		}
		h.ServeHTTP(w, r)
	}))
	defer ts.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	evs, err := collectEvents(ctx, NewClient(ts.URL, officerToken), 0, 1, nil)
	if err != nil || len(evs) != 1 {
		t.Errorf("events %v, %v", ids(evs), err)
	}
}

// TestClientEventsMoved checks that Events follows SetBaseURL when it
// reconnects.
func TestClientEventsMoved(t *testing.T) {
	b, h, _ := newTestHandler(t, Options{})
	old := httptest.NewServer(h)
	defer old.Close()
	moved := httptest.NewServer(h)
	defer moved.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := NewClient(old.URL, auditorToken)
	c.OnReconnect = func(error, time.Duration) { c.SetBaseURL(moved.URL) }
	evs, err := collectEvents(ctx, c, 0, 2, func(ev node.Event) {
		if ev.ID == 1 {
			old.CloseClientConnections()
			old.Close()
			b.Publish(node.Event{Kind: node.EventLink})
		}
	})
	if err != nil || !slices.Equal(ids(evs), []int64{1, 2}) || c.BaseURL() != moved.URL {
		t.Errorf("events %v, %v; client at %s", ids(evs), err, c.BaseURL())
	}
}
