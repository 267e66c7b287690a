package escrow

import (
	"encoding/json"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
)

// A Secret is the private side of a commitment: the declaration in canonical
// order with every salt, and the trees built from them. The host keeps it
// (MarshalJSON / ParseSecret) and produces reveals and openings from it. A
// Secret is safe for concurrent use by readers; it is never modified.
type Secret struct {
	c         Commitment
	ctx       Hash
	indexSalt Hash
	padSeed   Hash
	regions   []secretRegion

	// Derived by build.
	items       *tree         // items tree over Size leaves
	index       *tree         // region list tree
	entries     []RegionEntry // per region
	siteTrees   []*tree       // per region
	siteEntries [][]SiteEntry // per region, per site
}

type secretRegion struct {
	Name      string       `json:"name"`
	Salt      Hash         `json:"salt"`       // region entry salt
	SitesSalt Hash         `json:"sites_salt"` // site-list salt
	Sites     []OpenedSite `json:"sites,omitempty"`
}

// secretJSON is the stored form of a Secret (spec §Secret).
type secretJSON struct {
	Commitment *Commitment    `json:"commitment"`
	IndexSalt  Hash           `json:"index_salt"`
	PadSeed    Hash           `json:"pad_seed"`
	Regions    []secretRegion `json:"regions,omitempty"`
}

// Commitment returns a copy of the public commitment.
func (s *Secret) Commitment() *Commitment {
	c := s.c
	return &c
}

// Declaration returns a fresh copy of the committed declaration, without
// salts, in canonical order.
func (s *Secret) Declaration() *Declaration {
	d := &Declaration{}
	for _, r := range s.regions {
		d.Regions = append(d.Regions, Region{Name: r.Name, Sites: openedSites(r.Sites)})
	}
	return d
}

// MarshalJSON encodes the secret in its canonical stored form (spec §Secret).
// The result reveals everything; store it as carefully as a private key.
func (s Secret) MarshalJSON() ([]byte, error) {
	return json.Marshal(secretJSON{Commitment: &s.c, IndexSalt: s.indexSalt,
		PadSeed: s.padSeed, Regions: s.regions})
}

// ParseSecret decodes a stored secret, checks that it is canonical and
// well-formed, rebuilds its trees and checks that they give its commitment.
func ParseSecret(data []byte) (*Secret, error) {
	var j secretJSON
	if err := decodeCanonical(data, &j); err != nil {
		return nil, fmt.Errorf("secret: %w", err)
	}
	if j.Commitment == nil {
		return nil, fmt.Errorf("secret: %w: no commitment", ErrMalformed)
	}
	if err := j.Commitment.check(); err != nil {
		return nil, fmt.Errorf("secret: %w", err)
	}
	s := &Secret{c: *j.Commitment, indexSalt: j.IndexSalt, padSeed: j.PadSeed, regions: j.Regions}
	if err := s.checkDeclaration(); err != nil {
		return nil, fmt.Errorf("secret: %w", err)
	}
	s.build()
	if s.c.ItemsRoot != j.Commitment.ItemsRoot {
		return nil, fmt.Errorf("secret: rebuilt items root differs from the commitment: %w", ErrItems)
	}
	if s.c.Index != j.Commitment.Index {
		return nil, fmt.Errorf("secret: rebuilt index differs from the commitment: %w", ErrIndex)
	}
	return s, nil
}

// checkDeclaration checks a parsed secret's contents: canonical order, valid
// names, unique ids, and no more items than the committed size.
func (s *Secret) checkDeclaration() error {
	n := 0
	for i, r := range s.regions {
		if i > 0 && r.Name <= s.regions[i-1].Name {
			return fmt.Errorf("region %q: %w: not after %q in canonical order", r.Name, ErrMalformed, s.regions[i-1].Name)
		}
		for j, site := range r.Sites {
			if j > 0 && site.Name <= r.Sites[j-1].Name {
				return fmt.Errorf("region %q, site %q: %w: not after %q in canonical order", r.Name, site.Name, ErrMalformed, r.Sites[j-1].Name)
			}
			if !slices.IsSortedFunc(site.Items, compareOpened) {
				return fmt.Errorf("region %q, site %q: %w: items not in id order", r.Name, site.Name, ErrMalformed)
			}
			n += len(site.Items)
		}
	}
	if items := max(uint64(n), 1); items > s.c.Size || s.c.Size-items >= max(items, MaxQuantum) {
		return fmt.Errorf("%d items, committed size %d: %w: not a padded size", n, s.c.Size, ErrMalformed)
	}
	return s.Declaration().Validate()
}

