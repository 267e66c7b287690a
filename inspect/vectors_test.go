package inspect

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tillit/tillit/escrow"
	"github.com/tillit/tillit/statement"
)

var update = flag.Bool("update", false, "regenerate testdata/vectors and testdata/fuzz seeds")

// vectorSeed returns the i-th test vector seed (spec §Test vectors).
func vectorSeed(i uint64) escrow.Hash {
	return sha256.Sum256(binary.BigEndian.AppendUint64([]byte("tillit/inspect/v1 test vectors"), i))
}

func jsonl(entries [][]byte) []byte {
	var b bytes.Buffer
	for _, e := range entries {
		b.Write(e)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

func indent(t testing.TB, v any) []byte {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

// vectorFiles returns every generated file under testdata/vectors.
func vectorFiles(t testing.TB) map[string][]byte {
	sc := buildScenario(t)
	line := func(b []byte) []byte { return append(slices.Clone(b), '\n') }
	return map[string][]byte{
		"log-NATO.jsonl": jsonl(sc.nato.entries),
		"log-RU.jsonl":   jsonl(sc.ru.entries),
		"request.json":   line(sc.request),
		"reply.json":     line(sc.reply),
		"findings.json":  line(sc.findings),
		"opening.json":   line(sc.opening),
		"report.json":    line(sc.report),
		"selection.json": indent(t, selectionVector(t, sc)),
		"beacon.json":    indent(t, beaconVector(t)),
	}
}

type selectionCase struct {
	Seed     escrow.Hash `json:"seed"`
	Uniform  int         `json:"uniform"`
	Weighted int         `json:"weighted"`
}

func selectionVector(t testing.TB, sc *scenario) any {
	type cand struct {
		Region string `json:"region"`
		Site   string `json:"site"`
		Items  uint64 `json:"items"`
	}
	var cands []cand
	for _, c := range testCandidates {
		cands = append(cands, cand{c.Region, c.Site, c.Items})
	}
	index := func(c Candidate) int { return slices.Index(testCandidates, c) }
	var cases []selectionCase
	for i := range uint64(8) {
		seed := vectorSeed(i)
		if i == 0 {
			seed = sc.seed // the scenario's beacon seed
		}
		u, err := Select(seed, testCandidates, SelectUniform)
		if err != nil {
			t.Fatal(err)
		}
		w, err := Select(seed, testCandidates, SelectWeighted)
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, selectionCase{seed, index(u), index(w)})
	}
	s := escrow.NewStream(sc.seed, SelectionLabel)
	var stream []uint64
	for range 4 {
		stream = append(stream, s.Uint64())
	}
	return map[string]any{
		"label":       SelectionLabel,
		"candidates":  cands,
		"cases":       cases,
		"stream_0":    stream,
		"stream_0_of": "cases[0].seed",
	}
}

func beaconVector(t testing.TB) any {
	req := fakeRef(testInspector, 0)
	ctx := BeaconContext(req)
	rNato, _ := escrow.NewBeaconReveal(newDetReader("tillit/inspect/v1 test vectors: NATO beacon"))
	rRU, _ := escrow.NewBeaconReveal(newDetReader("tillit/inspect/v1 test vectors: RU beacon"))
	o, err := escrow.ResolveBeacon(ctx, escrow.Contribution{Party: testInspector, Commit: rNato.Commit(ctx, testInspector), Reveal: rNato},
		escrow.Contribution{Party: testHost, Commit: rRU.Commit(ctx, testHost), Reveal: rRU})
	if err != nil || !o.OK() {
		t.Fatal(err)
	}
	input := appendStr(appendStr(append([]byte(tagFallbackSeed), 0), ctx), testHost)
	input = append(input, rRU.R[:]...)
	part := func(party string, r *escrow.BeaconReveal) any {
		return map[string]any{"party": party, "r": r.R, "nonce": r.Nonce, "commit": r.Commit(ctx, party),
			"fallback_seed": FallbackSeed(ctx, party, r)}
	}
	return map[string]any{
		"request":                 req.String(),
		"context":                 ctx,
		"inspector":               part(testInspector, rNato),
		"host":                    part(testHost, rRU),
		"seed":                    o.Seed,
		"host_fallback_input_hex": hex.EncodeToString(input),
	}
}

func TestVectors(t *testing.T) {
	dir := filepath.Join("testdata", "vectors")
	files := vectorFiles(t)
	if *update {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, b := range files {
			if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		writeFuzzSeeds(t, files)
		return
	}
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatalf("%v (run go test -run TestVectors -update)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from the regenerated vector", name)
		}
	}
}

func readLog(t *testing.T, name string) []*statement.Statement {
	b, err := os.ReadFile(filepath.Join("testdata", "vectors", name))
	if err != nil {
		t.Fatal(err)
	}
	var out []*statement.Statement
	for _, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		st, err := statement.Parse([]byte(line))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, st)
	}
	return out
}

