package escrow

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestValidName(t *testing.T) {
	cases := []struct {
		name string
		ok   bool
	}{
		{"9M729.missile", true},
		{"Калининград", true},
		{"a b", true},
		{strings.Repeat("x", 128), true},
		{strings.Repeat("x", 129), false},
		{"", false},
		{" lead", false},
		{"trail ", false},
		{"tab\there", false},
		{"new\nline", false},
		{"nbsp\u00a0", false},
		{"del\x7f", false},
		{"bad\xffutf8", false},
		{"line\u2028sep", false},
		{"replacement\ufffd", true},
	}
	for _, tc := range cases {
		err := validName(tc.name)
		if (err == nil) != tc.ok {
			t.Errorf("validName(%q) = %v, want ok=%v", tc.name, err, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrInvalidName) {
			t.Errorf("validName(%q) = %v, not ErrInvalidName", tc.name, err)
		}
	}
	if err := validValue(""); err != nil {
		t.Errorf("empty value: %v", err)
	}
	if err := validValue(strings.Repeat("v", 1025)); !errors.Is(err, ErrInvalidName) {
		t.Errorf("long value: %v", err)
	}
}

func TestValidate(t *testing.T) {
	item := func(id string) Item { return Item{ID: id, Category: "c"} }
	cases := []struct {
		name string
		d    Declaration
		want error  // nil for valid
		msg  string // substring of the error
	}{
		{"valid", *sampleDeclaration(), nil, ""},
		{"empty", Declaration{}, nil, ""},
		{"duplicate id across regions", Declaration{Regions: []Region{
			{Name: "A", Sites: []Site{{Name: "s", Items: []Item{item("x")}}}},
			{Name: "B", Sites: []Site{{Name: "s", Items: []Item{item("x")}}}},
		}}, ErrDuplicate, `item "x"`},
		{"duplicate id in a site", Declaration{Regions: []Region{
			{Name: "A", Sites: []Site{{Name: "s", Items: []Item{item("x"), item("y"), item("x")}}}},
		}}, ErrDuplicate, `also in region "A", site "s"`},
		{"duplicate region", Declaration{Regions: []Region{{Name: "A"}, {Name: "A"}}}, ErrDuplicate, "region name"},
		{"duplicate site", Declaration{Regions: []Region{{Name: "A", Sites: []Site{{Name: "s"}, {Name: "s"}}}}}, ErrDuplicate, "site name"},
		{"empty region name", Declaration{Regions: []Region{{Name: ""}}}, ErrInvalidName, "region name"},
		{"empty site name", Declaration{Regions: []Region{{Name: "A", Sites: []Site{{}}}}}, ErrInvalidName, "site name"},
		{"empty id", Declaration{Regions: []Region{{Name: "A", Sites: []Site{{Name: "s", Items: []Item{item("")}}}}}}, ErrInvalidName, "item id"},
		{"empty category", Declaration{Regions: []Region{{Name: "A", Sites: []Site{{Name: "s", Items: []Item{{ID: "x"}}}}}}}, ErrInvalidName, "category"},
		{"bad attribute key", Declaration{Regions: []Region{{Name: "A", Sites: []Site{{Name: "s", Items: []Item{
			{ID: "x", Category: "c", Attrs: map[string]string{"": "v"}}}}}}}}, ErrInvalidName, "attribute key"},
		{"bad attribute value", Declaration{Regions: []Region{{Name: "A", Sites: []Site{{Name: "s", Items: []Item{
			{ID: "x", Category: "c", Attrs: map[string]string{"k": "a\nb"}}}}}}}}, ErrInvalidName, `attribute "k" value`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.d.Validate()
			if tc.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("got %v, want %v containing %q", err, tc.want, tc.msg)
			}
		})
	}
}

func TestCanonical(t *testing.T) {
	d := sampleDeclaration()
	before := sampleDeclaration()
	c := d.Canonical()
	if !reflect.DeepEqual(d, before) {
		t.Fatal("Canonical modified its receiver")
	}
	var got []string
	for _, r := range c.Regions {
		got = append(got, "R:"+r.Name)
		for _, s := range r.Sites {
			got = append(got, "S:"+s.Name)
			for _, it := range s.Items {
				got = append(got, it.ID)
			}
		}
	}
	want := []string{
		"R:Chelyabinsk", "S:Kamensk (empty)", `S:Shagol "depot"`, "L-0021", "M-0020",
		"R:Kaliningrad", "S:Baltiysk", "M-0010", "S:Chernyakhovsk", "L-0002", "M-0001", "M-0003",
		"R:Orenburg", "S:Yasny", "M-0030",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("canonical order\n got %q\nwant %q", got, want)
	}
}
