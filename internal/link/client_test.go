package link

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tillit/tillit/internal/link/faultproxy"
)

// fastOptions retry quickly, so that tests don't wait for backoff.
var fastOptions = ClientOptions{
	Attempts:   4,
	MinBackoff: time.Millisecond,
	MaxBackoff: 5 * time.Millisecond,
	Timeout:    testTimeout,
}

// pair is a server identity, a client identity that the server accepts,
// and a handler counting its requests.
type pair struct {
	server, client *Identity
	peers          *PeerSet
	hits           atomic.Int64
}

func newPair(t *testing.T) *pair {
	server, client := newIdentity(t), newIdentity(t)
	return &pair{server: server, client: client, peers: newPeerSet(t, client.Pin())}
}

// serve starts a server whose handler counts requests and calls h with the
// request's number, from 1.
func (p *pair) serve(t *testing.T, h func(n int64, w http.ResponseWriter, r *http.Request)) string {
	return startServer(t, p.server, p.peers, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h(p.hits.Add(1), w, r)
	}))
}

func (p *pair) newClient(t *testing.T, opts ClientOptions, endpoints ...string) *Client {
	t.Helper()
	c, err := NewClient(p.client, p.server.Pin(), endpoints, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

func ok(n int64, w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }

func newProxy(t *testing.T, target string, mode faultproxy.Mode) *faultproxy.Proxy {
	t.Helper()
	p, err := faultproxy.New(strings.TrimPrefix(target, "https://"), faultproxy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p.SetMode(mode)
	t.Cleanup(func() { p.Close() })
	return p
}

func TestClientGet(t *testing.T) {
	p := newPair(t)
	url := p.serve(t, func(n int64, w http.ResponseWriter, r *http.Request) {
		if pin, ok := PeerFromRequest(r); !ok || pin != p.client.Pin() {
			http.Error(w, "who are you?", http.StatusForbidden)
			return
		}
		w.Write([]byte(r.URL.Path))
	})
	c := p.newClient(t, fastOptions, url+"/base/")
	resp, err := c.Get(context.Background(), "/logs/x/checkpoint")
	if err != nil {
		t.Fatal(err)
	}
	if string(resp.Body) != "/base/logs/x/checkpoint" || resp.StatusCode != 200 || resp.Endpoint != url+"/base" {
		t.Errorf("got %d %q from %s", resp.StatusCode, resp.Body, resp.Endpoint)
	}
}

func TestClientFailover(t *testing.T) {
	p := newPair(t)
	live := p.serve(t, ok)
	dead := map[string]func(t *testing.T) (url string, accepted func() int64){
		"refused": func(t *testing.T) (string, func() int64) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			ln.Close()
			return "https://" + ln.Addr().String(), func() int64 { return 0 }
		},
	}
	for _, mode := range []faultproxy.Mode{faultproxy.Drop, faultproxy.Reset, faultproxy.Blackhole} {
		dead[mode.String()] = func(t *testing.T) (string, func() int64) {
			fp := newProxy(t, live, mode)
			return "https://" + fp.Addr(), fp.Accepted
		}
	}
	for name, mk := range dead {
		t.Run(name, func(t *testing.T) {
			deadURL, accepted := mk(t)
			opts := fastOptions
			if name == "blackhole" {
				opts.Timeout = 2 * time.Second
			}
			c := p.newClient(t, opts, deadURL, live)
			resp, err := c.Get(context.Background(), "/")
			if err != nil {
				t.Fatal(err)
			}
			if resp.Endpoint != live || c.Endpoint() != live {
				t.Errorf("answer from %s, next call to %s; want %s", resp.Endpoint, c.Endpoint(), live)
			}
			before := accepted()
			if _, err := c.Get(context.Background(), "/"); err != nil {
				t.Fatal(err)
			}
			if after := accepted(); after != before {
				t.Errorf("second call tried the dead endpoint again (%d connections, then %d)", before, after)
			}
		})
	}
}

func TestClientRetries(t *testing.T) {
	p := newPair(t)
	url := p.serve(t, func(n int64, w http.ResponseWriter, r *http.Request) {
		switch n {
		case 1:
			w.Header().Set("Retry-After", "0")
			http.Error(w, "busy", http.StatusServiceUnavailable)
		case 2:
			http.Error(w, "busy", http.StatusServiceUnavailable)
		default:
			w.Write([]byte("ok"))
		}
	})
	resp, err := p.newClient(t, fastOptions, url).Get(context.Background(), "/")
	if err != nil {
		t.Fatal(err)
	}
	if string(resp.Body) != "ok" || p.hits.Load() != 3 {
		t.Errorf("got %q after %d requests, want ok after 3", resp.Body, p.hits.Load())
	}
}

func TestClientRetryAfter(t *testing.T) {
	p := newPair(t)
	url := p.serve(t, func(n int64, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			w.Header().Set("Retry-After", "1")
			http.Error(w, "slow down", http.StatusTooManyRequests)
			return
		}
		w.Write([]byte("ok"))
	})
	start := time.Now()
	if _, err := p.newClient(t, fastOptions, url).Get(context.Background(), "/"); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < time.Second {
		t.Errorf("retried after %v, before the 1s Retry-After", d)
	}
}

func TestClientRetryAfterTooLong(t *testing.T) {
	p := newPair(t)
	url := p.serve(t, func(n int64, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "3600")
		http.Error(w, "maintenance", http.StatusServiceUnavailable)
	})
	_, err := p.newClient(t, fastOptions, url).Get(context.Background(), "/")
	var se *StatusError
	if !errors.As(err, &se) || se.StatusCode != 503 || !strings.Contains(err.Error(), "retry after 1h0m0s") {
		t.Errorf("got %v, want a 503 and the long Retry-After reported", err)
	}
	if n := p.hits.Load(); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

func TestClientGivesUp(t *testing.T) {
	p := newPair(t)
	url := p.serve(t, func(n int64, w http.ResponseWriter, r *http.Request) {
		http.Error(w, "broken", http.StatusBadGateway)
	})
	_, err := p.newClient(t, fastOptions, url).Get(context.Background(), "/")
	var se *StatusError
	if !errors.As(err, &se) || se.StatusCode != 502 || !se.Retryable() {
		t.Errorf("got %v, want a 502", err)
	}
	if n := p.hits.Load(); n != int64(fastOptions.Attempts) {
		t.Errorf("%d requests, want %d", n, fastOptions.Attempts)
	}
}

func TestClientNoRetry(t *testing.T) {
	for _, code := range []int{400, 401, 403, 404, 409, 413, 501} {
		t.Run(http.StatusText(code), func(t *testing.T) {
			p := newPair(t)
			url := p.serve(t, func(n int64, w http.ResponseWriter, r *http.Request) {
				http.Error(w, "no: bad request", code)
			})
			c := p.newClient(t, fastOptions, url)
			_, err := c.Get(context.Background(), "/")
			var se *StatusError
			if !errors.As(err, &se) || se.StatusCode != code || se.Retryable() || !strings.Contains(string(se.Body), "no: bad request") {
				t.Errorf("got %v, want a %d with its body", err, code)
			}
			if n := p.hits.Load(); n != 1 {
				t.Errorf("%d requests, want 1", n)
			}
		})
	}
}

func TestClientPinMismatch(t *testing.T) {
	p := newPair(t)
	impostor := newIdentity(t)
	url := startServer(t, impostor, p.peers, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("request reached an impostor")
	}))
	fp := newProxy(t, url, faultproxy.Pass)
	c := p.newClient(t, fastOptions, "https://"+fp.Addr())
	_, err := c.Get(context.Background(), "/")
	if !errors.Is(err, ErrPinMismatch) {
		t.Fatalf("got %v, want ErrPinMismatch", err)
	}
	t.Log(err)
	for _, want := range []string{"no usable endpoint", impostor.Pin().String(), p.server.Pin().String()} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if n := fp.Accepted(); n != 1 {
		t.Errorf("%d connections, want 1: a pin mismatch must not be retried", n)
	}
}

