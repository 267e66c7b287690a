package escrow

import (
	"fmt"
	"maps"
)

// This file implements the verification algorithms of spec §Reveals.
// Each first authenticates what it is given against the commitment, then
// checks that the authenticated parts are consistent. They need only the
// public commitment and the reveal.

// VerifyIndex checks an index reveal: the region entries, in order, with the
// salt, give the commitment's index; the regions are in name order and their
// ranges tile the items [0, n) with n ≤ size; counts add up.
func VerifyIndex(c *Commitment, r *IndexReveal) error {
	if err := c.check(); err != nil {
		return err
	}
	ctx := contextHash(c)
	hashes := make([]Hash, len(r.Regions))
	for i := range r.Regions {
		hashes[i] = regionEntryHash(&ctx, &r.Regions[i])
	}
	root := rootOf(hashes)
	if indexCommit(&ctx, uint64(len(r.Regions)), &root, &r.Salt) != c.Index {
		return fmt.Errorf("index reveal of %d regions: %w", len(r.Regions), ErrIndex)
	}
	var next uint64
	for i := range r.Regions {
		e := &r.Regions[i]
		if err := checkRegionEntry(c, e); err != nil {
			return fmt.Errorf("index reveal: region %q at position %d: %w", e.Name, i, err)
		}
		if i > 0 && e.Name <= r.Regions[i-1].Name {
			return fmt.Errorf("index reveal: region %q at position %d: %w: not after %q in name order",
				e.Name, i, ErrInconsistent, r.Regions[i-1].Name)
		}
		if e.Start != next {
			return fmt.Errorf("index reveal: region %q at position %d: %w: starts at leaf %d, want %d",
				e.Name, i, ErrInconsistent, e.Start, next)
		}
		next = e.End
	}
	return nil
}

// VerifySites checks a site list reveal: the region entry is in the index;
// the site entries, in order, with the salt, give the region's site-list
// commitment; sites are in name order, their ranges tile the region's range
// and their counts add up to the region's.
func VerifySites(c *Commitment, r *SitesReveal) error {
	ctx, region, err := verifyRegion(c, &r.Region)
	if err != nil {
		return fmt.Errorf("site list reveal: %w", err)
	}
	if !siteListMatches(&ctx, region, r.Sites, &r.Salt) {
		return fmt.Errorf("site list reveal of region %q, %d sites: %w", region.Name, len(r.Sites), ErrSites)
	}
	if err := checkSiteList(region, r.Sites); err != nil {
		return fmt.Errorf("site list reveal: %w", err)
	}
	return nil
}

// VerifyRegionOpening checks a region opening: the region entry is in the
// index; the opened sites, with ranges and counts derived from their items,
// give the region's site-list commitment; the items with their salts, in
// order, are exactly the leaves [start, end) of the items tree, checked with
// the range proof; and everything is consistent with the region entry. An
// omitted, added, moved or altered item, salt or site fails.
func VerifyRegionOpening(c *Commitment, o *RegionOpening) error {
	ctx, region, err := verifyRegion(c, &o.Region)
	if err != nil {
		return fmt.Errorf("region opening: %w", err)
	}
	where := fmt.Sprintf("region opening of %q", region.Name)
	sites, leaves := deriveSites(&ctx, region, o.Sites)
	if !siteListMatches(&ctx, region, sites, &o.Salt) {
		return fmt.Errorf("%s: opened sites and item counts: %w", where, ErrSites)
	}
	if err := verifyLeaves(c, region.Start, region.End, leaves, o.Proof); err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	if err := checkSiteList(region, sites); err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	seen := make(map[string]bool, len(leaves))
	for _, s := range o.Sites {
		if err := checkItems(s.Items, seen); err != nil {
			return fmt.Errorf("%s: site %q: %w", where, s.Name, err)
		}
	}
	return nil
}

