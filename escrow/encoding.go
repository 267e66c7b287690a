package escrow

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"slices"
)

// Scheme names this construction in a Commitment (spec §Commitment).
const Scheme = "tillit/escrow/v1"

// Domain-separation tags (spec §Hash inputs). Each is written followed by a
// zero byte, so no tag is a prefix of another tag's input.
const (
	tagContext = "tillit/escrow/v1/context"
	tagItem    = "tillit/escrow/v1/item"
	tagPad     = "tillit/escrow/v1/pad"
	tagSite    = "tillit/escrow/v1/site"
	tagSites   = "tillit/escrow/v1/sites"
	tagRegion  = "tillit/escrow/v1/region"
	tagIndex   = "tillit/escrow/v1/index"
)

// A Hash is a SHA-256 output or a 256-bit salt. In JSON it is the standard
// padded base64 encoding of its 32 bytes (RFC 4648, section 4).
type Hash [32]byte

// MarshalText encodes h as padded standard base64.
func (h Hash) MarshalText() ([]byte, error) {
	return base64.StdEncoding.AppendEncode(nil, h[:]), nil
}

// UnmarshalText accepts exactly the 44-character encoding MarshalText gives.
func (h *Hash) UnmarshalText(b []byte) error {
	if len(b) != base64.StdEncoding.EncodedLen(len(h)) {
		return &hashError{string(b), fmt.Sprintf("%d characters, want 44", len(b))}
	}
	var out [33]byte
	n, err := base64.StdEncoding.Strict().Decode(out[:], b)
	if err != nil || n != len(h) {
		return &hashError{string(b), "not the base64 encoding of 32 bytes"}
	}
	copy(h[:], out[:n])
	return nil
}

// hashError reports a malformed hash; decodeCanonical finds its position.
type hashError struct{ text, reason string }

func (e *hashError) Error() string {
	return fmt.Sprintf("hash %q: %s: %v", e.text, e.reason, ErrMalformed)
}

func (e *hashError) Unwrap() error { return ErrMalformed }

// String returns the base64 encoding of h.
func (h Hash) String() string { return base64.StdEncoding.EncodeToString(h[:]) }

// enc builds hash inputs with the encodings of spec §Hash inputs.
type enc []byte

func (e enc) tag(t string) enc { return append(append(e, t...), 0) }

// str writes a string as a 4-byte big-endian length and its bytes.
func (e enc) str(s string) enc {
	return append(binary.BigEndian.AppendUint32(e, uint32(len(s))), s...)
}

func (e enc) u64(x uint64) enc { return binary.BigEndian.AppendUint64(e, x) }

func (e enc) hash(h *Hash) enc { return append(e, h[:]...) }

// attrs writes a 4-byte count and the pairs in bytewise key order.
func (e enc) attrs(m map[string]string) enc {
	e = binary.BigEndian.AppendUint32(e, uint32(len(m)))
	if len(m) == 1 {
		for k, v := range m {
			return e.str(k).str(v)
		}
	}
	for _, k := range sortedKeys(m) {
		e = e.str(k).str(m[k])
	}
	return e
}

// counts writes a 4-byte count and the (category, count) pairs in bytewise
// category order.
func (e enc) counts(m map[string]uint64) enc {
	e = binary.BigEndian.AppendUint32(e, uint32(len(m)))
	for _, k := range sortedKeys(m) {
		e = e.str(k).u64(m[k])
	}
	return e
}

func (e enc) sum() Hash { return sha256.Sum256(e) }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// contextHash binds every other hash to one commitment (spec §Context).
func contextHash(c *Commitment) Hash {
	return enc(nil).tag(tagContext).str(c.Regime).str(c.Party).u64(c.Version).
		str(c.Prev).u64(c.Size).sum()
}

// itemPrefix is the part of an item's hash input shared by a site's items.
func itemPrefix(ctx *Hash, region, site string) enc {
	return enc(nil).tag(tagItem).hash(ctx).str(region).str(site)
}

// itemHash appends the item fields and salt to prefix and hashes (spec
// §Item leaves). scratch is reused to avoid allocation.
func itemHash(scratch enc, prefix enc, it *OpenedItem) (Hash, enc) {
	b := append(scratch[:0], prefix...)
	b = b.str(it.ID).str(it.Category).attrs(it.Attrs).hash(&it.Salt)
	return b.sum(), b
}

func padHash(seed *Hash, index uint64) Hash {
	return enc(make([]byte, 0, 64)).tag(tagPad).hash(seed).u64(index).sum()
}

func siteEntryHash(ctx *Hash, region string, e *SiteEntry) Hash {
	return enc(nil).tag(tagSite).hash(ctx).str(region).str(e.Name).u64(e.Start).u64(e.End).
		counts(e.Counts).hash(&e.Salt).sum()
}

func sitesCommit(ctx *Hash, region string, n uint64, root, salt *Hash) Hash {
	return enc(nil).tag(tagSites).hash(ctx).str(region).u64(n).hash(root).hash(salt).sum()
}

func regionEntryHash(ctx *Hash, e *RegionEntry) Hash {
	return enc(nil).tag(tagRegion).hash(ctx).str(e.Name).u64(e.Start).u64(e.End).
		counts(e.Counts).hash(&e.Sites).hash(&e.Salt).sum()
}

func indexCommit(ctx *Hash, n uint64, root, salt *Hash) Hash {
	return enc(nil).tag(tagIndex).hash(ctx).u64(n).hash(root).hash(salt).sum()
}
