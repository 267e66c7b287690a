package link

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

var (
	// ErrRejected is returned (wrapped) when the peer ended the TLS
	// handshake with an alert: usually it does not have our key in its
	// peer set, or it does not speak TLS 1.3. Retrying cannot fix it.
	ErrRejected = errors.New("peer refused the TLS connection")

	// ErrResponseTooLarge is returned (wrapped) when a response body is
	// larger than ClientOptions.MaxResponseBytes.
	ErrResponseTooLarge = errors.New("response too large")
)

// ClientOptions tunes a [Client]. Zero fields take the defaults shown.
type ClientOptions struct {
	// Attempts is how many times each endpoint is tried per call, in
	// rounds over all endpoints with a backoff between rounds. Default 4.
	Attempts int
	// MinBackoff and MaxBackoff bound the wait between rounds, which
	// doubles each round; the actual wait is drawn at random from its
	// upper half. Defaults 250ms and 15s.
	MinBackoff, MaxBackoff time.Duration
	// MaxRetryAfter is the longest Retry-After the client honours; a peer
	// asking for longer ends the call. Default 60s.
	MaxRetryAfter time.Duration
	// Timeout bounds one attempt: connecting, the handshake, sending the
	// request and reading the whole response. Default 30s.
	Timeout time.Duration
	// MaxResponseBytes bounds a response body. Default 16 MiB.
	MaxResponseBytes int64
}

func (o *ClientOptions) setDefaults() error {
	if o.Attempts < 0 || o.MinBackoff < 0 || o.MaxBackoff < 0 || o.MaxRetryAfter < 0 ||
		o.Timeout < 0 || o.MaxResponseBytes < 0 {
		return errors.New("client options must not be negative")
	}
	def := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	if o.Attempts == 0 {
		o.Attempts = 4
	}
	def(&o.MinBackoff, 250*time.Millisecond)
	def(&o.MaxBackoff, 15*time.Second)
	def(&o.MaxRetryAfter, 60*time.Second)
	def(&o.Timeout, 30*time.Second)
	if o.MaxResponseBytes == 0 {
		o.MaxResponseBytes = 16 << 20
	}
	if o.MaxBackoff < o.MinBackoff {
		return errors.New("client option MaxBackoff is less than MinBackoff")
	}
	return nil
}

// A Client makes HTTPS requests to one peer, which may have several
// endpoints, over pinned TLS ([ClientConfig]). It is safe for concurrent
// use.
//
// A call tries the endpoints in order, starting with the last one that
// gave an answer. Transient failures move on to the next endpoint, and
// after a round over all endpoints the client waits (exponential backoff
// with jitter, at least any Retry-After) and starts another round, up to
// ClientOptions.Attempts rounds and never past the call's context. Which
// failures are transient is listed in the package documentation.
type Client struct {
	peer      Pin
	self      Pin
	endpoints []string
	opts      ClientOptions
	tls       *tls.Config
	transport *http.Transport
	http      *http.Client
	preferred atomic.Int32
}

// NewClient returns a Client for the peer with key peer, reachable at the
// given endpoints: base URLs such as "https://node.example:8443" or
// "https://192.0.2.7/tillit". The client presents id.
func NewClient(id *Identity, peer Pin, endpoints []string, opts ClientOptions) (*Client, error) {
	if peer.IsZero() {
		return nil, errors.New("can't make a client for the zero pin")
	}
	if len(endpoints) == 0 {
		return nil, fmt.Errorf("peer %s has no endpoints", peer)
	}
	if err := opts.setDefaults(); err != nil {
		return nil, err
	}
	c := &Client{peer: peer, self: id.Pin(), opts: opts, tls: ClientConfig(id, peer)}
	for _, e := range endpoints {
		u, err := url.Parse(e)
		if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil ||
			u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
			return nil, fmt.Errorf("bad endpoint %q for peer %s: want https://host[:port][/path]", e, peer)
		}
		c.endpoints = append(c.endpoints, strings.TrimSuffix(u.String(), "/"))
	}
	c.transport = &http.Transport{
		Proxy:                  nil, // peers are dialled directly
		DialTLSContext:         c.dialTLS,
		MaxIdleConnsPerHost:    8,
		IdleConnTimeout:        90 * time.Second,
		MaxResponseHeaderBytes: 64 << 10,
		DisableCompression:     true,
	}
	c.http = &http.Client{
		Transport: c.transport,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	return c, nil
}

// Peer returns the pin of the client's peer.
func (c *Client) Peer() Pin { return c.peer }

// Endpoint returns the endpoint the next call tries first: the last one
// that answered.
func (c *Client) Endpoint() string { return c.endpoints[c.preferred.Load()] }