// VerifySiteOpening checks a site opening: the region entry is in the index,
// the site entry in the region's site list, and the items with their salts,
// in order, are exactly the site's leaves [start, end), checked with the range
// proof; their counts match the site entry.
func VerifySiteOpening(c *Commitment, o *SiteOpening) error {
	ctx, region, site, err := verifySite(c, &o.Region, &o.Site)
	if err != nil {
		return fmt.Errorf("site opening: %w", err)
	}
	where := fmt.Sprintf("site opening of region %q, site %q", region.Name, site.Name)
	prefix := itemPrefix(&ctx, region.Name, site.Name)
	leaves := leafHashes(prefix, o.Items, nil)
	if err := verifyLeaves(c, site.Start, site.End, leaves, o.Proof); err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	if err := checkItems(o.Items, make(map[string]bool, len(o.Items))); err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	if counts := countItems(o.Items); !maps.Equal(counts, site.Counts) {
		return fmt.Errorf("%s: %w: item counts %v, site entry says %v", where, ErrInconsistent, counts, site.Counts)
	}
	return nil
}

// VerifyItemOpening checks an item opening: the region entry is in the
// index, the site entry in the region's site list, the item's leaf position
// lies in the site's range and the inclusion proof leads from the item's
// leaf to the items root.
func VerifyItemOpening(c *Commitment, o *ItemOpening) error {
	ctx, region, site, err := verifySite(c, &o.Region, &o.Site)
	if err != nil {
		return fmt.Errorf("item opening: %w", err)
	}
	where := fmt.Sprintf("item opening of %q at leaf %d", o.Item.ID, o.Position)
	if o.Position < site.Start || o.Position >= site.End {
		return fmt.Errorf("%s: %w: outside site %q, leaves [%d, %d)", where, ErrItems, site.Name, site.Start, site.End)
	}
	h, _ := itemHash(nil, itemPrefix(&ctx, region.Name, site.Name), &o.Item)
	root, err := rootFromInclusion(o.Position, c.Size, leafHash(&h), o.Proof)
	if err != nil {
		return fmt.Errorf("%s: inclusion proof: %v: %w", where, err, ErrItems)
	}
	if root != c.ItemsRoot {
		return fmt.Errorf("%s: item, salt or proof: %w", where, ErrItems)
	}
	if err := o.Item.validate(); err != nil {
		return fmt.Errorf("%s: %w: %w", where, ErrInconsistent, err)
	}
	if site.Counts[o.Item.Category] == 0 {
		return fmt.Errorf("%s: %w: site %q counts no %q", where, ErrInconsistent, site.Name, o.Item.Category)
	}
	return nil
}

// siteListMatches reports whether the site entries, in order, with the
// site-list salt give the region entry's site-list commitment.
func siteListMatches(ctx *Hash, region *RegionEntry, sites []SiteEntry, salt *Hash) bool {
	hashes := make([]Hash, len(sites))
	for i := range sites {
		hashes[i] = siteEntryHash(ctx, region.Name, &sites[i])
	}
	root := rootOf(hashes)
	return sitesCommit(ctx, region.Name, uint64(len(sites)), &root, salt) == region.Sites
}

// verifyRegion authenticates a region entry (spec §Region proofs).
func verifyRegion(c *Commitment, p *RegionProof) (Hash, *RegionEntry, error) {
	if err := c.check(); err != nil {
		return Hash{}, nil, err
	}
	ctx := contextHash(c)
	e := &p.Entry
	if indexCommit(&ctx, p.Regions, &p.Root, &p.Salt) != c.Index {
		return ctx, nil, fmt.Errorf("region %q: region count, root or index salt: %w", e.Name, ErrIndex)
	}
	h := regionEntryHash(&ctx, e)
	root, err := rootFromInclusion(p.Position, p.Regions, leafHash(&h), p.Proof)
	if err != nil {
		return ctx, nil, fmt.Errorf("region %q at position %d: inclusion proof: %v: %w", e.Name, p.Position, err, ErrIndex)
	}
	if root != p.Root {
		return ctx, nil, fmt.Errorf("region %q at position %d: entry or proof: %w", e.Name, p.Position, ErrIndex)
	}
	if err := checkRegionEntry(c, e); err != nil {
		return ctx, nil, fmt.Errorf("region %q at position %d: %w", e.Name, p.Position, err)
	}
	return ctx, e, nil
}

