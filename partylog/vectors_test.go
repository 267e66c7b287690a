package partylog

// RFC 6962 test vectors from github.com/transparency-dev/merkle: the leaf
// inputs, node and root hashes of its testonly package, and the inclusion and
// consistency proof vectors of its proof package tests (copied below, as
// they are not exported; Apache 2.0, Copyright 2017 Google LLC).

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http/httptest"
	"testing"

	"github.com/tillit/tillit/store"
	"github.com/tillit/tillit/tlog"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/merkle/testonly"
	sumdb "golang.org/x/mod/sumdb/tlog"
)

// rfc6962Vector is a proof vector: for inclusion, a is the 1-based leaf
// number and b the tree size; for consistency, a and b are the two sizes.
type rfc6962Vector struct {
	a, b  int64
	proof []string // hex
}

// From github.com/transparency-dev/merkle@v0.0.2 proof/verify_test.go
// (inclusionProofs, without the {0, 0, nil} entry, which is invalid input).
var rfc6962InclusionVectors = []rfc6962Vector{
	{1, 1, nil},
	{1, 8, []string{
		"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
		"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
		"6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
	}},
	{6, 8, []string{
		"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
		"ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
		"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
	}},
	{3, 3, []string{
		"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
	}},
	{2, 5, []string{
		"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
		"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
		"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
	}},
}

// From the same file (consistencyProofs).
var rfc6962ConsistencyVectors = []rfc6962Vector{
	{1, 1, nil},
	{1, 8, []string{
		"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
		"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
		"6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
	}},
	{6, 8, []string{
		"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
		"ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
		"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
	}},
	{2, 5, []string{
		"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
		"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
	}},
	{6, 7, []string{
		"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
		"b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
		"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
	}},
}

func hexHashes(t *testing.T, hs []string) [][]byte {
	t.Helper()
	out := make([][]byte, len(hs))
	for i, h := range hs {
		b, err := hex.DecodeString(h)
		if err != nil || len(b) != sumdb.HashSize {
			t.Fatalf("bad vector hash %q", h)
		}
		out[i] = b
	}
	return out
}

