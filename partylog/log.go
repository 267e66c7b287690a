// Package partylog is a party's append-only transparency log: durable group
// commit appends, signed c2sp.org/tlog-checkpoint checkpoints, proofs, and
// serving and export in the c2sp.org/tlog-tiles layout.
//
// Guarantees:
//
//   - Append returns only once the entry is durable in the store; concurrent
//     appends share one store transaction and one fsync (group commit). The
//     next batch is hashed while the previous one is being written.
//   - A checkpoint is signed only for a tree that is durably stored, and is
//     released (served, returned) only after it is itself durably recorded as
//     the last signed checkpoint.
//   - Two different roots are never signed for one size: the stored tree is
//     append-only, and on Open the stored tree is recomputed and compared with
//     the last signed checkpoint; if they disagree Open fails with ErrFatal and
//     the log does not run.
//   - If a store write fails, the log reloads the stored state before the next
//     write. An append whose batch turns out to have persisted is reported as
//     successful; one that did not is reported with the store's error, and the
//     batch already prepared behind it is prepared again and written.
//
// Limits: entries are at most 65,535 bytes (tlog-tiles bundles use uint16
// lengths); one process must be the only writer of a log.
package partylog

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/tillit/tillit/store"
	"github.com/tillit/tillit/tlog"
	"golang.org/x/mod/sumdb/note"
	sumdb "golang.org/x/mod/sumdb/tlog"
)

var (
	// ErrFatal marks a state in which the log must stop rather than risk
	// signing a split view, such as a stored tree that disagrees with the
	// last signed checkpoint.
	ErrFatal = errors.New("fatal log state")
	// ErrClosed is returned by calls on a closed log.
	ErrClosed = errors.New("log is closed")
	// ErrEntryTooLarge is returned for an entry over tlog.MaxEntrySize bytes.
	ErrEntryTooLarge = errors.New("entry too large")
	// ErrEmptyEntry is returned for an empty entry.
	ErrEmptyEntry = errors.New("entry is empty")
)

// DefaultCheckpointInterval is how long the log waits, at most, between an
// append and the checkpoint that covers it, unless a checkpoint is requested.
const DefaultCheckpointInterval = 25 * time.Millisecond

// Options configure a Log.
type Options struct {
	// Origin is the log's checkpoint origin, such as "nato-russia-2022/RU".
	Origin string
	// Signer signs checkpoints; its name must be Origin.
	Signer note.Signer
	// Verifier is the log's public key, used to re-check the stored
	// checkpoint on Open. If nil, the stored note is checked by signing it
	// again, which is equivalent for Ed25519 (deterministic signatures).
	Verifier note.Verifier
	// CheckpointInterval bounds the time between an append and a checkpoint
	// that covers it while appends keep coming (default
	// DefaultCheckpointInterval). A log that goes idle checkpoints at once.
	CheckpointInterval time.Duration
	// MaxBatch bounds the entries in one group commit (default 4096).
	MaxBatch int
	// Logger receives operational events (default: slog.Default()).
	Logger *slog.Logger
	// Registerer, if set, receives the log's Prometheus metrics.
	Registerer prometheus.Registerer
}

// Signed is a released checkpoint: its parsed body and the signed note.
type Signed struct {
	tlog.Checkpoint
	Note []byte
}

// Log is an open log. Its methods are safe for concurrent use.
type Log struct {
	opts     Options
	st       store.LogStore
	log      *slog.Logger
	metrics  *metrics
	tiles    *tileCache
	reqs     chan *appendReq
	toCommit chan *pending // sequencer → committer
	cpWant   chan struct{}
	closing  chan struct{}
	stopped  chan struct{}
	once     sync.Once

	// enqMu guards closed: Close takes it exclusively so that no append is
	// handed to the sequencer after it has drained its queue.
	enqMu  sync.RWMutex
	closed bool

	// Appends to prepare again after a failed write (committer → sequencer).
	retryMu   sync.Mutex
	retry     []*appendReq
	retryKick chan struct{}
	processed atomic.Int64  // batches the committer has dealt with
	progress  chan struct{} // kicked after each

	size   atomic.Int64  // durable tree size
	epoch  atomic.Uint64 // incremented when a failed write invalidates prepared batches
	latest atomic.Pointer[Signed]
	fatal  atomic.Pointer[error]

	cpMu      sync.Mutex
	cpChanged chan struct{} // closed and replaced on every released checkpoint

	// Owned by the sequencer goroutine (and by Open before it starts).
	edge *edgeTiles

	// Owned by the committer goroutine (and by Open before it starts).
	root       sumdb.Hash // root of the durable tree
	lastCPTime time.Time
	closeErr   error // set before stopped is closed
}