// TestVectorsAudit audits the inspection from the vector logs on disk.
func TestVectorsAudit(t *testing.T) {
	nato, ru := readLog(t, "log-NATO.jsonl"), readLog(t, "log-RU.jsonl")
	audit(t, nato, ru)

	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("testdata", "vectors", name))
		if err != nil {
			t.Fatal(err)
		}
		return bytes.TrimSuffix(b, []byte("\n"))
	}
	opening, err := escrow.ParseSiteOpening(read("opening.json"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := ParseFindings(read("findings.json"))
	if err != nil {
		t.Fatal(err)
	}
	st, i := findType(t, nato, TypeFindings, 0)
	if err := Verify(opening, f, st.Ref(i), read("report.json")); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"request.json", "reply.json", "findings.json", "report.json"} {
		b := read(name)
		var enc []byte
		switch name {
		case "request.json":
			v, err := ParseRequest(b)
			if err != nil {
				t.Fatal(err)
			}
			enc, _ = v.Encode()
		case "reply.json":
			v, err := ParseReply(b)
			if err != nil {
				t.Fatal(err)
			}
			enc, _ = v.Encode()
		case "findings.json":
			enc, _ = f.Encode()
		case "report.json":
			v, err := ParseReport(b)
			if err != nil {
				t.Fatal(err)
			}
			enc, _ = v.Encode()
		}
		if !bytes.Equal(enc, b) {
			t.Errorf("%s is not canonical", name)
		}
	}
}

func TestSelectionVector(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "vectors", "selection.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Label      string
		Candidates []Candidate
		Cases      []selectionCase
	}
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	if v.Label != SelectionLabel || len(v.Cases) == 0 {
		t.Fatalf("bad vector: %+v", v)
	}
	for _, c := range v.Cases {
		u, _ := Select(c.Seed, v.Candidates, SelectUniform)
		w, _ := Select(c.Seed, v.Candidates, SelectWeighted)
		if u != v.Candidates[c.Uniform] || w != v.Candidates[c.Weighted] {
			t.Errorf("seed %v: got %v, %v", c.Seed, u, w)
		}
	}
}

// writeFuzzSeeds writes the seed corpus of every fuzz target.
func writeFuzzSeeds(t *testing.T, files map[string][]byte) {
	trim := func(name string) []byte { return bytes.TrimSuffix(files[name], []byte("\n")) }
	seeds := map[string][][]byte{
		"FuzzParseRequest":  {trim("request.json"), mustEncode(t, sampleRequest()), []byte(`{"inspector":"NATO"}`)},
		"FuzzParseReply":    {trim("reply.json"), mustEncode(t, &Reply{Request: Ref(fakeRef("NATO", 1)), Decision: Refuse, Reason: "force majeure"}), []byte(`{"decision":"accept"}`)},
		"FuzzParseFindings": {trim("findings.json"), mustEncode(t, sampleFindings()), []byte(`{"items":[]}`)},
		"FuzzParseReport":   {trim("report.json"), mustEncode(t, sampleReport()), []byte(`{"counts":[{"category":"c","declared":0,"observed":1}]}`)},
		"FuzzCompare":       {trim("findings.json"), mustEncode(t, findingsWith(honest...))},
	}
	for target, list := range seeds {
		dir := filepath.Join("testdata", "fuzz", target)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for i, s := range list {
			body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", s)
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed-%d", i)), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}
