package inspect

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/tillit/tillit/escrow"
	"github.com/tillit/tillit/statement"
)

// The scenario is one whole inspection, as the two parties' logs show it.
// It backs the end-to-end test and testdata/vectors/log-*.jsonl. Statement
// types other than inspection.* (declaration.*, beacon.*) and their bodies
// are those of this scenario only: the regime defines them.

const (
	scenarioBeaconWithin = 24 * time.Hour
	scenarioFallback     = FallbackRefused
	scenarioSelection    = SelectWeighted
)

var scenarioQuotas = vienna

// A party log under construction.
type testLog struct {
	party   string
	entries [][]byte
	parsed  []*statement.Statement
}

func (l *testLog) add(t testing.TB, to, typ, at string, body any, refs ...statement.Ref) statement.Ref {
	t.Helper()
	raw, ok := body.([]byte)
	if !ok {
		raw = mustJSON(t, body)
	}
	b, err := statement.Encode(&statement.Statement{Regime: testRegime, From: l.party, To: []string{to}, Type: typ,
		Precedence: statement.Routine, Time: date(at), Refs: refs, Body: raw})
	if err != nil {
		t.Fatalf("%s: %v", typ, err)
	}
	st, err := statement.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	l.entries = append(l.entries, b)
	l.parsed = append(l.parsed, st)
	return st.Ref(int64(len(l.entries) - 1))
}

type scenario struct {
	nato, ru *testLog
	secret   *escrow.Secret
	chosen   Candidate
	// bodies, as logged
	request, reply, findings, report []byte
	opening                          []byte
	seed                             escrow.Hash
}