// Open opens the log in st, checks the stored tree against the last signed
// checkpoint, signs a first checkpoint if the log has none, and starts the
// sequencer. Close must be called to release it.
func Open(ctx context.Context, st store.LogStore, opts Options) (*Log, error) {
	if opts.Signer == nil {
		return nil, errors.New("partylog: no signer")
	}
	if opts.Origin == "" || opts.Signer.Name() != opts.Origin {
		return nil, fmt.Errorf("partylog: signer key name %q must equal the origin %q", opts.Signer.Name(), opts.Origin)
	}
	if opts.CheckpointInterval <= 0 {
		opts.CheckpointInterval = DefaultCheckpointInterval
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 4096
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	l := &Log{
		opts:      opts,
		st:        st,
		log:       opts.Logger.With("origin", opts.Origin),
		tiles:     newTileCache(st, 2048),
		reqs:      make(chan *appendReq, opts.MaxBatch),
		toCommit:  make(chan *pending), // one batch committing, one prepared
		cpWant:    make(chan struct{}, 1),
		retryKick: make(chan struct{}, 1),
		progress:  make(chan struct{}, 1),
		closing:   make(chan struct{}),
		stopped:   make(chan struct{}),
		cpChanged: make(chan struct{}),
	}
	m, err := newMetrics(opts.Registerer, opts.Origin)
	if err != nil {
		return nil, fmt.Errorf("partylog: couldn't register metrics: %w", err)
	}
	l.metrics = m
	if err := l.load(ctx); err != nil {
		m.unregister(opts.Registerer)
		return nil, err
	}
	l.metrics.size.Set(float64(l.Size()))
	if s := l.latest.Load(); s != nil {
		l.metrics.cpSize.Set(float64(s.Tree.N))
	}
	if s := l.latest.Load(); s == nil || s.Tree.N < l.Size() {
		// No checkpoint yet, or entries stored after the last one (the
		// final checkpoint at Close failed, or the process died first).
		if err := l.checkpoint(ctx); err != nil {
			m.unregister(opts.Registerer)
			return nil, fmt.Errorf("couldn't sign the first checkpoint: %w", err)
		}
	}
	go l.sequence()
	go l.commitLoop()
	return l, nil
}

// load reads the durable state and checks it against the last checkpoint.
func (l *Log) load(ctx context.Context) error {
	st, err := l.st.Load(ctx)
	if err != nil {
		return fmt.Errorf("couldn't load log state: %w", err)
	}
	l.edge = newEdgeTiles(l.st)
	l.size.Store(st.Size)
	if l.root, err = l.treeHash(ctx, st.Size, l.edge.reader(ctx, nil, 0)); err != nil {
		return fmt.Errorf("%w: couldn't compute the stored tree's root (size %d): %v", ErrFatal, st.Size, err)
	}
	cp := st.Checkpoint
	if cp.Note == nil {
		return nil
	}
	if cp.Size > st.Size {
		return fmt.Errorf("%w: last signed checkpoint has size %d but only %d entries are stored", ErrFatal, cp.Size, st.Size)
	}
	c, _, err := tlog.OpenCheckpoint(cp.Note, l.opts.Origin, l.verifier())
	if err != nil {
		return fmt.Errorf("%w: stored checkpoint does not verify with this log's key: %v", ErrFatal, err)
	}
	if c.Tree.N != cp.Size || c.Tree.Hash != cp.Root {
		return fmt.Errorf("%w: stored checkpoint note and record disagree", ErrFatal)
	}
	root, err := l.treeHash(ctx, cp.Size, l.edge.reader(ctx, nil, 0))
	if err != nil {
		return fmt.Errorf("%w: couldn't recompute the tree at the last checkpoint (size %d): %v", ErrFatal, cp.Size, err)
	}
	if root != cp.Root {
		return fmt.Errorf("%w: stored tree at size %d has root %v, but the last signed checkpoint says %v", ErrFatal, cp.Size, root, cp.Root)
	}
	l.latest.Store(&Signed{Checkpoint: c, Note: cp.Note})
	return nil
}

func (l *Log) verifier() note.Verifier {
	if l.opts.Verifier != nil {
		return l.opts.Verifier
	}
	if s, ok := l.opts.Signer.(interface{ Verifier() note.Verifier }); ok {
		return s.Verifier()
	}
	return signerVerifier{l.opts.Signer}
}

// Origin returns the log's origin.
func (l *Log) Origin() string { return l.opts.Origin }

// Size returns the durable tree size: every entry below it has been committed.
func (l *Log) Size() int64 { return l.size.Load() }

// Latest returns the latest released checkpoint.
func (l *Log) Latest() Signed { return *l.latest.Load() }

// Err returns the fatal error that stopped the log, or nil.
func (l *Log) Err() error {
	if p := l.fatal.Load(); p != nil {
		return *p
	}
	return nil
}

// Close stops the log. Appends already accepted are committed and covered by
// a final checkpoint; later calls fail with ErrClosed. Close reports an error
// if the log had stopped on a fatal error or the final checkpoint failed.
func (l *Log) Close() error {
	l.once.Do(func() {
		l.enqMu.Lock()
		l.closed = true
		l.enqMu.Unlock()
		close(l.closing)
	})
	<-l.stopped
	l.metrics.unregister(l.opts.Registerer)
	return errors.Join(l.Err(), l.closeErr)
}

type appendReq struct {
	entry []byte
	idx   int64
	err   error
	done  chan struct{}
}

// Append adds entry to the log and returns its index once it is durable.
// If ctx is cancelled after the entry was handed to the sequencer, Append
// returns ctx.Err() but the entry may still be appended.
func (l *Log) Append(ctx context.Context, entry []byte) (int64, error) {
	r, err := l.enqueue(ctx, entry)
	if err != nil {
		return -1, err
	}
	return l.await(ctx, r)
}

// AppendAll adds entries in order: their indexes increase in input order
// (other appenders' entries may come between them). It returns the index of
// each entry, or -1 for each that failed, and the first error.
func (l *Log) AppendAll(ctx context.Context, entries [][]byte) ([]int64, error) {
	idx := make([]int64, len(entries))
	reqs := make([]*appendReq, len(entries))
	var firstErr error
	for i, e := range entries {
		if reqs[i], firstErr = l.enqueue(ctx, e); firstErr != nil {
			break
		}
	}
	for i, r := range reqs {
		idx[i] = -1
		if r == nil {
			continue
		}
		n, err := l.await(ctx, r)
		if err != nil {
			firstErr = cmp.Or(firstErr, err)
			continue
		}
		idx[i] = n
	}
	return idx, firstErr
}

func (l *Log) enqueue(ctx context.Context, entry []byte) (*appendReq, error) {
	switch {
	case len(entry) == 0:
		return nil, ErrEmptyEntry
	case len(entry) > tlog.MaxEntrySize:
		return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrEntryTooLarge, len(entry), tlog.MaxEntrySize)
	}
	if err := l.Err(); err != nil {
		return nil, err
	}
	r := &appendReq{entry: entry, done: make(chan struct{})}
	l.enqMu.RLock()
	defer l.enqMu.RUnlock()
	if l.closed {
		return nil, ErrClosed
	}
	select {
	case l.reqs <- r:
		return r, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (l *Log) await(ctx context.Context, r *appendReq) (int64, error) {
	select {
	case <-r.done:
		return r.idx, r.err
	case <-ctx.Done():
		return -1, ctx.Err()
	}
}

// Checkpoint asks for a checkpoint now (as for a FLASH statement) and returns
// the first released checkpoint that covers every append that returned before
// the call.
func (l *Log) Checkpoint(ctx context.Context) (Signed, error) {
	size := l.Size()
	select {
	case l.cpWant <- struct{}{}:
	default: // a request is already pending
	}
	return l.WaitCheckpoint(ctx, size)
}

// WaitCheckpoint waits for a released checkpoint of at least size entries.
func (l *Log) WaitCheckpoint(ctx context.Context, size int64) (Signed, error) {
	for {
		l.cpMu.Lock()
		ch := l.cpChanged
		l.cpMu.Unlock()
		if s := l.latest.Load(); s.Tree.N >= size {
			return *s, nil
		}
		if err := l.Err(); err != nil {
			return Signed{}, err
		}
		select {
		case <-ch:
		case <-l.stopped:
			if s := l.latest.Load(); s.Tree.N >= size {
				return *s, nil
			}
			return Signed{}, ErrClosed
		case <-ctx.Done():
			return Signed{}, ctx.Err()
		}
	}
}

// Subscribe returns a channel that is closed at the next released checkpoint.
func (l *Log) Subscribe() <-chan struct{} {
	l.cpMu.Lock()
	defer l.cpMu.Unlock()
	return l.cpChanged
}

func (l *Log) release(s *Signed) {
	l.latest.Store(s)
	l.metrics.checkpoints.Inc()
	l.metrics.cpSize.Set(float64(s.Tree.N))
	l.cpMu.Lock()
	close(l.cpChanged)
	l.cpChanged = make(chan struct{})
	l.cpMu.Unlock()
}

func (l *Log) setFatal(err error) {
	l.fatal.CompareAndSwap(nil, &err)
	l.log.Error("log stopped", "err", err)
}

// signerVerifier verifies with the signer's own key, for signers that cannot
// produce a verifier. It only serves to re-check stored notes.
type signerVerifier struct{ s note.Signer }

func (v signerVerifier) Name() string    { return v.s.Name() }
func (v signerVerifier) KeyHash() uint32 { return v.s.KeyHash() }
func (v signerVerifier) Verify(msg, sig []byte) bool {
	own, err := v.s.Sign(msg)
	return err == nil && string(own) == string(sig) // Ed25519 signatures are deterministic
}
