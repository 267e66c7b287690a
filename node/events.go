package node

import (
	"context"
	"sync"
	"time"
)

// eventBuffer is how many recent events a node keeps for operators who
// reconnect (Last-Event-ID).
const eventBuffer = 4096

// events is the node's event stream: a ring of recent events and the
// channels of live subscribers. A subscriber that does not keep up misses
// events rather than slowing the node; it sees a gap in the IDs and can
// resume from the ring.
type events struct {
	mu   sync.Mutex
	ring []Event
	base int64 // ID of the first event
	next int64
	subs map[chan Event]struct{}
}

// newEvents starts event IDs at the current time in microseconds, so that
// IDs keep increasing across restarts of the node and an operator who
// resumes with Last-Event-ID after a restart misses nothing of the new run.
func newEvents() *events {
	id := time.Now().UnixMicro()
	return &events{base: id, next: id, subs: make(map[chan Event]struct{})}
}

func (e *events) publish(ev Event) Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	ev.ID = e.next
	e.next++
	if len(e.ring) < eventBuffer {
		e.ring = append(e.ring, ev)
	} else {
		e.ring[int((ev.ID-e.base)%eventBuffer)] = ev
	}
	for ch := range e.subs {
		select {
		case ch <- ev:
		default: // slow subscriber: it will notice the gap
		}
	}
	return ev
}

// since returns the buffered events with ID > after, oldest first.
func (e *events) since(after int64) []Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []Event
	first := max(e.next-int64(len(e.ring)), after+1)
	for id := first; id < e.next; id++ {
		out = append(out, e.ring[int((id-e.base)%eventBuffer)])
	}
	return out
}

// subscribe returns a channel of the events with ID > after: the buffered
// ones, then live ones, until ctx ends.
func (e *events) subscribe(ctx context.Context, after int64) <-chan Event {
	out := make(chan Event, 256)
	live := make(chan Event, 1024)
	e.mu.Lock()
	e.subs[live] = struct{}{}
	e.mu.Unlock()
	backlog := e.since(after)
	go func() {
		defer close(out)
		defer func() {
			e.mu.Lock()
			delete(e.subs, live)
			e.mu.Unlock()
		}()
		last := after
		for _, ev := range backlog {
			select {
			case out <- ev:
				last = ev.ID
			case <-ctx.Done():
				return
			}
		}
		for {
			select {
			case ev := <-live:
				if ev.ID <= last {
					continue
				}
				select {
				case out <- ev:
					last = ev.ID
				case <-ctx.Done():
					return
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}