// verifySite authenticates a region entry and a site entry in its site list
// (spec §Site proofs).
func verifySite(c *Commitment, rp *RegionProof, sp *SiteProof) (Hash, *RegionEntry, *SiteEntry, error) {
	ctx, region, err := verifyRegion(c, rp)
	if err != nil {
		return ctx, nil, nil, err
	}
	e := &sp.Entry
	where := fmt.Sprintf("region %q, site %q at position %d", region.Name, e.Name, sp.Position)
	if sitesCommit(&ctx, region.Name, sp.Sites, &sp.Root, &sp.Salt) != region.Sites {
		return ctx, nil, nil, fmt.Errorf("%s: site count, root or site-list salt: %w", where, ErrSites)
	}
	h := siteEntryHash(&ctx, region.Name, e)
	root, err := rootFromInclusion(sp.Position, sp.Sites, leafHash(&h), sp.Proof)
	if err != nil {
		return ctx, nil, nil, fmt.Errorf("%s: inclusion proof: %v: %w", where, err, ErrSites)
	}
	if root != sp.Root {
		return ctx, nil, nil, fmt.Errorf("%s: entry or proof: %w", where, ErrSites)
	}
	if err := checkSiteEntry(region, e); err != nil {
		return ctx, nil, nil, fmt.Errorf("%s: %w", where, err)
	}
	return ctx, region, e, nil
}

// verifyLeaves checks that leaves are exactly the leaves [start, end) of the
// items tree, with the range proof (spec §Merkle proofs).
func verifyLeaves(c *Commitment, start, end uint64, leaves, proof []Hash) error {
	if uint64(len(leaves)) != end-start {
		return fmt.Errorf("%d items opened, entry has %d (leaves [%d, %d)): %w",
			len(leaves), end-start, start, end, ErrItems)
	}
	if len(leaves) == 0 {
		if len(proof) != 0 {
			return fmt.Errorf("empty range with a %d-hash proof: %w", len(proof), ErrItems)
		}
		return nil
	}
	root, err := rootFromRange(start, c.Size, leaves, proof)
	if err != nil {
		return fmt.Errorf("leaves [%d, %d): %v: %w", start, end, err, ErrItems)
	}
	if root != c.ItemsRoot {
		return fmt.Errorf("leaves [%d, %d): items, salts or range proof: %w", start, end, ErrItems)
	}
	return nil
}

// deriveSites computes the site entries implied by opened sites laid out from
// the region's start, and the leaf hashes of all their items in order.
func deriveSites(ctx *Hash, region *RegionEntry, opened []OpenedSite) ([]SiteEntry, []Hash) {
	n := 0
	for _, s := range opened {
		n += len(s.Items)
	}
	sites := make([]SiteEntry, len(opened))
	leaves := make([]Hash, 0, n)
	at := region.Start
	for i, s := range opened {
		sites[i] = SiteEntry{Name: s.Name, Start: at, End: at + uint64(len(s.Items)),
			Counts: countItems(s.Items), Salt: s.Salt}
		leaves = leafHashes(itemPrefix(ctx, region.Name, s.Name), s.Items, leaves)
		at = sites[i].End
	}
	return sites, leaves
}

func leafHashes(prefix enc, items []OpenedItem, out []Hash) []Hash {
	var scratch enc
	for i := range items {
		var h Hash
		h, scratch = itemHash(scratch, prefix, &items[i])
		out = append(out, leafHash(&h))
	}
	return out
}

