package regime_test

import (
	"bytes"
	"crypto/sha256"
	"encoding"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tillit/tillit/escrow"
	"github.com/tillit/tillit/inspect"
	"github.com/tillit/tillit/regime"
	"github.com/tillit/tillit/statement"
)

// The example regime defines the statement types of the escrow and
// inspection workflow. These tests log a whole inspection with bodies made by
// the escrow and inspect packages and check that the example's schemas accept
// exactly their JSON: every body passes; a body without a member that its Go
// type always writes, or with a member its type does not have, at any depth,
// fails; and a body without an optional member passes whenever the package's
// own parser accepts it.

const exampleRegime = "../examples/nato-russia-2022/regime.toml"

// detReader is a deterministic stream of bytes, so that salts, beacon
// contributions and therefore every body are the same in every run.
type detReader struct {
	label string
	n     uint64
	buf   []byte
}

func (r *detReader) Read(p []byte) (int, error) {
	for len(r.buf) < len(p) {
		h := sha256.Sum256(binary.BigEndian.AppendUint64([]byte(r.label), r.n))
		r.n++
		r.buf = append(r.buf, h[:]...)
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

func det(label string) io.Reader { return &detReader{label: "tillit regime example bodies/" + label} }

// A logged body is a statement of the example regime, with the Go type its
// body encodes and the package parser that reads it back.
type logged struct {
	st    *statement.Statement
	typ   reflect.Type
	parse func([]byte) error
}

// exampleLogs builds the statements of one party's log and checks each.
type exampleLogs struct {
	r      *regime.Regime
	t0     time.Time
	n      map[string]int64
	bodies []logged
}

func (l *exampleLogs) add(t *testing.T, from, to, typ string, after time.Duration, body any, refs ...statement.Ref) statement.Ref {
	t.Helper()
	raw, ok := body.([]byte)
	if !ok {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			t.Fatal(err)
		}
	}
	st := l.statement(t, from, to, typ, after, raw, refs)
	if err := l.r.CheckStatement(st); err != nil {
		t.Fatalf("%s from %s: %v\nbody: %s", typ, from, err, raw)
	}
	goType, parse := bodyType(typ)
	if err := parse(raw); err != nil {
		t.Fatalf("%s: the package's parser refuses the body: %v", typ, err)
	}
	l.bodies = append(l.bodies, logged{st: st, typ: goType, parse: parse})
	ref := st.Ref(l.n[from])
	l.n[from]++
	return ref
}

func (l *exampleLogs) statement(t *testing.T, from, to, typ string, after time.Duration, body []byte, refs []statement.Ref) *statement.Statement {
	t.Helper()
	st := &statement.Statement{Regime: l.r.ID, From: from, To: []string{to}, Type: typ, Precedence: l.r.Type(typ).Precedence,
		Time: l.t0.Add(after), Refs: refs, Body: body}
	b, err := statement.Encode(st)
	if err != nil {
		t.Fatalf("%s: %v", typ, err)
	}
	parsed, err := statement.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	return parsed
}

// beaconCommit is the body of a beacon.commit statement.
type beaconCommit struct {
	Commit escrow.Hash `json:"commit"`
}

// bodyType returns the Go type of a type's body and a strict parser: the
// package's own, or for beacon.commit, which has none, a canonical decoder.
func bodyType(typ string) (reflect.Type, func([]byte) error) {
	of := func(v any) reflect.Type { return reflect.TypeOf(v).Elem() }
	ignore := func(_ any, err error) error { return err }
	switch typ {
	case "declaration.commit":
		return of(&escrow.Commitment{}), func(b []byte) error { return ignore(escrow.ParseCommitment(b)) }
	case "declaration.index":
		return of(&escrow.IndexReveal{}), func(b []byte) error { return ignore(escrow.ParseIndexReveal(b)) }
	case "declaration.sites":
		return of(&escrow.SitesReveal{}), func(b []byte) error { return ignore(escrow.ParseSitesReveal(b)) }
	case "declaration.region":
		return of(&escrow.RegionOpening{}), func(b []byte) error { return ignore(escrow.ParseRegionOpening(b)) }
	case "declaration.site":
		return of(&escrow.SiteOpening{}), func(b []byte) error { return ignore(escrow.ParseSiteOpening(b)) }
	case "declaration.item":
		return of(&escrow.ItemOpening{}), func(b []byte) error { return ignore(escrow.ParseItemOpening(b)) }
	case "beacon.commit":
		return of(&beaconCommit{}), func(b []byte) error {
			var c beaconCommit
			d := json.NewDecoder(bytes.NewReader(b))
			d.DisallowUnknownFields()
			if err := d.Decode(&c); err != nil {
				return err
			}
			if again, _ := json.Marshal(c); !bytes.Equal(again, b) {
				return errors.New("not canonical")
			}
			return nil
		}
	case "beacon.reveal":
		return of(&escrow.BeaconReveal{}), func(b []byte) error { return ignore(escrow.ParseBeaconReveal(b)) }
	case inspect.TypeRequest:
		return of(&inspect.Request{}), func(b []byte) error { return ignore(inspect.ParseRequest(b)) }
	case inspect.TypeReply:
		return of(&inspect.Reply{}), func(b []byte) error { return ignore(inspect.ParseReply(b)) }
	case inspect.TypeFindings:
		return of(&inspect.Findings{}), func(b []byte) error { return ignore(inspect.ParseFindings(b)) }
	case inspect.TypeReport:
		return of(&inspect.Report{}), func(b []byte) error { return ignore(inspect.ParseReport(b)) }
	}
	panic("no body type for " + typ)
}

func mustEncode(t *testing.T, b interface{ Encode() ([]byte, error) }) []byte {
	t.Helper()
	out, err := b.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// exampleDeclaration is RU's inventory: two regions, one site with
// attributes, one empty site.
func exampleDeclaration() *escrow.Declaration {
	item := func(id, cat string, attrs ...string) escrow.Item {
		it := escrow.Item{ID: id, Category: cat}
		for i := 0; i+1 < len(attrs); i += 2 {
			if it.Attrs == nil {
				it.Attrs = map[string]string{}
			}
			it.Attrs[attrs[i]] = attrs[i+1]
		}
		return it
	}
	return &escrow.Declaration{Regions: []escrow.Region{
		{Name: "Kaliningrad", Sites: []escrow.Site{
			{Name: "Chernyakhovsk", Items: []escrow.Item{
				item("M-0001", "9M729.missile", "serial", "A<1>&2"), item("M-0002", "9M729.missile"), item("L-0002", "9M729.launcher", "chassis", "MZKT-7930"),
			}},
			{Name: "Kamensk"},
		}},
		{Name: "Orenburg", Sites: []escrow.Site{
			{Name: "Yasny", Items: []escrow.Item{item("M-0030", "9M729.missile"), item("L-0031", "9M729.launcher")}},
		}},
	}}
}

// logInspection logs a declaration, its reveals and openings, and a whole
// inspection of it by NATO, in the example regime.
func logInspection(t *testing.T, r *regime.Regime) *exampleLogs {
	l := &exampleLogs{r: r, t0: time.Date(2022, 3, 1, 9, 0, 0, 0, time.UTC), n: map[string]int64{}}
	const host, inspector, h = "RU", "NATO", time.Hour

	secret, err := escrow.Commit(exampleDeclaration(), escrow.Params{Regime: r.ID, Party: host, Version: 1, Rand: det("v1")})
	if err != nil {
		t.Fatal(err)
	}
	commit := secret.Commitment()
	decl := l.add(t, host, inspector, "declaration.commit", 0, commit)
	index := secret.RevealIndex()
	l.add(t, host, inspector, "declaration.index", 1*h, index, decl)
	// A second version names the first in prev.
	secret2, err := escrow.Commit(exampleDeclaration(), escrow.Params{Regime: r.ID, Party: host, Version: 2, Prev: decl.String(), Quantum: 16, Rand: det("v2")})
	if err != nil {
		t.Fatal(err)
	}
	l.add(t, host, inspector, "declaration.commit", 2*h, secret2.Commitment(), decl)

	// A request that RU refuses, and one it accepts.
	refused := &inspect.Request{Inspector: inspector, Host: host, Declaration: inspect.Ref(decl), Scope: inspect.ScopeAny, Year: 2022}
	refusedRef := l.add(t, inspector, host, inspect.TypeRequest, 24*h, mustEncode(t, refused), decl)
	l.add(t, host, inspector, inspect.TypeReply, 25*h, mustEncode(t, &inspect.Reply{Request: inspect.Ref(refusedRef), Decision: inspect.Refuse,
		Reason: "site access suspended for \"safety\" <48h>"}), refusedRef)
	req := &inspect.Request{Inspector: inspector, Host: host, Declaration: inspect.Ref(decl), Scope: inspect.ScopeRegion, Region: "Kaliningrad",
		Year: 2022, Reason: "Vienna Document evaluation"}
	reqRef := l.add(t, inspector, host, inspect.TypeRequest, 48*h, mustEncode(t, req), decl)
	l.add(t, host, inspector, inspect.TypeReply, 50*h, mustEncode(t, &inspect.Reply{Request: inspect.Ref(reqRef), Decision: inspect.Accept}), reqRef)

	// The beacon.
	ctx := inspect.BeaconContext(reqRef)
	revNATO, _ := escrow.NewBeaconReveal(det("NATO beacon"))
	revRU, _ := escrow.NewBeaconReveal(det("RU beacon"))
	cNATO := l.add(t, inspector, host, "beacon.commit", 51*h, beaconCommit{revNATO.Commit(ctx, inspector)}, reqRef)
	cRU := l.add(t, host, inspector, "beacon.commit", 51*h+time.Minute, beaconCommit{revRU.Commit(ctx, host)}, reqRef)
	rNATO := l.add(t, inspector, host, "beacon.reveal", 52*h, revNATO, reqRef, cNATO)
	rRU := l.add(t, host, inspector, "beacon.reveal", 52*h+time.Minute, revRU, reqRef, cRU)
	out, err := escrow.ResolveBeacon(ctx, escrow.Contribution{Party: inspector, Commit: revNATO.Commit(ctx, inspector), Reveal: revNATO},
		escrow.Contribution{Party: host, Commit: revRU.Commit(ctx, host), Reveal: revRU})
	if err != nil || !out.OK() {
		t.Fatalf("beacon: %v %+v", err, out)
	}

	// RU reveals the region's sites; the seed chooses one; RU opens it.
	sites, err := secret.RevealSites("Kaliningrad")
	if err != nil {
		t.Fatal(err)
	}
	l.add(t, host, inspector, "declaration.sites", 53*h, sites, reqRef)
	cands, err := inspect.Candidates(commit, req, index, []*escrow.SitesReveal{sites})
	if err != nil {
		t.Fatal(err)
	}
	chosen, err := inspect.Select(out.Seed, cands, inspect.SelectWeighted)
	if err != nil {
		t.Fatal(err)
	}
	opening, err := secret.OpenSite(chosen.Region, chosen.Site)
	if err != nil {
		t.Fatal(err)
	}
	openRef := l.add(t, host, inspector, "declaration.site", 60*h, opening, reqRef)

	// NATO's findings: one item with another category, one missing, one
	// undeclared; the report, logged by both.
	_, site := opening.Opened()
	var seen []inspect.Observed
	for i, it := range site.Items[:len(site.Items)-1] {
		cat := it.Category
		if i == 0 {
			cat += ".other"
		}
		seen = append(seen, inspect.Observed{ID: it.ID, Category: cat})
	}
	seen = append(seen, inspect.Observed{ID: "M-0099", Category: "9M729.missile"})
	slices.SortFunc(seen, func(a, b inspect.Observed) int { return strings.Compare(a.ID, b.ID) })
	f := &inspect.Findings{Request: inspect.Ref(reqRef), Seed: out.Seed, Beacon: []inspect.Ref{inspect.Ref(rNATO), inspect.Ref(rRU)},
		Region: chosen.Region, Site: chosen.Site, Opening: inspect.Ref(openRef), Items: seen}
	findRef := l.add(t, inspector, host, inspect.TypeFindings, 70*h, mustEncode(t, f), reqRef, openRef, rNATO, rRU)
	report, err := inspect.Compare(opening, f, findRef)
	if err != nil {
		t.Fatal(err)
	}
	if report.Clean() || len(report.Counts) == 0 {
		t.Fatalf("the report should have item and count discrepancies: %+v", report)
	}
	body := mustEncode(t, report)
	l.add(t, inspector, host, inspect.TypeReport, 71*h, body, reqRef, findRef, openRef)
	l.add(t, host, inspector, inspect.TypeReport, 71*h, body, reqRef, findRef, openRef)
	// An empty findings list gives a report of missing items only.
	empty := *f
	empty.Items = nil
	l.add(t, inspector, host, inspect.TypeFindings, 72*h, mustEncode(t, &empty), reqRef, openRef, rNATO, rRU)

	// The other openings: a whole region, an empty site, one item.
	region, err := secret.OpenRegion("Kaliningrad")
	if err != nil {
		t.Fatal(err)
	}
	l.add(t, host, inspector, "declaration.region", 80*h, region, decl)
	emptySite, err := secret.OpenSite("Kaliningrad", "Kamensk")
	if err != nil {
		t.Fatal(err)
	}
	l.add(t, host, inspector, "declaration.site", 81*h, emptySite, decl)
	item, err := secret.OpenItem("M-0001")
	if err != nil {
		t.Fatal(err)
	}
	l.add(t, host, inspector, "declaration.item", 82*h, item, decl)
	return l
}

func TestExampleInspectionBodies(t *testing.T) {
	r, err := regime.Load(exampleRegime)
	if err != nil {
		t.Fatal(err)
	}
	l := logInspection(t, r)
	types := map[string]bool{}
	for _, b := range l.bodies {
		types[b.st.Type] = true
	}
	for _, typ := range []string{"declaration.commit", "declaration.index", "declaration.sites", "declaration.region", "declaration.site",
		"declaration.item", "beacon.commit", "beacon.reveal", inspect.TypeRequest, inspect.TypeReply, inspect.TypeFindings, inspect.TypeReport} {
		if r.Type(typ) == nil {
			t.Errorf("the example regime has no type %s", typ)
		}
		if !types[typ] {
			t.Errorf("no %s body was tested", typ)
		}
	}
	for i, b := range l.bodies {
		t.Run(fmt.Sprintf("%d-%s", i, b.st.Type), func(t *testing.T) {
			checkMutations(t, r, l, b)
		})
	}
}

// checkMutations removes each member of each object of the body in turn,
// and adds an unknown member to each, and checks the schema's verdicts.
func checkMutations(t *testing.T, r *regime.Regime, l *exampleLogs, b logged) {
	root, err := parseNode(b.st.Body)
	if err != nil {
		t.Fatal(err)
	}
	check := func(what string, wantValid, ifParses bool) {
		t.Helper()
		body := root.encode(nil)
		st := l.statement(t, b.st.From, b.st.To[0], b.st.Type, b.st.Time.Sub(l.t0), body, b.st.Refs)
		err := r.CheckStatement(st)
		if ifParses && b.parse(body) != nil {
			return // the package itself refuses it; the schema may or may not
		}
		switch {
		case wantValid && err != nil:
			t.Errorf("%s: schema refuses a body the package accepts: %v\n%s", what, err, body)
		case !wantValid && err == nil:
			t.Errorf("%s: schema accepts it\n%s", what, body)
		case !wantValid && !errors.Is(err, regime.ErrBody):
			t.Errorf("%s: error %v does not wrap ErrBody", what, err)
		}
	}
	n := 0
	walkStructs(root, b.typ, "body", func(o *node, optional map[string]bool, path string) {
		for i := range o.members {
			m := o.members[i]
			o.members = slices.Delete(slices.Clone(o.members), i, i+1)
			if optional[m.key] {
				check("without optional "+path+"."+m.key, true, true)
			} else {
				check("without required "+path+"."+m.key, false, false)
			}
			o.members = slices.Insert(o.members, i, m)
			n++
		}
		o.members = append(o.members, member{key: "extra", val: &node{scalar: []byte("1")}})
		check("with "+path+".extra", false, false)
		o.members = o.members[:len(o.members)-1]
		n++
	})
	if n == 0 {
		t.Fatal("no mutations")
	}
	check("unchanged", true, false)
}

// walkStructs calls f for every JSON object in n that encodes a Go struct
// (not a map), with the set of its optional (omitempty) members and its path.
func walkStructs(n *node, t reflect.Type, path string, f func(o *node, optional map[string]bool, path string)) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Implements(reflect.TypeFor[encoding.TextMarshaler]()) {
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		optional := map[string]bool{}
		fieldType := map[string]reflect.Type{}
		for i := range t.NumField() {
			name, opts, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
			fieldType[name] = t.Field(i).Type
			optional[name] = strings.Contains(opts, "omitempty")
		}
		f(n, optional, path)
		for _, m := range n.members {
			walkStructs(m.val, fieldType[m.key], path+"."+m.key, f)
		}
	case reflect.Map:
		for _, m := range n.members {
			walkStructs(m.val, t.Elem(), fmt.Sprintf("%s[%q]", path, m.key), f)
		}
	case reflect.Slice, reflect.Array:
		for i, e := range n.elems {
			walkStructs(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i), f)
		}
	}
}