func mustEncode(t testing.TB, b interface{ Encode() ([]byte, error) }) []byte {
	t.Helper()
	out, err := b.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func buildScenario(t testing.TB) *scenario {
	sc := &scenario{nato: &testLog{party: testInspector}, ru: &testLog{party: testHost}}
	nato, ru := sc.nato, sc.ru
	sc.secret = mustCommit(t, sampleDeclaration(), "tillit/inspect/v1 test vectors")
	decl := ru.add(t, testInspector, "declaration.commit", "2026-01-05T09:00:00.000Z", sc.secret.Commitment())
	ru.add(t, testInspector, "declaration.index", "2026-01-05T09:00:01.000Z", sc.secret.RevealIndex(), decl)

	req := &Request{Inspector: testInspector, Host: testHost, Declaration: Ref(decl), Scope: ScopeAny, Year: 2026,
		Reason: "Vienna Document evaluation"}
	sc.request = mustEncode(t, req)
	reqRef := nato.add(t, testHost, TypeRequest, "2026-03-02T08:00:00.000Z", sc.request, decl)

	sc.reply = mustEncode(t, &Reply{Request: Ref(reqRef), Decision: Accept})
	ru.add(t, testInspector, TypeReply, "2026-03-02T10:30:00.000Z", sc.reply, reqRef)

	ctx := BeaconContext(reqRef)
	rNato, _ := escrow.NewBeaconReveal(newDetReader("tillit/inspect/v1 test vectors: NATO beacon"))
	rRU, _ := escrow.NewBeaconReveal(newDetReader("tillit/inspect/v1 test vectors: RU beacon"))
	type commitBody struct {
		Commit escrow.Hash `json:"commit"`
	}
	cNato := nato.add(t, testHost, "beacon.commit", "2026-03-02T11:00:00.000Z", commitBody{rNato.Commit(ctx, testInspector)}, reqRef)
	cRU := ru.add(t, testInspector, "beacon.commit", "2026-03-02T11:05:00.000Z", commitBody{rRU.Commit(ctx, testHost)}, reqRef)
	revNato := nato.add(t, testHost, "beacon.reveal", "2026-03-02T11:10:00.000Z", rNato, reqRef, cNato)
	revRU := ru.add(t, testInspector, "beacon.reveal", "2026-03-02T11:12:00.000Z", rRU, reqRef, cRU)

	kal, _ := sc.secret.RevealSites("Kaliningrad")
	ore, _ := sc.secret.RevealSites("Orenburg")
	ru.add(t, testInspector, "declaration.sites", "2026-03-02T11:20:00.000Z", kal, reqRef)
	ru.add(t, testInspector, "declaration.sites", "2026-03-02T11:20:01.000Z", ore, reqRef)

	o, err := escrow.ResolveBeacon(ctx, escrow.Contribution{Party: testInspector, Commit: rNato.Commit(ctx, testInspector), Reveal: rNato},
		escrow.Contribution{Party: testHost, Commit: rRU.Commit(ctx, testHost), Reveal: rRU})
	if err != nil || !o.OK() {
		t.Fatal(err)
	}
	sc.seed = o.Seed
	cands, err := Candidates(sc.secret.Commitment(), req, sc.secret.RevealIndex(), []*escrow.SitesReveal{kal, ore})
	if err != nil {
		t.Fatal(err)
	}
	if sc.chosen, err = Select(o.Seed, cands, scenarioSelection); err != nil {
		t.Fatal(err)
	}
	opening := mustOpen(t, sc.secret, sc.chosen.Region, sc.chosen.Site)
	sc.opening = mustJSON(t, opening)
	openRef := ru.add(t, testInspector, "declaration.site", "2026-03-03T06:00:00.000Z", sc.opening, reqRef)

	// The inspectors see every declared item but the last, the first with
	// another category, and one undeclared missile.
	_, site := opening.Opened()
	if len(site.Items) < 3 {
		t.Fatalf("the scenario's beacon chose %v, with fewer than 3 items", sc.chosen)
	}
	var seen []Observed
	for i, it := range site.Items[:len(site.Items)-1] {
		cat := it.Category
		if i == 0 {
			cat = "9M729.missile"
		}
		seen = append(seen, Observed{ID: it.ID, Category: cat})
	}
	seen = append(seen, Observed{ID: "M-0099", Category: "9M729.missile"})
	f := &Findings{Request: Ref(reqRef), Seed: o.Seed, Beacon: []Ref{Ref(revNato), Ref(revRU)},
		Region: sc.chosen.Region, Site: sc.chosen.Site, Opening: Ref(openRef), Items: seen}
	sc.findings = mustEncode(t, f)
	findRef := nato.add(t, testHost, TypeFindings, "2026-03-03T14:00:00.000Z", sc.findings, reqRef, openRef, revNato, revRU)

	r, err := Compare(opening, f, findRef)
	if err != nil {
		t.Fatal(err)
	}
	sc.report = mustEncode(t, r)
	nato.add(t, testHost, TypeReport, "2026-03-03T15:00:00.000Z", sc.report, reqRef, findRef, openRef)
	ru.add(t, testInspector, TypeReport, "2026-03-03T15:02:00.000Z", sc.report, reqRef, findRef, openRef)
	return sc
}

// findType returns the first entry of type typ in l, and its index.
func findType(t testing.TB, l []*statement.Statement, typ string, skip int) (*statement.Statement, int64) {
	t.Helper()
	for i, st := range l {
		if st.Type == typ {
			if skip == 0 {
				return st, int64(i)
			}
			skip--
		}
	}
	t.Fatalf("no %s", typ)
	return nil, 0
}

func parseAs[T any](t testing.TB, b []byte) *T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return &v
}

