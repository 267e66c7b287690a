package partylog

// Property test: random sequences of append batches (sizes, concurrency,
// injected store faults), AppendAll, forced checkpoints and restarts on
// store/memstore, with an invariant checker that re-verifies the whole log
// after every step, as Sunlight does: every proof against an independent
// reference tree, the served tiles with tlog.VerifyLog, and the rejection of
// any single flipped byte in served data, entries and proofs.

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tillit/tillit/store/memstore"
	"github.com/tillit/tillit/tlog"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/merkle/testonly"
	"golang.org/x/mod/sumdb/note"
	sumdb "golang.org/x/mod/sumdb/tlog"
	"pgregory.net/rapid"
)

// setDefaultRapidChecks sets rapid's number of checks for this test unless
// -rapid.checks or RAPID_CHECKS chose one. rapid divides it by 5 in -short.
func setDefaultRapidChecks(t *testing.T, n int) {
	f := flag.Lookup("rapid.checks")
	if f == nil || os.Getenv("RAPID_CHECKS") != "" {
		return
	}
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "rapid.checks" })
	if set {
		return
	}
	old := f.Value.String()
	if err := f.Value.Set(strconv.Itoa(n)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Value.Set(old) })
}

func TestPropertyLog(t *testing.T) {
	setDefaultRapidChecks(t, 30)
	s, v := testKey(t)
	maxSteps, maxAppend := 8, 150
	if testing.Short() {
		maxSteps, maxAppend = 5, 50
	}
	rapid.Check(t, func(rt *rapid.T) {
		p := newPropLog(rt, s, v)
		p.maxAppend = maxAppend
		defer p.close()
		steps := rapid.IntRange(1, maxSteps).Draw(rt, "steps")
		for range steps {
			switch rapid.SampledFrom([]string{"append", "append", "append", "appendAll", "checkpoint", "checkpointFault", "reopen"}).Draw(rt, "action") {
			case "append":
				p.append(false)
			case "appendAll":
				p.append(true)
			case "checkpoint":
				p.checkpoint()
			case "checkpointFault":
				p.checkpointFault()
			case "reopen":
				p.reopen()
			}
			p.check()
		}
	})
}

type propLog struct {
	rt   *rapid.T
	ctx  context.Context
	ms   *memstore.Log
	rec  *sigRecorder
	v    note.Verifier
	lg   atomic.Pointer[Log]
	srv  *httptest.Server
	want [][]byte // committed entries, by index
	ref  *testonly.Tree
	next int // entries generated so far, to keep them unique

	maxAppend int // most entries in one append step

	checked        map[int64]bool // tree sizes whose proofs were all checked
	entriesChecked int            // entries read back with Entry
	proofsChecked  []byte         // checkpoint against which every Proof was checked
}

func newPropLog(rt *rapid.T, s note.Signer, v note.Verifier) *propLog {
	p := &propLog{
		rt:  rt,
		ctx: context.Background(),
		ms:  memstore.New(),
		rec: &sigRecorder{Signer: s, v: v, roots: map[int64]sumdb.Hash{}},
		v:   v,
		ref: testonly.New(rfc6962.DefaultHasher),

		checked: map[int64]bool{},
	}
	p.open()
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.lg.Load().Handler().ServeHTTP(w, r)
	}))
	return p
}

func (p *propLog) open() {
	opts := Options{
		Origin:             testOrigin,
		Signer:             p.rec,
		CheckpointInterval: rapid.SampledFrom([]time.Duration{time.Hour, time.Millisecond, 10 * time.Millisecond}).Draw(p.rt, "interval"),
		MaxBatch:           rapid.SampledFrom([]int{1, 3, 16, 255, 256, 0}).Draw(p.rt, "maxBatch"),
		Logger:             slog.New(slog.DiscardHandler),
	}
	lg, err := Open(p.ctx, p.ms, opts)
	if err != nil {
		p.rt.Fatalf("Open: %v", err)
	}
	p.lg.Store(lg)
}