// A node is a JSON value that keeps the order of object members, so that a
// body with a member removed is still in its canonical order.
type node struct {
	members []member // object
	elems   []*node  // array
	scalar  []byte   // anything else, as in the input
	isObj   bool
	isArr   bool
}

type member struct {
	key string
	val *node
}

func parseNode(b []byte) (*node, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	return decodeNode(d)
}

func decodeNode(d *json.Decoder) (*node, error) {
	tok, err := d.Token()
	if err != nil {
		return nil, err
	}
	switch tok {
	case json.Delim('{'):
		n := &node{isObj: true}
		for d.More() {
			k, err := d.Token()
			if err != nil {
				return nil, err
			}
			v, err := decodeNode(d)
			if err != nil {
				return nil, err
			}
			n.members = append(n.members, member{key: k.(string), val: v})
		}
		_, err := d.Token()
		return n, err
	case json.Delim('['):
		n := &node{isArr: true}
		for d.More() {
			v, err := decodeNode(d)
			if err != nil {
				return nil, err
			}
			n.elems = append(n.elems, v)
		}
		_, err := d.Token()
		return n, err
	}
	if num, ok := tok.(json.Number); ok {
		return &node{scalar: []byte(num)}, nil
	}
	b, err := json.Marshal(tok) // strings escape as encoding/json does
	return &node{scalar: b}, err
}

