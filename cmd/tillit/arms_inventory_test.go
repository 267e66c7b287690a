package main

import (
	"encoding/csv"
	"encoding/json"
	"flag"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/tillit/tillit/escrow"
	"github.com/tillit/tillit/inspect"
	"github.com/tillit/tillit/internal/fuzzseed"
)

var updateCorpus = flag.Bool("update-corpus", false, "rewrite the seed files in testdata/fuzz")

// inventoryTests are inventories and what reading them gives: the
// declaration's outline ("region/site:id=category" per item, in canonical
// order) or the error.
var inventoryTests = []struct {
	name, file, format, data string
	want                     string // outline, or the error's text
	err                      bool
}{
	{"csv", "inv.csv", "", "region,site,id,category\nB,s,x2,c\nA,t,x1,c,k=v\nA,s,x3,d\n", "A/s:x3=d A/t:x1=c B/s:x2=c", false},
	{"json", "inv.json", "", `{"regions":[{"name":"B","sites":[{"name":"s","items":[{"id":"x2","category":"c"}]}]},` +
		`{"name":"A","sites":[{"name":"t","items":[{"id":"x1","category":"c","attrs":{"k":"v"}}]},{"name":"s","items":[{"id":"x3","category":"d"}]}]}]}`,
		"A/s:x3=d A/t:x1=c B/s:x2=c", false},
	{"json by content", "inventory", "", "\n  {\"regions\": null}", "", false},
	{"csv by content", "inventory", "", "region,site,id,category\nA,s,x,c\n", "A/s:x=c", false},
	{"format overrides extension", "inv.json", "csv", "region,site,id,category\nA,s,x,c\n", "A/s:x=c", false},
	{"quoted csv", "inv.csv", "", "region,site,id,category\n\"Shagol \"\"depot\"\"\",\"a,b\",x,c\n", `Shagol "depot"/a,b:x=c`, false},
	{"empty json", "inv.json", "", "", "inv.json: line 1, column 1: malformed input: unexpected end of input", true},
	{"csv header", "inv.csv", "", "region,site,id\n", `inv.csv: line 1, column 1: header: malformed input: found "region,site,id", want "region,site,id,category"`, true},
	{"csv duplicate id", "inv.csv", "", "region,site,id,category\nA,s,x,c\nB,t,x,c\n", `inv.csv: line 3, column 5: id: item "x": duplicate item id (first on line 2)`, true},
	{"csv duplicate attribute", "inv.csv", "", "region,site,id,category\nA,s,x,c,k=1,k=2\n", "inv.csv: line 2, column 13: attribute 2:", true},
	{"csv bad name", "inv.csv", "", "region,site,id,category\nA,s,x ,c\n", `inv.csv: line 2, column 5: id: "x ": leading or trailing space: invalid name`, true},
	{"csv control character", "inv.csv", "", "region,site,id,category\nA,s,x\x01,c\n", "inv.csv: line 2, column 5: id:", true},
	{"csv unbalanced quote", "inv.csv", "", "region,site,id,category\nA,\"s,x,c\n", "inv.csv: line 2, column", true},
	{"json unknown key", "inv.json", "", "{\"regions\":[\n{\"name\":\"A\",\"cities\":[]}]}", `inv.json: line 2, column 22: regions[0]: malformed input: unknown key "cities"`, true},
	{"json duplicate key", "inv.json", "", `{"regions":[],"regions":[]}`, "inv.json: line 1, column", true},
	{"json missing id", "inv.json", "", `{"regions":[{"name":"A","sites":[{"name":"s","items":[{"category":"c"}]}]}]}`, `inv.json: line 1, column 70: regions[0].sites[0].items[0]: malformed input: missing "id"`, true},
	{"json duplicate site", "inv.json", "", `{"regions":[{"name":"A","sites":[{"name":"s"},{"name":"s"}]}]}`, `inv.json: line 1, column 55: regions[0].sites[1].name: site "s": duplicate site name`, true},
	{"json trailing data", "inv.json", "", `{"regions":[]} {}`, "inv.json: line 1, column 17: malformed input: data after the inventory", true},
	{"json invalid UTF-8", "inv.json", "", "{\"regions\":[{\"name\":\"\xff\"}]}", "inv.json: line 1, column 22: invalid UTF-8", true},
}

// outline describes a declaration in one line.
func outline(d *escrow.Declaration) string {
	var parts []string
	for _, r := range d.Regions {
		for _, s := range r.Sites {
			for _, it := range s.Items {
				parts = append(parts, r.Name+"/"+s.Name+":"+it.ID+"="+it.Category)
			}
		}
	}
	return strings.Join(parts, " ")
}