func TestClientRejected(t *testing.T) {
	p := newPair(t)
	url := p.serve(t, ok)
	fp := newProxy(t, url, faultproxy.Pass)
	stranger := newIdentity(t)
	c, err := NewClient(stranger, p.server.Pin(), []string{"https://" + fp.Addr()}, fastOptions)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	_, err = c.Get(context.Background(), "/")
	if !errors.Is(err, ErrRejected) || !strings.Contains(err.Error(), "bad certificate") {
		t.Fatalf("got %v, want ErrRejected", err)
	}
	t.Log(err)
	if n := fp.Accepted(); n != 1 {
		t.Errorf("%d connections, want 1: a refused key must not be retried", n)
	}
	if n := p.hits.Load(); n != 0 {
		t.Errorf("%d requests reached the handler", n)
	}
}

func TestClientSkipsImpostorEndpoint(t *testing.T) {
	p := newPair(t)
	bad := startServer(t, newIdentity(t), p.peers, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	good := p.serve(t, ok)
	fp := newProxy(t, bad, faultproxy.Pass)
	c := p.newClient(t, fastOptions, "https://"+fp.Addr(), good)
	for range 3 {
		if _, err := c.Get(context.Background(), "/"); err != nil {
			t.Fatal(err)
		}
	}
	if n := fp.Accepted(); n != 1 {
		t.Errorf("%d connections to the impostor, want 1", n)
	}
}

func TestClientPostBodyOnRetry(t *testing.T) {
	p := newPair(t)
	body := bytes.Repeat([]byte("entry\n"), 1000)
	var bad atomic.Int64
	url := p.serve(t, func(n int64, w http.ResponseWriter, r *http.Request) {
		var got bytes.Buffer
		got.ReadFrom(r.Body)
		if r.Method != "POST" || r.Header.Get("Content-Type") != "text/plain" || !bytes.Equal(got.Bytes(), body) {
			bad.Add(1)
		}
		if n < 3 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("cosigned"))
	})
	resp, err := p.newClient(t, fastOptions, url).Post(context.Background(), "/mirror/add-entries", "text/plain", body)
	if err != nil || string(resp.Body) != "cosigned" {
		t.Fatalf("got %v, %v", resp, err)
	}
	if bad.Load() != 0 {
		t.Errorf("%d of %d requests had the wrong method, header or body", bad.Load(), p.hits.Load())
	}
}

