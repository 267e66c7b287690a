package escrow

import (
	"bufio"
	"cmp"
	"crypto/rand"
	"fmt"
	"io"
	"math/bits"
	"slices"
)

// A Commitment is the public side of a declaration (spec §Commitment): the
// body of a declaration.commit statement. It binds the party to every item,
// salt and index entry without revealing them.
type Commitment struct {
	Scheme    string `json:"scheme"`     // always Scheme
	Regime    string `json:"regime"`     // regime id
	Party     string `json:"party"`      // declaring party
	Version   uint64 `json:"version"`    // declaration version, from 1
	Prev      string `json:"prev"`       // reference to the previous version's statement
	Size      uint64 `json:"size"`       // padded number of leaves in the items tree
	ItemsRoot Hash   `json:"items_root"` // RFC 6962 root of the items tree
	Index     Hash   `json:"index"`      // index commitment
}

// check validates the public fields (spec §Commitment).
func (c *Commitment) check() error {
	if c.Scheme != Scheme {
		return fmt.Errorf("commitment scheme %q, want %q: %w", c.Scheme, Scheme, ErrMalformed)
	}
	if err := checkParties(c.Regime, c.Party, c.Version, c.Prev); err != nil {
		return fmt.Errorf("commitment: %w", err)
	}
	if c.Size == 0 || c.Size > MaxSize {
		return fmt.Errorf("commitment size %d not in [1, %d]: %w", c.Size, uint64(MaxSize), ErrMalformed)
	}
	return nil
}

func checkParties(regime, party string, version uint64, prev string) error {
	if err := validName(regime); err != nil {
		return fmt.Errorf("regime %q: %w", regime, err)
	}
	if err := validName(party); err != nil {
		return fmt.Errorf("party %q: %w", party, err)
	}
	if err := validValue(prev); err != nil {
		return fmt.Errorf("prev: %w", err)
	}
	if version == 0 {
		return fmt.Errorf("version 0: %w: versions start at 1", ErrInvalidParams)
	}
	if version > 1 && prev == "" {
		return fmt.Errorf("version %d: %w: prev must reference version %d", version, ErrInvalidParams, version-1)
	}
	return nil
}

// Params are the public inputs of a commitment besides the declaration.
type Params struct {
	Regime  string // regime id
	Party   string // declaring party
	Version uint64 // declaration version, from 1
	Prev    string // opaque reference to the previous version; required from version 2
	// Quantum chooses the padded size class (spec §Padding): the committed
	// size is the smallest multiple of Quantum that is at least max(n, 1) for
	// n items. Zero chooses the smallest power of two instead. At most
	// MaxQuantum.
	Quantum uint64
	// Rand supplies every salt; nil means crypto/rand. Only tests and test
	// vectors should set it.
	Rand io.Reader
}

// MaxQuantum is the largest padding quantum. It bounds the padding, and so
// the memory a commitment takes, for small declarations.
const MaxQuantum = 1 << 20

// PaddedSize returns the committed size for n items under quantum (spec
// §Padding).
func PaddedSize(n, quantum uint64) (uint64, error) {
	n = max(n, 1)
	if n > MaxSize || quantum > MaxQuantum {
		return 0, fmt.Errorf("%d items, quantum %d: %w: limits %d items, quantum %d",
			n, quantum, ErrInvalidParams, uint64(MaxSize), MaxQuantum)
	}
	var size uint64
	if quantum == 0 {
		size = 1 << bits.Len64(n-1)
	} else {
		size = (n + quantum - 1) / quantum * quantum
	}
	if size > MaxSize {
		return 0, fmt.Errorf("padded size %d: %w: limit %d", size, ErrInvalidParams, uint64(MaxSize))
	}
	return size, nil
}

// Commit validates d and commits to it under p (spec §Commitment). The
// returned Secret holds the declaration in canonical order and every salt;
// its Commitment is what the party publishes.
func Commit(d *Declaration, p Params) (*Secret, error) {
	if err := checkParties(p.Regime, p.Party, p.Version, p.Prev); err != nil {
		return nil, fmt.Errorf("couldn't commit: %w", err)
	}
	if err := d.Validate(); err != nil {
		return nil, fmt.Errorf("couldn't commit: %w", err)
	}
	size, err := PaddedSize(uint64(d.ItemCount()), p.Quantum)
	if err != nil {
		return nil, fmt.Errorf("couldn't commit: %w", err)
	}
	rnd := p.Rand
	if rnd == nil {
		rnd = rand.Reader
	}
	s := &Secret{c: Commitment{Scheme: Scheme, Regime: p.Regime, Party: p.Party,
		Version: p.Version, Prev: p.Prev, Size: size}}
	if err := s.salt(d, rnd); err != nil {
		return nil, fmt.Errorf("couldn't commit: reading salts: %w", err)
	}
	s.build()
	return s, nil
}

// salt copies d into s in canonical order with fresh salts, read from rnd in
// this order: the index salt, the pad seed, then per region its entry salt
// and site-list salt followed, per site, by the site salt and its items'
// salts. Only test vectors depend on the order.
func (s *Secret) salt(d *Declaration, rnd io.Reader) error {
	r := &saltReader{r: bufio.NewReaderSize(rnd, 1<<16)}
	s.indexSalt, s.padSeed = r.next(), r.next()
	regions := sortedByName(d.Regions, func(r Region) string { return r.Name })
	s.regions = make([]secretRegion, len(regions))
	for i, reg := range regions {
		sr := &s.regions[i]
		sr.Name, sr.Salt, sr.SitesSalt = reg.Name, r.next(), r.next()
		sites := sortedByName(reg.Sites, func(s Site) string { return s.Name })
		sr.Sites = make([]OpenedSite, len(sites))
		for j, site := range sites {
			os := &sr.Sites[j]
			os.Name, os.Salt, os.Items = site.Name, r.next(), make([]OpenedItem, len(site.Items))
			for k, it := range site.Items {
				os.Items[k] = OpenedItem{ID: it.ID, Category: it.Category, Attrs: it.Attrs}
			}
			if !slices.IsSortedFunc(os.Items, compareOpened) {
				slices.SortFunc(os.Items, compareOpened)
			}
			for k := range os.Items {
				os.Items[k].Salt = r.next()
			}
		}
	}
	return r.err
}

func compareOpened(a, b OpenedItem) int { return cmp.Compare(a.ID, b.ID) }

// sortedByName returns xs, or a sorted copy if it is not sorted.
func sortedByName[T any](xs []T, name func(T) string) []T {
	less := func(a, b T) int { return cmp.Compare(name(a), name(b)) }
	if slices.IsSortedFunc(xs, less) {
		return xs
	}
	xs = slices.Clone(xs)
	slices.SortFunc(xs, less)
	return xs
}

// saltReader reads 32-byte salts and remembers the first error.
type saltReader struct {
	r   *bufio.Reader
	buf Hash
	err error
}

func (r *saltReader) next() Hash {
	if _, err := io.ReadFull(r.r, r.buf[:]); err != nil && r.err == nil {
		r.err = err
	}
	return r.buf
}

func readHashes(r io.Reader, hs []Hash) error {
	const chunk = 1 << 12
	buf := make([]byte, 32*min(len(hs), chunk))
	for len(hs) > 0 {
		n := min(len(hs), chunk)
		if _, err := io.ReadFull(r, buf[:32*n]); err != nil {
			return err
		}
		for i := range n {
			copy(hs[i][:], buf[32*i:])
		}
		hs = hs[n:]
	}
	return nil
}
