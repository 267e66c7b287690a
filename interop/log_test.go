package interop

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	mrand "math/rand/v2"
	"path/filepath"
	"sync"
	"testing"

	"github.com/tillit/tillit/partylog"
	"github.com/tillit/tillit/store/sqlite"
	"github.com/tillit/tillit/tlog"
	"golang.org/x/mod/sumdb/note"
)

// testLog is a tillit log under test, with everything appended to it so far.
type testLog struct {
	*partylog.Log
	origin   string
	vkey     string // the log's signed-note verifier key
	verifier note.Verifier
	entries  [][]byte // entries[i] is entry i as appended
	rnd      *mrand.Rand
}

// newTestLog opens an empty tillit log in a fresh SQLite database, with a
// fresh Ed25519 key.
func newTestLog(t testing.TB, origin string) *testLog {
	t.Helper()
	ctx := context.Background()
	skey, vkey, err := note.GenerateKey(rand.Reader, origin)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "tillit.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	st, err := db.CreateLog(ctx, origin)
	if err != nil {
		t.Fatal(err)
	}
	lg, err := partylog.Open(ctx, st, partylog.Options{Origin: origin, Signer: signer})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := lg.Close(); err != nil {
			t.Errorf("closing the log: %v", err)
		}
	})
	return &testLog{Log: lg, origin: origin, vkey: vkey, verifier: verifier,
		rnd: mrand.New(mrand.NewPCG(1, uint64(len(origin))))}
}

// payload returns a binary entry of varied size: mostly small, some of a few
// KiB, and every 10,000th of the maximum size tlog-tiles allows. Entries
// contain "\n\n" so that a client splitting bundles the go.dev/design/25530
// way instead of by tlog-tiles length prefixes would fail.
func (l *testLog) payload(i int) []byte {
	var size int
	switch {
	case i%10_000 == 9_999:
		size = tlog.MaxEntrySize
	case i%97 == 0:
		size = 1 + l.rnd.IntN(8<<10)
	default:
		size = 1 + l.rnd.IntN(64)
	}
	e := make([]byte, size)
	for j := range e {
		e[j] = byte(l.rnd.Uint32())
	}
	if size >= 12 {
		binary.BigEndian.PutUint64(e, uint64(i))
		copy(e[8:], "\n\n")
	}
	return e
}

// appendN appends n new entries concurrently (so that the log batches them)
// and records each at the index the log returned.
func (l *testLog) appendN(t testing.TB, n int) {
	t.Helper()
	ctx := context.Background()
	start := len(l.entries)
	batch := make([][]byte, n)
	for i := range batch {
		batch[i] = l.payload(start + i)
	}
	l.entries = append(l.entries, make([][]byte, n)...)
	work := make(chan []byte)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 256 {
		wg.Go(func() {
			for e := range work {
				idx, err := l.Append(ctx, e)
				if err != nil {
					t.Errorf("append: %v", err)
					continue
				}
				mu.Lock()
				if idx < int64(start) || idx >= int64(start+n) || l.entries[idx] != nil {
					t.Errorf("append returned index %d, outside [%d, %d) or reused", idx, start, start+n)
				} else {
					l.entries[idx] = e
				}
				mu.Unlock()
			}
		})
	}
	for _, e := range batch {
		work <- e
	}
	close(work)
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	if got := l.Size(); got != int64(len(l.entries)) {
		t.Fatalf("log size %d after appending, want %d", got, len(l.entries))
	}
}

// checkpoint forces a checkpoint covering every entry appended so far.
func (l *testLog) checkpoint(t testing.TB) partylog.Signed {
	t.Helper()
	cp, err := l.Checkpoint(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if cp.Tree.N != int64(len(l.entries)) {
		t.Fatalf("checkpoint has size %d, want %d", cp.Tree.N, len(l.entries))
	}
	return cp
}
