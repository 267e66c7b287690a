package escrow

import (
	"fmt"
	"maps"
)

// This file checks declaration versions (spec §Versions and deployment changes): a new commitment
// follows the previous one, and a deployment change explains exactly how the
// opened state of one version became the opened state of the next.

// CheckSuccessor checks that next is the version after prev: same regime and
// party, version one higher, and next.Prev equal to prevRef, the caller's
// reference to the statement that published prev.
func CheckSuccessor(prev, next *Commitment, prevRef string) error {
	if err := prev.check(); err != nil {
		return fmt.Errorf("previous version: %w", err)
	}
	if err := next.check(); err != nil {
		return fmt.Errorf("next version: %w", err)
	}
	switch {
	case next.Regime != prev.Regime || next.Party != prev.Party:
		return fmt.Errorf("%w: regime %q party %q follows regime %q party %q",
			ErrVersion, next.Regime, next.Party, prev.Regime, prev.Party)
	case next.Version != prev.Version+1:
		return fmt.Errorf("%w: version %d follows version %d", ErrVersion, next.Version, prev.Version)
	case prevRef == "" || next.Prev != prevRef:
		return fmt.Errorf("%w: version %d references %q, want %q", ErrVersion, next.Version, next.Prev, prevRef)
	}
	return nil
}

// A Location is where an item is declared.
type Location struct {
	Region string `json:"region"`
	Site   string `json:"site"`
}

func (l Location) String() string { return fmt.Sprintf("region %q, site %q", l.Region, l.Site) }

// A Move relocates one item from one site to another.
type Move struct {
	ID   string   `json:"id"`
	From Location `json:"from"`
	To   Location `json:"to"`
}

// An Addition declares a new item.
type Addition struct {
	At   Location `json:"at"`
	Item Item     `json:"item"`
}

// A Removal withdraws an item.
type Removal struct {
	ID string   `json:"id"`
	At Location `json:"at"`
}

// A Change is the declaration content of a deployment.change statement (spec
// §Versions and deployment changes). Every item id appears at most once in it.
type Change struct {
	Moved   []Move     `json:"moved,omitempty"`
	Added   []Addition `json:"added,omitempty"`
	Removed []Removal  `json:"removed,omitempty"`
}

// ParseChange decodes a change in canonical JSON and checks its names.
func ParseChange(data []byte) (*Change, error) {
	c, err := parseCanonical[Change](data, "change")
	if err != nil {
		return nil, err
	}
	if err := c.validate(); err != nil {
		return nil, fmt.Errorf("change: %w", err)
	}
	return c, nil
}

func (c *Change) validate() error {
	for _, m := range c.Moved {
		if err := validNames(m.ID, m.From.Region, m.From.Site, m.To.Region, m.To.Site); err != nil {
			return fmt.Errorf("move of %q: %w", m.ID, err)
		}
	}
	for _, a := range c.Added {
		if err := validNames(a.At.Region, a.At.Site); err != nil {
			return fmt.Errorf("addition of %q: %w", a.Item.ID, err)
		}
		if err := a.Item.validate(); err != nil {
			return fmt.Errorf("addition: %w", err)
		}
	}
	for _, r := range c.Removed {
		if err := validNames(r.ID, r.At.Region, r.At.Site); err != nil {
			return fmt.Errorf("removal of %q: %w", r.ID, err)
		}
	}
	return nil
}

func validNames(names ...string) error {
	for _, n := range names {
		if err := validName(n); err != nil {
			return fmt.Errorf("%q: %w", n, err)
		}
	}
	return nil
}

// placed is an item and its location.
type placed struct {
	at   Location
	item *Item
}

// CheckChange checks that ch explains exactly the difference between
// two opened states of consecutive declaration versions: every moved item
// leaves its old site and appears, unchanged, at its new one; every added
// item is new and appears as stated; every removed item disappears; every
// other item keeps its site, category and attributes; and no empty site or
// region appears or disappears. It is a pure function of its inputs.
//
// prev and next must cover the same scope, such as the same opened regions
// or the whole declaration: an item that moves into or out of the scope is,
// within it, an addition or a removal.
func CheckChange(prev, next *Declaration, ch *Change) error {
	if err := prev.Validate(); err != nil {
		return fmt.Errorf("previous state: %w", err)
	}
	if err := next.Validate(); err != nil {
		return fmt.Errorf("next state: %w", err)
	}
	before, after := placements(prev), placements(next)
	changed, err := checkChanges(before, after, ch)
	if err != nil {
		return err
	}
	if err := checkUnchanged(prev, before, after, changed); err != nil {
		return err
	}
	if err := checkUnchanged(next, after, before, changed); err != nil {
		return err
	}
	if err := checkContainers(prev, next); err != nil {
		return err
	}
	return checkContainers(next, prev)
}

func placements(d *Declaration) map[string]placed {
	m := make(map[string]placed, d.ItemCount())
	for _, r := range d.Regions {
		for _, s := range r.Sites {
			for i := range s.Items {
				m[s.Items[i].ID] = placed{Location{r.Name, s.Name}, &s.Items[i]}
			}
		}
	}
	return m
}

