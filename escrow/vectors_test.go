package escrow

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "regenerate testdata/vectors and testdata/fuzz seeds")

// Vector inputs (spec §Test vectors).
const (
	vectorSeed   = "tillit/escrow/v1 test vectors"
	vectorRegime = "inf-2026"
	vectorParty  = "RU"
	vectorPrev   = "inf-2026/RU/41"
)

func vectorSecret(t *testing.T) *Secret {
	t.Helper()
	d, err := ParseJSON(readVector(t, "declaration.json"))
	if err != nil {
		t.Fatal(err)
	}
	return mustCommit(t, d, Params{Regime: vectorRegime, Party: vectorParty, Version: 2,
		Prev: vectorPrev, Rand: newDetReader(vectorSeed)})
}

func readVector(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "vectors", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// vectorFiles returns every generated vector file's name and contents.
func vectorFiles(t *testing.T) map[string]any {
	s := vectorSecret(t)
	sites, _ := s.RevealSites("Kaliningrad")
	region, _ := s.OpenRegion("Kaliningrad")
	site, _ := s.OpenSite("Kaliningrad", "Chernyakhovsk")
	empty, _ := s.OpenSite("Chelyabinsk", "Kamensk (empty)")
	item, _ := s.OpenItem("M-0001")
	return map[string]any{
		"commitment.json": s.Commitment(),
		"secret.json":     s,
		"index.json":      s.RevealIndex(),
		"sites.json":      sites,
		"region.json":     region,
		"site.json":       site,
		"site-empty.json": empty,
		"item.json":       item,
		"hashes.json":     vectorHashes(s),
		"beacon.json":     beaconVector(t),
	}
}

// vectorHashes lists intermediate hash inputs and outputs for implementers.
func vectorHashes(s *Secret) map[string]string {
	it := &s.regions[1].Sites[1].Items[1] // Kaliningrad / Chernyakhovsk / M-0001
	input := itemPrefix(&s.ctx, "Kaliningrad", "Chernyakhovsk").str(it.ID).str(it.Category).attrs(it.Attrs).hash(&it.Salt)
	item := input.sum()
	site := &s.siteEntries[1][1]
	region := &s.entries[1]
	return map[string]string{
		"context":              s.ctx.String(),
		"item_input_hex":       hex.EncodeToString(input),
		"item":                 item.String(),
		"item_leaf":            Hash(leafHash(&item)).String(),
		"site_entry_input_hex": hex.EncodeToString(enc(nil).tag(tagSite).hash(&s.ctx).str("Kaliningrad").str(site.Name).u64(site.Start).u64(site.End).counts(site.Counts).hash(&site.Salt)),
		"region_input_hex":     hex.EncodeToString(enc(nil).tag(tagRegion).hash(&s.ctx).str(region.Name).u64(region.Start).u64(region.End).counts(region.Counts).hash(&region.Sites).hash(&region.Salt)),
		"pad_leaf_7":           s.items.levels[0][7].String(),
	}
}

func encodeVector(t *testing.T, v any) []byte {
	var b bytes.Buffer
	if err := json.Indent(&b, mustJSON(t, v), "", "  "); err != nil {
		t.Fatal(err)
	}
	b.WriteByte('\n')
	return b.Bytes()
}

func TestVectors(t *testing.T) {
	for name, v := range vectorFiles(t) {
		got := encodeVector(t, v)
		path := filepath.Join("testdata", "vectors", name)
		if *update {
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if want := readVector(t, name); !bytes.Equal(got, want) {
			t.Errorf("%s differs from the recomputed vector; run go test -run TestVectors -update if the change is intended", path)
		}
	}
	if *update {
		writeFuzzSeeds(t)
	}
}

// TestVectorsVerify verifies the stored vectors as a third party would:
// parse each file and verify it against the parsed commitment.
func TestVectorsVerify(t *testing.T) {
	c, err := ParseCommitment(readVector(t, "commitment.json"))
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		file   string
		verify func([]byte) error
	}{
		{"index.json", func(b []byte) error { return parseVerify(b, ParseIndexReveal, c, VerifyIndex) }},
		{"sites.json", func(b []byte) error { return parseVerify(b, ParseSitesReveal, c, VerifySites) }},
		{"region.json", func(b []byte) error { return parseVerify(b, ParseRegionOpening, c, VerifyRegionOpening) }},
		{"site.json", func(b []byte) error { return parseVerify(b, ParseSiteOpening, c, VerifySiteOpening) }},
		{"site-empty.json", func(b []byte) error { return parseVerify(b, ParseSiteOpening, c, VerifySiteOpening) }},
		{"item.json", func(b []byte) error { return parseVerify(b, ParseItemOpening, c, VerifyItemOpening) }},
		{"secret.json", func(b []byte) error {
			s, err := ParseSecret(b)
			if err == nil && *s.Commitment() != *c {
				err = fmt.Errorf("secret's commitment differs")
			}
			return err
		}},
	}
	for _, tc := range checks {
		if err := tc.verify(readVector(t, tc.file)); err != nil {
			t.Errorf("%s: %v", tc.file, err)
		}
	}
}

func parseVerify[T any](b []byte, parse func([]byte) (*T, error), c *Commitment, verify func(*Commitment, *T) error) error {
	v, err := parse(b)
	if err != nil {
		return err
	}
	return verify(c, v)
}

// writeFuzzSeeds writes the vectors, and a few inputs of the inventory
// formats, as seed corpora under testdata/fuzz.
func writeFuzzSeeds(t *testing.T) {
	seeds := map[string][]string{
		"FuzzParseJSON":          {"declaration.json"},
		"FuzzParseCommitment":    {"commitment.json"},
		"FuzzParseIndexReveal":   {"index.json"},
		"FuzzParseSitesReveal":   {"sites.json"},
		"FuzzParseRegionOpening": {"region.json"},
		"FuzzParseSiteOpening":   {"site.json", "site-empty.json"},
		"FuzzParseItemOpening":   {"item.json"},
		"FuzzParseSecret":        {"secret.json"},
	}
	for target, files := range seeds {
		for _, f := range files {
			writeFuzzSeed(t, target, f, readVector(t, f))
		}
	}
	writeFuzzSeed(t, "FuzzParseCSV", "declaration.csv", readVector(t, "declaration.csv"))
	writeFuzzSeed(t, "FuzzParseChange", "change.json", mustJSON(t, sampleChange()))
	writeFuzzSeed(t, "FuzzParseBeaconReveal", "reveal.json", mustJSON(t, &BeaconReveal{R: Hash{1}, Nonce: Hash{2}}))
}

func writeFuzzSeed(t *testing.T, target, name string, data []byte) {
	dir := filepath.Join("testdata", "fuzz", target)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", data)
	if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}
