package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"golang.org/x/term"
)

// progress prints a self-updating "what: done/total" line to stderr, only
// when stderr is a terminal, at most ten times a second.
type progress struct {
	w    io.Writer
	what string
	last time.Time
	on   bool
}

func newProgress(stderr io.Writer, what string) *progress {
	f, ok := stderr.(*os.File)
	return &progress{w: stderr, what: what, on: ok && term.IsTerminal(int(f.Fd()))}
}

func (p *progress) update(done, total int64) {
	if !p.on || (time.Since(p.last) < 100*time.Millisecond && done != total) {
		return
	}
	p.last = time.Now()
	pct := 100.0
	if total > 0 {
		pct = 100 * float64(done) / float64(total)
	}
	fmt.Fprintf(p.w, "\r%s: %d/%d (%.0f%%)", p.what, done, total, pct)
}

func (p *progress) done() {
	if p.on && !p.last.IsZero() {
		fmt.Fprintln(p.w)
	}
}
