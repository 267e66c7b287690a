package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/tillit/tillit/node"
)

func init() {
	register(command{"watch", "follow the node's events live", runWatch})
}

func runWatch(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("watch", "",
		"Prints the node's events as they happen, one line each: time, kind, peer,\n"+
			"statement and what happened. It starts with the events the node still holds\n"+
			"(or those after --after N), reconnects after the node restarts, says when\n"+
			"events were missed (a restart, or a stream too slow), and runs until interrupted. --json prints one JSON object per event.", stderr)
	after := fs.Int64("after", 0, "start after the event with this ID")
	af := addAPIFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 || *after < 0 {
		fs.Usage()
		return errUsage
	}
	c, err := af.connect()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	c.OnReconnect = func(err error, wait time.Duration) {
		fmt.Fprintf(stderr, "tillit: lost the event stream (%v); reconnecting in %v\n", unwrapNet(err), wait)
		if u, moved := c.follow(); moved {
			fmt.Fprintf(stderr, "tillit: the node's API is now at %s\n", u)
		}
	}
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	last := *after
	for ev, err := range c.Events(ctx, *after) {
		if err != nil {
			return c.explain(err)
		}
		// Event IDs increase by one within a run of the node; a jump means
		// events this stream did not get: the node restarted (events are
		// not kept across restarts) or the stream fell more than the
		// node's buffer behind.
		if last != 0 && ev.ID > last+1 {
			fmt.Fprintf(stderr, "tillit: events after %d were not received: the node restarted, or this stream fell behind; 'tillit status' and 'tillit inbox' show where things stand\n", last)
		}
		last = ev.ID
		if *af.json {
			if err := enc.Encode(ev); err != nil {
				return err
			}
			continue
		}
		if _, err := fmt.Fprintln(stdout, eventLine(ev)); err != nil {
			return err
		}
	}
	return nil
}

// eventLine formats an event for people.
func eventLine(ev node.Event) string {
	party, ref := ev.Party, "-"
	if party == "" {
		party = "-"
	}
	if ev.Ref != "" {
		ref = shortRef(ev.Ref)
	}
	return fmt.Sprintf("%s  %-10s  %-6s  %-16s  %s", tableTime(ev.Time), ev.Kind, party, ref, ev.Msg)
}
