package api

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tillit/tillit/node"
)

// Reconnection delays of Client.Events: the first wait, doubled after each
// failure up to the longest.
const (
	retryFirst   = 250 * time.Millisecond
	retryLongest = 5 * time.Second
)

// Events follows the node's events with an ID greater than after: the
// buffered ones first, then live ones, until ctx ends.
//
// When a stream breaks (the connection drops, the node restarts or answers
// 503, StreamIdle passes without a keep-alive), Events reconnects with
// Last-Event-ID set to the last event it yielded, so that no event is lost
// or repeated, waiting longer after each failure, up to 5 s. It yields an
// error and stops only if its first attempt gets no answer at all (the node
// is probably not running), if the node refuses the request (a 4xx problem,
// such as for a bad token), or if the answer is not a well-formed event
// stream. It stops without an error when ctx ends.
func (c *Client) Events(ctx context.Context, after int64) iter.Seq2[node.Event, error] {
	return func(yield func(node.Event, error) bool) {
		last, reached, wait := after, false, retryFirst
		for ctx.Err() == nil {
			s := c.stream(ctx, &last, yield)
			if s.stop || ctx.Err() != nil {
				return
			}
			if s.fatal || (!reached && !s.answered) {
				yield(node.Event{}, s.err)
				return
			}
			reached = true
			if s.progressed {
				wait = retryFirst
			}
			if c.OnReconnect != nil {
				c.OnReconnect(s.err, wait)
			}
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			wait = min(2*wait, retryLongest)
		}
	}
}

// streamEnd is how one event stream ended.
type streamEnd struct {
	err        error
	answered   bool // the node answered
	progressed bool // the stream delivered events
	fatal      bool // reconnecting would not help
	stop       bool // the consumer stopped the iteration
}

// stream reads one event stream, yielding its events and advancing *last.
func (c *Client) stream(ctx context.Context, last *int64, yield func(node.Event, error) bool) streamEnd {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	idle := c.StreamIdle
	if idle <= 0 {
		idle = 3 * DefaultKeepAlive
	}
	errIdle := fmt.Errorf("api: no event or keep-alive for %v", idle)
	watchdog := time.AfterFunc(idle, func() { cancel(errIdle) })
	defer watchdog.Stop()

	query := map[string][]string{"after": {strconv.FormatInt(*last, 10)}}
	req, err := c.request(ctx, http.MethodGet, "/api/v1/events", query, nil)
	if err != nil {
		return streamEnd{err: err, fatal: true}
	}
	req.Header.Set("Accept", "text/event-stream")
	if *last > 0 {
		req.Header.Set("Last-Event-ID", strconv.FormatInt(*last, 10))
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		if context.Cause(ctx) == errIdle {
			err = errIdle
		}
		return streamEnd{err: err}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		p := readProblem(resp)
		transient := p.Status >= 500 || p.Status == http.StatusTooManyRequests || p.Status == http.StatusRequestTimeout
		return streamEnd{err: p, fatal: !transient, answered: true}
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "text/event-stream" {
		return streamEnd{err: fmt.Errorf("api: %s answered with %q, not an event stream", req.URL.Redacted(), mt), fatal: true, answered: true}
	}

	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	var f sseFields
	progressed := false
	for sc.Scan() {
		watchdog.Reset(idle)
		data, ok := f.line(sc.Text())
		if !ok {
			continue
		}
		var ev node.Event
		if err := json.Unmarshal(data, &ev); err != nil {
			return streamEnd{err: fmt.Errorf("api: malformed event after ID %d: %w", *last, err), fatal: true, answered: true}
		}
		if ev.ID == 0 {
			ev.ID = f.id
		}
		if ev.ID != 0 && ev.ID <= *last {
			continue // a replay the node should not have sent
		}
		*last = max(*last, ev.ID)
		progressed = true
		if !yield(ev, nil) {
			return streamEnd{stop: true, answered: true}
		}
	}
	err = sc.Err()
	switch {
	case errors.Is(err, bufio.ErrTooLong):
		return streamEnd{err: fmt.Errorf("api: event stream line longer than 1 MiB"), fatal: true, answered: true}
	case err == nil:
		err = errors.New("api: the node ended the event stream")
	case context.Cause(ctx) == errIdle:
		err = errIdle
	}
	return streamEnd{err: err, answered: true, progressed: progressed}
}

// sseFields accumulates the fields of one server-sent event (HTML Living
// Standard, "Event stream interpretation").
type sseFields struct {
	data    strings.Builder
	hasData bool
	id      int64
}

// line processes one line of the stream, and returns the event's data when
// the line ends an event that has some.
func (f *sseFields) line(l string) ([]byte, bool) {
	if l == "" {
		if !f.hasData {
			return nil, false
		}
		d := []byte(f.data.String())
		f.data.Reset()
		f.hasData = false
		return d, true
	}
	if l[0] == ':' {
		return nil, false // comment: keep-alive
	}
	name, value, _ := strings.Cut(l, ":")
	value = strings.TrimPrefix(value, " ")
	switch name {
	case "data":
		if f.hasData {
			f.data.WriteByte('\n')
		}
		f.data.WriteString(value)
		f.hasData = true
	case "id":
		if n, err := strconv.ParseInt(value, 10, 64); err == nil {
			f.id = n
		}
	}
	return nil, false
}