// checkChanges checks each entry of ch and returns the ids it covers.
func checkChanges(before, after map[string]placed, ch *Change) (map[string]bool, error) {
	changed := map[string]bool{}
	claim := func(id string) error {
		if changed[id] {
			return fmt.Errorf("%w: item %q appears twice in the change", ErrChange, id)
		}
		changed[id] = true
		return nil
	}
	for _, m := range ch.Moved {
		if err := claim(m.ID); err != nil {
			return nil, err
		}
		if err := checkMove(before, after, m); err != nil {
			return nil, fmt.Errorf("%w: move of %q: %w", ErrChange, m.ID, err)
		}
	}
	for _, a := range ch.Added {
		if err := claim(a.Item.ID); err != nil {
			return nil, err
		}
		if err := checkAddition(before, after, a); err != nil {
			return nil, fmt.Errorf("%w: addition of %q: %w", ErrChange, a.Item.ID, err)
		}
	}
	for _, r := range ch.Removed {
		if err := claim(r.ID); err != nil {
			return nil, err
		}
		if err := checkRemoval(before, after, r); err != nil {
			return nil, fmt.Errorf("%w: removal of %q: %w", ErrChange, r.ID, err)
		}
	}
	return changed, nil
}

func checkMove(before, after map[string]placed, m Move) error {
	p, ok := before[m.ID]
	switch {
	case m.From == m.To:
		return fmt.Errorf("from and to are both %v", m.From)
	case !ok:
		return fmt.Errorf("not in the previous state")
	case p.at != m.From:
		return fmt.Errorf("previously at %v, not %v", p.at, m.From)
	}
	n, ok := after[m.ID]
	switch {
	case !ok:
		return fmt.Errorf("not in the next state")
	case n.at != m.To:
		return fmt.Errorf("next at %v, not %v", n.at, m.To)
	case !sameItem(p.item, n.item):
		return fmt.Errorf("category or attributes changed")
	}
	return nil
}

func checkAddition(before, after map[string]placed, a Addition) error {
	if p, ok := before[a.Item.ID]; ok {
		return fmt.Errorf("already declared at %v", p.at)
	}
	n, ok := after[a.Item.ID]
	switch {
	case !ok:
		return fmt.Errorf("not in the next state")
	case n.at != a.At:
		return fmt.Errorf("next at %v, not %v", n.at, a.At)
	case !sameItem(n.item, &a.Item):
		return fmt.Errorf("next state has category %q and attributes %v, change says %q and %v",
			n.item.Category, n.item.Attrs, a.Item.Category, a.Item.Attrs)
	}
	return nil
}

func checkRemoval(before, after map[string]placed, r Removal) error {
	p, ok := before[r.ID]
	switch {
	case !ok:
		return fmt.Errorf("not in the previous state")
	case p.at != r.At:
		return fmt.Errorf("previously at %v, not %v", p.at, r.At)
	}
	if n, ok := after[r.ID]; ok {
		return fmt.Errorf("still declared at %v", n.at)
	}
	return nil
}

// checkUnchanged checks that every item of d (whose placements are in) that
// the change does not cover is identical in other.
func checkUnchanged(d *Declaration, in, other map[string]placed, changed map[string]bool) error {
	for _, r := range d.Regions {
		for _, s := range r.Sites {
			for _, it := range s.Items {
				if changed[it.ID] {
					continue
				}
				o, ok := other[it.ID]
				if !ok {
					return fmt.Errorf("%w: item %q at %v is in one state only and not in the change",
						ErrChange, it.ID, in[it.ID].at)
				}
				if o.at != in[it.ID].at || !sameItem(o.item, in[it.ID].item) {
					return fmt.Errorf("%w: item %q differs between the states and is not in the change", ErrChange, it.ID)
				}
			}
		}
	}
	return nil
}

// checkContainers checks that every region and site of d that is missing
// from other held at least one item in d.
func checkContainers(d, other *Declaration) error {
	sites := map[Location]bool{}
	regions := map[string]bool{}
	for _, r := range other.Regions {
		regions[r.Name] = true
		for _, s := range r.Sites {
			sites[Location{r.Name, s.Name}] = true
		}
	}
	for _, r := range d.Regions {
		n := 0
		for _, s := range r.Sites {
			n += len(s.Items)
			if !sites[Location{r.Name, s.Name}] && len(s.Items) == 0 {
				return fmt.Errorf("%w: empty site %q in region %q is in one state only", ErrChange, s.Name, r.Name)
			}
		}
		if !regions[r.Name] && n == 0 {
			return fmt.Errorf("%w: empty region %q is in one state only", ErrChange, r.Name)
		}
	}
	return nil
}

func sameItem(a, b *Item) bool {
	return a.ID == b.ID && a.Category == b.Category && maps.Equal(a.Attrs, b.Attrs)
}
