package escrow

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestDecodeCanonical(t *testing.T) {
	s := mustCommit(t, sampleDeclaration(), testParams("canonical"))
	o, _ := s.OpenSite("Chelyabinsk", "Kamensk (empty)") // no items, no range proof
	j := string(mustJSON(t, o))
	indented, _ := json.MarshalIndent(o, "", "\t")
	if _, err := ParseSiteOpening(indented); err != nil {
		t.Fatalf("indented form rejected: %v", err)
	}
	salt := `"` + o.Site.Salt.String() + `"`
	cases := []struct {
		name, old, new string
		line           int
	}{
		{"unknown key", `"position":0,`, `"position":0,"extra":1,`, 1},
		{"missing key", `"position":0,`, ``, 1},
		{"key case", `"position"`, `"Position"`, 1},
		{"duplicate key", `"position":0,`, `"position":0,"position":0,`, 1},
		{"keys out of order", `{"sites":2,"root":`, `{"root":`, 1},
		{"empty array not omitted", `"position":0,`, `"position":0,"proof":[],`, 1},
		{"null", `"position":0,`, `"position":0,"items":null,`, 1},
		{"leading zero", `"position":0,`, `"position":00,`, 1},
		{"escaped letter", `"Kamensk`, `"\u004bamensk`, 1},
		{"whitespace before a colon", `"salt":`, `"salt" :`, 0},
		{"short hash", salt, salt[:len(salt)-2] + `"`, 1},
		{"hash not base64", salt, `"` + strings.Repeat("!", 44) + `"`, 1},
		{"trailing data", `}}`, "}}\n\n  {}", 3},
		{"invalid utf-8", `Kamensk`, "Kam\xffnsk", 1},
		{"string for number", `"position":0`, `"position":"0"`, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := replaceOnce(t, j, tc.old, tc.new)
			_, err := ParseSiteOpening([]byte(in))
			if tc.line == 0 {
				if err != nil {
					t.Fatalf("insignificant whitespace rejected: %v", err)
				}
				return
			}
			var pe *ParseError
			if !errors.Is(err, ErrMalformed) || !errors.As(err, &pe) || pe.Line != tc.line {
				t.Fatalf("got %v, want ErrMalformed at line %d", err, tc.line)
			}
		})
	}
}

func TestCanonicalEscapes(t *testing.T) {
	d := &Declaration{Regions: []Region{{Name: `a<b>&"c"\d`, Sites: []Site{{Name: "s", Items: []Item{{ID: "é", Category: "c"}}}}}}}
	s := mustCommit(t, d, testParams("escapes"))
	j := mustJSON(t, s.RevealIndex())
	if !strings.Contains(string(j), `"a\u003cb\u003e\u0026\"c\"\\d"`) || !strings.Contains(string(mustJSON(t, s)), `"é"`) {
		t.Fatalf("unexpected escaping: %s", j)
	}
	r, err := ParseIndexReveal(j)
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyIndex(s.Commitment(), r); err != nil {
		t.Fatal(err)
	}
	raw := strings.Replace(string(j), `\u003c`, `<`, 1)
	if _, err := ParseIndexReveal([]byte(raw)); !errors.Is(err, ErrMalformed) {
		t.Fatalf("unescaped < accepted: %v", err)
	}
}

func TestParseCommitment(t *testing.T) {
	c := mustCommit(t, sampleDeclaration(), testParams("commitment")).Commitment()
	j := string(mustJSON(t, c))
	if got, err := ParseCommitment([]byte(j)); err != nil || *got != *c {
		t.Fatalf("round trip: %v", err)
	}
	cases := []struct {
		old, new string
		want     error
	}{
		{`"scheme":"tillit/escrow/v1"`, `"scheme":"tillit/escrow/v2"`, ErrMalformed},
		{`"party":"RU"`, `"party":""`, ErrInvalidName},
		{`"version":1`, `"version":0`, ErrInvalidParams},
		{`"version":1`, `"version":2`, ErrInvalidParams},
		{`"size":8`, `"size":0`, ErrMalformed},
		{`"size":8`, `"size":1099511627777`, ErrMalformed},
	}
	for _, tc := range cases {
		if _, err := ParseCommitment([]byte(replaceOnce(t, j, tc.old, tc.new))); !errors.Is(err, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.new, err, tc.want)
		}
	}
}
