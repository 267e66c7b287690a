package escrow

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

const sampleCSV = `region,site,id,category
Kaliningrad,Chernyakhovsk,M-0001,9M729.missile,serial=A<1>&2,lot=7
Kaliningrad,Chernyakhovsk,L-0002,9M729.launcher
Kaliningrad,Baltiysk,M-0010,9M729.missile
Kaliningrad,Chernyakhovsk,M-0003,9M729.missile
Chelyabinsk,"Shagol ""depot""",M-0020,9M729.missile
Chelyabinsk,"Shagol ""depot""",L-0021,9M729.launcher,chassis=MZKT-7930
Orenburg,Yasny,M-0030,9M729.missile
`

func TestParseCSV(t *testing.T) {
	d, err := ParseCSV([]byte(sampleCSV))
	if err != nil {
		t.Fatal(err)
	}
	want := sampleDeclaration().Canonical()
	// CSV cannot express the empty site.
	want.Regions[0].Sites = want.Regions[0].Sites[1:]
	if !reflect.DeepEqual(d, want) {
		t.Fatalf("got %+v\nwant %+v", d, want)
	}
}

func TestParseJSON(t *testing.T) {
	j, err := json.MarshalIndent(sampleDeclaration(), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	d, err := ParseJSON(j)
	if err != nil {
		t.Fatal(err)
	}
	if want := sampleDeclaration().Canonical(); !reflect.DeepEqual(d, want) {
		t.Fatalf("got %+v\nwant %+v", d, want)
	}
}

// parseErrorCase is a bad input and where the parser must say it failed.
type parseErrorCase struct {
	name  string
	in    string
	want  error
	line  int
	field string
	msg   string
}

func checkParseError(t *testing.T, tc parseErrorCase, d *Declaration, err error) {
	t.Helper()
	if d != nil {
		t.Errorf("returned a declaration with an error")
	}
	var pe *ParseError
	if !errors.As(err, &pe) || !errors.Is(err, tc.want) {
		t.Fatalf("got %v, want a *ParseError wrapping %v", err, tc.want)
	}
	if pe.Line != tc.line || pe.Field != tc.field || !strings.Contains(err.Error(), tc.msg) {
		t.Fatalf("got line %d field %q (%v), want line %d field %q containing %q",
			pe.Line, pe.Field, err, tc.line, tc.field, tc.msg)
	}
}

func TestParseCSVErrors(t *testing.T) {
	h := "region,site,id,category\n"
	cases := []parseErrorCase{
		{"empty input", "", ErrMalformed, 1, "header", "empty input"},
		{"wrong header", "region,site,item,category\n", ErrMalformed, 1, "header", "want"},
		{"header with BOM", "\ufeff" + h, ErrMalformed, 1, "header", "want"},
		{"short row", h + "R,S,X\n", ErrMalformed, 2, "category", "3 fields"},
		{"empty region", h + "R,S,X,c\n,S,Y,c\n", ErrInvalidName, 3, "region", "empty"},
		{"bad id", h + "R,S,\" X\",c\n", ErrInvalidName, 2, "id", "leading or trailing space"},
		{"duplicate id", h + "R,S,X,c\nR2,S2,Y,c\nR3,S,X,c\n", ErrDuplicate, 4, "id", "first on line 2"},
		{"attribute without =", h + "R,S,X,c,serial\n", ErrMalformed, 2, "attribute 1", "key=value"},
		{"empty attribute", h + "R,S,X,c,a=1,\n", ErrMalformed, 2, "attribute 2", "key=value"},
		{"duplicate attribute", h + "R,S,X,c,a=1,a=2\n", ErrDuplicate, 2, "attribute 2", "attribute key"},
		{"bad attribute value", h + "R,S,X,c,\"a=1\n2\"\n", ErrInvalidName, 2, "attribute 1", "non-printable"},
		{"bare quote", h + "R,S,X\"Y,c\n", ErrMalformed, 2, "", "quote"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d, err := ParseCSV([]byte(tc.in))
			checkParseError(t, tc, d, err)
		})
	}
}

func TestParseJSONErrors(t *testing.T) {
	cases := []parseErrorCase{
		{"not json", "regions", ErrMalformed, 1, "", "invalid character"},
		{"empty", "", ErrMalformed, 1, "", "unexpected end"},
		{"missing regions", "{}", ErrMalformed, 1, "", `missing "regions"`},
		{"unknown key", `{"regions":[],"extra":1}`, ErrMalformed, 1, "", `unknown key "extra"`},
		{"trailing data", "{\"regions\":[]}\n{}", ErrMalformed, 2, "", "data after"},
		{"invalid utf-8", "{\"regions\":[{\"name\":\"\xff\"}]}", ErrMalformed, 1, "", "invalid UTF-8"},
		{"wrong type", `{"regions":{}}`, ErrMalformed, 1, "regions", "want \"[\""},
		{"duplicate key", "{\"regions\":[{\"name\":\"A\",\n\"name\":\"B\"}]}", ErrDuplicate, 2, "regions[0]", `key "name"`},
		{"case-variant key", `{"regions":[{"Name":"A"}]}`, ErrMalformed, 1, "regions[0]", `unknown key "Name"`},
		{"missing site name", `{"regions":[{"name":"A","sites":[{}]}]}`, ErrMalformed, 1, "regions[0].sites[0]", `missing "name"`},
		{"empty region name", `{"regions":[{"name":""}]}`, ErrInvalidName, 1, "regions[0].name", "empty"},
		{"duplicate region", "{\"regions\":[{\"name\":\"A\"},\n{\"name\":\"A\"}]}", ErrDuplicate, 2, "regions[1].name", "region name"},
		{"duplicate site", `{"regions":[{"name":"A","sites":[{"name":"s"},{"name":"s"}]}]}`, ErrDuplicate, 1, "regions[0].sites[1].name", "site name"},
		{"duplicate id", "{\"regions\":[{\"name\":\"A\",\"sites\":[{\"name\":\"s\",\"items\":[\n{\"id\":\"x\",\"category\":\"c\"},\n{\"id\":\"x\",\"category\":\"c\"}]}]}]}",
			ErrDuplicate, 3, "regions[0].sites[0].items[1].id", "first on line 2"},
		{"missing category", `{"regions":[{"name":"A","sites":[{"name":"s","items":[{"id":"x"}]}]}]}`, ErrMalformed, 1, "regions[0].sites[0].items[0]", `missing "category"`},
		{"duplicate attribute", `{"regions":[{"name":"A","sites":[{"name":"s","items":[{"id":"x","category":"c","attrs":{"k":"1","k":"2"}}]}]}]}`,
			ErrDuplicate, 1, "regions[0].sites[0].items[0].attrs", `key "k"`},
		{"attribute not a string", `{"regions":[{"name":"A","sites":[{"name":"s","items":[{"id":"x","category":"c","attrs":{"k":1}}]}]}]}`,
			ErrMalformed, 1, "regions[0].sites[0].items[0].attrs.k", "want a string"},
		{"null name", `{"regions":[{"name":null}]}`, ErrMalformed, 1, "regions[0].name", "found null"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d, err := ParseJSON([]byte(tc.in))
			checkParseError(t, tc, d, err)
		})
	}
}
