// Package api is a node's operator API: the HTTP interface through which the
// party's officers, analysts and auditors send statements, acknowledge
// received ones, read the inbox, outbox, every statement the node holds, its
// status and the evidence of misbehaviour it recorded, lift the quarantine of
// a peer's log, and follow events.
//
// The handler serves JSON under /api/v1/, server-sent events at
// /api/v1/events, its OpenAPI 3.1 description at /api/openapi.json and a
// liveness probe at /healthz. Every error answer is an RFC 9457 problem
// details object ([Problem]). Requests carry a bearer token that the node's
// configuration maps to a role (node.RoleOfficer, node.RoleAnalyst,
// node.RoleAuditor); the handler checks roles before it calls the node.
//
// The API is plain HTTP, meant for loopback or a protected network: tokens
// are not protected in transit.
//
// [Client] is a Go client for it; the tillit command line uses it.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/tillit/tillit/node"
)

// Backend is what the API serves: the node (*node.Node implements it).
// The handler answers errors that wrap node.ErrInvalid with 422,
// node.ErrForbidden 403, node.ErrNotFound 404 and node.ErrClosed 503; any
// other error is logged and answered with a 500 that does not say what it
// was.
type Backend interface {
	// Party is the name of the party the node speaks for.
	Party() string
	// Send makes a statement. role is the role of the caller's token: the
	// handler has already refused analysts an explicit IMMEDIATE or FLASH
	// precedence, and the backend refuses them a type whose default
	// precedence is one of those.
	Send(ctx context.Context, req node.SendRequest, role string) (node.Message, error)
	// Ack acknowledges a received statement.
	Ack(ctx context.Context, req node.AckRequest) (node.Message, error)
	// Inbox lists statements addressed to the party, newest first.
	Inbox(q node.Query) []node.Message
	// Outbox lists statements the party made, newest first.
	Outbox(q node.Query) []node.Message
	// Statements lists statements of every log the node holds, whoever
	// they are addressed to, newest first; q.From may name their sender.
	Statements(q node.Query) []node.Message
	// Message returns one statement the node holds by its reference.
	Message(ref string) (node.Message, error)
	// Status returns the node's state at a glance.
	Status() node.Status
	// Evidence returns the evidence records the node keeps (forks, and
	// the liftings of quarantines), oldest first.
	Evidence(ctx context.Context) ([]node.Evidence, error)
	// LiftQuarantine lifts the quarantine of party's log for reason,
	// which the node records as evidence.
	LiftQuarantine(ctx context.Context, party, reason string) error
	// Events replays the buffered events with an ID greater than after, then
	// sends live ones. The channel is closed when ctx ends (or the node
	// closes).
	Events(ctx context.Context, after int64) <-chan node.Event
}

// Defaults of [Options].
const (
	DefaultMaxBodyBytes = 1 << 20
	DefaultKeepAlive    = 15 * time.Second
)

// Options tune the handler. The zero value is the defaults.
type Options struct {
	// MaxBodyBytes bounds request bodies; larger ones get 413. Zero means
	// DefaultMaxBodyBytes (1 MiB).
	MaxBodyBytes int64
	// KeepAlive is how often an idle event stream gets a comment line, so
	// that proxies and clients see it is alive. Zero means
	// DefaultKeepAlive (15 s).
	KeepAlive time.Duration
}

// NewHandler returns the operator API over b, admitting the tokens of cfg,
// with the default [Options]. Failures that are not the caller's fault are
// logged to logger.
func NewHandler(b Backend, cfg node.APIConfig, logger *slog.Logger) http.Handler {
	return NewHandlerWithOptions(b, cfg, logger, Options{})
}

// NewHandlerWithOptions is [NewHandler] with options.
func NewHandlerWithOptions(b Backend, cfg node.APIConfig, logger *slog.Logger, opts Options) http.Handler {
	return newHandler(b, cfg, logger, opts)
}

// access is who may use a route.
type access int

const (
	public  access = iota // anyone, without a token
	reader                // every role
	sender                // officers and analysts
	officer               // officers only
)

// route is one operation: a method on a path. A path with a "{name}" takes
// that part of the request path, unescaped, as the parameter: the rest of
// the path where "{name}" ends the route, else one path segment.
type route struct {
	method string
	path   string // as in the OpenAPI document
	access access
	serve  func(w http.ResponseWriter, r *http.Request, c call)
}

// call is what a handler knows about one request.
type call struct {
	token node.Token // the caller's token; zero on public routes
	param string     // the trailing path parameter, if the route has one
}

type handler struct {
	b      Backend
	cfg    node.APIConfig
	log    *slog.Logger
	opts   Options
	routes []route
}