func (p *propLog) close() {
	// A checkpoint fault still queued is taken by the final checkpoint.
	if err := p.lg.Load().Close(); err != nil && !errors.Is(err, memstore.ErrInjected) {
		p.rt.Errorf("Close: %v", err)
	}
	p.srv.Close()
}

// newEntries returns n unique entries of random sizes.
func (p *propLog) newEntries(n int) [][]byte {
	maxSize := rapid.SampledFrom([]int{8, 64, 300, 3000}).Draw(p.rt, "maxSize")
	huge := rapid.IntRange(0, 9).Draw(p.rt, "huge") == 0
	rng := rand.New(rand.NewPCG(rapid.Uint64().Draw(p.rt, "seed"), 0))
	out := make([][]byte, n)
	for i := range out {
		e := fmt.Appendf(nil, "%d:", p.next)
		p.next++
		size := 1 + rng.IntN(maxSize)
		if huge && i == n/2 {
			size = tlog.MaxEntrySize // the largest entry a bundle can carry
		}
		for len(e) < size {
			e = append(e, byte(rng.Uint32()))
		}
		out[i] = e
	}
	return out
}

// append appends a batch with random concurrency (or with AppendAll), maybe
// with an injected store fault, and checks the indexes it got.
func (p *propLog) append(all bool) {
	rt, lg := p.rt, p.lg.Load()
	n := rapid.IntRange(1, p.maxAppend).Draw(rt, "n")
	entries := p.newEntries(n)
	fault := rapid.SampledFrom([]string{"none", "none", "none", "lost", "persisted"}).Draw(rt, "fault")
	switch fault {
	case "lost":
		p.ms.FailNext(memstore.OpAppend, memstore.Lost)
	case "persisted":
		p.ms.FailNext(memstore.OpAppend, memstore.Persisted)
	}
	big := make([]byte, tlog.MaxEntrySize+1)
	if _, err := lg.Append(p.ctx, big); !errors.Is(err, ErrEntryTooLarge) {
		rt.Fatalf("Append of %d bytes: %v, want ErrEntryTooLarge", len(big), err)
	}
	idxs := make([]int64, n)
	errs := make([]error, n)
	if all {
		var err error
		idxs, err = lg.AppendAll(p.ctx, entries)
		for i := range idxs {
			if idxs[i] < 0 {
				errs[i] = err
			}
		}
		for i := 1; i < n; i++ {
			if idxs[i] >= 0 && idxs[i-1] >= 0 && idxs[i] <= idxs[i-1] {
				rt.Fatalf("AppendAll: entry %d at %d after entry %d at %d", i, idxs[i], i-1, idxs[i-1])
			}
		}
	} else {
		conc := rapid.IntRange(1, 16).Draw(rt, "concurrency")
		var wg sync.WaitGroup
		for g := range conc {
			wg.Go(func() {
				for i := g; i < n; i += conc {
					idxs[i], errs[i] = lg.Append(p.ctx, entries[i])
				}
			})
		}
		wg.Wait()
	}
	old := int64(len(p.want))
	got := map[int64][]byte{}
	failed := 0
	for i := range n {
		switch {
		case errs[i] == nil:
			if _, dup := got[idxs[i]]; dup || idxs[i] < old || idxs[i] >= old+int64(n) {
				rt.Fatalf("entry %d: bad or duplicate index %d (log had %d)", i, idxs[i], old)
			}
			got[idxs[i]] = entries[i]
		case fault == "lost" && errors.Is(errs[i], memstore.ErrInjected):
			failed++
		default:
			rt.Fatalf("entry %d: append failed with %v (fault %s)", i, errs[i], fault)
		}
	}
	if fault == "lost" && failed == 0 {
		rt.Fatalf("the injected lost write was reported as a success")
	}
	for i := old; i < old+int64(len(got)); i++ {
		e, ok := got[i]
		if !ok {
			rt.Fatalf("indexes not dense: %d missing among %d successful appends from %d", i, len(got), old)
		}
		p.want = append(p.want, e)
		p.ref.AppendData(e)
	}
}