func TestClientContext(t *testing.T) {
	p := newPair(t)
	url := p.serve(t, func(n int64, w http.ResponseWriter, r *http.Request) {
		http.Error(w, "busy", http.StatusServiceUnavailable)
	})
	opts := fastOptions
	opts.MinBackoff, opts.MaxBackoff = time.Minute, time.Minute
	c := p.newClient(t, opts, url)

	// A deadline shorter than the next backoff ends the call at once.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	start := time.Now()
	_, err := c.Get(ctx, "/")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("got %v, want DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("call took %v; it waited for the backoff", d)
	}

	// Cancellation ends the backoff.
	ctx, cancel = context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start = time.Now()
	_, err = c.Get(ctx, "/")
	if !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want Canceled", err)
	}
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("call took %v after cancellation", d)
	}
}

func TestClientAttemptTimeout(t *testing.T) {
	p := newPair(t)
	url := p.serve(t, ok)
	fp := newProxy(t, url, faultproxy.Blackhole)
	opts := fastOptions
	opts.Attempts, opts.Timeout = 2, 300*time.Millisecond
	_, err := p.newClient(t, opts, "https://"+fp.Addr()).Get(context.Background(), "/")
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "after 2 attempts") {
		t.Errorf("got %v, want a timeout after 2 attempts", err)
	}
	t.Log(err)
	if n := fp.Accepted(); n != 2 {
		t.Errorf("%d connections, want 2", n)
	}

	// A slow link delays the answer but lets it through.
	fp.SetDelay(50 * time.Millisecond)
	fp.SetMode(faultproxy.Delay)
	opts.Timeout = testTimeout
	if _, err := p.newClient(t, opts, "https://"+fp.Addr()).Get(context.Background(), "/"); err != nil {
		t.Errorf("through a delaying link: %v", err)
	}
}

