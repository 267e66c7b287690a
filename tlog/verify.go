package tlog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// ErrNotFound is returned by a Fetcher for a resource that does not exist.
var ErrNotFound = errors.New("not found")

// A Fetcher returns the resource at path (such as "checkpoint" or
// "tile/0/x001/234") relative to a log prefix.
type Fetcher func(ctx context.Context, path string) ([]byte, error)

// maxResourceSize bounds any resource a Fetcher reads: a full bundle of
// maximum-size entries.
const maxResourceSize = TileWidth * (2 + MaxEntrySize)

// HTTPFetcher fetches resources from a tlog-tiles URL prefix. The default HTTP
// client (nil hc) has a 30-second timeout per resource. Compressed bundles are
// decompressed transparently.
func HTTPFetcher(prefix string, hc *http.Client) (Fetcher, error) {
	u, err := url.Parse(prefix)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("log URL %q must be an absolute http or https URL", prefix)
	}
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	prefix = strings.TrimSuffix(prefix, "/") + "/"
	return func(ctx context.Context, path string) ([]byte, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, prefix+path, nil)
		if err != nil {
			return nil, err
		}
		resp, err := hc.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		if resp.StatusCode == http.StatusNotFound {
			return nil, fmt.Errorf("%w at %s", ErrNotFound, req.URL)
		}
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("HTTP %s from %s", resp.Status, req.URL)
		}
		return readLimited(resp.Body)
	}, nil
}

// DirFetcher reads resources from a directory in the tlog-tiles layout, such
// as one written by an export.
func DirFetcher(dir string) Fetcher {
	root := os.DirFS(dir)
	return func(ctx context.Context, path string) ([]byte, error) {
		f, err := root.Open(filepath.ToSlash(path))
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w: no file %s", ErrNotFound, filepath.Join(dir, filepath.FromSlash(path)))
		} else if err != nil {
			return nil, err
		}
		defer f.Close()
		return readLimited(f)
	}
}

// readLimited reads a resource. Errors do not name the resource: the
// caller's Fault does.
func readLimited(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxResourceSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxResourceSize {
		return nil, fmt.Errorf("larger than %d bytes", maxResourceSize)
	}
	return b, nil
}

// A Fault is the first inconsistency VerifyLog found, and where.
type Fault struct {
	Path  string // the resource at fault, such as "tile/0/x001/234"
	Index int64  // the entry or hash index within the resource, or -1
	Err   error
}

func (f *Fault) Error() string {
	if f.Index >= 0 {
		return fmt.Sprintf("%s [%d]: %v", f.Path, f.Index, f.Err)
	}
	return fmt.Sprintf("%s: %v", f.Path, f.Err)
}

func (f *Fault) Unwrap() error { return f.Err }

// ErrMismatch is wrapped by faults where served data disagrees with what the
// verifier recomputed.
var ErrMismatch = errors.New("does not match the recomputed value")

// VerifyOptions tune VerifyLog.
type VerifyOptions struct {
	// Parallel is the number of bundles fetched at once (default 8).
	Parallel int
	// Progress, if set, is called after each bundle with the number of
	// entries verified so far and the tree size.
	Progress func(done, total int64)
	// Entry, if set, is called with every entry in order; an error stops
	// the verification and is reported as a fault at that entry.
	Entry func(index int64, entry []byte) error
}