func (p *propLog) checkpoint() {
	cp, err := p.lg.Load().Checkpoint(p.ctx)
	if err != nil {
		p.rt.Fatalf("Checkpoint: %v", err)
	}
	if cp.Tree.N != int64(len(p.want)) {
		p.rt.Fatalf("forced checkpoint has size %d, want %d", cp.Tree.N, len(p.want))
	}
}

// checkpointFault appends an entry, makes the next checkpoint write fail
// (lost or persisted), and asks for checkpoints until one covers the entry.
// Whether the failing write was a requested or a timed checkpoint, the
// invariant checker then checks that nothing unstored was released.
func (p *propLog) checkpointFault() {
	rt, lg := p.rt, p.lg.Load()
	e := p.newEntries(1)[0]
	idx, err := lg.Append(p.ctx, e)
	if err != nil || idx != int64(len(p.want)) {
		rt.Fatalf("Append = %d, %v; want %d", idx, err, len(p.want))
	}
	p.want = append(p.want, e)
	p.ref.AppendData(e)
	o := rapid.SampledFrom([]memstore.Outcome{memstore.Lost, memstore.Persisted}).Draw(rt, "checkpointOutcome")
	p.ms.FailNext(memstore.OpSetCheckpoint, o)
	for try := 0; ; try++ {
		ctx, cancel := context.WithTimeout(p.ctx, 30*time.Millisecond)
		cp, err := lg.Checkpoint(ctx)
		cancel()
		if err == nil && cp.Tree.N == int64(len(p.want)) {
			return
		}
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			rt.Fatalf("Checkpoint after a failed checkpoint write: %v", err)
		}
		if try == 9 {
			rt.Fatalf("no checkpoint of size %d after %d requests (latest %d)", len(p.want), try+1, lg.Latest().Tree.N)
		}
	}
}

// reopen models a clean restart: Close signs a final checkpoint, and Open
// on the same store must come back with it.
func (p *propLog) reopen() {
	lg := p.lg.Load()
	cerr := lg.Close()
	if cerr != nil && !errors.Is(cerr, memstore.ErrInjected) {
		p.rt.Fatalf("Close: %v", cerr)
	}
	final := lg.Latest()
	if cerr == nil && final.Tree.N != int64(len(p.want)) {
		p.rt.Fatalf("final checkpoint has size %d, want %d", final.Tree.N, len(p.want))
	}
	p.open()
	got := p.lg.Load().Latest()
	if cerr == nil && !bytes.Equal(got.Note, final.Note) {
		p.rt.Fatalf("reopened with checkpoint %v, closed with %v", got.Tree, final.Tree)
	}
	if got.Tree.N != int64(len(p.want)) {
		// A failed final checkpoint is made good by the first one after Open.
		p.rt.Fatalf("reopened with checkpoint size %d, want %d", got.Tree.N, len(p.want))
	}
}

func (p *propLog) root(n int64) []byte { return p.ref.HashAt(uint64(n)) }

