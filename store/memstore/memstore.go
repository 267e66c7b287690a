// Package memstore is an in-memory store.LogStore for tests. It can inject
// faults that distinguish a write that failed and was lost from one that
// failed but persisted, which is what a real disk or database can do when a
// commit's acknowledgement is lost.
//
// The state survives as long as the *Log value: reopening a log on the same
// *Log models a process restart after a crash.
package memstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/tillit/tillit/store"
)

// ErrInjected is the error returned by an injected fault.
var ErrInjected = errors.New("injected storage fault")

// Op names a writing operation for fault injection.
type Op int

const (
	OpAppend Op = iota
	OpSetCheckpoint
)

// Outcome is what an injected fault does to the write.
type Outcome int

const (
	// Lost: the call fails and nothing is written.
	Lost Outcome = iota
	// Persisted: the call fails, but the write took effect.
	Persisted
)

type tileKey struct {
	level int
	n     int64
}

// Log is an in-memory log store. The zero value is not usable; call New.
type Log struct {
	mu      sync.Mutex
	state   store.State
	tiles   map[tileKey][]byte
	bundles map[int64][]store.Chunk
	faults  map[Op][]Outcome
	appends int
}

var _ store.LogStore = (*Log)(nil)

// New returns an empty log store.
func New() *Log {
	return &Log{tiles: map[tileKey][]byte{}, bundles: map[int64][]store.Chunk{}, faults: map[Op][]Outcome{}}
}

// FailNext makes the next call of op fail with ErrInjected, with the given
// outcome. Calls queue up: each failure applies to one call, in order.
func (l *Log) FailNext(op Op, o Outcome) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.faults[op] = append(l.faults[op], o)
}

// Pending returns how many injected failures of op have not happened yet.
func (l *Log) Pending(op Op) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.faults[op])
}

// Appends returns the number of successful or persisted Append calls.
func (l *Log) Appends() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.appends
}

func (l *Log) fault(op Op) (Outcome, bool) {
	q := l.faults[op]
	if len(q) == 0 {
		return 0, false
	}
	l.faults[op] = q[1:]
	return q[0], true
}

// Load implements store.LogStore.
func (l *Log) Load(ctx context.Context) (store.State, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	st := l.state
	st.Checkpoint.Note = slices.Clone(st.Checkpoint.Note)
	return st, nil
}

// Append implements store.LogStore.
func (l *Log) Append(ctx context.Context, b *store.Batch) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.state.Size != b.OldSize {
		return fmt.Errorf("append at size %d, stored %d: %w", b.OldSize, l.state.Size, store.ErrConflict)
	}
	if b.Checkpoint != nil {
		if err := l.checkCheckpoint(*b.Checkpoint, b.NewSize); err != nil {
			return err
		}
	}
	o, faulty := l.fault(OpAppend)
	if faulty && o == Lost {
		return ErrInjected
	}
	if b.Checkpoint != nil {
		c := *b.Checkpoint
		c.Note = slices.Clone(c.Note)
		l.state.Checkpoint = c
	}
	for _, c := range b.Chunks {
		c.Data = slices.Clone(c.Data)
		l.bundles[c.N] = append(l.bundles[c.N], c)
	}
	for _, t := range b.Tiles {
		l.tiles[tileKey{t.Level, t.N}] = slices.Clone(t.Data)
	}
	l.state.Size = b.NewSize
	l.appends++
	if faulty {
		return ErrInjected
	}
	return nil
}

// SetCheckpoint implements store.LogStore.
func (l *Log) SetCheckpoint(ctx context.Context, c store.Checkpoint) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.checkCheckpoint(c, l.state.Size); err != nil {
		return err
	}
	o, faulty := l.fault(OpSetCheckpoint)
	if faulty && o == Lost {
		return ErrInjected
	}
	c.Note = slices.Clone(c.Note)
	l.state.Checkpoint = c
	if faulty {
		return ErrInjected
	}
	return nil
}

// ReadTile implements store.LogStore.
func (l *Log) ReadTile(ctx context.Context, level int, n int64) ([]byte, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	d, ok := l.tiles[tileKey{level, n}]
	if !ok {
		return nil, fmt.Errorf("tile %d/%d: %w", level, n, store.ErrNotFound)
	}
	return slices.Clone(d), nil
}

// ReadBundle implements store.LogStore.
func (l *Log) ReadBundle(ctx context.Context, n int64) ([]byte, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	cs, ok := l.bundles[n]
	if !ok {
		return nil, fmt.Errorf("bundle %d: %w", n, store.ErrNotFound)
	}
	cs = slices.Clone(cs)
	slices.SortFunc(cs, func(a, b store.Chunk) int { return a.Start - b.Start })
	var out []byte
	for _, c := range cs {
		out = append(out, c.Data...)
	}
	return out, nil
}

// CorruptTile overwrites one byte of a stored tile, to test that a damaged
// store is detected. It reports whether the tile existed.
func (l *Log) CorruptTile(level int, n int64, offset int) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	d, ok := l.tiles[tileKey{level, n}]
	if !ok || offset >= len(d) {
		return false
	}
	d[offset] ^= 0xff
	return true
}

// checkCheckpoint applies the rules of store.LogStore.SetCheckpoint.
func (l *Log) checkCheckpoint(c store.Checkpoint, size int64) error {
	old := l.state.Checkpoint
	switch {
	case c.Size > size:
		return fmt.Errorf("checkpoint of size %d beyond stored size %d: %w", c.Size, size, store.ErrConflict)
	case old.Note != nil && c.Size < old.Size:
		return fmt.Errorf("checkpoint of size %d below stored %d: %w", c.Size, old.Size, store.ErrConflict)
	case old.Note != nil && c.Size == old.Size && c.Root != old.Root:
		return fmt.Errorf("second root for size %d: %w", c.Size, store.ErrConflict)
	}
	return nil
}