// build derives the trees, entries and roots from the commitment's public
// fields, the salts and the declaration, and sets the commitment's roots.
func (s *Secret) build() {
	s.ctx = contextHash(&s.c)
	leaves := make([]Hash, s.c.Size)
	units, n := s.layout()
	s.hashItems(leaves, units)
	pads := leaves[n:]
	parallel(len(pads), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			p := padHash(&s.padSeed, n+uint64(i))
			pads[i] = leafHash(&p)
		}
	})
	s.items = newTree(leaves)
	s.buildIndex()
	s.c.ItemsRoot = s.items.root()
}

// unit is a run of one site's items hashed by one worker.
type unit struct {
	prefix enc
	items  []OpenedItem
	at     uint64 // leaf index of items[0]
}

// layout computes every region and site entry's range and counts, and
// splits the items into hashing units. It returns the number of items.
func (s *Secret) layout() ([]unit, uint64) {
	const chunk = 1 << 12
	var units []unit
	var at uint64
	s.entries = make([]RegionEntry, len(s.regions))
	s.siteEntries = make([][]SiteEntry, len(s.regions))
	for i, r := range s.regions {
		re := &s.entries[i]
		re.Name, re.Start, re.Salt = r.Name, at, r.Salt
		s.siteEntries[i] = make([]SiteEntry, len(r.Sites))
		for j, site := range r.Sites {
			s.siteEntries[i][j] = SiteEntry{Name: site.Name, Start: at,
				End: at + uint64(len(site.Items)), Counts: countItems(site.Items), Salt: site.Salt}
			prefix := itemPrefix(&s.ctx, r.Name, site.Name)
			for k := 0; k < len(site.Items); k += chunk {
				its := site.Items[k:min(k+chunk, len(site.Items))]
				units = append(units, unit{prefix, its, at})
				at += uint64(len(its))
			}
		}
		re.End, re.Counts = at, sumCounts(s.siteEntries[i])
	}
	return units, at
}

// hashItems fills leaves with the leaf hashes of every unit's items, using
// every available processor.
func (s *Secret) hashItems(leaves []Hash, units []unit) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(units)) {
		wg.Go(func() {
			var scratch enc
			for {
				u := int(next.Add(1) - 1)
				if u >= len(units) {
					return
				}
				for k := range units[u].items {
					var h Hash
					h, scratch = itemHash(scratch, units[u].prefix, &units[u].items[k])
					leaves[units[u].at+uint64(k)] = leafHash(&h)
				}
			}
		})
	}
	wg.Wait()
}

// buildIndex builds the site lists and the region list and sets the index.
func (s *Secret) buildIndex() {
	s.siteTrees = make([]*tree, len(s.regions))
	regionLeaves := make([]Hash, len(s.regions))
	for i, r := range s.regions {
		siteLeaves := make([]Hash, len(r.Sites))
		for j := range r.Sites {
			h := siteEntryHash(&s.ctx, r.Name, &s.siteEntries[i][j])
			siteLeaves[j] = leafHash(&h)
		}
		s.siteTrees[i] = newTree(siteLeaves)
		root := s.siteTrees[i].root()
		s.entries[i].Sites = sitesCommit(&s.ctx, r.Name, uint64(len(r.Sites)), &root, &r.SitesSalt)
		h := regionEntryHash(&s.ctx, &s.entries[i])
		regionLeaves[i] = leafHash(&h)
	}
	s.index = newTree(regionLeaves)
	root := s.index.root()
	s.c.Index = indexCommit(&s.ctx, uint64(len(s.regions)), &root, &s.indexSalt)
}

func countItems(items []OpenedItem) map[string]uint64 {
	counts := make(map[string]uint64)
	for i := range items {
		counts[items[i].Category]++
	}
	return counts
}

func sumCounts(sites []SiteEntry) map[string]uint64 {
	counts := make(map[string]uint64)
	for _, s := range sites {
		for c, n := range s.Counts {
			counts[c] += n
		}
	}
	return counts
}

func openedSites(sites []OpenedSite) []Site {
	if len(sites) == 0 {
		return nil
	}
	out := make([]Site, len(sites))
	for i, s := range sites {
		out[i] = Site{Name: s.Name, Items: openedItems(s.Items)}
	}
	return out
}

func openedItems(items []OpenedItem) []Item {
	if len(items) == 0 {
		return nil
	}
	out := make([]Item, len(items))
	for i, it := range items {
		out[i] = Item{ID: it.ID, Category: it.Category, Attrs: it.Attrs}
	}
	return out
}