func TestClientResponseTooLarge(t *testing.T) {
	for _, chunked := range []bool{false, true} {
		p := newPair(t)
		url := p.serve(t, func(n int64, w http.ResponseWriter, r *http.Request) {
			for range 4 {
				w.Write(make([]byte, 1024))
				if chunked {
					w.(http.Flusher).Flush()
				}
			}
		})
		opts := fastOptions
		opts.MaxResponseBytes = 3000
		_, err := p.newClient(t, opts, url).Get(context.Background(), "/")
		if !errors.Is(err, ErrResponseTooLarge) {
			t.Errorf("chunked=%v: got %v, want ErrResponseTooLarge", chunked, err)
		}
		if n := p.hits.Load(); n != 1 {
			t.Errorf("chunked=%v: %d requests, want 1", chunked, n)
		}
	}
}

func TestNewClientRefuses(t *testing.T) {
	id, peer := newIdentity(t), newIdentity(t).Pin()
	tests := []struct {
		name      string
		pin       Pin
		endpoints []string
		opts      ClientOptions
	}{
		{"zero pin", Pin{}, []string{"https://127.0.0.1:1"}, ClientOptions{}},
		{"no endpoints", peer, nil, ClientOptions{}},
		{"http", peer, []string{"http://127.0.0.1:1"}, ClientOptions{}},
		{"no host", peer, []string{"https:///x"}, ClientOptions{}},
		{"query", peer, []string{"https://127.0.0.1:1/?a=b"}, ClientOptions{}},
		{"user", peer, []string{"https://u:p@127.0.0.1:1"}, ClientOptions{}},
		{"negative timeout", peer, []string{"https://127.0.0.1:1"}, ClientOptions{Timeout: -1}},
		{"backoff bounds", peer, []string{"https://127.0.0.1:1"}, ClientOptions{MinBackoff: time.Minute, MaxBackoff: time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewClient(id, tt.pin, tt.endpoints, tt.opts); err == nil {
				t.Error("NewClient succeeded")
			}
		})
	}
	c, err := NewClient(id, peer, []string{"https://127.0.0.1:1"}, ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(context.Background(), "no-slash"); err == nil {
		t.Error("Get accepted a path without a leading slash")
	}
	if _, err := c.Do(context.Background(), "BAD METHOD", "/", nil, nil); err == nil || !strings.Contains(err.Error(), "bad request") {
		t.Errorf("Do with a bad method: %v, want a bad request error", err)
	}
	huge := &Client{opts: ClientOptions{MinBackoff: time.Hour, MaxBackoff: 2 * time.Hour}}
	for round := range 100 {
		if d := huge.backoff(round); d < 0 || d > 2*time.Hour {
			t.Fatalf("backoff(%d) = %v with MaxBackoff 2h", round, d)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"0", 0, true},
		{"120", 2 * time.Minute, true},
		{"-1", 0, false},
		{"1.5", 0, false},
		{"99999999999999999999", 0, false},
		{"Fri, 02 Jan 2026 03:05:05 GMT", time.Minute, true},
		{"Fri, 02 Jan 2026 03:00:00 GMT", 0, true},
		{"soon", 0, false},
	}
	for _, tt := range tests {
		got, ok := parseRetryAfter(tt.in, now)
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestBackoffBounds(t *testing.T) {
	c := &Client{opts: ClientOptions{MinBackoff: 100 * time.Millisecond, MaxBackoff: time.Second}}
	for round := range 100 {
		bound := min(100*time.Millisecond<<min(round, 4), time.Second)
		if d := c.backoff(round); d < bound/2 || d > bound {
			t.Errorf("backoff(%d) = %v, want within [%v, %v]", round, d, bound/2, bound)
		}
	}
}
