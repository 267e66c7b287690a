package escrow

import (
	"crypto/sha256"
	"fmt"
	"math/bits"
	"runtime"
	"sync"
)

// This file implements RFC 6962 (RFC 9162 §2.1) Merkle trees over 32-byte
// entries: leaf hash SHA-256(0x00 ‖ entry), interior SHA-256(0x01 ‖ l ‖ r).
// Spec §Merkle trees defines the range proof; inclusion proofs are RFC 9162's.

// emptyRoot is the hash of the empty tree, SHA-256 of the empty string.
var emptyRoot = Hash(sha256.Sum256(nil))

func leafHash(e *Hash) Hash {
	var b [1 + 32]byte
	copy(b[1:], e[:])
	return sha256.Sum256(b[:])
}

func nodeHash(l, r *Hash) Hash {
	var b [1 + 64]byte
	b[0] = 1
	copy(b[1:], l[:])
	copy(b[33:], r[:])
	return sha256.Sum256(b[:])
}

// split returns the largest power of two smaller than n, for n ≥ 2.
func split(n uint64) uint64 { return 1 << (bits.Len64(n-1) - 1) }

// A tree stores the hash of every perfect, aligned subtree: levels[l][i] is
// the hash of leaves [i·2^l, (i+1)·2^l). Other subtree hashes (on the right
// edge of a tree whose size is not a power of two) are computed on demand.
type tree struct {
	levels [][]Hash
}

// newTree builds a tree over leaf hashes, taking ownership of the slice.
func newTree(leaves []Hash) *tree {
	t := &tree{levels: [][]Hash{leaves}}
	for cur := leaves; len(cur) > 1; {
		next := make([]Hash, len(cur)/2)
		parallel(len(next), func(lo, hi int) {
			for i := lo; i < hi; i++ {
				next[i] = nodeHash(&cur[2*i], &cur[2*i+1])
			}
		})
		t.levels = append(t.levels, next)
		cur = next
	}
	return t
}

func (t *tree) size() uint64 { return uint64(len(t.levels[0])) }

func (t *tree) root() Hash {
	if t.size() == 0 {
		return emptyRoot
	}
	return t.mth(0, t.size())
}

// mth returns the hash of the RFC 6962 subtree over leaves [lo, hi).
func (t *tree) mth(lo, hi uint64) Hash {
	n := hi - lo
	if n&(n-1) == 0 && lo%n == 0 {
		l := bits.TrailingZeros64(n)
		return t.levels[l][lo>>l]
	}
	k := split(n)
	a, b := t.mth(lo, lo+k), t.mth(lo+k, hi)
	return nodeHash(&a, &b)
}

// inclusion returns the RFC 9162 §2.1.3.1 inclusion proof for leaf m.
func (t *tree) inclusion(m uint64) []Hash {
	var path []Hash
	lo, hi := uint64(0), t.size()
	for hi-lo > 1 {
		k := split(hi - lo)
		if m < lo+k {
			path = append(path, t.mth(lo+k, hi))
			hi = lo + k
		} else {
			path = append(path, t.mth(lo, lo+k))
			lo += k
		}
	}
	// PATH lists siblings from the leaf up; the loop found them top down.
	for i, j := 0, len(path)-1; i < j; i, j = i+1, j-1 {
		path[i], path[j] = path[j], path[i]
	}
	return path
}

// rangeProof returns the range proof for leaves [s, e), 0 ≤ s < e ≤ size
// (spec §Merkle proofs): the hashes of the subtrees disjoint from the range
// met by the recursion, left to right.
func (t *tree) rangeProof(s, e uint64) []Hash {
	var proof []Hash
	var walk func(lo, hi uint64)
	walk = func(lo, hi uint64) {
		switch {
		case hi <= s || e <= lo:
			proof = append(proof, t.mth(lo, hi))
		case s <= lo && hi <= e:
		default:
			k := split(hi - lo)
			walk(lo, lo+k)
			walk(lo+k, hi)
		}
	}
	walk(0, t.size())
	return proof
}

// rootFromInclusion implements RFC 9162 §2.1.3.2: the root a proof for leaf
// index m in a tree of size n leads to. A proof can lead to the same root for
// more than one n, so callers must authenticate n independently.
func rootFromInclusion(m, n uint64, leaf Hash, proof []Hash) (Hash, error) {
	if m >= n {
		return Hash{}, fmt.Errorf("leaf %d not in a tree of size %d", m, n)
	}
	fn, sn, r := m, n-1, leaf
	for i := range proof {
		if sn == 0 {
			return Hash{}, fmt.Errorf("proof has %d hashes, too many", len(proof))
		}
		if fn&1 == 1 || fn == sn {
			r = nodeHash(&proof[i], &r)
			for fn&1 == 0 && fn != 0 {
				fn, sn = fn>>1, sn>>1
			}
		} else {
			r = nodeHash(&r, &proof[i])
		}
		fn, sn = fn>>1, sn>>1
	}
	if sn != 0 {
		return Hash{}, fmt.Errorf("proof has %d hashes, too few", len(proof))
	}
	return r, nil
}

// rootFromRange recomputes the root from the leaf hashes of [s, s+len(leaves))
// and a range proof (spec §Merkle proofs).
func rootFromRange(s, n uint64, leaves, proof []Hash) (Hash, error) {
	e := s + uint64(len(leaves))
	if len(leaves) == 0 || e > n || e < s {
		return Hash{}, fmt.Errorf("range [%d, %d) not a non-empty range of a tree of size %d", s, e, n)
	}
	used := 0
	var walk func(lo, hi uint64) Hash
	walk = func(lo, hi uint64) Hash {
		switch {
		case hi <= s || e <= lo:
			used++ // a shortfall is reported below
			if used > len(proof) {
				return Hash{}
			}
			return proof[used-1]
		case hi-lo == 1:
			return leaves[lo-s]
		}
		k := split(hi - lo)
		a, b := walk(lo, lo+k), walk(lo+k, hi)
		return nodeHash(&a, &b)
	}
	r := walk(0, n)
	if used != len(proof) {
		return Hash{}, fmt.Errorf("range proof has %d hashes, want %d", len(proof), used)
	}
	return r, nil
}

// rootOf returns the RFC 6962 root over entries (not yet leaf-hashed).
func rootOf(entries []Hash) Hash {
	leaves := make([]Hash, len(entries))
	for i := range entries {
		leaves[i] = leafHash(&entries[i])
	}
	return newTree(leaves).root()
}

// parallel calls fn on disjoint chunks covering [0, n), concurrently when n
// is large enough to be worth it.
func parallel(n int, fn func(lo, hi int)) {
	workers := runtime.GOMAXPROCS(0)
	if n < 1<<13 || workers == 1 {
		fn(0, n)
		return
	}
	var wg sync.WaitGroup
	chunk := (n + workers - 1) / workers
	for lo := 0; lo < n; lo += chunk {
		wg.Go(func() { fn(lo, min(lo+chunk, n)) })
	}
	wg.Wait()
}
