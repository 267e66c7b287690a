package node

import (
	"os"
	"runtime/debug"
)

// Runtime tuning for a node process (docs/node.md, "Performance").
const (
	// GCPercent is the garbage collector's target a node process runs
	// with: the heap may grow to five times the live data before a
	// collection. A node's live heap is small (tens of MiB), and collecting
	// less often gave 15–25% more statements per second end to end.
	GCPercent = 400
	// MemoryLimit is the soft memory limit that bounds the heap despite
	// GCPercent: near it the collector runs as often as needed.
	MemoryLimit = 256 << 20
)

// TuneRuntime applies GCPercent and MemoryLimit to the process, unless the
// operator set GOGC or GOMEMLIMIT, which then win. tillit serve calls it;
// a program that embeds nodes may.
func TuneRuntime() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(GCPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(MemoryLimit)
	}
}