// checkRegionEntry checks an authenticated region entry on its own.
func checkRegionEntry(c *Commitment, e *RegionEntry) error {
	if err := validName(e.Name); err != nil {
		return fmt.Errorf("%w: region name: %w", ErrInconsistent, err)
	}
	if e.Start > e.End || e.End > c.Size {
		return fmt.Errorf("%w: range [%d, %d) not within [0, %d)", ErrInconsistent, e.Start, e.End, c.Size)
	}
	return checkCounts(e.Counts, e.End-e.Start)
}

// checkSiteEntry checks an authenticated site entry against its region.
func checkSiteEntry(region *RegionEntry, e *SiteEntry) error {
	if err := validName(e.Name); err != nil {
		return fmt.Errorf("%w: site name: %w", ErrInconsistent, err)
	}
	if e.Start > e.End || e.Start < region.Start || e.End > region.End {
		return fmt.Errorf("%w: range [%d, %d) not within the region's [%d, %d)",
			ErrInconsistent, e.Start, e.End, region.Start, region.End)
	}
	return checkCounts(e.Counts, e.End-e.Start)
}

// checkSiteList checks that authenticated site entries are in name order,
// tile the region's range and add up to the region's counts.
func checkSiteList(region *RegionEntry, sites []SiteEntry) error {
	at := region.Start
	total := make(map[string]uint64)
	for i := range sites {
		e := &sites[i]
		where := fmt.Sprintf("region %q, site %q at position %d", region.Name, e.Name, i)
		if err := checkSiteEntry(region, e); err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		if i > 0 && e.Name <= sites[i-1].Name {
			return fmt.Errorf("%s: %w: not after %q in name order", where, ErrInconsistent, sites[i-1].Name)
		}
		if e.Start != at {
			return fmt.Errorf("%s: %w: starts at leaf %d, want %d", where, ErrInconsistent, e.Start, at)
		}
		at = e.End
		for k, v := range e.Counts {
			total[k] += v
		}
	}
	if at != region.End {
		return fmt.Errorf("region %q: %w: sites end at leaf %d, region at %d", region.Name, ErrInconsistent, at, region.End)
	}
	if !maps.Equal(total, region.Counts) {
		return fmt.Errorf("region %q: %w: site counts add up to %v, region entry says %v",
			region.Name, ErrInconsistent, total, region.Counts)
	}
	return nil
}

// checkCounts checks categories and that the counts are positive and add up
// to n.
func checkCounts(counts map[string]uint64, n uint64) error {
	var sum uint64
	for k, v := range counts {
		if err := validName(k); err != nil {
			return fmt.Errorf("%w: category %q: %w", ErrInconsistent, k, err)
		}
		if v == 0 || sum+v < sum {
			return fmt.Errorf("%w: category %q count %d", ErrInconsistent, k, v)
		}
		sum += v
	}
	if sum != n {
		return fmt.Errorf("%w: counts add up to %d, range holds %d", ErrInconsistent, sum, n)
	}
	return nil
}

// checkItems checks opened items: valid, in strict id order, and not seen
// before in the same opening.
func checkItems(items []OpenedItem, seen map[string]bool) error {
	for i := range items {
		it := &items[i]
		if err := it.validate(); err != nil {
			return fmt.Errorf("%w: %w", ErrInconsistent, err)
		}
		if i > 0 && it.ID <= items[i-1].ID {
			return fmt.Errorf("%w: item %q not after %q in id order", ErrInconsistent, it.ID, items[i-1].ID)
		}
		if seen[it.ID] {
			return fmt.Errorf("%w: item %q opened twice", ErrInconsistent, it.ID)
		}
		seen[it.ID] = true
	}
	return nil
}

func (it *OpenedItem) validate() error {
	return (&Item{ID: it.ID, Category: it.Category, Attrs: it.Attrs}).validate()
}
