package api

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/tillit/tillit/node"
)

// ProblemBase prefixes the type URIs of the problems this API defines. The
// .invalid top-level domain (RFC 2606) makes them identifiers only: there is
// nothing to fetch.
const ProblemBase = "https://tillit.invalid/problems/"

// Problem types. Answers whose status code says everything (an unknown path,
// a wrong method, an internal error) use "about:blank" instead.
const (
	TypeUnauthorized     = ProblemBase + "unauthorized"           // 401: no token, or one the node does not know
	TypeForbidden        = ProblemBase + "forbidden"              // 403: the token's role may not do this
	TypeNotFound         = ProblemBase + "not-found"              // 404: no such statement, or no such quarantine
	TypeBodyTooLarge     = ProblemBase + "body-too-large"         // 413
	TypeUnsupportedMedia = ProblemBase + "unsupported-media-type" // 415: the body is not application/json
	TypeInvalidBody      = ProblemBase + "invalid-body"           // 400: the body is not the JSON object the route takes
	TypeInvalidQuery     = ProblemBase + "invalid-query"          // 400: a query parameter or header is malformed
	TypeInvalidRequest   = ProblemBase + "invalid-request"        // 422: well-formed, but refused (node.ErrInvalid)
	TypeUnavailable      = ProblemBase + "unavailable"            // 503: the node is shutting down (node.ErrClosed)
)

// Problem is an RFC 9457 problem details object: the body of every error
// answer of the API, with media type application/problem+json. The Client
// returns the problems it receives as *Problem errors.
type Problem struct {
	// Type is a URI naming the kind of problem: one of the Type constants,
	// or "about:blank" when the status code says it all.
	Type string `json:"type,omitempty"`
	// Title is a short summary of the kind of problem.
	Title string `json:"title,omitempty"`
	// Status is the HTTP status code.
	Status int `json:"status,omitempty"`
	// Detail says exactly what is wrong with this request.
	Detail string `json:"detail,omitempty"`
	// Instance identifies this occurrence; the API leaves it empty.
	Instance string `json:"instance,omitempty"`
}

// Error returns the status code, the title and the detail, like
// `400 Malformed request body: unknown field "tp"`.
func (p *Problem) Error() string {
	s := strconv.Itoa(p.Status)
	switch {
	case p.Title != "":
		s += " " + p.Title
	case http.StatusText(p.Status) != "":
		s += " " + http.StatusText(p.Status)
	}
	if p.Detail != "" {
		s += ": " + p.Detail
	}
	return s
}

// Is makes errors.Is match problems to the node errors they come from:
// node.ErrInvalid for TypeInvalidRequest, TypeInvalidBody and
// TypeInvalidQuery, node.ErrForbidden for TypeForbidden, node.ErrNotFound
// for TypeNotFound and node.ErrClosed for TypeUnavailable.
func (p *Problem) Is(target error) bool {
	switch p.Type {
	case TypeInvalidRequest, TypeInvalidBody, TypeInvalidQuery:
		return target == node.ErrInvalid
	case TypeForbidden:
		return target == node.ErrForbidden
	case TypeNotFound:
		return target == node.ErrNotFound
	case TypeUnavailable:
		return target == node.ErrClosed
	}
	return false
}

// problem returns a Problem with a formatted detail.
func problem(status int, typ, title, format string, args ...any) *Problem {
	if typ == "" {
		typ, title = "about:blank", http.StatusText(status)
	}
	return &Problem{Type: typ, Title: title, Status: status, Detail: fmt.Sprintf(format, args...)}
}
