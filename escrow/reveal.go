package escrow

import (
	"fmt"
	"maps"
	"sort"
)

// This file defines the reveals and openings of spec §Reveals, each the body
// of a statement, and the Secret methods that produce them.

// A RegionEntry is one region's index entry (spec §Region entries and the
// index): its leaf range [Start, End) in the items tree, its item count per
// category, the commitment to its site list, and its salt.
type RegionEntry struct {
	Name   string            `json:"name"`
	Start  uint64            `json:"start"`
	End    uint64            `json:"end"`
	Counts map[string]uint64 `json:"counts,omitempty"`
	Sites  Hash              `json:"sites"`
	Salt   Hash              `json:"salt"`
}

// A SiteEntry is one site's entry in its region's site list (spec §Site
// entries and site lists).
type SiteEntry struct {
	Name   string            `json:"name"`
	Start  uint64            `json:"start"`
	End    uint64            `json:"end"`
	Counts map[string]uint64 `json:"counts,omitempty"`
	Salt   Hash              `json:"salt"`
}

// An OpenedItem is an item with its salt.
type OpenedItem struct {
	ID       string            `json:"id"`
	Category string            `json:"category"`
	Attrs    map[string]string `json:"attrs,omitempty"`
	Salt     Hash              `json:"salt"`
}

// An OpenedSite is a site's name, entry salt and every item with its salt.
type OpenedSite struct {
	Name  string       `json:"name"`
	Salt  Hash         `json:"salt"`
	Items []OpenedItem `json:"items,omitempty"`
}

// An IndexReveal discloses every region entry (spec §Index reveal): region
// names, leaf ranges and counts per category, but no item and no site.
type IndexReveal struct {
	Salt    Hash          `json:"salt"` // index salt
	Regions []RegionEntry `json:"regions,omitempty"`
}

// A RegionProof authenticates one region entry against the index commitment
// (spec §Region proofs). It discloses the number of regions.
type RegionProof struct {
	Regions  uint64      `json:"regions"` // number of regions
	Root     Hash        `json:"root"`    // root of the region list
	Salt     Hash        `json:"salt"`    // index salt
	Position uint64      `json:"position"`
	Entry    RegionEntry `json:"entry"`
	Proof    []Hash      `json:"proof,omitempty"`
}

// A SiteProof authenticates one site entry against its region entry (spec
// §Site proofs). It discloses the number of sites in the region.
type SiteProof struct {
	Sites    uint64    `json:"sites"` // number of sites in the region
	Root     Hash      `json:"root"`  // root of the region's site list
	Salt     Hash      `json:"salt"`  // site-list salt
	Position uint64    `json:"position"`
	Entry    SiteEntry `json:"entry"`
	Proof    []Hash    `json:"proof,omitempty"`
}

// A SitesReveal discloses every site entry of one region (spec §Site list
// reveal): site names, ranges and counts, but no item.
type SitesReveal struct {
	Region RegionProof `json:"region"`
	Salt   Hash        `json:"salt"` // site-list salt
	Sites  []SiteEntry `json:"sites,omitempty"`
}

// A RegionOpening discloses every site and item of one region with their
// salts, and a range proof for exactly the region's leaves (spec §Region
// opening).
type RegionOpening struct {
	Region RegionProof  `json:"region"`
	Salt   Hash         `json:"salt"` // site-list salt
	Sites  []OpenedSite `json:"sites,omitempty"`
	Proof  []Hash       `json:"proof,omitempty"`
}

// A SiteOpening discloses every item of one site with their salts, and a
// range proof for exactly the site's leaves (spec §Site opening).
type SiteOpening struct {
	Region RegionProof  `json:"region"`
	Site   SiteProof    `json:"site"`
	Items  []OpenedItem `json:"items,omitempty"`
	Proof  []Hash       `json:"proof,omitempty"`
}

// An ItemOpening discloses one item with its salt and an inclusion proof
// within its site's range (spec §Item opening).
type ItemOpening struct {
	Region   RegionProof `json:"region"`
	Site     SiteProof   `json:"site"`
	Position uint64      `json:"position"` // leaf index in the items tree
	Item     OpenedItem  `json:"item"`
	Proof    []Hash      `json:"proof,omitempty"`
}

// RevealIndex returns the index reveal.
func (s *Secret) RevealIndex() *IndexReveal {
	r := &IndexReveal{Salt: s.indexSalt}
	for i := range s.entries {
		r.Regions = append(r.Regions, s.entry(i))
	}
	return r
}

// RevealSites returns the site list reveal of a region.
func (s *Secret) RevealSites(region string) (*SitesReveal, error) {
	i, err := s.findRegion(region)
	if err != nil {
		return nil, err
	}
	r := &SitesReveal{Region: s.regionProof(i), Salt: s.regions[i].SitesSalt}
	for j := range s.siteEntries[i] {
		r.Sites = append(r.Sites, s.siteEntry(i, j))
	}
	return r, nil
}

