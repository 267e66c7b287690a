package partylog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/tillit/tillit/store"
	"github.com/tillit/tillit/tlog"
	"golang.org/x/mod/sumdb/note"
	sumdb "golang.org/x/mod/sumdb/tlog"
)

var (
	// ErrFork is returned when a validly signed checkpoint contradicts the
	// mirrored log: another root for a size the mirror holds, or a tree that
	// does not extend it. The log has shown two views; keep the note as
	// evidence.
	ErrFork = errors.New("log fork: signed checkpoint contradicts the mirrored log")
	// ErrEntries is returned when the entries given with a checkpoint do not
	// hash to its root (wrong, missing or extra entries).
	ErrEntries = errors.New("entries do not match the checkpoint")
)

// MirrorOptions configure a Mirror.
type MirrorOptions struct {
	// Origin is the mirrored log's origin.
	Origin string
	// Verifier is the mirrored log's public key.
	Verifier note.Verifier
	// Logger receives operational events (default: slog.Default()).
	Logger *slog.Logger
}

// Mirror is a verified, durable copy of another party's log. It stores the
// log's entries, tiles and signed checkpoint in the same layout as an own
// log, and serves them the same way. It accepts a checkpoint only with the
// entries it adds, after checking the log's signature and that the stored
// tree plus the new entries has exactly the signed root; the entries and the
// checkpoint are then stored in one transaction. So a mirror never holds a
// checkpoint whose entries it lacks, and whatever it holds extends what it
// held before. Methods are safe for concurrent use; Adds are serialised.
type Mirror struct {
	opts  MirrorOptions
	st    store.LogStore
	log   *slog.Logger
	tiles *tileCache

	mu   sync.Mutex // serialises Add; guards edge, size and root
	edge *edgeTiles
	size int64
	root sumdb.Hash

	latest atomic.Pointer[Signed]
}

// OpenMirror opens the mirror stored in st and checks the stored tree
// against the stored checkpoint, as Open does for an own log.
func OpenMirror(ctx context.Context, st store.LogStore, opts MirrorOptions) (*Mirror, error) {
	if opts.Verifier == nil || opts.Verifier.Name() != opts.Origin {
		return nil, fmt.Errorf("partylog: mirror of %q needs that log's verifier key", opts.Origin)
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	m := &Mirror{opts: opts, st: st, log: opts.Logger.With("mirror", opts.Origin), tiles: newTileCache(st, 512)}
	if err := m.load(ctx); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *Mirror) load(ctx context.Context) error {
	st, err := m.st.Load(ctx)
	if err != nil {
		return fmt.Errorf("couldn't load mirror state: %w", err)
	}
	m.edge = newEdgeTiles(m.st)
	m.size = st.Size
	if m.root, err = sumdb.TreeHash(st.Size, m.edge.reader(ctx, nil, 0)); err != nil {
		return fmt.Errorf("%w: couldn't compute the mirrored tree's root (size %d): %v", ErrFatal, st.Size, err)
	}
	cp := st.Checkpoint
	if cp.Note == nil {
		if st.Size != 0 {
			return fmt.Errorf("%w: mirror holds %d entries but no checkpoint", ErrFatal, st.Size)
		}
		return nil
	}
	c, _, err := tlog.OpenCheckpoint(cp.Note, m.opts.Origin, m.opts.Verifier)
	if err != nil {
		return fmt.Errorf("%w: stored checkpoint does not verify: %v", ErrFatal, err)
	}
	if c.Tree.N != st.Size || c.Tree.Hash != m.root {
		return fmt.Errorf("%w: stored checkpoint (size %d) does not match the mirrored tree (size %d)", ErrFatal, c.Tree.N, st.Size)
	}
	m.latest.Store(&Signed{Checkpoint: c, Note: cp.Note})
	return nil
}

// Origin returns the mirrored log's origin.
func (m *Mirror) Origin() string { return m.opts.Origin }

// Latest returns the newest checkpoint the mirror holds with all its
// entries, and false if it holds none yet.
func (m *Mirror) Latest() (Signed, bool) {
	s := m.latest.Load()
	if s == nil {
		return Signed{}, false
	}
	return *s, true
}

// Size returns the number of entries the mirror holds.
func (m *Mirror) Size() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.size
}