// check is the invariant checker, run after every step.
func (p *propLog) check() {
	rt, ctx, lg := p.rt, p.ctx, p.lg.Load()
	n := int64(len(p.want))
	if err := lg.Err(); err != nil {
		rt.Fatalf("log stopped: %v", err)
	}
	if lg.Size() != n {
		rt.Fatalf("log has %d entries, want %d", lg.Size(), n)
	}
	// Entry for the entries new since the last check, and the first and
	// last; VerifyLog below checks every served entry.
	for i, w := range p.want {
		if i < p.entriesChecked && i != 0 && i != len(p.want)-1 {
			continue
		}
		e, err := lg.Entry(ctx, int64(i))
		if err != nil || !bytes.Equal(e, w) {
			rt.Fatalf("entry %d = %.20q, %v; want %.20q", i, e, err, w)
		}
	}
	p.entriesChecked = len(p.want)
	for size := int64(0); size <= n; size++ {
		h, err := lg.TreeHash(ctx, size)
		if err != nil || !bytes.Equal(h[:], p.root(size)) {
			rt.Fatalf("root of size %d = %v, %v; reference %x", size, h, err, p.root(size))
		}
	}

	// Every checkpoint ever signed, released or not: one root per size,
	// the root of our tree at that size.
	p.rec.mu.Lock()
	second := slices.Clone(p.rec.second)
	p.rec.mu.Unlock()
	if len(second) > 0 {
		rt.Fatalf("second root signed for %v", second)
	}
	signed := p.rec.signed()
	for size, h := range signed {
		if size > n || !bytes.Equal(h[:], p.root(size)) {
			rt.Fatalf("signed root %v for size %d is not the tree's", h, size)
		}
	}
	cp := lg.Latest()
	c, _, err := tlog.OpenCheckpoint(cp.Note, testOrigin, p.v)
	if err != nil || c.Tree != cp.Tree {
		rt.Fatalf("latest checkpoint %v does not verify: %v", cp.Tree, err)
	}
	if st, err := p.ms.Load(ctx); err != nil || st.Checkpoint.Size < cp.Tree.N {
		rt.Fatalf("released checkpoint %d is beyond the stored one %d (%v)", cp.Tree.N, st.Checkpoint.Size, err)
	}

	// Inclusion of every entry at every signed size (and the current size),
	// and consistency between every two of them. A tree of a given size never
	// changes, so a size is checked in full at the first check that sees it;
	// after that, its proofs are checked again from the current size only.
	sizes := []int64{n}
	for size := range signed {
		sizes = append(sizes, size)
	}
	slices.Sort(sizes)
	sizes = slices.Compact(sizes)
	fresh := func(size int64) bool { return size == n || size == cp.Tree.N || !p.checked[size] }
	for _, size := range sizes {
		if !fresh(size) {
			continue
		}
		for i := range size {
			pr, err := lg.ProveInclusion(ctx, i, size)
			if err != nil {
				rt.Fatalf("inclusion of %d in %d: %v", i, size, err)
			}
			want, _ := p.ref.InclusionProof(uint64(i), uint64(size))
			if !equalHashes(hashes(pr), want) {
				rt.Fatalf("inclusion of %d in %d differs from the reference", i, size)
			}
			if err := proof.VerifyInclusion(rfc6962.DefaultHasher, uint64(i), uint64(size), p.ref.LeafHash(uint64(i)), hashes(pr), p.root(size)); err != nil {
				rt.Fatalf("inclusion of %d in %d: %v", i, size, err)
			}
		}
	}
	for a, old := range sizes {
		for _, size := range sizes[a:] {
			if !fresh(old) && !fresh(size) {
				continue
			}
			pr, err := lg.ProveConsistency(ctx, old, size)
			if err != nil {
				rt.Fatalf("consistency %d→%d: %v", old, size, err)
			}
			want, _ := p.ref.ConsistencyProof(uint64(old), uint64(size))
			if !equalHashes(hashes(pr), want) {
				rt.Fatalf("consistency %d→%d differs from the reference", old, size)
			}
			if err := proof.VerifyConsistency(rfc6962.DefaultHasher, uint64(old), uint64(size), hashes(pr), p.root(old), p.root(size)); err != nil {
				rt.Fatalf("consistency %d→%d: %v", old, size, err)
			}
		}
	}
	for _, size := range sizes {
		p.checked[size] = true
	}

	// Portable proofs, their encoding (for every entry when the latest
	// checkpoint is new), and tampering with them.
	for i := range cp.Tree.N {
		if bytes.Equal(cp.Note, p.proofsChecked) {
			break
		}
		pr, err := lg.Proof(ctx, i)
		if err != nil {
			rt.Fatalf("proof of %d: %v", i, err)
		}
		data := pr.Marshal()
		parsed, err := tlog.ParseProof(data)
		if err != nil || !bytes.Equal(parsed.Marshal(), data) {
			rt.Fatalf("proof of %d does not round-trip: %v", i, err)
		}
		vc, _, err := tlog.VerifyProof(parsed, sumdb.RecordHash(p.want[i]), testOrigin, p.v)
		if err != nil {
			rt.Fatalf("proof of %d: %v", i, err)
		}
		if vc.Tree.N < cp.Tree.N {
			rt.Fatalf("proof of %d against checkpoint %d, latest was %d", i, vc.Tree.N, cp.Tree.N)
		}
	}
	p.proofsChecked = cp.Note
	if cp.Tree.N > 0 {
		p.tamperProof(cp.Tree.N)
	}

	// The served log, and tampering with it.
	srvFetch, err := tlog.HTTPFetcher(p.srv.URL, nil)
	if err != nil {
		rt.Fatal(err)
	}
	var mu sync.Mutex
	fetched := map[string][]byte{}
	recording := func(ctx context.Context, path string) ([]byte, error) {
		b, err := srvFetch(ctx, path)
		mu.Lock()
		fetched[path] = b
		mu.Unlock()
		return b, err
	}
	vc, err := tlog.VerifyLog(ctx, recording, testOrigin, p.v, tlog.VerifyOptions{Entry: func(i int64, e []byte) error {
		if !bytes.Equal(e, p.want[i]) {
			return fmt.Errorf("served entry differs")
		}
		return nil
	}})
	if err != nil {
		rt.Fatalf("VerifyLog: %v", err)
	}
	if vc.Tree.N < cp.Tree.N || vc.Tree.N > n || !bytes.Equal(vc.Tree.Hash[:], p.root(vc.Tree.N)) {
		rt.Fatalf("served checkpoint %v; latest was %v, size %d", vc.Tree, cp.Tree, n)
	}
	paths := make([]string, 0, len(fetched))
	for path := range fetched {
		paths = append(paths, path)
	}
	sort.Strings(paths)
	for range 2 {
		p.tamperServed(paths, fetched, srvFetch)
	}
}

