package node

import (
	"context"
	"testing"
)

func TestEventsRing(t *testing.T) {
	e := newEvents()
	first := e.publish(Event{Kind: "a"}).ID
	for range eventBuffer + 10 {
		e.publish(Event{Kind: "b"})
	}
	last := e.next - 1
	got := e.since(0)
	if len(got) != eventBuffer || got[0].ID != last-eventBuffer+1 || got[len(got)-1].ID != last {
		t.Fatalf("since(0): %d events from %d to %d, want %d from %d to %d", len(got), got[0].ID, got[len(got)-1].ID, eventBuffer, last-eventBuffer+1, last)
	}
	if got := e.since(last - 3); len(got) != 3 || got[0].ID != last-2 {
		t.Fatalf("since(last-3) = %d events", len(got))
	}
	if first < 1 {
		t.Fatalf("first ID %d", first)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch := e.subscribe(ctx, last-1)
	if ev := <-ch; ev.ID != last {
		t.Fatalf("resumed at %d, want %d", ev.ID, last)
	}
	live := e.publish(Event{Kind: "c"})
	if ev := <-ch; ev.ID != live.ID {
		t.Fatalf("live event %d, want %d", ev.ID, live.ID)
	}
}