// VerifyLog fetches a log's checkpoint, checks its signature by v and its
// origin, then fetches every entry bundle and every hash tile the checkpoint's
// tree requires, recomputes each hash from the entries up, and checks that
// every served tile matches and that the recomputed root is the checkpoint's.
// It returns the verified checkpoint, or the first *Fault found.
func VerifyLog(ctx context.Context, fetch Fetcher, origin string, v note.Verifier, opts VerifyOptions) (Checkpoint, error) {
	msg, err := fetch(ctx, "checkpoint")
	if err != nil {
		return Checkpoint{}, &Fault{Path: "checkpoint", Index: -1, Err: err}
	}
	c, _, err := OpenCheckpoint(msg, origin, v)
	if err != nil {
		return Checkpoint{}, &Fault{Path: "checkpoint", Index: -1, Err: err}
	}
	vr := &verifier{fetch: fetch, size: c.Tree.N, opts: opts}
	rf := compact.RangeFactory{Hash: rfc6962.DefaultHasher.HashChildren}
	vr.rng = rf.NewEmptyRange(0)
	if err := vr.run(ctx); err != nil {
		return Checkpoint{}, err
	}
	root := rfc6962.DefaultHasher.EmptyRoot()
	if c.Tree.N > 0 {
		if root, err = vr.rng.GetRootHash(nil); err != nil {
			return Checkpoint{}, &Fault{Path: "checkpoint", Index: -1, Err: err}
		}
	}
	if !bytes.Equal(root, c.Tree.Hash[:]) {
		return Checkpoint{}, &Fault{Path: "checkpoint", Index: -1, Err: fmt.Errorf("root hash: %w", ErrMismatch)}
	}
	return c, nil
}

type verifier struct {
	fetch   Fetcher
	size    int64
	opts    VerifyOptions
	rng     *compact.Range
	pending [64][]byte // expected hashes of the tile being filled at each level ≥ 1
	done    [64]int64  // full tiles verified at each level
}

type bundleResult struct {
	entries [][]byte
	tile0   []byte
	fault   *Fault
}

func (vr *verifier) run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	nb := vr.size / TileWidth // number of bundles, without overflow
	if vr.size%TileWidth != 0 {
		nb++
	}
	par := int64(vr.opts.Parallel)
	if par <= 0 {
		par = 8
	}
	// A ring of par result slots: bundle i's result arrives in slot i % par.
	ring := make([]chan bundleResult, par)
	start := func(i int64) {
		ch := make(chan bundleResult, 1)
		ring[i%par] = ch
		go func() { ch <- vr.fetchBundle(ctx, i) }()
	}
	for i := int64(0); i < min(par, nb); i++ {
		start(i)
	}
	for i := int64(0); i < nb; i++ {
		r := <-ring[i%par]
		if i+par < nb {
			start(i + par)
		}
		if r.fault != nil {
			return r.fault
		}
		if err := vr.checkBundle(ctx, i, r); err != nil {
			return err
		}
		if vr.opts.Progress != nil {
			vr.opts.Progress(min((i+1)*TileWidth, vr.size), vr.size)
		}
	}
	return vr.finishPartials(ctx)
}

func (vr *verifier) fetchBundle(ctx context.Context, n int64) bundleResult {
	bt, _ := TileForSize(EntriesLevel, n, vr.size)
	path := TilePath(bt)
	data, err := vr.fetch(ctx, path)
	if err != nil {
		return bundleResult{fault: &Fault{Path: path, Index: -1, Err: err}}
	}
	entries, err := SplitBundle(data)
	if err != nil {
		return bundleResult{fault: &Fault{Path: path, Index: -1, Err: err}}
	}
	if len(entries) != bt.W {
		return bundleResult{fault: &Fault{Path: path, Index: -1, Err: fmt.Errorf("%w: holds %d entries, want %d", ErrBadBundle, len(entries), bt.W)}}
	}
	t0 := bt
	t0.L = 0
	tile0, err := vr.fetch(ctx, TilePath(t0))
	if err != nil {
		return bundleResult{fault: &Fault{Path: TilePath(t0), Index: -1, Err: err}}
	}
	return bundleResult{entries: entries, tile0: tile0}
}