// tamperProof flips one byte of a marshalled proof, or of the entry it
// proves: verification must fail.
func (p *propLog) tamperProof(size int64) {
	rt := p.rt
	i := rapid.Int64Range(0, size-1).Draw(rt, "proofIndex")
	pr, err := p.lg.Load().Proof(p.ctx, i)
	if err != nil {
		rt.Fatal(err)
	}
	data := pr.Marshal()
	off := rapid.IntRange(0, len(data)-1).Draw(rt, "proofOffset")
	x := rapid.ByteMin(1).Draw(rt, "proofXor")
	bad := slices.Clone(data)
	bad[off] ^= x
	if q, err := tlog.ParseProof(bad); err == nil {
		if _, _, err := tlog.VerifyProof(q, sumdb.RecordHash(p.want[i]), testOrigin, p.v); err == nil {
			rt.Fatalf("proof of %d with byte %d ^ %#x verifies", i, off, x)
		}
	}
	e := slices.Clone(p.want[i])
	eoff := rapid.IntRange(0, len(e)-1).Draw(rt, "entryOffset")
	e[eoff] ^= x
	if _, _, err := tlog.VerifyProof(pr, sumdb.RecordHash(e), testOrigin, p.v); err == nil {
		rt.Fatalf("proof of %d verifies for the entry with byte %d ^ %#x", i, eoff, x)
	}
	leaf := rfc6962.DefaultHasher.HashLeaf(e)
	c, _, _ := tlog.OpenCheckpoint(pr.Checkpoint, testOrigin, p.v)
	if proof.VerifyInclusion(rfc6962.DefaultHasher, uint64(i), uint64(c.Tree.N), leaf, hashes(pr.Inclusion), c.Tree.Hash[:]) == nil {
		rt.Fatalf("merkle/proof verifies entry %d with byte %d ^ %#x", i, eoff, x)
	}
}

