package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/tillit/tillit/node"
	"github.com/tillit/tillit/regime"
	"github.com/tillit/tillit/statement"
)

// MaxLimit is the largest limit of a listing.
const MaxLimit = 1000

// MessageList is the answer to GET /api/v1/inbox, /api/v1/outbox and
// /api/v1/statements.
type MessageList struct {
	Messages []node.Message `json:"messages"`
}

// MessagePath returns the path of a statement's resource, with the reference
// escaped as one path segment ('/' and '#' included).
func MessagePath(ref string) string {
	return "/api/v1/messages/" + url.PathEscape(ref)
}

func (h *handler) send(w http.ResponseWriter, r *http.Request, c call) {
	var req node.SendRequest
	if !h.decode(w, r, &req) {
		return
	}
	if p := checkSend(&req); p != nil {
		writeProblem(w, p)
		return
	}
	if c.token.Role == node.RoleAnalyst && req.Precedence != "" {
		if p, _ := statement.ParsePrecedence(req.Precedence); p > statement.Priority {
			h.log.Warn("api: role refused", "token", c.token.Name, "role", c.token.Role, "precedence", req.Precedence)
			writeProblem(w, problem(http.StatusForbidden, TypeForbidden, "Not allowed for this token's role",
				"role analyst may send ROUTINE and PRIORITY statements only, not %s", req.Precedence))
			return
		}
	}
	m, err := h.b.Send(r.Context(), req, c.token.Role)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.log.Info("api: statement sent", "ref", m.Ref, "type", m.Type, "precedence", m.Precedence, "to", m.To, "token", c.token.Name)
	w.Header().Set("Location", MessagePath(m.Ref))
	writeJSON(w, http.StatusCreated, m)
}

// checkSend checks what the API can check of a send request without the
// regime; the node checks the rest.
func checkSend(req *node.SendRequest) *Problem {
	bad := func(format string, args ...any) *Problem {
		return problem(http.StatusUnprocessableEntity, TypeInvalidRequest, "Request refused", format, args...)
	}
	switch {
	case req.Type == "":
		return bad("field \"type\" is missing or empty")
	case len(req.To) == 0:
		return bad("field \"to\" is missing or empty; name the recipients, or [\"*\"] for every other party")
	case len(req.Body) == 0 || string(req.Body) == "null":
		return bad("field \"body\" is missing; send {} for an empty body")
	case req.Body[0] != '{':
		return bad("field \"body\" must be a JSON object")
	}
	if req.Precedence != "" {
		if _, err := statement.ParsePrecedence(req.Precedence); err != nil {
			return bad("field \"precedence\": %q is not ROUTINE, PRIORITY, IMMEDIATE or FLASH", req.Precedence)
		}
	}
	return nil
}

func (h *handler) ack(w http.ResponseWriter, r *http.Request, c call) {
	var req node.AckRequest
	if !h.decode(w, r, &req) {
		return
	}
	if req.Ref == "" {
		writeProblem(w, problem(http.StatusUnprocessableEntity, TypeInvalidRequest, "Request refused", "field \"ref\" is missing or empty"))
		return
	}
	m, err := h.b.Ack(r.Context(), req)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.log.Info("api: statement acknowledged", "ref", req.Ref, "ack", m.Ref, "token", c.token.Name)
	w.Header().Set("Location", MessagePath(m.Ref))
	writeJSON(w, http.StatusCreated, m)
}

// box serves a listing: the inbox, the outbox or the statements of every
// log, which alone takes the from parameter (takesFrom).
func (h *handler) box(takesFrom bool, list func(node.Query) []node.Message) func(http.ResponseWriter, *http.Request, call) {
	return func(w http.ResponseWriter, r *http.Request, _ call) {
		q, p := parseQuery(r.URL.RawQuery, takesFrom)
		if p != nil {
			writeProblem(w, p)
			return
		}
		ms := list(q)
		if ms == nil {
			ms = []node.Message{}
		}
		writeJSON(w, http.StatusOK, MessageList{Messages: ms})
	}
}

// parseQuery parses the query of a listing; takesFrom says whether it takes
// the from parameter. Unknown and repeated parameters are errors.
func parseQuery(raw string, takesFrom bool) (node.Query, *Problem) {
	bad := func(format string, args ...any) (node.Query, *Problem) {
		return node.Query{}, problem(http.StatusBadRequest, TypeInvalidQuery, "Malformed query", format, args...)
	}
	v, err := url.ParseQuery(raw)
	if err != nil {
		return bad("%v", err)
	}
	known := "type, state and limit"
	if takesFrom {
		known = "type, state, limit and from"
	}
	q := node.Query{Limit: 100}
	for k, vs := range v {
		if len(vs) > 1 {
			return bad("query parameter %q is given %d times", k, len(vs))
		}
		switch val := vs[0]; k {
		case "type":
			q.Type = val
		case "state":
			s, err := ParseState(val)
			if err != nil {
				return bad("query parameter \"state\": %v", err)
			}
			q.State = s
		case "limit":
			n, err := strconv.Atoi(val)
			if err != nil || n < 1 || n > MaxLimit {
				return bad("query parameter \"limit\": %q is not a whole number from 1 to %d", val, MaxLimit)
			}
			q.Limit = n
		case "from":
			if !takesFrom {
				return bad("unknown query parameter %q; the known ones are %s", k, known)
			}
			q.From = val
		default:
			return bad("unknown query parameter %q; the known ones are %s", k, known)
		}
	}
	return q, nil
}