func TestParseInventory(t *testing.T) {
	for _, tt := range inventoryTests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := parseInventory(tt.file, tt.format, []byte(tt.data))
			switch {
			case tt.err && err == nil:
				t.Fatalf("accepted; want error %q", tt.want)
			case tt.err && !strings.HasPrefix(err.Error(), tt.want):
				t.Fatalf("error %q, want it to begin with %q", err, tt.want)
			case tt.err:
				var ce *cliError
				if d != nil || !errorsAs(err, &ce) || !strings.Contains(ce.hint, "region,site,id,category") {
					t.Fatalf("want no declaration and a hint: %v %#v", d, err)
				}
			case err != nil:
				t.Fatal(err)
			case outline(d) != tt.want:
				t.Fatalf("got %s, want %s", outline(d), tt.want)
			}
		})
	}
}

func errorsAs(err error, ce **cliError) bool {
	e, ok := err.(*cliError)
	*ce = e
	return ok
}

// observedTests are findings files and what reading them gives: "id=category"
// in id order, or the error.
var observedTests = []struct {
	name, file, data string
	want             string
	err              bool
}{
	{"csv", "f.csv", "id,category\nM-2,9M729.missile\nL-1,9M729.launcher\n", "L-1=9M729.launcher M-2=9M729.missile", false},
	{"csv header only", "f.csv", "id,category\n", "", false},
	{"json array", "f.json", `[{"id":"M-2","category":"m"},{"category":"l","id":"L-1"}]`, "L-1=l M-2=m", false},
	{"json object", "f.json", "{\"items\": [\n {\"id\": \"M-2\", \"category\": \"m\"}]}\n", "M-2=m", false},
	{"json empty", "f.json", `{"items":[]}`, "", false},
	{"json by content", "findings", ` [{"id":"A","category":"b"}]`, "A=b", false},
	{"empty csv", "f.csv", "", `f.csv: line 1: header: empty; want the line "id,category"`, true},
	{"csv header", "f.csv", "id\nM-1\n", `f.csv: line 1: header: found "id", want "id,category"`, true},
	{"csv fields", "f.csv", "id,category\nM-1,m,x\n", "f.csv: line 2: 3 fields, want 2: id,category", true},
	{"csv duplicate", "f.csv", "id,category\nM-1,m\nM-2,m\nM-1,l\n", `f.csv: line 4: id: "M-1" observed twice (first on line 2)`, true},
	{"csv empty id", "f.csv", "id,category\n,m\n", `f.csv: line 2: id: "": empty`, true},
	{"csv long category", "f.csv", "id,category\nM-1," + strings.Repeat("c", 129) + "\n", "f.csv: line 2: category: ", true},
	{"csv invalid UTF-8", "f.csv", "id,category\nM-1,\xff\n", "f.csv: line 2: invalid UTF-8", true},
	{"csv quote", "f.csv", "id,category\n\"M-1,m\n", "f.csv: line 2: extraneous or missing \" in quoted-field", true},
	{"json unknown key", "f.json", "[\n{\"id\":\"M-1\",\"category\":\"m\",\"note\":\"x\"}]", `f.json: line 2: [0]: unknown key "note"`, true},
	{"json duplicate key", "f.json", `[{"id":"M-1","id":"M-2","category":"m"}]`, "f.json: line 1: [0].id: given twice", true},
	{"json missing", "f.json", "{\"items\":[\n{\"id\":\"M-1\"}]}", "f.json: line 2: items[0].category: missing", true},
	{"json not a string", "f.json", `[{"id":"M-1","category":7}]`, "f.json: line 1: [0].category: want a string", true},
	{"json not an object", "f.json", `["M-1"]`, `f.json: line 1: [0]: want an object`, true},
	{"json other key", "f.json", `{"findings":[]}`, `f.json: line 1: unknown key "findings"; want only "items"`, true},
	{"json extra key", "f.json", `{"items":[],"x":1}`, `f.json: line 1: unknown key "x"; want only "items"`, true},
	{"json scalar", "f.json", `7`, "f.json: line 1: want an array of observed items", true},
	{"json trailing", "f.json", `[] []`, "f.json: line 1: data after the items", true},
	{"json truncated", "f.json", "[{\"id\":\"M-1\",\n", "f.json: line 2: unexpected end of input", true},
	{"json bad name", "f.json", `[{"id":" M-1","category":"m"}]`, `f.json: line 1: id: " M-1": leading or trailing space`, true},
}

func describeObserved(items []inspect.Observed) string {
	var parts []string
	for _, it := range items {
		parts = append(parts, it.ID+"="+it.Category)
	}
	return strings.Join(parts, " ")
}

func TestParseObserved(t *testing.T) {
	for _, tt := range observedTests {
		t.Run(tt.name, func(t *testing.T) {
			items, err := parseObserved(tt.file, "", []byte(tt.data))
			switch {
			case tt.err && err == nil:
				t.Fatalf("accepted; want error %q", tt.want)
			case tt.err && !strings.HasPrefix(err.Error(), tt.want):
				t.Fatalf("error %q, want it to begin with %q", err, tt.want)
			case tt.err:
				if items != nil {
					t.Fatalf("items with the error: %v", items)
				}
			case err != nil:
				t.Fatal(err)
			case describeObserved(items) != tt.want:
				t.Fatalf("got %s, want %s", describeObserved(items), tt.want)
			}
		})
	}
}

