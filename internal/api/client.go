package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/tillit/tillit/node"
	"github.com/tillit/tillit/regime"
)

// Boxes for [Client.Inbox].
const (
	BoxInbox  = "inbox"
	BoxOutbox = "outbox"
)

// maxAnswer bounds the answers the client reads (a listing of MaxLimit
// statements of up to 64 KiB each fits).
const maxAnswer = 128 << 20

// Client calls a node's operator API. Its methods are safe for concurrent
// use. Errors that the node answered with are *Problem.
type Client struct {
	// HTTP is the client requests go through. NewClient sets one without an
	// overall timeout, since event streams are long: bound calls with their
	// context.
	HTTP *http.Client
	// OnReconnect, if set, is called when Events lost its stream and is
	// about to reconnect after wait.
	OnReconnect func(err error, wait time.Duration)
	// StreamIdle is how long an event stream may stay silent (no event and
	// no keep-alive) before Events drops it and reconnects. Zero means
	// 45 s, three keep-alive intervals.
	StreamIdle time.Duration

	base  atomic.Pointer[string]
	token string
}

// NewClient returns a client for the API at baseURL (like
// "http://127.0.0.1:7201") that authenticates with token.
func NewClient(baseURL, token string) *Client {
	c := &Client{HTTP: &http.Client{}, token: token}
	c.SetBaseURL(baseURL)
	return c
}

// BaseURL returns the URL of the API the client calls.
func (c *Client) BaseURL() string { return *c.base.Load() }

// SetBaseURL changes the URL of the API, for a node that moved (such as one
// that listens on an ephemeral port and restarted). Calls made after it,
// including Events' next reconnection, go to the new URL.
func (c *Client) SetBaseURL(baseURL string) {
	u := strings.TrimRight(baseURL, "/")
	c.base.Store(&u)
}

// Send makes a statement.
func (c *Client) Send(ctx context.Context, req node.SendRequest) (node.Message, error) {
	var m wireMessage
	err := c.do(ctx, http.MethodPost, "/api/v1/send", nil, req, http.StatusCreated, &m)
	return m.message(), err
}

// Ack acknowledges a received statement.
func (c *Client) Ack(ctx context.Context, req node.AckRequest) (node.Message, error) {
	var m wireMessage
	err := c.do(ctx, http.MethodPost, "/api/v1/ack", nil, req, http.StatusCreated, &m)
	return m.message(), err
}

// Inbox lists the statements of box, BoxInbox or BoxOutbox, that match q,
// newest first.
func (c *Client) Inbox(ctx context.Context, box string, q node.Query) ([]node.Message, error) {
	if box != BoxInbox && box != BoxOutbox {
		return nil, fmt.Errorf("api: box %q is not %q or %q", box, BoxInbox, BoxOutbox)
	}
	return c.list(ctx, "/api/v1/"+box, q)
}

// Statements lists the statements of every log the node holds that match q,
// whoever they are addressed to, newest first. q.From, if set, names their
// sender.
func (c *Client) Statements(ctx context.Context, q node.Query) ([]node.Message, error) {
	return c.list(ctx, "/api/v1/statements", q)
}

// list calls a listing at path.
func (c *Client) list(ctx context.Context, path string, q node.Query) ([]node.Message, error) {
	v := url.Values{}
	if q.Type != "" {
		v.Set("type", q.Type)
	}
	if q.State != 0 {
		v.Set("state", q.State.String())
	}
	if q.Limit != 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	if q.From != "" {
		v.Set("from", q.From)
	}
	var list struct {
		Messages []wireMessage `json:"messages"`
	}
	if err := c.do(ctx, http.MethodGet, path, v, nil, http.StatusOK, &list); err != nil {
		return nil, err
	}
	ms := make([]node.Message, len(list.Messages))
	for i, m := range list.Messages {
		ms[i] = m.message()
	}
	return ms, nil
}

// Message returns one statement by its reference.
func (c *Client) Message(ctx context.Context, ref string) (node.Message, error) {
	var m wireMessage
	err := c.do(ctx, http.MethodGet, MessagePath(ref), nil, nil, http.StatusOK, &m)
	return m.message(), err
}

// Status returns the node's status.
func (c *Client) Status(ctx context.Context) (node.Status, error) {
	var s node.Status
	err := c.do(ctx, http.MethodGet, "/api/v1/status", nil, nil, http.StatusOK, &s)
	return s, err
}

// Evidence returns the evidence records the node keeps, oldest first.
func (c *Client) Evidence(ctx context.Context) ([]node.Evidence, error) {
	var l EvidenceList
	if err := c.do(ctx, http.MethodGet, "/api/v1/evidence", nil, nil, http.StatusOK, &l); err != nil {
		return nil, err
	}
	return l.Evidence, nil
}

// LiftQuarantine lifts the quarantine of party's log for reason, and
// returns the node's status right after.
func (c *Client) LiftQuarantine(ctx context.Context, party, reason string) (node.Status, error) {
	var s node.Status
	err := c.do(ctx, http.MethodPost, QuarantinePath(party), nil, LiftRequest{Reason: reason}, http.StatusOK, &s)
	return s, err
}

// request returns a request for path (already escaped) with the token set.
func (c *Client) request(ctx context.Context, method, path string, query url.Values, body io.Reader) (*http.Request, error) {
	u := c.BaseURL() + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, fmt.Errorf("api: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	return req, nil
}

// do makes one call: it sends in as JSON if it is not nil, and decodes the
// answer into out if its status is want.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, in any, want int, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("api: couldn't encode the request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := c.request(ctx, method, path, query, body)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != want {
		return readProblem(resp)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxAnswer)).Decode(out); err != nil {
		return fmt.Errorf("api: couldn't decode the answer to %s %s: %w", method, req.URL.Path, err)
	}
	return nil
}

// readProblem returns the problem an answer with an unexpected status
// describes, or one made from its status and the start of its body if it
// is not application/problem+json.
func readProblem(resp *http.Response) *Problem {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt == "application/problem+json" {
		var p Problem
		if json.Unmarshal(body, &p) == nil {
			if p.Status == 0 {
				p.Status = resp.StatusCode
			}
			return &p
		}
	}
	detail := strings.TrimSpace(string(body))
	if len(detail) > 200 {
		detail = detail[:200] + "…"
	}
	return &Problem{Type: "about:blank", Title: http.StatusText(resp.StatusCode), Status: resp.StatusCode, Detail: detail}
}

// The wire types decode the text form of regime.State ("pending") that
// regime.State marshals to but does not unmarshal from. Each embeds the node
// type and shadows its state fields.
type (
	wireState   regime.State
	wireVerdict struct {
		regime.Verdict
		State wireState `json:"state"`
	}
	wireRecipient struct {
		Party   string      `json:"party"`
		Verdict wireVerdict `json:"verdict"`
	}
	wireMessage struct {
		node.Message
		State      wireState       `json:"state"`
		Recipients []wireRecipient `json:"recipients"`
	}
)

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *wireState) UnmarshalText(b []byte) error {
	st, err := ParseState(string(b))
	if err != nil {
		return fmt.Errorf("state: %w", err)
	}
	*s = wireState(st)
	return nil
}

func (w wireMessage) message() node.Message {
	m := w.Message
	m.State = regime.State(w.State)
	m.Recipients = nil
	for _, r := range w.Recipients {
		v := r.Verdict.Verdict
		v.State = regime.State(r.Verdict.State)
		m.Recipients = append(m.Recipients, node.Recipient{Party: r.Party, Verdict: v})
	}
	return m
}
