package escrow

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// clone deep-copies a reveal through JSON.
func clone[T any](t *testing.T, v *T) *T {
	t.Helper()
	var out T
	if err := json.Unmarshal(mustJSON(t, v), &out); err != nil {
		t.Fatal(err)
	}
	return &out
}

type tamper[T any] struct {
	name string
	edit func(*T)
	want error
}

func runTampers[T any](t *testing.T, orig *T, verify func(*T) error, cases []tamper[T]) {
	t.Helper()
	if err := verify(orig); err != nil {
		t.Fatalf("untampered: %v", err)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := clone(t, orig)
			tc.edit(v)
			err := verify(v)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}

func flip(h *Hash) { h[7] ^= 0x10 }

// regionProofTampers are the changes to a region proof every reveal that
// embeds one must reject.
func regionProofTampers[T any](get func(*T) *RegionProof) []tamper[T] {
	return []tamper[T]{
		{"region count", func(v *T) { get(v).Regions++ }, ErrIndex},
		{"region root", func(v *T) { flip(&get(v).Root) }, ErrIndex},
		{"index salt", func(v *T) { flip(&get(v).Salt) }, ErrIndex},
		{"region position", func(v *T) { get(v).Position ^= 1 }, ErrIndex},
		{"region name", func(v *T) { get(v).Entry.Name += "x" }, ErrIndex},
		{"region start", func(v *T) { get(v).Entry.Start++ }, ErrIndex},
		{"region end", func(v *T) { get(v).Entry.End++ }, ErrIndex},
		{"region counts", func(v *T) { get(v).Entry.Counts["9M729.missile"]++ }, ErrIndex},
		{"region sites commitment", func(v *T) { flip(&get(v).Entry.Sites) }, ErrIndex},
		{"region entry salt", func(v *T) { flip(&get(v).Entry.Salt) }, ErrIndex},
		{"region proof hash", func(v *T) { flip(&get(v).Proof[0]) }, ErrIndex},
		{"region proof shortened", func(v *T) { p := get(v); p.Proof = p.Proof[1:] }, ErrIndex},
	}
}

func siteProofTampers[T any](get func(*T) *SiteProof) []tamper[T] {
	return []tamper[T]{
		{"site count", func(v *T) { get(v).Sites++ }, ErrSites},
		{"site root", func(v *T) { flip(&get(v).Root) }, ErrSites},
		{"site-list salt", func(v *T) { flip(&get(v).Salt) }, ErrSites},
		{"site position", func(v *T) { get(v).Position ^= 1 }, ErrSites},
		{"site name", func(v *T) { get(v).Entry.Name = "Baltiysk" }, ErrSites},
		{"site start moved", func(v *T) { get(v).Entry.Start-- }, ErrSites},
		{"site end moved", func(v *T) { get(v).Entry.End++ }, ErrSites},
		{"site counts", func(v *T) { get(v).Entry.Counts["9M729.launcher"] = 2 }, ErrSites},
		{"site entry salt", func(v *T) { flip(&get(v).Entry.Salt) }, ErrSites},
		{"site proof hash", func(v *T) { flip(&get(v).Proof[0]) }, ErrSites},
	}
}

func TestVerifyIndexTampers(t *testing.T) {
	s := mustCommit(t, sampleDeclaration(), testParams("tamper"))
	c := s.Commitment()
	runTampers(t, s.RevealIndex(), func(r *IndexReveal) error { return VerifyIndex(c, r) }, []tamper[IndexReveal]{
		{"salt", func(r *IndexReveal) { flip(&r.Salt) }, ErrIndex},
		{"dropped last region", func(r *IndexReveal) { r.Regions = r.Regions[:2] }, ErrIndex},
		{"dropped first region", func(r *IndexReveal) { r.Regions = r.Regions[1:] }, ErrIndex},
		{"swapped regions", func(r *IndexReveal) { r.Regions[0], r.Regions[1] = r.Regions[1], r.Regions[0] }, ErrIndex},
		{"added region", func(r *IndexReveal) { r.Regions = append(r.Regions, r.Regions[2]) }, ErrIndex},
		{"count", func(r *IndexReveal) { r.Regions[1].Counts["9M729.missile"]-- }, ErrIndex},
		{"category", func(r *IndexReveal) {
			r.Regions[2].Counts = map[string]uint64{"9M729.launcher": 1}
		}, ErrIndex},
		{"range", func(r *IndexReveal) { r.Regions[1].End-- }, ErrIndex},
		{"name", func(r *IndexReveal) { r.Regions[0].Name = "Chelyabinsk-2" }, ErrIndex},
	})
}

func TestVerifySitesTampers(t *testing.T) {
	s := mustCommit(t, sampleDeclaration(), testParams("tamper"))
	c := s.Commitment()
	r, _ := s.RevealSites("Kaliningrad")
	cases := []tamper[SitesReveal]{
		{"salt", func(r *SitesReveal) { flip(&r.Salt) }, ErrSites},
		{"dropped site", func(r *SitesReveal) { r.Sites = r.Sites[1:] }, ErrSites},
		{"moved boundary", func(r *SitesReveal) { r.Sites[0].End++; r.Sites[1].Start++ }, ErrSites},
		{"site count", func(r *SitesReveal) { r.Sites[1].Counts["9M729.missile"] = 1 }, ErrSites},
		{"site salt", func(r *SitesReveal) { flip(&r.Sites[0].Salt) }, ErrSites},
	}
	cases = append(cases, regionProofTampers(func(r *SitesReveal) *RegionProof { return &r.Region })...)
	runTampers(t, r, func(r *SitesReveal) error { return VerifySites(c, r) }, cases)
}

func TestVerifyRegionOpeningTampers(t *testing.T) {
	s := mustCommit(t, sampleDeclaration(), testParams("tamper"))
	c := s.Commitment()
	o, _ := s.OpenRegion("Kaliningrad")
	// Sites: Baltiysk [M-0010], Chernyakhovsk [L-0002, M-0001, M-0003].
	cases := []tamper[RegionOpening]{
		{"item id", func(o *RegionOpening) { o.Sites[1].Items[1].ID = "M-0002" }, ErrItems},
		{"item salt", func(o *RegionOpening) { flip(&o.Sites[1].Items[2].Salt) }, ErrItems},
		{"item attribute", func(o *RegionOpening) { o.Sites[1].Items[1].Attrs["lot"] = "8" }, ErrItems},
		{"item attribute dropped", func(o *RegionOpening) { delete(o.Sites[1].Items[1].Attrs, "lot") }, ErrItems},
		{"item category", func(o *RegionOpening) { o.Sites[1].Items[0].Category = "9M729.missile" }, ErrSites},
		{"categories swapped", func(o *RegionOpening) {
			a, b := &o.Sites[1].Items[0], &o.Sites[1].Items[1]
			a.Category, b.Category = b.Category, a.Category
		}, ErrItems},
		{"omitted item", func(o *RegionOpening) { o.Sites[1].Items = o.Sites[1].Items[:2] }, ErrSites},
		{"added item", func(o *RegionOpening) {
			o.Sites[1].Items = append(o.Sites[1].Items, OpenedItem{ID: "M-0004", Category: "9M729.missile"})
		}, ErrSites},
		{"moved boundary", func(o *RegionOpening) {
			o.Sites[0].Items = append(o.Sites[0].Items, o.Sites[1].Items[0])
			o.Sites[1].Items = o.Sites[1].Items[1:]
		}, ErrSites},
		{"swapped items", func(o *RegionOpening) {
			it := o.Sites[1].Items
			it[1], it[2] = it[2], it[1]
		}, ErrItems},
		{"omitted site", func(o *RegionOpening) { o.Sites = o.Sites[1:] }, ErrSites},
		{"renamed site", func(o *RegionOpening) { o.Sites[0].Name = "Baltiysk-2" }, ErrSites},
		{"site salt", func(o *RegionOpening) { flip(&o.Sites[0].Salt) }, ErrSites},
		{"site-list salt", func(o *RegionOpening) { flip(&o.Salt) }, ErrSites},
		{"range proof hash", func(o *RegionOpening) { flip(&o.Proof[len(o.Proof)-1]) }, ErrItems},
		{"range proof shortened", func(o *RegionOpening) { o.Proof = o.Proof[:len(o.Proof)-1] }, ErrItems},
		{"range proof lengthened", func(o *RegionOpening) { o.Proof = append(o.Proof, o.Proof[0]) }, ErrItems},
	}
	cases = append(cases, regionProofTampers(func(o *RegionOpening) *RegionProof { return &o.Region })...)
	runTampers(t, o, func(o *RegionOpening) error { return VerifyRegionOpening(c, o) }, cases)
}

func TestVerifySiteOpeningTampers(t *testing.T) {
	s := mustCommit(t, sampleDeclaration(), testParams("tamper"))
	c := s.Commitment()
	o, _ := s.OpenSite("Kaliningrad", "Chernyakhovsk")
	cases := []tamper[SiteOpening]{
		{"item id", func(o *SiteOpening) { o.Items[0].ID = "L-0001" }, ErrItems},
		{"item salt", func(o *SiteOpening) { flip(&o.Items[1].Salt) }, ErrItems},
		{"item category", func(o *SiteOpening) { o.Items[2].Category = "9M729.launcher" }, ErrItems},
		{"omitted first item", func(o *SiteOpening) { o.Items = o.Items[1:] }, ErrItems},
		{"omitted last item", func(o *SiteOpening) { o.Items = o.Items[:2] }, ErrItems},
		{"added item", func(o *SiteOpening) {
			o.Items = append(o.Items, OpenedItem{ID: "M-0004", Category: "9M729.missile"})
		}, ErrItems},
		{"swapped items", func(o *SiteOpening) { o.Items[0], o.Items[1] = o.Items[1], o.Items[0] }, ErrItems},
		{"range proof hash", func(o *SiteOpening) { flip(&o.Proof[0]) }, ErrItems},
		{"range proof shortened", func(o *SiteOpening) { o.Proof = o.Proof[1:] }, ErrItems},
	}
	cases = append(cases, regionProofTampers(func(o *SiteOpening) *RegionProof { return &o.Region })...)
	cases = append(cases, siteProofTampers(func(o *SiteOpening) *SiteProof { return &o.Site })...)
	runTampers(t, o, func(o *SiteOpening) error { return VerifySiteOpening(c, o) }, cases)
}

func TestVerifyItemOpeningTampers(t *testing.T) {
	s := mustCommit(t, sampleDeclaration(), testParams("tamper"))
	c := s.Commitment()
	o, _ := s.OpenItem("M-0001")
	cases := []tamper[ItemOpening]{
		{"item id", func(o *ItemOpening) { o.Item.ID = "M-0002" }, ErrItems},
		{"item salt", func(o *ItemOpening) { flip(&o.Item.Salt) }, ErrItems},
		{"item category", func(o *ItemOpening) { o.Item.Category = "9M729.launcher" }, ErrItems},
		{"item attribute", func(o *ItemOpening) { o.Item.Attrs["serial"] = "B" }, ErrItems},
		{"position", func(o *ItemOpening) { o.Position++ }, ErrItems},
		{"position outside site", func(o *ItemOpening) { o.Position = 0 }, ErrItems},
		{"proof hash", func(o *ItemOpening) { flip(&o.Proof[1]) }, ErrItems},
		{"proof shortened", func(o *ItemOpening) { o.Proof = o.Proof[1:] }, ErrItems},
	}
	cases = append(cases, regionProofTampers(func(o *ItemOpening) *RegionProof { return &o.Region })...)
	cases = append(cases, siteProofTampers(func(o *ItemOpening) *SiteProof { return &o.Site })...)
	runTampers(t, o, func(o *ItemOpening) error { return VerifyItemOpening(c, o) }, cases)
}

// TestInconsistentCommitment commits to index entries that contradict the
// items and checks that verifiers report ErrInconsistent.
func TestInconsistentCommitment(t *testing.T) {
	cases := []struct {
		name   string
		edit   func(s *Secret)
		verify func(s *Secret) error
	}{
		{"region ranges overlap", func(s *Secret) { s.entries[1].Start-- }, func(s *Secret) error {
			return VerifyIndex(s.Commitment(), s.RevealIndex())
		}},
		{"region counts wrong", func(s *Secret) { s.entries[2].Counts = map[string]uint64{"9M729.launcher": 1} },
			func(s *Secret) error {
				r, _ := s.RevealSites("Orenburg")
				return VerifySites(s.Commitment(), r)
			}},
		{"site counts wrong", func(s *Secret) { s.siteEntries[1][1].Counts = map[string]uint64{"9M729.missile": 3} },
			func(s *Secret) error {
				o, _ := s.OpenSite("Kaliningrad", "Chernyakhovsk")
				return VerifySiteOpening(s.Commitment(), o)
			}},
		{"site ranges overlap", func(s *Secret) { s.siteEntries[1][0].End++ }, func(s *Secret) error {
			r, _ := s.RevealSites("Kaliningrad")
			return VerifySites(s.Commitment(), r)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := mustCommit(t, sampleDeclaration(), testParams("inconsistent"))
			tc.edit(s)
			s.buildIndex()
			if err := tc.verify(s); !errors.Is(err, ErrInconsistent) {
				t.Fatalf("got %v, want ErrInconsistent", err)
			}
		})
	}
}

// TestRevealsHideUnopened checks that the encoded bytes of each reveal
// contain no id, salt or site name that it does not open.
func TestRevealsHideUnopened(t *testing.T) {
	s := mustCommit(t, sampleDeclaration(), testParams("leak"))
	d := s.Declaration()
	type secret struct{ needle, region, site, id string }
	var secrets []secret
	for _, r := range s.regions {
		for _, site := range r.Sites {
			name, _ := json.Marshal(site.Name)
			secrets = append(secrets, secret{string(name), r.Name, site.Name, ""})
			secrets = append(secrets, secret{site.Salt.String(), r.Name, site.Name, ""})
			for _, it := range site.Items {
				id, _ := json.Marshal(it.ID)
				secrets = append(secrets, secret{string(id), r.Name, site.Name, it.ID},
					secret{it.Salt.String(), r.Name, site.Name, it.ID})
			}
		}
		secrets = append(secrets, secret{r.SitesSalt.String(), r.Name, "*", ""})
	}
	secrets = append(secrets, secret{s.padSeed.String(), "-", "-", "-"})
	check := func(what string, v any, opened func(x secret) bool) {
		j := string(mustJSON(t, v))
		for _, x := range secrets {
			if strings.Contains(j, x.needle) != opened(x) {
				t.Errorf("%s: contains %s = %v, want %v", what, x.needle, !opened(x), opened(x))
			}
		}
	}
	check("index", s.RevealIndex(), func(x secret) bool { return false })
	for _, r := range d.Regions {
		sr, _ := s.RevealSites(r.Name)
		check("sites of "+r.Name, sr, func(x secret) bool {
			return x.region == r.Name && x.id == ""
		})
		ro, _ := s.OpenRegion(r.Name)
		check("region "+r.Name, ro, func(x secret) bool { return x.region == r.Name })
		for _, site := range r.Sites {
			so, _ := s.OpenSite(r.Name, site.Name)
			check("site "+site.Name, so, func(x secret) bool {
				return x.region == r.Name && (x.site == site.Name || x.site == "*")
			})
			for _, it := range site.Items {
				io, _ := s.OpenItem(it.ID)
				check("item "+it.ID, io, func(x secret) bool {
					return x.region == r.Name && (x.site == "*" || x.site == site.Name && (x.id == "" || x.id == it.ID))
				})
			}
		}
	}
}