// inventoryCSV writes a declaration in the CSV inventory format, or returns
// false if it has an empty region or site, which CSV cannot express.
func inventoryCSV(d *escrow.Declaration) ([]byte, bool) {
	var b strings.Builder
	w := csv.NewWriter(&b)
	w.Write([]string{"region", "site", "id", "category"})
	for _, r := range d.Regions {
		if len(r.Sites) == 0 {
			return nil, false
		}
		for _, s := range r.Sites {
			if len(s.Items) == 0 {
				return nil, false
			}
			for _, it := range s.Items {
				rec := []string{r.Name, s.Name, it.ID, it.Category}
				var keys []string
				for k := range it.Attrs {
					keys = append(keys, k)
				}
				slices.Sort(keys)
				for _, k := range keys {
					rec = append(rec, k+"="+it.Attrs[k])
				}
				w.Write(rec)
			}
		}
	}
	w.Flush()
	return []byte(b.String()), true
}

// FuzzParseInventory: an accepted inventory is a valid declaration in
// canonical order, and reads back the same from its JSON and, where CSV can
// hold it, its CSV form.
func FuzzParseInventory(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, name := range []string{"f.csv", "f.json"} {
			d, err := parseInventory(name, "", data)
			if err != nil {
				if d != nil {
					t.Fatal("a declaration with an error")
				}
				continue
			}
			if err := d.Validate(); err != nil {
				t.Fatalf("accepted an invalid declaration: %v", err)
			}
			if !reflect.DeepEqual(d, d.Canonical()) {
				t.Fatal("not in canonical order")
			}
			j, _ := json.Marshal(d)
			d2, err := parseInventory("again.json", "", j)
			if err != nil || !reflect.DeepEqual(d, d2) {
				t.Fatalf("JSON round trip: %v", err)
			}
			if c, ok := inventoryCSV(d); ok {
				d3, err := parseInventory("again.csv", "", c)
				if err != nil || !reflect.DeepEqual(d, d3) {
					t.Fatalf("CSV round trip: %v\n%s", err, c)
				}
			}
		}
	})
}

// FuzzParseObserved: accepted findings have valid, unique names in strictly
// ascending id order, inspect accepts them in a findings body, and their CSV
// form reads back the same.
func FuzzParseObserved(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, name := range []string{"f.csv", "f.json"} {
			items, err := parseObserved(name, "", data)
			if err != nil {
				if items != nil {
					t.Fatal("items with an error")
				}
				continue
			}
			for i, it := range items {
				if checkEscrowName(it.ID) != "" || checkEscrowName(it.Category) != "" {
					t.Fatalf("invalid name accepted: %q", it)
				}
				if i > 0 && items[i-1].ID >= it.ID {
					t.Fatalf("not in strictly ascending id order: %q, %q", items[i-1].ID, it.ID)
				}
			}
			f := &inspect.Findings{Request: inspect.Ref{Log: "r/NATO", Index: 1}, Beacon: []inspect.Ref{{Log: "r/NATO", Index: 2}, {Log: "r/RU", Index: 3}},
				Region: "R", Site: "S", Opening: inspect.Ref{Log: "r/RU", Index: 4}, Items: items}
			if _, err := f.Encode(); err != nil && len(items) < 500 {
				t.Fatalf("inspect refuses the findings: %v", err)
			}
			again, err := parseObserved("again.csv", "", observedCSVText(items))
			if err != nil || !slices.Equal(items, again) {
				t.Fatalf("CSV round trip: %v", err)
			}
		}
	})
}

var fuzzSeeds = map[string]func() []fuzzseed.Seed{
	"FuzzParseInventory": func() []fuzzseed.Seed {
		var s []fuzzseed.Seed
		for _, tt := range inventoryTests {
			s = append(s, fuzzseed.Seed{Name: tt.name, Val: []byte(tt.data)})
		}
		return append(s, fuzzseed.Seed{Name: "demo RU", Val: []byte(demoInventoryRU)}, fuzzseed.Seed{Name: "demo NATO", Val: []byte(demoInventoryNATO)})
	},
	"FuzzParseObserved": func() []fuzzseed.Seed {
		var s []fuzzseed.Seed
		for _, tt := range observedTests {
			s = append(s, fuzzseed.Seed{Name: tt.name, Val: []byte(tt.data)})
		}
		return s
	},
}

func addSeeds(f *testing.F) {
	for _, s := range fuzzSeeds[f.Name()]() {
		f.Add(s.Val)
	}
}

// TestFuzzSeedCorpus checks that testdata/fuzz holds every table seed.
func TestFuzzSeedCorpus(t *testing.T) {
	for target, seeds := range fuzzSeeds {
		fuzzseed.Sync(t, target, seeds(), *updateCorpus, "go test ./cmd/tillit/ -run TestFuzzSeedCorpus -update-corpus")
	}
}