func equalHashes(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

// writeEmptyFirstLeaf stores the vectors' first leaf, the empty string, as
// the log's entry 0, with the tile and bundle the log would have written.
// Append refuses empty entries on purpose (ErrEmptyEntry: the statement
// formats never produce one, and an empty entry is more likely a bug), but
// every vector tree starts with this leaf, so it is written to the store
// directly; every other leaf, and every hash above it, is computed by the log.
func writeEmptyFirstLeaf(t *testing.T, st store.LogStore) {
	t.Helper()
	leaf := sumdb.RecordHash(nil)
	if want := testonly.NodeHashes()[0][0]; !bytes.Equal(leaf[:], want) {
		t.Fatalf("RecordHash(\"\") = %x, vectors say %x", leaf, want)
	}
	bundle, err := tlog.AppendBundleEntry(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = st.Append(context.Background(), &store.Batch{
		OldSize: 0, NewSize: 1,
		Tiles:  []store.Tile{{Level: 0, N: 0, Data: leaf[:]}},
		Chunks: []store.Chunk{{N: 0, Start: 0, Count: 1, Data: bundle}},
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestRFC6962Vectors(t *testing.T) {
	leaves := testonly.LeafInputs()
	roots := testonly.RootHashes()
	n := int64(len(leaves))
	for name, mk := range backends() {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			t.Run("empty", func(t *testing.T) {
				s, _ := testKey(t)
				lg, err := Open(ctx, mk(t), Options{Origin: testOrigin, Signer: s})
				if err != nil {
					t.Fatal(err)
				}
				defer lg.Close()
				h, err := lg.TreeHash(ctx, 0)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(h[:], testonly.EmptyRootHash()) {
					t.Errorf("empty tree hash %x, want %x", h, testonly.EmptyRootHash())
				}
				if got := lg.Latest().Tree; got.N != 0 || !bytes.Equal(got.Hash[:], testonly.EmptyRootHash()) {
					t.Errorf("first checkpoint %v, want the empty tree", got)
				}
			})

			st := mk(t)
			writeEmptyFirstLeaf(t, st)
			s, v := testKey(t)
			lg, err := Open(ctx, st, Options{Origin: testOrigin, Signer: s})
			if err != nil {
				t.Fatal(err)
			}
			defer lg.Close()
			if len(leaves[0]) != 0 {
				t.Fatal("the vectors' first leaf is no longer empty; append it")
			}
			if _, err := lg.Append(ctx, leaves[0]); !errors.Is(err, ErrEmptyEntry) {
				t.Fatalf("Append(empty) = %v, want ErrEmptyEntry", err)
			}
			for i, e := range leaves[1:] {
				idx, err := lg.Append(ctx, e)
				if err != nil {
					t.Fatal(err)
				}
				if idx != int64(i+1) {
					t.Fatalf("leaf %d appended at %d", i+1, idx)
				}
			}
			cp, err := lg.Checkpoint(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if cp.Tree.N != n || !bytes.Equal(cp.Tree.Hash[:], roots[n]) {
				t.Fatalf("checkpoint %d %x, want %d %x", cp.Tree.N, cp.Tree.Hash, n, roots[n])
			}

			for size := int64(0); size <= n; size++ {
				h, err := lg.TreeHash(ctx, size)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(h[:], roots[size]) {
					t.Errorf("root of size %d is %x, want %x", size, h, roots[size])
				}
			}
			// The level-0 tile holds the leaf hashes (NodeHashes level 0).
			tile, err := lg.ReadTile(ctx, sumdb.Tile{H: tlog.TileHeight, L: 0, N: 0, W: int(n)})
			if err != nil {
				t.Fatal(err)
			}
			if want := bytes.Join(testonly.NodeHashes()[0], nil); !bytes.Equal(tile, want) {
				t.Errorf("tile 0/000.p/8 = %x, want the vectors' leaf hashes %x", tile, want)
			}
			for i, want := range leaves {
				got, err := lg.Entry(ctx, int64(i))
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("entry %d = %x, want %x", i, got, want)
				}
			}

			for _, vec := range rfc6962InclusionVectors {
				want := hexHashes(t, vec.proof)
				p, err := lg.ProveInclusion(ctx, vec.a-1, vec.b)
				if err != nil {
					t.Fatalf("inclusion of leaf %d in %d: %v", vec.a-1, vec.b, err)
				}
				if got := hashes(p); !equalHashes(got, want) {
					t.Errorf("inclusion of leaf %d in %d = %x, want %x", vec.a-1, vec.b, got, want)
				}
			}
			for _, vec := range rfc6962ConsistencyVectors {
				want := hexHashes(t, vec.proof)
				p, err := lg.ProveConsistency(ctx, vec.a, vec.b)
				if err != nil {
					t.Fatalf("consistency %d→%d: %v", vec.a, vec.b, err)
				}
				if got := hashes(p); !equalHashes(got, want) {
					t.Errorf("consistency %d→%d = %x, want %x", vec.a, vec.b, got, want)
				}
			}

			// Every other proof of the vector tree, against the reference
			// implementation, and verified.
			ref := testonly.New(rfc6962.DefaultHasher)
			ref.AppendData(leaves...)
			for size := int64(1); size <= n; size++ {
				for i := range size {
					p, err := lg.ProveInclusion(ctx, i, size)
					if err != nil {
						t.Fatal(err)
					}
					want, err := ref.InclusionProof(uint64(i), uint64(size))
					if err != nil {
						t.Fatal(err)
					}
					if !equalHashes(hashes(p), want) {
						t.Errorf("inclusion of %d in %d = %x, reference %x", i, size, hashes(p), want)
					}
					if err := proof.VerifyInclusion(rfc6962.DefaultHasher, uint64(i), uint64(size), ref.LeafHash(uint64(i)), hashes(p), roots[size]); err != nil {
						t.Errorf("inclusion of %d in %d: %v", i, size, err)
					}
				}
				for old := int64(1); old <= size; old++ {
					p, err := lg.ProveConsistency(ctx, old, size)
					if err != nil {
						t.Fatal(err)
					}
					want, err := ref.ConsistencyProof(uint64(old), uint64(size))
					if err != nil {
						t.Fatal(err)
					}
					if !equalHashes(hashes(p), want) {
						t.Errorf("consistency %d→%d = %x, reference %x", old, size, hashes(p), want)
					}
					if err := proof.VerifyConsistency(rfc6962.DefaultHasher, uint64(old), uint64(size), hashes(p), roots[old], roots[size]); err != nil {
						t.Errorf("consistency %d→%d: %v", old, size, err)
					}
				}
			}

			// The portable proofs and the served log verify, empty leaf included.
			for i, e := range leaves {
				p, err := lg.Proof(ctx, int64(i))
				if err != nil {
					t.Fatal(err)
				}
				if _, _, err := tlog.VerifyProof(p, sumdb.RecordHash(e), testOrigin, v); err != nil {
					t.Errorf("proof of leaf %d: %v", i, err)
				}
			}
			srv := httptest.NewServer(lg.Handler())
			defer srv.Close()
			f, err := tlog.HTTPFetcher(srv.URL, nil)
			if err != nil {
				t.Fatal(err)
			}
			vc, err := tlog.VerifyLog(ctx, f, testOrigin, v, tlog.VerifyOptions{Entry: func(i int64, e []byte) error {
				if !bytes.Equal(e, leaves[i]) {
					return fmt.Errorf("served %x, want %x", e, leaves[i])
				}
				return nil
			}})
			if err != nil {
				t.Fatal(err)
			}
			if vc.Tree != cp.Tree {
				t.Fatalf("served %v, want %v", vc.Tree, cp.Tree)
			}
		})
	}
}

// TestConsistencyFromEmptyTree: the consistency proof from the empty tree,
// and from a tree to itself, is empty (c2sp.org/tlog-witness: "If the old
// size is zero, the consistency proof MUST be empty"), and verifies with
// merkle/proof.
func TestConsistencyFromEmptyTree(t *testing.T) {
	ctx := context.Background()
	s, _ := testKey(t)
	lg, err := Open(ctx, sqliteStore(t), Options{Origin: testOrigin, Signer: s})
	if err != nil {
		t.Fatal(err)
	}
	defer lg.Close()
	for i := range 3 {
		if _, err := lg.Append(ctx, entry(i)); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range [][2]int64{{0, 0}, {0, 1}, {0, 3}, {1, 1}, {3, 3}} {
		p, err := lg.ProveConsistency(ctx, c[0], c[1])
		if err != nil {
			t.Errorf("ProveConsistency(%d, %d): %v", c[0], c[1], err)
			continue
		}
		if len(p) != 0 {
			t.Errorf("ProveConsistency(%d, %d) has %d hashes, want none", c[0], c[1], len(p))
		}
		r0, _ := lg.TreeHash(ctx, c[0])
		r1, _ := lg.TreeHash(ctx, c[1])
		if err := proof.VerifyConsistency(rfc6962.DefaultHasher, uint64(c[0]), uint64(c[1]), hashes(p), r0[:], r1[:]); err != nil {
			t.Errorf("consistency %d→%d: %v", c[0], c[1], err)
		}
	}
	for _, c := range [][2]int64{{-1, 0}, {2, 1}, {0, 4}} {
		if _, err := lg.ProveConsistency(ctx, c[0], c[1]); !errors.Is(err, ErrOutOfRange) {
			t.Errorf("ProveConsistency(%d, %d): %v, want ErrOutOfRange", c[0], c[1], err)
		}
	}
}