// ParseState parses the name of a regime.State: pending, receipted,
// acknowledged or overdue.
func ParseState(s string) (regime.State, error) {
	for st := regime.Pending; st <= regime.Overdue; st++ {
		if s == st.String() {
			return st, nil
		}
	}
	return 0, errors.New(strconv.Quote(s) + " is not pending, receipted, acknowledged or overdue")
}

func (h *handler) message(w http.ResponseWriter, r *http.Request, c call) {
	m, err := h.b.Message(c.param)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, m)
}

func (h *handler) status(w http.ResponseWriter, r *http.Request, _ call) {
	writeJSON(w, http.StatusOK, h.b.Status())
}

// EvidenceList is the answer to GET /api/v1/evidence.
type EvidenceList struct {
	Evidence []node.Evidence `json:"evidence"`
}

func (h *handler) evidence(w http.ResponseWriter, r *http.Request, _ call) {
	ev, err := h.b.Evidence(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if ev == nil {
		ev = []node.Evidence{}
	}
	writeJSON(w, http.StatusOK, EvidenceList{Evidence: ev})
}

// LiftRequest is the body of POST /api/v1/quarantine/{party}/lift.
type LiftRequest struct {
	// Reason says why the quarantine is lifted, such as how the parties
	// settled the dispute; the node keeps it as evidence. Required.
	Reason string `json:"reason"`
}

// QuarantinePath returns the path that lifts the quarantine of party's log.
func QuarantinePath(party string) string {
	return "/api/v1/quarantine/" + url.PathEscape(party) + "/lift"
}

// liftQuarantine lifts the quarantine of a peer's log and answers with the
// node's status.
func (h *handler) liftQuarantine(w http.ResponseWriter, r *http.Request, c call) {
	var req LiftRequest
	if !h.decode(w, r, &req) {
		return
	}
	if strings.TrimSpace(req.Reason) == "" {
		writeProblem(w, problem(http.StatusUnprocessableEntity, TypeInvalidRequest, "Request refused",
			"field \"reason\" is missing or empty; say why the quarantine is lifted, which the node keeps as evidence"))
		return
	}
	if err := h.b.LiftQuarantine(r.Context(), c.param, req.Reason); err != nil {
		if errors.Is(err, node.ErrNotFound) {
			writeProblem(w, problem(http.StatusNotFound, TypeNotFound, "No such quarantine", "%s", nodeDetail(err, node.ErrNotFound, "no such quarantine")))
			return
		}
		h.fail(w, r, err)
		return
	}
	h.log.Warn("api: quarantine lifted", "party", c.param, "reason", req.Reason, "token", c.token.Name)
	writeJSON(w, http.StatusOK, h.b.Status())
}

func (h *handler) healthz(w http.ResponseWriter, r *http.Request, _ call) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	w.Write([]byte("ok\n"))
}

func (h *handler) openapi(w http.ResponseWriter, r *http.Request, _ call) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.Write(openapiJSON)
}

// fail answers a backend error: ErrInvalid is 422, ErrForbidden 403,
// ErrNotFound 404, ErrClosed 503, and anything else a 500 that says nothing of the cause,
// which goes to the log.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, node.ErrInvalid):
		writeProblem(w, problem(http.StatusUnprocessableEntity, TypeInvalidRequest, "Request refused", "%s", nodeDetail(err, node.ErrInvalid, "the node refused the request")))
	case errors.Is(err, node.ErrForbidden):
		writeProblem(w, problem(http.StatusForbidden, TypeForbidden, "Not allowed for this token's role", "%s", nodeDetail(err, node.ErrForbidden, "the token's role may not do this")))
	case errors.Is(err, node.ErrNotFound):
		writeProblem(w, problem(http.StatusNotFound, TypeNotFound, "No such statement", "%s", nodeDetail(err, node.ErrNotFound, "this node has no such statement")))
	case errors.Is(err, node.ErrClosed):
		w.Header().Set("Retry-After", "5")
		writeProblem(w, problem(http.StatusServiceUnavailable, TypeUnavailable, "Node shutting down", "the node is shutting down; try again when it is back"))
	case errors.Is(err, context.Canceled) && r.Context().Err() != nil:
		// The caller went away; nobody reads the answer.
		h.log.Debug("api: request canceled", "method", r.Method, "path", r.URL.Path)
		writeProblem(w, problem(http.StatusServiceUnavailable, "", "", "request canceled"))
	default:
		h.log.Error("api: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		writeProblem(w, problem(http.StatusInternalServerError, "", "", "the node could not complete the request; its log has the cause"))
	}
}

// nodeDetail returns err's message without the sentinel's text in front,
// which the title already says, or def if nothing else is left.
func nodeDetail(err, sentinel error, def string) string {
	s := strings.TrimPrefix(err.Error(), sentinel.Error())
	s = strings.TrimLeft(s, ": ")
	if s == "" {
		return def
	}
	return s
}

// writeJSON writes v as the JSON body of an answer with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeProblem(w, problem(http.StatusInternalServerError, "", "", "couldn't encode the answer"))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// writeProblem writes p as an application/problem+json answer.
func writeProblem(w http.ResponseWriter, p *Problem) {
	b, _ := json.Marshal(p)
	hdr := w.Header()
	hdr.Del("Location")
	hdr.Set("Content-Type", "application/problem+json")
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(p.Status)
	w.Write(append(b, '\n'))
}
