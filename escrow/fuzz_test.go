package escrow

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

var sentinels = []error{ErrMalformed, ErrInvalidName, ErrDuplicate, ErrInvalidParams, ErrNotFound,
	ErrIndex, ErrSites, ErrItems, ErrInconsistent, ErrVersion, ErrChange, ErrBeaconMismatch, ErrNoReveal}

func wrapsSentinel(err error) bool {
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

// checkInventoryError checks that a rejected inventory yields a *ParseError
// wrapping a sentinel and no declaration.
func checkInventoryError(t *testing.T, d *Declaration, err error) {
	var pe *ParseError
	if d != nil || !errors.As(err, &pe) {
		t.Fatalf("got %v, %v; want nil and a *ParseError", d, err)
	}
	if !wrapsSentinel(err) {
		t.Fatalf("%v wraps no sentinel", err)
	}
}

// checkInventory checks that an accepted inventory is valid, canonical and
// survives a JSON round trip.
func checkInventory(t *testing.T, d *Declaration) {
	if err := d.Validate(); err != nil {
		t.Fatalf("accepted an invalid declaration: %v", err)
	}
	if !reflect.DeepEqual(d, d.Canonical()) {
		t.Fatal("result is not in canonical order")
	}
	j, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	d2, err := ParseJSON(j)
	if err != nil || !reflect.DeepEqual(d, d2) {
		t.Fatalf("JSON round trip: %v", err)
	}
}

func FuzzParseJSON(f *testing.F) {
	f.Add([]byte(`{"regions":[{"name":"A","sites":[{"name":"s","items":[{"id":"x","category":"c","attrs":{"k":"v"}}]}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := ParseJSON(data)
		if err != nil {
			checkInventoryError(t, d, err)
			return
		}
		checkInventory(t, d)
	})
}

func FuzzParseCSV(f *testing.F) {
	f.Add([]byte("region,site,id,category\nA,s,x,c,k=v\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := ParseCSV(data)
		if err != nil {
			checkInventoryError(t, d, err)
			return
		}
		checkInventory(t, d)
		c, err := toCSV(d)
		if err != nil {
			t.Fatal(err)
		}
		d2, err := ParseCSV(c)
		if err != nil || !reflect.DeepEqual(d, d2) {
			t.Fatalf("CSV round trip: %v", err)
		}
	})
}

// fuzzCanonical checks a canonical-JSON parser: accepted input re-encodes
// to the input without insignificant whitespace, and verifying it against
// the vector commitment does not panic.
func fuzzCanonical[T any](f *testing.F, parse func([]byte) (*T, error), verify func(*Commitment, *T) error) {
	c := fuzzCommitment(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := parse(data)
		if err != nil {
			if !wrapsSentinel(err) {
				t.Fatalf("error wraps no sentinel: %v", err)
			}
			return
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, data); err != nil {
			t.Fatal(err)
		}
		if enc, _ := json.Marshal(v); !bytes.Equal(enc, compact.Bytes()) {
			t.Fatalf("accepted non-canonical input\n got %s\nwant %s", compact.Bytes(), enc)
		}
		if verify != nil {
			_ = verify(c, v)
		}
	})
}

func fuzzCommitment(f *testing.F) *Commitment {
	b, err := os.ReadFile(filepath.Join("testdata", "vectors", "commitment.json"))
	if err != nil {
		f.Fatal(err)
	}
	c, err := ParseCommitment(b)
	if err != nil {
		f.Fatal(err)
	}
	return c
}

func FuzzParseCommitment(f *testing.F) {
	fuzzCanonical(f, ParseCommitment, nil)
}

func FuzzParseIndexReveal(f *testing.F) {
	fuzzCanonical(f, ParseIndexReveal, VerifyIndex)
}

func FuzzParseSitesReveal(f *testing.F) {
	fuzzCanonical(f, ParseSitesReveal, VerifySites)
}

func FuzzParseRegionOpening(f *testing.F) {
	fuzzCanonical(f, ParseRegionOpening, VerifyRegionOpening)
}

func FuzzParseSiteOpening(f *testing.F) {
	fuzzCanonical(f, ParseSiteOpening, VerifySiteOpening)
}

func FuzzParseItemOpening(f *testing.F) {
	fuzzCanonical(f, ParseItemOpening, VerifyItemOpening)
}

func FuzzParseChange(f *testing.F) {
	fuzzCanonical(f, ParseChange, nil)
}

func FuzzParseBeaconReveal(f *testing.F) {
	fuzzCanonical(f, ParseBeaconReveal, nil)
}

func FuzzParseSecret(f *testing.F) {
	fuzzCanonical(f, ParseSecret, nil)
}