func (n *node) encode(b []byte) []byte {
	switch {
	case n.isObj:
		b = append(b, '{')
		for i, m := range n.members {
			if i > 0 {
				b = append(b, ',')
			}
			k, _ := json.Marshal(m.key)
			b = append(append(b, k...), ':')
			b = m.val.encode(b)
		}
		return append(b, '}')
	case n.isArr:
		b = append(b, '[')
		for i, e := range n.elems {
			if i > 0 {
				b = append(b, ',')
			}
			b = e.encode(b)
		}
		return append(b, ']')
	}
	return append(b, n.scalar...)
}

// TestExampleRegionTooLarge shows the limit the example's README mentions:
// a statement is at most 64 KiB, so a large region is opened site by site.
func TestExampleRegionTooLarge(t *testing.T) {
	r, err := regime.Load(exampleRegime)
	if err != nil {
		t.Fatal(err)
	}
	var sites []escrow.Site
	for s := range 2 {
		site := escrow.Site{Name: fmt.Sprintf("Site %d", s)}
		for i := range 400 {
			site.Items = append(site.Items, escrow.Item{ID: fmt.Sprintf("M-%d-%04d", s, i), Category: "9M729.missile"})
		}
		sites = append(sites, site)
	}
	secret, err := escrow.Commit(&escrow.Declaration{Regions: []escrow.Region{{Name: "Large", Sites: sites}}},
		escrow.Params{Regime: r.ID, Party: "RU", Version: 1, Rand: det("large")})
	if err != nil {
		t.Fatal(err)
	}
	encode := func(typ string, body any) error {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		st := &statement.Statement{Regime: r.ID, From: "RU", To: []string{"NATO"}, Type: typ, Precedence: statement.Routine, Time: time.Date(2022, 3, 1, 9, 0, 0, 0, time.UTC),
			Refs: []statement.Ref{{Log: r.Origin("RU")}}, Body: b}
		enc, err := statement.Encode(st)
		if err != nil {
			return err
		}
		parsed, err := statement.Parse(enc)
		if err != nil {
			return err
		}
		return r.CheckStatement(parsed)
	}
	region, err := secret.OpenRegion("Large")
	if err != nil {
		t.Fatal(err)
	}
	if err := encode("declaration.region", region); !errors.Is(err, statement.ErrTooLarge) {
		t.Errorf("opening a region of 800 items: %v, want ErrTooLarge", err)
	}
	for _, s := range sites {
		o, err := secret.OpenSite("Large", s.Name)
		if err != nil {
			t.Fatal(err)
		}
		if err := encode("declaration.site", o); err != nil {
			t.Errorf("opening %s (400 items): %v", s.Name, err)
		}
	}
}

// TestExampleSchemaDefs checks that the definitions the example's schemas
// share ($defs of the same name) are the same in every schema file.
func TestExampleSchemaDefs(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(filepath.Dir(exampleRegime), "schemas", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatal(err)
	}
	r, err := regime.Load(exampleRegime)
	if err != nil {
		t.Fatal(err)
	}
	defs := map[string]string{} // name -> canonical JSON
	where := map[string]string{}
	for _, typ := range r.Types {
		var s struct {
			Defs map[string]json.RawMessage `json:"$defs"`
		}
		if err := json.Unmarshal([]byte(typ.Schema), &s); err != nil {
			t.Fatal(err)
		}
		for name, raw := range s.Defs {
			var v any
			json.Unmarshal(raw, &v)
			c, _ := json.Marshal(v)
			if prev, ok := defs[name]; ok && prev != string(c) {
				t.Errorf("$defs/%s differs between the schemas of %s and %s", name, where[name], typ.Name)
			}
			defs[name], where[name] = string(c), typ.Name
		}
	}
}