// CloseIdleConnections closes the client's idle connections.
func (c *Client) CloseIdleConnections() { c.transport.CloseIdleConnections() }

// A Response is a complete response from a peer.
type Response struct {
	StatusCode int
	Header     http.Header
	Body       []byte
	// Endpoint is the endpoint that answered.
	Endpoint string
}

// A StatusError is returned for a response whose status is not 2xx.
type StatusError struct {
	Endpoint   string
	StatusCode int
	Header     http.Header
	Body       []byte
}

func (e *StatusError) Error() string {
	msg := fmt.Sprintf("%s answered %d %s", e.Endpoint, e.StatusCode, http.StatusText(e.StatusCode))
	if len(e.Body) > 0 {
		msg += fmt.Sprintf(": %.200q", e.Body)
	}
	return msg
}

// Retryable reports whether the status is worth retrying: 408, 429, and
// 5xx other than 501 and 505.
func (e *StatusError) Retryable() bool {
	switch c := e.StatusCode; {
	case c == http.StatusRequestTimeout, c == http.StatusTooManyRequests:
		return true
	case c == http.StatusNotImplemented, c == http.StatusHTTPVersionNotSupported:
		return false
	default:
		return c >= 500 && c <= 599
	}
}

// Get is Do with GET and no body.
func (c *Client) Get(ctx context.Context, path string) (*Response, error) {
	return c.Do(ctx, http.MethodGet, path, nil, nil)
}

// Post is Do with POST.
func (c *Client) Post(ctx context.Context, path, contentType string, body []byte) (*Response, error) {
	return c.Do(ctx, http.MethodPost, path, body, http.Header{"Content-Type": {contentType}})
}

// Do sends a request for path (which starts with "/", and is appended to
// the endpoint URL) and returns the complete response. It returns a
// *StatusError for a non-2xx response, and retries as the [Client]
// documentation describes; the request must be idempotent.
func (c *Client) Do(ctx context.Context, method, path string, body []byte, header http.Header) (*Response, error) {
	if !strings.HasPrefix(path, "/") {
		return nil, fmt.Errorf("request path %q does not start with /", path)
	}
	if _, err := http.NewRequest(method, c.endpoints[0]+path, nil); err != nil {
		return nil, fmt.Errorf("bad request: %w", err)
	}
	// errs holds each endpoint's last error; ruledOut marks the endpoints
	// that can't work during this call.
	errs := make(endpointErrors, len(c.endpoints))
	ruledOut := make([]bool, len(c.endpoints))
	for round := 0; ; round++ {
		var retryAfter time.Duration
		start := int(c.preferred.Load())
		for k := range len(c.endpoints) {
			i := (start + k) % len(c.endpoints)
			if ruledOut[i] {
				continue
			}
			resp, err := c.attempt(ctx, i, method, path, body, header)
			v, ra := classify(err)
			if v == final {
				c.preferred.Store(int32(i))
				return resp, err
			}
			errs[i], ruledOut[i] = err, v == ruleOut
			if ctx.Err() != nil {
				return nil, fmt.Errorf("request to peer %s abandoned: %w (last error: %w)", c.peer, ctx.Err(), err)
			}
			retryAfter = max(retryAfter, ra)
		}
		if err := c.nextRound(ctx, round, errs, ruledOut, retryAfter); err != nil {
			return nil, err
		}
	}
}

// nextRound waits before the round after round, or returns why there is
// none.
func (c *Client) nextRound(ctx context.Context, round int, errs endpointErrors, ruledOut []bool, retryAfter time.Duration) error {
	if !slices.Contains(ruledOut, false) {
		err := fmt.Errorf("no usable endpoint for peer %s: %w", c.peer, errs)
		if errors.Is(err, ErrRejected) {
			err = fmt.Errorf("%w (hint: the peer must pin our key %s and speak TLS 1.3)", err, c.self)
		}
		return err
	}
	if round+1 >= c.opts.Attempts {
		return fmt.Errorf("peer %s unreachable after %d attempts per endpoint: %w", c.peer, round+1, errs)
	}
	if retryAfter > c.opts.MaxRetryAfter {
		return fmt.Errorf("peer %s asked to retry after %v, longer than the %v allowed: %w", c.peer, retryAfter, c.opts.MaxRetryAfter, errs)
	}
	wait := max(c.backoff(round), retryAfter)
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
		return fmt.Errorf("peer %s unreachable before the deadline (%w): %w", c.peer, context.DeadlineExceeded, errs)
	}
	if err := sleep(ctx, wait); err != nil {
		return fmt.Errorf("request to peer %s abandoned: %w (last errors: %w)", c.peer, err, errs)
	}
	return nil
}