// OpenRegion returns the opening of every site and item of a region.
func (s *Secret) OpenRegion(region string) (*RegionOpening, error) {
	i, err := s.findRegion(region)
	if err != nil {
		return nil, err
	}
	e := &s.entries[i]
	o := &RegionOpening{Region: s.regionProof(i), Salt: s.regions[i].SitesSalt,
		Sites: make([]OpenedSite, len(s.regions[i].Sites))}
	for j, site := range s.regions[i].Sites {
		o.Sites[j] = OpenedSite{Name: site.Name, Salt: site.Salt, Items: cloneItems(site.Items)}
	}
	if e.Start < e.End {
		o.Proof = s.items.rangeProof(e.Start, e.End)
	}
	return o, nil
}

// OpenSite returns the opening of every item of one site.
func (s *Secret) OpenSite(region, site string) (*SiteOpening, error) {
	i, j, err := s.findSite(region, site)
	if err != nil {
		return nil, err
	}
	e := &s.siteEntries[i][j]
	o := &SiteOpening{Region: s.regionProof(i), Site: s.siteProof(i, j),
		Items: cloneItems(s.regions[i].Sites[j].Items)}
	if e.Start < e.End {
		o.Proof = s.items.rangeProof(e.Start, e.End)
	}
	return o, nil
}

// OpenItem returns the opening of the item with the given id.
func (s *Secret) OpenItem(id string) (*ItemOpening, error) {
	for i, r := range s.regions {
		for j, site := range r.Sites {
			k := sort.Search(len(site.Items), func(k int) bool { return site.Items[k].ID >= id })
			if k == len(site.Items) || site.Items[k].ID != id {
				continue
			}
			at := s.siteEntries[i][j].Start + uint64(k)
			return &ItemOpening{Region: s.regionProof(i), Site: s.siteProof(i, j),
				Position: at, Item: cloneItems(site.Items[k : k+1])[0], Proof: s.items.inclusion(at)}, nil
		}
	}
	return nil, fmt.Errorf("item %q: %w", id, ErrNotFound)
}

func (s *Secret) findRegion(name string) (int, error) {
	i := sort.Search(len(s.regions), func(i int) bool { return s.regions[i].Name >= name })
	if i == len(s.regions) || s.regions[i].Name != name {
		return 0, fmt.Errorf("region %q: %w", name, ErrNotFound)
	}
	return i, nil
}

func (s *Secret) findSite(region, site string) (int, int, error) {
	i, err := s.findRegion(region)
	if err != nil {
		return 0, 0, err
	}
	sites := s.regions[i].Sites
	j := sort.Search(len(sites), func(j int) bool { return sites[j].Name >= site })
	if j == len(sites) || sites[j].Name != site {
		return 0, 0, fmt.Errorf("region %q, site %q: %w", region, site, ErrNotFound)
	}
	return i, j, nil
}

// entry returns a copy of region i's entry that shares no map with s.
func (s *Secret) entry(i int) RegionEntry {
	e := s.entries[i]
	e.Counts = maps.Clone(e.Counts)
	return e
}

func (s *Secret) siteEntry(i, j int) SiteEntry {
	e := s.siteEntries[i][j]
	e.Counts = maps.Clone(e.Counts)
	return e
}

func (s *Secret) regionProof(i int) RegionProof {
	return RegionProof{Regions: uint64(len(s.entries)), Root: s.index.root(), Salt: s.indexSalt,
		Position: uint64(i), Entry: s.entry(i), Proof: s.index.inclusion(uint64(i))}
}

func (s *Secret) siteProof(i, j int) SiteProof {
	t := s.siteTrees[i]
	return SiteProof{Sites: t.size(), Root: t.root(), Salt: s.regions[i].SitesSalt,
		Position: uint64(j), Entry: s.siteEntry(i, j), Proof: t.inclusion(uint64(j))}
}

// Opened returns the region's contents as declaration data, without salts.
// Call it only after VerifyRegionOpening accepted o.
func (o *RegionOpening) Opened() Region {
	return Region{Name: o.Region.Entry.Name, Sites: openedSites(o.Sites)}
}

// Opened returns the region name and the site's contents, without salts.
// Call it only after VerifySiteOpening accepted o.
func (o *SiteOpening) Opened() (region string, site Site) {
	return o.Region.Entry.Name, Site{Name: o.Site.Entry.Name, Items: openedItems(o.Items)}
}

// Opened returns where the item is declared and the item, without its salt.
// Call it only after VerifyItemOpening accepted o.
func (o *ItemOpening) Opened() (region, site string, item Item) {
	return o.Region.Entry.Name, o.Site.Entry.Name,
		Item{ID: o.Item.ID, Category: o.Item.Category, Attrs: o.Item.Attrs}
}

// cloneItems returns a deep copy, so that openings share nothing with s.
func cloneItems(items []OpenedItem) []OpenedItem {
	if len(items) == 0 {
		return nil
	}
	out := make([]OpenedItem, len(items))
	for i, it := range items {
		out[i] = it
		out[i].Attrs = maps.Clone(it.Attrs)
	}
	return out
}
