package partylog

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/tillit/tillit/internal/keys"
	"github.com/tillit/tillit/store"
	"github.com/tillit/tillit/store/memstore"
	"github.com/tillit/tillit/store/sqlite"
	"github.com/tillit/tillit/tlog"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"
)

const testOrigin = "example/test"

func testKey(t testing.TB) (note.Signer, note.Verifier) {
	t.Helper()
	skey, vkey, err := note.GenerateKey(rand.Reader, testOrigin)
	if err != nil {
		t.Fatal(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	return s, v
}

func sqliteStore(t testing.TB) store.LogStore {
	t.Helper()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "log.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	l, err := db.CreateLog(context.Background(), testOrigin)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func backends() map[string]func(testing.TB) store.LogStore {
	return map[string]func(testing.TB) store.LogStore{
		"sqlite":   sqliteStore,
		"memstore": func(testing.TB) store.LogStore { return memstore.New() },
	}
}

func entry(i int) []byte { return []byte(fmt.Sprintf(`{"n":%d,"pad":"%0200d"}`, i, i)) }

func TestAppendProveServe(t *testing.T) {
	for name, mk := range backends() {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			s, v := testKey(t)
			lg, err := Open(ctx, mk(t), Options{Origin: testOrigin, Signer: s})
			if err != nil {
				t.Fatal(err)
			}
			defer lg.Close()
			const n = 1000
			var wg sync.WaitGroup
			got := make([]int64, n)
			for i := range n {
				wg.Go(func() {
					idx, err := lg.Append(ctx, entry(i))
					if err != nil {
						t.Error(err)
					}
					got[i] = idx
				})
			}
			wg.Wait()
			seen := map[int64]bool{}
			for _, idx := range got {
				if idx < 0 || idx >= n || seen[idx] {
					t.Fatalf("bad or duplicate index %d", idx)
				}
				seen[idx] = true
			}
			cp, err := lg.Checkpoint(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if cp.Tree.N != n {
				t.Fatalf("checkpoint size %d, want %d", cp.Tree.N, n)
			}
			// Independent check of every proof with transparency-dev/merkle.
			leaves := make([][]byte, n)
			for i := range n {
				e, err := lg.Entry(ctx, int64(i))
				if err != nil {
					t.Fatal(err)
				}
				leaves[i] = rfc6962.DefaultHasher.HashLeaf(e)
			}
			for _, size := range []int64{1, 2, 3, 255, 256, 257, 511, 512, 513, 999, 1000} {
				root, err := lg.TreeHash(ctx, size)
				if err != nil {
					t.Fatal(err)
				}
				for _, i := range []int64{0, size / 2, size - 1} {
					p, err := lg.ProveInclusion(ctx, i, size)
					if err != nil {
						t.Fatal(err)
					}
					if err := proof.VerifyInclusion(rfc6962.DefaultHasher, uint64(i), uint64(size), leaves[i], hashes(p), root[:]); err != nil {
						t.Fatalf("inclusion %d in %d: %v", i, size, err)
					}
				}
				p, err := lg.ProveConsistency(ctx, size, n)
				if err != nil {
					t.Fatal(err)
				}
				if err := proof.VerifyConsistency(rfc6962.DefaultHasher, uint64(size), n, hashes(p), root[:], cp.Tree.Hash[:]); err != nil {
					t.Fatalf("consistency %d→%d: %v", size, n, err)
				}
			}
			srv := httptest.NewServer(lg.Handler())
			defer srv.Close()
			f, err := tlog.HTTPFetcher(srv.URL, nil)
			if err != nil {
				t.Fatal(err)
			}
			vc, err := tlog.VerifyLog(ctx, f, testOrigin, v, tlog.VerifyOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if vc.Tree != cp.Tree {
				t.Fatalf("verified %v, want %v", vc.Tree, cp.Tree)
			}
			dir := t.TempDir()
			if _, err := lg.Export(ctx, dir, nil); err != nil {
				t.Fatal(err)
			}
			if _, err := tlog.VerifyLog(ctx, tlog.DirFetcher(dir), testOrigin, v, tlog.VerifyOptions{}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func hashes[T ~[]H, H ~[32]byte](p T) [][]byte {
	out := make([][]byte, len(p))
	for i := range p {
		out[i] = p[i][:]
	}
	return out
}

func TestMetrics(t *testing.T) {
	ctx := context.Background()
	s, _ := testKey(t)
	reg := prometheus.NewRegistry()
	lg, err := Open(ctx, memstore.New(), Options{Origin: testOrigin, Signer: s, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	defer lg.Close()
	idx, err := lg.AppendAll(ctx, [][]byte{entry(0), entry(1), entry(2)})
	if err != nil || len(idx) != 3 {
		t.Fatal(idx, err)
	}
	if _, err := lg.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	if got := testutil.ToFloat64(lg.metrics.appends); got != 3 {
		t.Errorf("appends_total = %v, want 3", got)
	}
	if got := testutil.ToFloat64(lg.metrics.cpSize); got != 3 {
		t.Errorf("checkpoint_size = %v, want 3", got)
	}
	if n, err := testutil.GatherAndCount(reg, "tillit_log_size"); err != nil || n != 1 {
		t.Errorf("tillit_log_size registered %d times (%v), want 1", n, err)
	}
	// A second log with another origin can share the registry.
	s2, _, _, _ := keys.Parse(mustKey(t, "example/other"))
	lg2, err := Open(ctx, memstore.New(), Options{Origin: "example/other", Signer: s2, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	lg2.Close()
	// A closed log's metrics are gone: the same origin can open again.
	lg.Close()
	lg3, err := Open(ctx, memstore.New(), Options{Origin: testOrigin, Signer: s, Registerer: reg})
	if err != nil {
		t.Fatalf("reopening with the same registry: %v", err)
	}
	lg3.Close()
}

func mustKey(t *testing.T, name string) string {
	skey, _, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		t.Fatal(err)
	}
	return skey
}
