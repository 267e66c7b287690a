package escrow

import (
	"cmp"
	"fmt"
	"hash/maphash"
	"math/bits"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits from spec §Names.
const (
	MaxNameLen  = 128     // bytes, for names, ids, categories, attribute keys
	MaxValueLen = 1024    // bytes, for attribute values and the prev reference
	MaxSize     = 1 << 40 // largest committed (padded) size
)

// A Declaration is an inventory: regions, sites within regions, items within
// sites (spec §Declarations). Its canonical order sorts regions by name, sites
// by name within a region, and items by id within a site, bytewise.
type Declaration struct {
	Regions []Region `json:"regions"`
}

// A Region is a named group of sites.
type Region struct {
	Name  string `json:"name"`
	Sites []Site `json:"sites,omitempty"`
}

// A Site is a named place holding items.
type Site struct {
	Name  string `json:"name"`
	Items []Item `json:"items,omitempty"`
}

// An Item is one declared object. ID is unique across the whole declaration.
type Item struct {
	ID       string            `json:"id"`
	Category string            `json:"category"`
	Attrs    map[string]string `json:"attrs,omitempty"`
}

// ItemCount returns the number of items in d.
func (d *Declaration) ItemCount() int {
	n := 0
	for _, r := range d.Regions {
		for _, s := range r.Sites {
			n += len(s.Items)
		}
	}
	return n
}

// Validate checks d against spec §Names: every name is valid, region names
// are unique, site names are unique within their region, and item ids are
// unique across the declaration. Order does not matter.
func (d *Declaration) Validate() error {
	regions := make(map[string]bool, len(d.Regions))
	for _, r := range d.Regions {
		if err := validName(r.Name); err != nil {
			return fmt.Errorf("region name %q: %w", r.Name, err)
		}
		if regions[r.Name] {
			return fmt.Errorf("region %q: %w region name", r.Name, ErrDuplicate)
		}
		regions[r.Name] = true
		if err := validateSites(r); err != nil {
			return err
		}
	}
	if n := d.ItemCount(); n > MaxSize {
		return fmt.Errorf("%d items: %w: more than %d", n, ErrInvalidParams, MaxSize)
	}
	return d.checkUniqueIDs()
}

func validateSites(r Region) error {
	sites := make(map[string]bool, len(r.Sites))
	for _, s := range r.Sites {
		if err := validName(s.Name); err != nil {
			return fmt.Errorf("region %q, site name %q: %w", r.Name, s.Name, err)
		}
		if sites[s.Name] {
			return fmt.Errorf("region %q, site %q: %w site name", r.Name, s.Name, ErrDuplicate)
		}
		sites[s.Name] = true
		for _, it := range s.Items {
			if err := it.validate(); err != nil {
				return fmt.Errorf("region %q, site %q: %w", r.Name, s.Name, err)
			}
		}
	}
	return nil
}

// checkUniqueIDs looks for duplicate item ids through a set of 64-bit
// hashes of the ids, which for a million items is several times faster than
// a map of strings; only if two hashes are equal does it search for the
// duplicate itself.
func (d *Declaration) checkUniqueIDs() error {
	n := d.ItemCount()
	seed := maphash.MakeSeed()
	set := make([]uint64, 1<<bits.Len(uint(2*n))) // open addressing; 0 is empty
	mask := uint64(len(set) - 1)
	for _, r := range d.Regions {
		for _, s := range r.Sites {
			for _, it := range s.Items {
				h := maphash.String(seed, it.ID) | 1
				i := h & mask
				for set[i] != 0 && set[i] != h {
					i = (i + 1) & mask
				}
				if set[i] == h {
					return d.findDuplicateID()
				}
				set[i] = h
			}
		}
	}
	return nil
}

// place is where an item is declared.
type place struct{ region, site string }

func (d *Declaration) findDuplicateID() error {
	ids := make(map[string]place, d.ItemCount())
	for _, r := range d.Regions {
		for _, s := range r.Sites {
			for _, it := range s.Items {
				if p, ok := ids[it.ID]; ok {
					return fmt.Errorf("region %q, site %q, item %q: %w item id (also in region %q, site %q)",
						r.Name, s.Name, it.ID, ErrDuplicate, p.region, p.site)
				}
				ids[it.ID] = place{r.Name, s.Name}
			}
		}
	}
	return nil
}

func (it *Item) validate() error {
	if err := validName(it.ID); err != nil {
		return fmt.Errorf("item id %q: %w", it.ID, err)
	}
	if err := validName(it.Category); err != nil {
		return fmt.Errorf("item %q, category %q: %w", it.ID, it.Category, err)
	}
	return validAttrs(it.ID, it.Attrs)
}

func validAttrs(id string, attrs map[string]string) error {
	for k, v := range attrs {
		if err := validAttrKey(k); err != nil {
			return fmt.Errorf("item %q, attribute key %q: %w", id, k, err)
		}
		if err := validValue(v); err != nil {
			return fmt.Errorf("item %q, attribute %q value: %w", id, k, err)
		}
	}
	return nil
}

// validName implements spec §Names for names, ids, categories and keys:
// 1 to 128 bytes of UTF-8, printable characters only (unicode.IsPrint, which
// allows U+0020 but no other space), no leading or trailing space.
func validName(s string) error {
	if s == "" {
		return fmt.Errorf("empty: %w", ErrInvalidName)
	}
	if len(s) > MaxNameLen {
		return fmt.Errorf("%d bytes, more than %d: %w", len(s), MaxNameLen, ErrInvalidName)
	}
	if s[0] == ' ' || s[len(s)-1] == ' ' {
		return fmt.Errorf("leading or trailing space: %w", ErrInvalidName)
	}
	return printable(s)
}

// validAttrKey implements spec §Names for attribute keys: a valid name
// without "=", so that CSV "key=value" cells are unambiguous.
func validAttrKey(k string) error {
	if strings.Contains(k, "=") {
		return fmt.Errorf("contains \"=\": %w", ErrInvalidName)
	}
	return validName(k)
}

// validValue implements spec §Names for attribute values and references: up
// to 1024 bytes of printable UTF-8, possibly empty.
func validValue(s string) error {
	if len(s) > MaxValueLen {
		return fmt.Errorf("%d bytes, more than %d: %w", len(s), MaxValueLen, ErrInvalidName)
	}
	return printable(s)
}

func printable(s string) error {
	ascii := true
	for i := 0; i < len(s) && ascii; i++ {
		ascii = s[i] >= 0x20 && s[i] < 0x7f
	}
	if ascii {
		return nil
	}
	for i, r := range s {
		if r == utf8.RuneError && !validRuneAt(s, i) {
			return fmt.Errorf("invalid UTF-8 at byte %d: %w", i, ErrInvalidName)
		}
		if !unicode.IsPrint(r) {
			return fmt.Errorf("non-printable character %U at byte %d: %w", r, i, ErrInvalidName)
		}
	}
	return nil
}

func validRuneAt(s string, i int) bool {
	_, size := utf8.DecodeRuneInString(s[i:])
	return size == 3 // a literal U+FFFD, not an invalid byte
}

// Canonical returns a copy of d in canonical order (spec §Declarations). The
// copy shares item attribute maps with d; neither is modified.
func (d *Declaration) Canonical() *Declaration {
	out := &Declaration{Regions: slices.Clone(d.Regions)}
	slices.SortFunc(out.Regions, func(a, b Region) int { return cmp.Compare(a.Name, b.Name) })
	for i := range out.Regions {
		r := &out.Regions[i]
		r.Sites = slices.Clone(r.Sites)
		slices.SortFunc(r.Sites, func(a, b Site) int { return cmp.Compare(a.Name, b.Name) })
		for j := range r.Sites {
			s := &r.Sites[j]
			s.Items = slices.Clone(s.Items)
			if !slices.IsSortedFunc(s.Items, compareItems) {
				slices.SortFunc(s.Items, compareItems)
			}
		}
	}
	return out
}

func compareItems(a, b Item) int { return cmp.Compare(a.ID, b.ID) }
