// Package bench is a side-by-side append benchmark of tillit's party log
// (partylog on store/sqlite) and Tessera's POSIX storage driver.
package bench

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Log is the part of a transparency log the harness drives.
type Log interface {
	// Append adds entry and returns its index once the entry is durable
	// (see docs/performance.md for what "durable" means for each system).
	Append(ctx context.Context, entry []byte) (uint64, error)
	// WatchCheckpoints calls publish(size) each time it observes a newly
	// published signed checkpoint with a larger tree size, until ctx is done.
	// It runs in its own goroutine.
	WatchCheckpoints(ctx context.Context, publish func(size uint64))
	// Close shuts the log down.
	Close() error
}

// Opener opens a fresh log in the empty directory dir for a run with the
// given number of concurrent writers.
type Opener func(ctx context.Context, dir string, concurrency int) (Log, error)

// Systems maps each benchmarked system name to its opener.
var Systems = map[string]Opener{
	"tillit":          OpenTillit,
	"tessera-default": OpenTesseraDefault,
	"tessera-tuned":   OpenTesseraTuned,
}

// SystemNames lists the systems in report order.
var SystemNames = []string{"tillit", "tessera-default", "tessera-tuned"}

// checkpointSize parses the tree size (second line) of a C2SP
// tlog-checkpoint note body.
func checkpointSize(cp []byte) (uint64, error) {
	s := string(cp)
	_, rest, ok := strings.Cut(s, "\n")
	if !ok {
		return 0, fmt.Errorf("malformed checkpoint %q", s)
	}
	line, _, ok := strings.Cut(rest, "\n")
	if !ok {
		return 0, fmt.Errorf("malformed checkpoint %q", s)
	}
	return strconv.ParseUint(line, 10, 64)
}

// pollCheckpoints is a WatchCheckpoints helper for logs whose checkpoint can
// only be read, not waited for.
func pollCheckpoints(ctx context.Context, every time.Duration, read func() ([]byte, error), publish func(uint64)) {
	var last uint64
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if cp, err := read(); err == nil {
			if n, err := checkpointSize(cp); err == nil && n > last {
				last = n
				publish(n)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