func newHandler(b Backend, cfg node.APIConfig, logger *slog.Logger, opts Options) *handler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.KeepAlive <= 0 {
		opts.KeepAlive = DefaultKeepAlive
	}
	h := &handler{b: b, cfg: cfg, log: logger, opts: opts}
	h.routes = []route{
		{"POST", "/api/v1/send", sender, h.send},
		{"POST", "/api/v1/ack", officer, h.ack},
		{"GET", "/api/v1/inbox", reader, h.box(false, b.Inbox)},
		{"GET", "/api/v1/outbox", reader, h.box(false, b.Outbox)},
		{"GET", "/api/v1/statements", reader, h.box(true, b.Statements)},
		{"GET", "/api/v1/messages/{ref}", reader, h.message},
		{"GET", "/api/v1/status", reader, h.status},
		{"GET", "/api/v1/evidence", reader, h.evidence},
		{"POST", "/api/v1/quarantine/{party}/lift", officer, h.liftQuarantine},
		{"GET", "/api/v1/events", reader, h.events},
		{"GET", "/api/openapi.json", public, h.openapi},
		{"GET", "/healthz", public, h.healthz},
	}
	return h
}

// ServeHTTP routes a request: 404 for an unknown path, 405 for a wrong
// method, 401 without a known token, 403 for a role that may not.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Cache-Control", "no-store")
	var allow []string
	for _, rt := range h.routes {
		param, ok := rt.match(r.URL)
		if !ok {
			continue
		}
		if rt.method != r.Method {
			allow = append(allow, rt.method)
			continue
		}
		c := call{param: param}
		if rt.access != public {
			tok, p := h.authenticate(r)
			if p != nil {
				// RFC 6750 section 3.
				chal := "Bearer"
				if r.Header.Get("Authorization") != "" {
					chal = `Bearer error="invalid_token"`
				}
				hdr.Set("WWW-Authenticate", chal)
				writeProblem(w, p)
				return
			}
			if p := rt.access.check(tok.Role, r.Method, rt.path); p != nil {
				h.log.Warn("api: role refused", "token", tok.Name, "role", tok.Role, "method", r.Method, "path", r.URL.Path)
				writeProblem(w, p)
				return
			}
			c.token = tok
		}
		rt.serve(w, r, c)
		return
	}
	if len(allow) > 0 {
		slices.Sort(allow)
		allow = slices.Compact(allow)
		hdr.Set("Allow", strings.Join(allow, ", "))
		writeProblem(w, problem(http.StatusMethodNotAllowed, "", "", "%s %s: use %s", r.Method, r.URL.Path, strings.Join(allow, " or ")))
		return
	}
	writeProblem(w, problem(http.StatusNotFound, "", "", "no endpoint %s; the API is described at /api/openapi.json", r.URL.Path))
}

// match reports whether u is the route's path, and returns the parameter,
// unescaped, if the route has one.
func (rt route) match(u *url.URL) (string, bool) {
	i := strings.IndexByte(rt.path, '{')
	if i < 0 {
		return "", u.Path == rt.path
	}
	prefix, suffix := rt.path[:i], rt.path[strings.IndexByte(rt.path, '}')+1:]
	esc := u.EscapedPath()
	if !strings.HasPrefix(esc, prefix) || !strings.HasSuffix(esc, suffix) || len(esc) <= len(prefix)+len(suffix) {
		return "", false
	}
	raw := esc[len(prefix) : len(esc)-len(suffix)]
	if suffix != "" && strings.Contains(raw, "/") {
		return "", false
	}
	p, err := url.PathUnescape(raw)
	if err != nil {
		return "", false
	}
	return p, true
}

// authenticate checks the bearer token of r.
func (h *handler) authenticate(r *http.Request) (node.Token, *Problem) {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return node.Token{}, problem(http.StatusUnauthorized, TypeUnauthorized, "Missing or unknown token",
			"the request has no Authorization header; send \"Authorization: Bearer <token>\"")
	}
	scheme, tok, _ := strings.Cut(auth, " ")
	tok = strings.TrimSpace(tok)
	if !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return node.Token{}, problem(http.StatusUnauthorized, TypeUnauthorized, "Missing or unknown token",
			"the Authorization header is not \"Bearer <token>\"")
	}
	t, ok := h.cfg.Authenticate(tok)
	if !ok {
		h.log.Warn("api: token not accepted", "remote", r.RemoteAddr, "method", r.Method, "path", r.URL.Path)
		return node.Token{}, problem(http.StatusUnauthorized, TypeUnauthorized, "Missing or unknown token",
			"the bearer token is not one of this node's [[api.token]] entries")
	}
	return t, nil
}

// check returns a 403 problem if role may not use a route of access a.
func (a access) check(role, method, path string) *Problem {
	ok := true
	switch a {
	case sender:
		ok = role == node.RoleOfficer || role == node.RoleAnalyst
	case officer:
		ok = role == node.RoleOfficer
	}
	if ok {
		return nil
	}
	var what string
	switch {
	case a == sender:
		what = "send statements"
	case strings.HasPrefix(path, "/api/v1/quarantine/"):
		what = "lift quarantines"
	default:
		what = "acknowledge statements"
	}
	detail := "role " + role + " may not " + what
	if role == node.RoleAuditor {
		detail += ": auditor tokens are read-only"
	} else if role == node.RoleAnalyst {
		detail += ": only officer tokens may"
	}
	return problem(http.StatusForbidden, TypeForbidden, "Not allowed for this token's role", "%s (%s %s)", detail, method, path)
}