func (vr *verifier) checkBundle(ctx context.Context, n int64, r bundleResult) error {
	bt, _ := TileForSize(0, n, vr.size)
	path := TilePath(bt)
	if len(r.tile0) != bt.W*tlog.HashSize {
		return &Fault{Path: path, Index: -1, Err: fmt.Errorf("%d bytes, want %d", len(r.tile0), bt.W*tlog.HashSize)}
	}
	for i, e := range r.entries {
		idx := n*TileWidth + int64(i)
		if vr.opts.Entry != nil {
			if err := vr.opts.Entry(idx, e); err != nil {
				et := bt
				et.L = EntriesLevel
				return &Fault{Path: TilePath(et), Index: int64(i), Err: fmt.Errorf("entry %d: %w", idx, err)}
			}
		}
		h := tlog.RecordHash(e)
		if !bytes.Equal(h[:], r.tile0[i*tlog.HashSize:(i+1)*tlog.HashSize]) {
			return &Fault{Path: path, Index: int64(i), Err: fmt.Errorf("leaf hash of entry %d: %w", idx, ErrMismatch)}
		}
		if err := vr.rng.Append(h[:], nil); err != nil {
			return err
		}
	}
	if bt.W == TileWidth {
		return vr.push(ctx, 1, tileRoot(r.tile0))
	}
	return nil
}

// push records the hash of a full tile at level l-1 into the tile at level l,
// and verifies that tile once it is full.
func (vr *verifier) push(ctx context.Context, l int, h tlog.Hash) error {
	vr.pending[l] = append(vr.pending[l], h[:]...)
	if len(vr.pending[l]) < TileWidth*tlog.HashSize {
		return nil
	}
	n := vr.treeTilesDone(l)
	t := tlog.Tile{H: TileHeight, L: l, N: n, W: TileWidth}
	if err := vr.compareTile(ctx, t, vr.pending[l]); err != nil {
		return err
	}
	full := vr.pending[l]
	vr.pending[l] = nil
	vr.done[l]++
	return vr.push(ctx, l+1, tileRoot(full))
}

// finishPartials verifies the rightmost partial tile at each level ≥ 1. A
// level whose tiles are all full has none, but levels above it may.
func (vr *verifier) finishPartials(ctx context.Context) error {
	for l := 1; l < 64; l++ {
		if _, ok := TileForSize(l, 0, vr.size); !ok {
			break // no tile at this level or above
		}
		t, ok := TileForSize(l, vr.done[l], vr.size)
		switch {
		case !ok && len(vr.pending[l]) == 0:
			continue
		case !ok || t.W == TileWidth || t.W*tlog.HashSize != len(vr.pending[l]):
			return &Fault{Path: fmt.Sprintf("tile/%d", l), Index: -1, Err: fmt.Errorf("tree shape: internal inconsistency at level %d", l)}
		}
		if err := vr.compareTile(ctx, t, vr.pending[l]); err != nil {
			return err
		}
	}
	return nil
}

func (vr *verifier) treeTilesDone(l int) int64 { return vr.done[l] }

func (vr *verifier) compareTile(ctx context.Context, t tlog.Tile, want []byte) error {
	path := TilePath(t)
	got, err := vr.fetch(ctx, path)
	if err != nil {
		return &Fault{Path: path, Index: -1, Err: err}
	}
	if len(got) != len(want) {
		return &Fault{Path: path, Index: -1, Err: fmt.Errorf("%d bytes, want %d", len(got), len(want))}
	}
	for i := 0; i < len(want); i += tlog.HashSize {
		if !bytes.Equal(got[i:i+tlog.HashSize], want[i:i+tlog.HashSize]) {
			return &Fault{Path: path, Index: int64(i / tlog.HashSize), Err: fmt.Errorf("hash: %w", ErrMismatch)}
		}
	}
	return nil
}

// tileRoot returns the Merkle Tree Hash of a full tile's 256 hashes: the hash
// the tile contributes to the level above (c2sp.org/tlog-tiles, "Merkle Tree").
func tileRoot(data []byte) tlog.Hash {
	var level [TileWidth]tlog.Hash
	for i := range level {
		copy(level[i][:], data[i*tlog.HashSize:])
	}
	hs := level[:]
	for len(hs) > 1 {
		for i := 0; i < len(hs)/2; i++ {
			hs[i] = tlog.NodeHash(hs[2*i], hs[2*i+1])
		}
		hs = hs[:len(hs)/2]
	}
	return hs[0]
}
