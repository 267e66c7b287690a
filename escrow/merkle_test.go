package escrow

import (
	"crypto/sha256"
	"encoding/binary"
	"testing"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
)

func testEntries(n int) []Hash {
	out := make([]Hash, n)
	for i := range out {
		out[i] = sha256.Sum256(binary.BigEndian.AppendUint64(nil, uint64(i)))
	}
	return out
}

func testTree(entries []Hash) *tree {
	leaves := make([]Hash, len(entries))
	for i := range entries {
		leaves[i] = leafHash(&entries[i])
	}
	return newTree(leaves)
}

// oracleRoot computes the RFC 6962 root of leaf hashes with
// transparency-dev/merkle's compact ranges.
func oracleRoot(t *testing.T, leaves []Hash) Hash {
	t.Helper()
	if len(leaves) == 0 {
		return Hash(rfc6962.DefaultHasher.EmptyRoot())
	}
	f := &compact.RangeFactory{Hash: rfc6962.DefaultHasher.HashChildren}
	r := f.NewEmptyRange(0)
	for i := range leaves {
		if err := r.Append(leaves[i][:], nil); err != nil {
			t.Fatal(err)
		}
	}
	root, err := r.GetRootHash(nil)
	if err != nil {
		t.Fatal(err)
	}
	return Hash(root)
}

func TestTreeAgainstOracle(t *testing.T) {
	for n := range 70 {
		entries := testEntries(n)
		tr := testTree(entries)
		root := tr.root()
		if want := oracleRoot(t, tr.levels[0]); root != want {
			t.Fatalf("size %d: root %v, oracle %v", n, root, want)
		}
		if got := rootOf(entries); got != root {
			t.Fatalf("size %d: rootOf %v, tree %v", n, got, root)
		}
		for m := range uint64(n) {
			p := tr.inclusion(m)
			raw := make([][]byte, len(p))
			for i := range p {
				raw[i] = p[i][:]
			}
			if err := proof.VerifyInclusion(rfc6962.DefaultHasher, m, uint64(n), tr.levels[0][m][:], raw, root[:]); err != nil {
				t.Fatalf("size %d leaf %d: oracle rejects our proof: %v", n, m, err)
			}
			got, err := rootFromInclusion(m, uint64(n), tr.levels[0][m], p)
			if err != nil || got != root {
				t.Fatalf("size %d leaf %d: our verifier: %v", n, m, err)
			}
		}
	}
}

// refRangeProof is an independent reference for range proofs: the same
// recursion, with subtree hashes computed by the oracle from the leaves.
func refRangeProof(t *testing.T, leaves []Hash, s, e uint64) []Hash {
	var out []Hash
	var walk func(lo, hi uint64)
	walk = func(lo, hi uint64) {
		switch {
		case hi <= s || e <= lo:
			out = append(out, oracleRoot(t, leaves[lo:hi]))
		case s <= lo && hi <= e:
		default:
			k := uint64(1)
			for k*2 < hi-lo {
				k *= 2
			}
			walk(lo, lo+k)
			walk(lo+k, hi)
		}
	}
	walk(0, uint64(len(leaves)))
	return out
}

func TestRangeProofs(t *testing.T) {
	for n := uint64(1); n <= 40; n++ {
		tr := testTree(testEntries(int(n)))
		root, leaves := tr.root(), tr.levels[0]
		for s := range n {
			for e := s + 1; e <= n; e++ {
				p := tr.rangeProof(s, e)
				want := refRangeProof(t, leaves, s, e)
				if len(p) != len(want) {
					t.Fatalf("n=%d [%d,%d): %d hashes, reference %d", n, s, e, len(p), len(want))
				}
				for i := range p {
					if p[i] != want[i] {
						t.Fatalf("n=%d [%d,%d): hash %d differs from reference", n, s, e, i)
					}
				}
				got, err := rootFromRange(s, n, leaves[s:e], p)
				if err != nil || got != root {
					t.Fatalf("n=%d [%d,%d): %v", n, s, e, err)
				}
				checkRangeRejects(t, n, s, e, leaves, p, root)
			}
		}
	}
}

// checkRangeRejects checks that a shifted, shortened, lengthened or altered
// range or proof does not lead to the root.
func checkRangeRejects(t *testing.T, n, s, e uint64, leaves, p []Hash, root Hash) {
	t.Helper()
	bad := func(what string, s uint64, ls, p []Hash) {
		if got, err := rootFromRange(s, n, ls, p); err == nil && got == root {
			t.Fatalf("n=%d [%d,%d): %s accepted", n, s, e, what)
		}
	}
	if e-s > 1 {
		bad("dropped last leaf", s, leaves[s:e-1], p)
		bad("dropped first leaf", s+1, leaves[s+1:e], p)
	}
	if e < n {
		bad("extra leaf", s, leaves[s:e+1], p)
	}
	if s > 0 {
		bad("shifted left", s-1, leaves[s:e], p)
	}
	if len(p) > 0 {
		bad("short proof", s, leaves[s:e], p[:len(p)-1])
		q := append([]Hash(nil), p...)
		q[0][0] ^= 1
		bad("altered proof", s, leaves[s:e], q)
	}
	bad("long proof", s, leaves[s:e], append(append([]Hash(nil), p...), Hash{}))
	ls := append([]Hash(nil), leaves[s:e]...)
	ls[len(ls)-1][31] ^= 1
	bad("altered leaf", s, ls, p)
}

// TestInclusionRejects checks proofs against the wrong leaf or index. (A
// proof can be valid for several tree sizes, which is why every size this
// package verifies against is itself committed: spec §Region proofs.)
func TestInclusionRejects(t *testing.T) {
	tr := testTree(testEntries(13))
	root := tr.root()
	p := tr.inclusion(5)
	cases := []struct {
		name  string
		m, n  uint64
		leaf  Hash
		proof []Hash
	}{
		{"wrong index", 4, 13, tr.levels[0][5], p},
		{"index beyond size", 13, 13, tr.levels[0][5], p},
		{"short proof", 5, 13, tr.levels[0][5], p[:len(p)-1]},
		{"long proof", 5, 13, tr.levels[0][5], append(append([]Hash(nil), p...), Hash{})},
		{"wrong leaf", 5, 13, tr.levels[0][6], p},
	}
	for _, tc := range cases {
		if got, err := rootFromInclusion(tc.m, tc.n, tc.leaf, tc.proof); err == nil && got == root {
			t.Errorf("%s: accepted", tc.name)
		}
	}
}
