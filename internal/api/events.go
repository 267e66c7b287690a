package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// eventWriteTimeout bounds the write of one event or keep-alive to a client
// that stopped reading.
const eventWriteTimeout = 30 * time.Second

// events streams node events as server-sent events (HTML Living Standard,
// "Server-sent events"): each one as "id: N", "event: <kind>" and
// "data: <node.Event JSON>", resumable with the Last-Event-ID header or the
// after query parameter, with a comment line on an idle stream every
// KeepAlive.
func (h *handler) events(w http.ResponseWriter, r *http.Request, c call) {
	after, p := eventsAfter(r)
	if p != nil {
		writeProblem(w, p)
		return
	}
	rc := http.NewResponseController(w)
	// The server's read and write timeouts are for requests, not streams.
	if err := rc.SetReadDeadline(time.Time{}); err != nil && !errors.Is(err, http.ErrNotSupported) {
		h.log.Debug("api: couldn't clear the read deadline of an event stream", "err", err)
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	if done := shutdownSignal(r.Context()); done != nil {
		go func() {
			select {
			case <-done:
				cancel()
			case <-ctx.Done():
			}
		}()
	}
	ch := h.b.Events(ctx, after)
	hdr := w.Header()
	hdr.Set("Content-Type", "text/event-stream")
	hdr.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	// Tell EventSource clients how long to wait before reconnecting.
	if !h.writeEvent(w, rc, "retry: 2000\n\n") {
		return
	}
	ticker := time.NewTicker(h.opts.KeepAlive)
	defer ticker.Stop()
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				return
			}
			data, err := json.Marshal(ev)
			if err != nil {
				h.log.Error("api: couldn't encode an event", "id", ev.ID, "err", err)
				continue
			}
			if !h.writeEvent(w, rc, fmt.Sprintf("id: %d\nevent: %s\ndata: %s\n\n", ev.ID, eventName(ev.Kind), data)) {
				return
			}
			ticker.Reset(h.opts.KeepAlive)
		case <-ticker.C:
			if !h.writeEvent(w, rc, ": keep-alive\n\n") {
				return
			}
		case <-ctx.Done():
			return
		}
	}
}

// writeEvent writes and flushes s, with a write deadline for this write
// only; it returns false if the client is gone.
func (h *handler) writeEvent(w http.ResponseWriter, rc *http.ResponseController, s string) bool {
	if err := rc.SetWriteDeadline(time.Now().Add(eventWriteTimeout)); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return false
	}
	if _, err := w.Write([]byte(s)); err != nil {
		return false
	}
	if err := rc.Flush(); err != nil {
		h.log.Debug("api: couldn't flush an event stream", "err", err)
		return false
	}
	return true
}

// eventsAfter returns the ID after which to stream: the Last-Event-ID header
// of a reconnecting client, else the after query parameter, else 0.
func eventsAfter(r *http.Request) (int64, *Problem) {
	bad := func(format string, args ...any) (int64, *Problem) {
		return 0, problem(http.StatusBadRequest, TypeInvalidQuery, "Malformed query", format, args...)
	}
	q := r.URL.Query()
	for k, vs := range q {
		if k != "after" {
			return bad("unknown query parameter %q; the known one is after", k)
		}
		if len(vs) > 1 {
			return bad("query parameter \"after\" is given %d times", len(vs))
		}
	}
	name, v := "Last-Event-ID header", r.Header.Get("Last-Event-ID")
	if v == "" {
		name, v = "query parameter \"after\"", q.Get("after")
	}
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return bad("%s: %q is not an event ID (a whole number, 0 or more)", name, v)
	}
	return n, nil
}

// eventName makes an event kind safe for the event field of the stream.
func eventName(kind string) string {
	if kind == "" {
		return "message"
	}
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' {
			return '_'
		}
		return r
	}, kind)
}