// endpointErrors is the last error of each endpoint, on one line.
type endpointErrors []error

func (e endpointErrors) Error() string {
	var b strings.Builder
	for _, err := range e {
		if err != nil {
			if b.Len() > 0 {
				b.WriteString("; ")
			}
			b.WriteString(err.Error())
		}
	}
	return b.String()
}

func (e endpointErrors) Unwrap() []error { return e }

// attempt makes one request to endpoint i and reads the whole response.
func (c *Client) attempt(ctx context.Context, i int, method, path string, body []byte, header http.Header) (*Response, error) {
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	endpoint := c.endpoints[i]
	req, err := http.NewRequestWithContext(ctx, method, endpoint+path, rd)
	if err != nil {
		return nil, &permanentError{fmt.Errorf("couldn't make request: %w", err)}
	}
	if header != nil {
		req.Header = header.Clone()
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, transportError(err)
	}
	defer resp.Body.Close()
	limit := c.opts.MaxResponseBytes
	if resp.ContentLength > limit {
		return nil, fmt.Errorf("%w: %s sent %d bytes, limit %d", ErrResponseTooLarge, endpoint, resp.ContentLength, limit)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("couldn't read response from %s: %w", endpoint, transportError(err))
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%w: %s sent more than %d bytes", ErrResponseTooLarge, endpoint, limit)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, &StatusError{Endpoint: endpoint, StatusCode: resp.StatusCode, Header: resp.Header, Body: data}
	}
	return &Response{StatusCode: resp.StatusCode, Header: resp.Header, Body: data, Endpoint: endpoint}, nil
}

// dialTLS connects to addr and makes a pinned TLS handshake, so that
// handshake failures can be told apart from network failures. The
// transport goes on dialling after the request that started the dial has
// given up (to keep the connection for a later one), so dialTLS bounds
// itself by the attempt timeout.
func (c *Client) dialTLS(ctx context.Context, network, addr string) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	var d net.Dialer
	raw, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	cfg := c.tls
	if host, _, err := net.SplitHostPort(addr); err == nil && net.ParseIP(host) == nil {
		cfg = cfg.Clone()
		cfg.ServerName = host // SNI only; the pin is the trust
	}
	conn := tls.Client(raw, cfg)
	if err := conn.HandshakeContext(ctx); err != nil {
		raw.Close()
		if isTransient(err) {
			return nil, err
		}
		return nil, &permanentError{fmt.Errorf("TLS handshake with %s failed: %w", addr, err)}
	}
	return conn, nil
}

// A permanentError can't be fixed by trying the same endpoint again
// during this call.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// transportError marks a TLS alert from the peer with ErrRejected. In
// TLS 1.3 a server refuses a client key after the client has finished its
// handshake, so the alert can arrive while reading the response.
func transportError(err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "remote error" && !errors.Is(err, ErrRejected) {
		return &permanentError{fmt.Errorf("%w: %w", ErrRejected, err)}
	}
	return err
}

// isTransient reports whether a handshake error came from the network
// (worth retrying) rather than from TLS itself.
func isTransient(err error) bool {
	var op *net.OpError
	switch {
	case errors.As(err, &op):
		return op.Op != "remote error"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled),
		errors.Is(err, os.ErrDeadlineExceeded),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return true
	}
	return false
}

type verdict int

const (
	retry   verdict = iota // transient: try again, this endpoint too
	ruleOut                // this endpoint can't work during this call
	final                  // the call's outcome
)

// classify decides what an attempt's outcome means for the call, and
// returns any Retry-After the peer asked for.
func classify(err error) (verdict, time.Duration) {
	var se *StatusError
	var pe *permanentError
	switch {
	case err == nil:
		return final, 0
	case errors.As(err, &se):
		if !se.Retryable() {
			return final, 0
		}
		ra, _ := parseRetryAfter(se.Header.Get("Retry-After"), time.Now())
		return retry, ra
	case errors.Is(err, ErrResponseTooLarge):
		return final, 0
	case errors.As(err, &pe), errors.Is(err, ErrPinMismatch), errors.Is(err, ErrRejected):
		return ruleOut, 0
	default:
		return retry, 0
	}
}

// parseRetryAfter parses a Retry-After header (RFC 9110, section 10.2.3):
// delay-seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseUint(v, 10, 32); err == nil {
		return time.Duration(s) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}

// backoff returns the wait after the given round (from 0): an exponential
// bound, jittered over its upper half.
func (c *Client) backoff(round int) time.Duration {
	d := c.opts.MinBackoff
	for range round {
		if d > c.opts.MaxBackoff/2 {
			d = c.opts.MaxBackoff
			break
		}
		d *= 2
	}
	return d/2 + rand.N(d/2+1)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