// tamperServed flips one byte of one resource served to VerifyLog (a
// checkpoint, an entry bundle or a hash tile): VerifyLog must fail.
func (p *propLog) tamperServed(paths []string, fetched map[string][]byte, fetch tlog.Fetcher) {
	rt := p.rt
	path := rapid.SampledFrom(paths).Draw(rt, "path")
	if len(fetched[path]) == 0 {
		return
	}
	off := rapid.IntRange(0, len(fetched[path])-1).Draw(rt, "offset")
	x := rapid.ByteMin(1).Draw(rt, "xor")
	var served []byte
	flipping := func(ctx context.Context, q string) ([]byte, error) {
		b, err := fetch(ctx, q)
		if err != nil || q != path {
			return b, err
		}
		if off >= len(b) { // the log grew and served a newer checkpoint
			return b, err
		}
		b[off] ^= x
		served = b
		return b, nil
	}
	_, err := tlog.VerifyLog(p.ctx, flipping, testOrigin, p.v, tlog.VerifyOptions{})
	if err != nil || served == nil {
		return
	}
	rt.Fatalf("VerifyLog succeeded with byte %d of %s flipped (^ %#x)", off, path, x)
}

// TestCheckpointNoteNotMalleable: the tlog package promises that "two
// different byte strings never parse to the same value" (tlog/doc.go), but
// OpenCheckpoint and VerifyProof (tlog/checkpoint.go, tlog/proof.go) pass the
// note to golang.org/x/mod/sumdb/note.Open, which decodes signatures with the
// non-strict base64.StdEncoding: the unused low bits of the last base64
// character before "=" are ignored. Changing them gives another byte string
// that verifies as the same signed checkpoint (no forgery, but checkpoints
// and proofs are malleable, e.g. for anyone deduplicating them by bytes).
func TestCheckpointNoteNotMalleable(t *testing.T) {
	ctx := context.Background()
	s, v := testKey(t)
	lg, err := Open(ctx, memstore.New(), Options{Origin: testOrigin, Signer: s})
	if err != nil {
		t.Fatal(err)
	}
	defer lg.Close()
	if _, err := lg.Append(ctx, entry(0)); err != nil {
		t.Fatal(err)
	}
	cp, err := lg.Checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	msg := cp.Note
	// The signature (4-byte key hash and 64-byte Ed25519 signature) is 68
	// bytes: 23 base64 groups, the last holding 2 bytes in three characters
	// and "=". The third character carries 4 bits and 2 unused ones that a
	// canonical encoder leaves zero; set one of them.
	pad := bytes.LastIndex(msg, []byte("=\n"))
	if pad < 1 {
		t.Fatalf("signature has no padding: %q", msg)
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	v6 := strings.IndexByte(alphabet, msg[pad-1])
	if v6 < 0 || v6&3 != 0 {
		t.Fatalf("unexpected last signature character %q", msg[pad-1])
	}
	bad := slices.Clone(msg)
	bad[pad-1] = alphabet[v6|1]
	if _, _, err := tlog.OpenCheckpoint(bad, testOrigin, v); err == nil {
		t.Errorf("OpenCheckpoint accepts the checkpoint with its last signature character %q changed to %q", msg[pad-1], bad[pad-1])
	}
	pr, err := lg.Proof(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	pr.Checkpoint = bad
	if _, _, err := tlog.VerifyProof(pr, sumdb.RecordHash(entry(0)), testOrigin, v); err == nil {
		t.Errorf("VerifyProof accepts a proof whose checkpoint signature is non-canonical base64 (%q for %q)", bad[pad-1], msg[pad-1])
	}
}