// Add verifies a signed checkpoint of the mirrored log and the entries from
// the mirror's size up to the checkpoint's size, and stores both durably.
// It returns the mirror's newest checkpoint. Adding a checkpoint the mirror
// already covers is harmless: it is checked against the stored tree and
// ErrFork is returned if it contradicts it.
func (m *Mirror) Add(ctx context.Context, msg []byte, entries [][]byte) (Signed, error) {
	c, _, err := tlog.OpenCheckpoint(msg, m.opts.Origin, m.opts.Verifier)
	if err != nil {
		return Signed{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if c.Tree.N <= m.size {
		if len(entries) != 0 {
			return Signed{}, fmt.Errorf("%w: %d entries given for a checkpoint of size %d, mirror holds %d", ErrEntries, len(entries), c.Tree.N, m.size)
		}
		root, err := sumdb.TreeHash(c.Tree.N, m.tiles.hashReader(ctx))
		if err != nil {
			return Signed{}, err
		}
		if root != c.Tree.Hash {
			return Signed{}, fmt.Errorf("%w: size %d signed with root %v, mirrored tree has %v", ErrFork, c.Tree.N, c.Tree.Hash, root)
		}
		if s := m.latest.Load(); s != nil {
			return *s, nil
		}
		return m.store(ctx, c, msg, nil)
	}
	if int64(len(entries)) != c.Tree.N-m.size {
		return Signed{}, fmt.Errorf("%w: checkpoint of size %d needs entries %d to %d, got %d", ErrEntries, c.Tree.N, m.size, c.Tree.N-1, len(entries))
	}
	for i, e := range entries {
		if len(e) > tlog.MaxEntrySize {
			return Signed{}, fmt.Errorf("%w: entry %d has %d bytes", ErrEntries, m.size+int64(i), len(e))
		}
	}
	return m.store(ctx, c, msg, entries)
}

// store checks that the stored tree plus entries has c's root, and stores
// them with the checkpoint in one transaction.
func (m *Mirror) store(ctx context.Context, c tlog.Checkpoint, msg []byte, entries [][]byte) (Signed, error) {
	b, root, err := buildBatch(ctx, m.edge, m.size, entries)
	if err != nil {
		return Signed{}, err
	}
	if root != c.Tree.Hash {
		return Signed{}, fmt.Errorf("%w: the %d entries after %d give root %v, the checkpoint says %v", ErrEntries, len(entries), m.size, root, c.Tree.Hash)
	}
	b.Checkpoint = &store.Checkpoint{Size: c.Tree.N, Root: c.Tree.Hash, Note: msg}
	if err := m.st.Append(ctx, b); err != nil {
		if lerr := m.load(ctx); lerr != nil {
			return Signed{}, errors.Join(err, lerr)
		}
		if m.size != c.Tree.N {
			return Signed{}, fmt.Errorf("couldn't store mirror of %s at size %d: %w", m.opts.Origin, c.Tree.N, err)
		}
		m.log.Warn("mirror write reported an error but persisted", "size", c.Tree.N, "err", err)
	}
	m.edge.update(b.Tiles)
	m.size, m.root = c.Tree.N, root
	s := &Signed{Checkpoint: c, Note: msg}
	m.latest.Store(s)
	return *s, nil
}

// Entry returns mirrored entry index.
func (m *Mirror) Entry(ctx context.Context, index int64) ([]byte, error) {
	if index < 0 || index >= m.Size() {
		return nil, fmt.Errorf("entry %d: %w (mirror holds %d)", index, ErrOutOfRange, m.Size())
	}
	return readEntry(ctx, m.st, index)
}

// Entries returns mirrored entries start to end-1.
func (m *Mirror) Entries(ctx context.Context, start, end int64) ([][]byte, error) {
	if size := m.Size(); start < 0 || start > end || end > size {
		return nil, fmt.Errorf("entries %d to %d: %w (mirror holds %d)", start, end, ErrOutOfRange, size)
	}
	return readEntries(ctx, m.st, start, end)
}

// TreeHash returns the root of the mirrored tree of the given size, for
// comparing a checkpoint of the log obtained elsewhere (gossip) with what
// the mirror holds.
func (m *Mirror) TreeHash(ctx context.Context, size int64) (sumdb.Hash, error) {
	if n := m.Size(); size < 0 || size > n {
		return sumdb.Hash{}, fmt.Errorf("tree size %d: %w (mirror holds %d)", size, ErrOutOfRange, n)
	}
	return sumdb.TreeHash(size, m.tiles.hashReader(ctx))
}

// Handler serves the mirrored log in the c2sp.org/tlog-tiles layout, like
// Log.Handler, with the log's own checkpoint note.
func (m *Mirror) Handler() http.Handler {
	return tileHandler{
		latest: func() (Signed, bool) { return m.Latest() },
		read:   func(ctx context.Context, t sumdb.Tile) ([]byte, error) { return readTile(ctx, m.st, m.tiles, t) },
		log:    m.log,
	}
}