// audit checks the whole inspection from the two logs alone, as an auditor
// holding nothing else would.
func audit(t testing.TB, nato, ru []*statement.Statement) {
	t.Helper()
	// Request, quotas, reply.
	st, i := findType(t, nato, TypeRequest, 0)
	req, err := RequestFromStatement(st, i)
	if err != nil {
		t.Fatal(err)
	}
	in := Inspection{Request: *req}
	if err := CheckQuota(scenarioQuotas, nil, in); err != nil {
		t.Fatal(err)
	}
	declSt := ru[req.Body.Declaration.Index]
	if declSt.LeafHash() != req.Body.Declaration.Hash {
		t.Fatal("declaration ref does not match the log")
	}
	commitment, err := escrow.ParseCommitment(declSt.Body)
	if err != nil {
		t.Fatal(err)
	}
	st, i = findType(t, ru, TypeReply, 0)
	if in.Reply, err = ReplyFromStatement(st, i, req); err != nil {
		t.Fatal(err)
	}
	if s := in.Status(scenarioQuotas.ReplyWithin, in.Reply.Time); s.State != Accepted {
		t.Fatalf("status %+v", s)
	}

	// Beacon.
	part := func(l []*statement.Statement, party string) BeaconPart {
		c, _ := findType(t, l, "beacon.commit", 0)
		r, _ := findType(t, l, "beacon.reveal", 0)
		var cb struct {
			Commit escrow.Hash `json:"commit"`
		}
		if err := json.Unmarshal(c.Body, &cb); err != nil {
			t.Fatal(err)
		}
		rev, err := escrow.ParseBeaconReveal(r.Body)
		if err != nil {
			t.Fatal(err)
		}
		return BeaconPart{Party: party, Commit: cb.Commit, Reveal: rev, Time: r.Time}
	}
	b := Beacon{Request: req.Ref, Inspector: part(nato, testInspector), Host: part(ru, testHost),
		Due: RevealDue(in.Reply.Time, scenarioBeaconWithin)}
	verdict, err := b.Resolve(scenarioFallback, b.Due.Add(time.Millisecond))
	if err != nil || verdict.Outcome != BeaconSeeded {
		t.Fatalf("beacon: %v %v", verdict, err)
	}
	in.Beacon = verdict

	// Selection from the host's reveals.
	idxSt, _ := findType(t, ru, "declaration.index", 0)
	index, err := escrow.ParseIndexReveal(idxSt.Body)
	if err != nil {
		t.Fatal(err)
	}
	var lists []*escrow.SitesReveal
	for k := range 2 {
		st, _ := findType(t, ru, "declaration.sites", k)
		l, err := escrow.ParseSitesReveal(st.Body)
		if err != nil {
			t.Fatal(err)
		}
		lists = append(lists, l)
	}
	cands, err := Candidates(commitment, &req.Body, index, lists)
	if err != nil {
		t.Fatal(err)
	}
	chosen, err := Select(verdict.Seed, cands, scenarioSelection)
	if err != nil {
		t.Fatal(err)
	}

	// Findings, opening, reports.
	st, i = findType(t, nato, TypeFindings, 0)
	f, err := FindingsFromStatement(st, i, req)
	if err != nil {
		t.Fatal(err)
	}
	if s := in.Status(scenarioQuotas.ReplyWithin, f.Time); s.State != Accepted {
		t.Fatalf("findings of a %v inspection", s.State)
	}
	if err := CheckFindings(&f.Body, verdict, chosen); err != nil {
		t.Fatal(err)
	}
	openSt := ru[f.Body.Opening.Index]
	if openSt.LeafHash() != f.Body.Opening.Hash {
		t.Fatal("opening ref does not match the log")
	}
	opening, err := escrow.ParseSiteOpening(openSt.Body)
	if err != nil {
		t.Fatal(err)
	}
	if err := escrow.VerifySiteOpening(commitment, opening); err != nil {
		t.Fatal(err)
	}
	var bodies [][]byte
	for _, l := range [][]*statement.Statement{nato, ru} {
		st, i := findType(t, l, TypeReport, 0)
		rep, err := ReportFromStatement(st, i, req)
		if err != nil {
			t.Fatal(err)
		}
		if err := Verify(opening, &f.Body, f.Ref, st.Body); err != nil {
			t.Fatalf("%s's report: %v", st.From, err)
		}
		if rep.Body.Clean() {
			t.Fatal("the scenario's report should find discrepancies")
		}
		bodies = append(bodies, st.Body)
	}
	if string(bodies[0]) != string(bodies[1]) {
		t.Fatal("the two logs hold different reports")
	}
}

func TestEndToEnd(t *testing.T) {
	sc := buildScenario(t)
	audit(t, sc.nato.parsed, sc.ru.parsed)
	r := parseAs[Report](t, sc.report)
	kinds := map[Kind]bool{}
	for _, d := range r.Items {
		kinds[d.Kind] = true
	}
	if !kinds[Undeclared] || !kinds[Missing] || !kinds[WrongCategory] || len(r.Counts) == 0 {
		t.Fatalf("the scenario's report should show every kind: %s", sc.report)
	}
}
