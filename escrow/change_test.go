package escrow

import (
	"errors"
	"strings"
	"testing"
)

func sampleChange() *Change {
	return &Change{
		Moved:   []Move{{ID: "M-0010", From: Location{"Kaliningrad", "Baltiysk"}, To: Location{"Kaliningrad", "Chernyakhovsk"}}},
		Added:   []Addition{{At: Location{"Orenburg", "Yasny"}, Item: Item{ID: "M-0031", Category: "9M729.missile"}}},
		Removed: []Removal{{ID: "L-0021", At: Location{"Chelyabinsk", `Shagol "depot"`}}},
	}
}

// applySampleChange returns the sample declaration after sampleChange.
func applySampleChange() *Declaration {
	d := sampleDeclaration()
	k := &d.Regions[0]
	k.Sites[0].Items = append(k.Sites[0].Items, k.Sites[1].Items[0])
	k.Sites = k.Sites[:1] // Baltiysk is now empty and dropped
	c := &d.Regions[1].Sites[0]
	c.Items = c.Items[:1]
	o := &d.Regions[2].Sites[0]
	o.Items = append(o.Items, Item{ID: "M-0031", Category: "9M729.missile"})
	return d
}

func TestCheckChange(t *testing.T) {
	prev, next := sampleDeclaration(), applySampleChange()
	if err := CheckChange(prev, next, sampleChange()); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		edit func(next *Declaration, c *Change)
		msg  string
	}{
		{"undeclared move", func(n *Declaration, c *Change) { c.Moved = nil }, "M-0010"},
		{"wrong destination", func(n *Declaration, c *Change) { c.Moved[0].To.Site = "Baltiysk-2" }, "next at"},
		{"wrong origin", func(n *Declaration, c *Change) { c.Moved[0].From.Site = "Chernyakhovsk" }, "from and to"},
		{"move changes category", func(n *Declaration, c *Change) {
			n.Regions[0].Sites[0].Items[3].Category = "9M729.launcher"
		}, "category or attributes"},
		{"addition not in next", func(n *Declaration, c *Change) { c.Added[0].Item.ID = "M-0032" }, "not in the next state"},
		{"addition of existing id", func(n *Declaration, c *Change) {
			c.Added = append(c.Added, Addition{At: Location{"Orenburg", "Yasny"}, Item: Item{ID: "M-0030", Category: "9M729.missile"}})
		}, "already declared"},
		{"addition with other category", func(n *Declaration, c *Change) { c.Added[0].Item.Category = "SSC-8" }, "change says"},
		{"removal still present", func(n *Declaration, c *Change) { c.Removed[0].ID = "M-0020" }, "still declared"},
		{"removal at wrong site", func(n *Declaration, c *Change) { c.Removed[0].At.Site = "Kamensk (empty)" }, "previously at"},
		{"item listed twice", func(n *Declaration, c *Change) {
			c.Removed = append(c.Removed, Removal{ID: "M-0010", At: Location{"Kaliningrad", "Baltiysk"}})
		}, "twice"},
		{"silent attribute change", func(n *Declaration, c *Change) {
			n.Regions[2].Sites[0].Items[0].Attrs = map[string]string{"x": "y"}
		}, `"M-0030" differs`},
		{"silent new item", func(n *Declaration, c *Change) {
			n.Regions[2].Sites[0].Items = append(n.Regions[2].Sites[0].Items, Item{ID: "M-0099", Category: "c"})
		}, `"M-0099"`},
		{"new empty site", func(n *Declaration, c *Change) {
			n.Regions[2].Sites = append(n.Regions[2].Sites, Site{Name: "Dombarovsky"})
		}, "empty site"},
		{"empty site dropped", func(n *Declaration, c *Change) { n.Regions[1].Sites = n.Regions[1].Sites[:1] }, "empty site"},
		{"new empty region", func(n *Declaration, c *Change) { n.Regions = append(n.Regions, Region{Name: "Tver"}) }, "empty region"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			next, ch := applySampleChange(), sampleChange()
			tc.edit(next, ch)
			err := CheckChange(sampleDeclaration(), next, ch)
			if !errors.Is(err, ErrChange) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("got %v, want ErrChange containing %q", err, tc.msg)
			}
		})
	}
}

// TestCheckChangeOpened runs the check on states opened from two commitments.
func TestCheckChangeOpened(t *testing.T) {
	v1 := mustCommit(t, sampleDeclaration(), testParams("v1"))
	p := testParams("v2")
	p.Version, p.Prev = 2, "inf-2026/RU/17"
	v2 := mustCommit(t, applySampleChange(), p)
	if err := CheckSuccessor(v1.Commitment(), v2.Commitment(), "inf-2026/RU/17"); err != nil {
		t.Fatal(err)
	}
	opened := func(s *Secret, region string) *Declaration {
		o, err := s.OpenRegion(region)
		if err != nil {
			t.Fatal(err)
		}
		if err := VerifyRegionOpening(s.Commitment(), o); err != nil {
			t.Fatal(err)
		}
		return &Declaration{Regions: []Region{o.Opened()}}
	}
	move := &Change{Moved: sampleChange().Moved}
	if err := CheckChange(opened(v1, "Kaliningrad"), opened(v2, "Kaliningrad"), move); err != nil {
		t.Fatal(err)
	}
	if err := CheckChange(opened(v1, "Kaliningrad"), opened(v2, "Kaliningrad"), &Change{}); !errors.Is(err, ErrChange) {
		t.Fatalf("unreported move: %v", err)
	}
}

func TestCheckSuccessor(t *testing.T) {
	v1 := mustCommit(t, sampleDeclaration(), testParams("v1")).Commitment()
	p := testParams("v2")
	p.Version, p.Prev = 2, "ref-1"
	v2 := mustCommit(t, sampleDeclaration(), p).Commitment()
	cases := []struct {
		name string
		edit func(c *Commitment)
		ref  string
	}{
		{"wrong ref", func(c *Commitment) {}, "ref-2"},
		{"empty ref", func(c *Commitment) { c.Prev = "" }, ""},
		{"skipped version", func(c *Commitment) { c.Version = 3 }, "ref-1"},
		{"other party", func(c *Commitment) { c.Party = "BY" }, "ref-1"},
		{"other regime", func(c *Commitment) { c.Regime = "cfe" }, "ref-1"},
	}
	for _, tc := range cases {
		next := *v2
		tc.edit(&next)
		if err := CheckSuccessor(v1, &next, tc.ref); err == nil {
			t.Errorf("%s: accepted", tc.name)
		}
	}
	if err := CheckSuccessor(v1, v2, "ref-1"); err != nil {
		t.Fatal(err)
	}
}

func TestParseChange(t *testing.T) {
	j := mustJSON(t, sampleChange())
	c, err := ParseChange(j)
	if err != nil {
		t.Fatal(err)
	}
	if string(mustJSON(t, c)) != string(j) {
		t.Fatal("round trip changed the change")
	}
	bad := strings.Replace(string(j), `"M-0031"`, `""`, 1)
	if _, err := ParseChange([]byte(bad)); !errors.Is(err, ErrInvalidName) {
		t.Fatalf("empty id: %v", err)
	}
}
