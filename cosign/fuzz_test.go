package cosign_test

import (
	"errors"
	"flag"
	"strings"
	"testing"

	"github.com/tillit/tillit/cosign"
	"github.com/tillit/tillit/internal/fuzzseed"
	"github.com/tillit/tillit/tlog"
	"golang.org/x/mod/sumdb/note"
)

// The seeds of every fuzz target are the table cases of the parser tests,
// checked in under testdata/fuzz/<FuzzName>/seed-<case>. After changing a
// table, run
//
//	go test ./cosign/ -run TestFuzzSeedCorpus -update-corpus
var updateCorpus = flag.Bool("update-corpus", false, "rewrite the seed files in testdata/fuzz")

type seed struct {
	name string
	val  any // string or []byte, as the fuzz target takes
}

func policySeeds(t testing.TB) []seed {
	var s []seed
	for _, tt := range policyTests(newPolicyKeys(t)) {
		s = append(s, seed{tt.name, []byte(tt.text)})
	}
	text, _, _ := specPolicy(t)
	return append(s, seed{"spec example", []byte(text)})
}

func lineSeeds(t testing.TB) []seed {
	var s []seed
	for _, tt := range lineTests {
		s = append(s, seed{tt.name, tt.line})
	}
	for _, tv := range loadTorchwoodVectors(t) {
		s = append(s, seed{"torchwood " + tv.Comment, tv.Line})
	}
	w := fuzzWitness(t)
	sig, _, err := w.Cosign(fuzzText)
	if err != nil {
		t.Fatal(err)
	}
	return append(s, seed{"fuzz witness", cosign.FormatLine(sig)})
}

func vkeySeeds(testing.TB) []seed {
	var s []seed
	for _, tt := range vkeyTests {
		s = append(s, seed{tt.name, tt.vkey})
	}
	return s
}

func skeySeeds(testing.TB) []seed {
	var s []seed
	for _, tt := range skeyTests {
		s = append(s, seed{tt.name, tt.skey})
	}
	return s
}

// satisfiedSeeds are checkpoints signed by the log of the spec policy and
// some of its witnesses, and broken variants.
func satisfiedSeeds(t testing.TB) []seed {
	_, log, ws := specPolicy(t)
	text := checkpointText(specOrigin, 5, "fuzz")
	var s []seed
	for _, set := range [][]string{nil, {"X1"}, {"X1", "X2"}, {"X1", "X3", "Y2"}, {"X1", "X2", "X3", "Y1", "Y2", "Y3"}} {
		signers := []note.Signer{log}
		for _, n := range set {
			signers = append(signers, ws[n])
		}
		s = append(s, seed{"log and " + strings.Join(set, " "), sign(t, text, signers...)})
	}
	all := sign(t, text, log, ws["X1"], ws["X2"], ws["Y1"])
	s = append(s,
		seed{"no log", sign(t, text, ws["X1"], ws["X2"], ws["Y1"])},
		seed{"tampered size", []byte(strings.Replace(string(all), "\n5\n", "\n6\n", 1))},
		seed{"bad cosignature", withLines(sign(t, text, log), rawSig(ws["Y1"].Name(), ws["Y1"].KeyHash(), 1, make([]byte, 64)))},
		seed{"spec checkpoint", []byte(specCheckpoint)},
	)
	return s
}

var fuzzSeeds = map[string]func(testing.TB) []seed{
	"FuzzParsePolicy":     policySeeds,
	"FuzzParseLine":       lineSeeds,
	"FuzzNewVerifier":     vkeySeeds,
	"FuzzParsePrivateKey": skeySeeds,
	"FuzzSatisfied":       satisfiedSeeds,
}

func addSeeds(f *testing.F) {
	for _, s := range fuzzSeeds[f.Name()](f) {
		f.Add(s.val)
	}
}

// TestFuzzSeedCorpus checks that testdata/fuzz holds every table seed.
func TestFuzzSeedCorpus(t *testing.T) {
	for target, seeds := range fuzzSeeds {
		var ss []fuzzseed.Seed
		for _, s := range seeds(t) {
			ss = append(ss, fuzzseed.Seed{Name: s.name, Val: s.val})
		}
		fuzzseed.Sync(t, target, ss, *updateCorpus, "go test ./cosign/ -run TestFuzzSeedCorpus -update-corpus")
	}
}

const fuzzText = "example.com/fuzz\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"

func fuzzWitness(t testing.TB) *cosign.Signer { return witness(t, "fuzz.example/witness") }

func FuzzParsePolicy(f *testing.F) {
	addSeeds(f)
	text := checkpointText("example.com/log", 1, "fuzz policy")
	unsigned := []byte(text + "\n— nobody.example AAAAAAA=\n")
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := cosign.ParsePolicy(data)
		if err != nil {
			var pe *cosign.PolicyError
			if !errors.As(err, &pe) || !errors.Is(err, cosign.ErrBadPolicy) {
				t.Fatalf("ParsePolicy(%q) error %v is not a PolicyError", data, err)
			}
			if pe.Line < 0 || pe.Line > strings.Count(string(data), "\n")+1 {
				t.Fatalf("ParsePolicy(%q) error on line %d", data, pe.Line)
			}
			return
		}
		if len(p.Logs()) > cosign.MaxLogs || len(p.Witnesses()) > cosign.MaxWitnesses {
			t.Fatalf("ParsePolicy(%q) exceeds limits", data)
		}
		checkString(t, p)
		ok, d, err := p.Satisfied(unsigned)
		if len(p.Logs()) > 0 {
			if !errors.Is(err, tlog.ErrCheckpointSignature) {
				t.Fatalf("Satisfied(unsigned) with logs = %v, %v", ok, err)
			}
			return
		}
		none := strings.HasSuffix(p.String(), "\nquorum none\n") || p.String() == "quorum none\n"
		if err != nil || ok != none || len(d.Cosigned) != 0 || len(d.Missing) != len(p.Witnesses()) {
			t.Fatalf("Satisfied(unsigned) = %v, %+v, %v; quorum none: %v", ok, d, err, none)
		}
	})
}

func FuzzParseLine(f *testing.F) {
	addSeeds(f)
	v := fuzzWitness(f).Verifier()
	f.Fuzz(func(t *testing.T, line string) {
		sig, err := cosign.ParseLine(line)
		if err != nil {
			if !errors.Is(err, cosign.ErrMalformedCosignature) {
				t.Fatalf("ParseLine(%q) error %v does not wrap ErrMalformedCosignature", line, err)
			}
			return
		}
		if l := cosign.FormatLine(sig); l != line {
			t.Fatalf("ParseLine(%q) = %+v, whose line is %q", line, sig, l)
		}
		if sigs, err := cosign.ParseLines([]byte(line + "\n")); err != nil || len(sigs) != 1 || sigs[0] != sig {
			t.Fatalf("ParseLines(%q) = %+v, %v", line, sigs, err)
		}
		ts, err := cosign.Timestamp(sig)
		if err == nil && (ts.Unix() < 1 || ts.Unix() > cosign.MaxTimestamp) {
			t.Fatalf("Timestamp(%q) = %v", line, ts)
		}
		if err != nil && !errors.Is(err, cosign.ErrMalformedCosignature) {
			t.Fatalf("Timestamp(%q) error %v", line, err)
		}
		vts, verr := cosign.VerifyCosignature(fuzzText, sig, v)
		if verr == nil && (err != nil || !vts.Equal(ts) || sig.Name != v.Name()) {
			t.Fatalf("VerifyCosignature(%q) = %v, but Timestamp = %v, %v", line, vts, ts, err)
		}
	})
}

func FuzzNewVerifier(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, vkey string) {
		v, err := cosign.NewVerifier(vkey)
		if err != nil {
			if !errors.Is(err, cosign.ErrMalformedKey) {
				t.Fatalf("NewVerifier(%q) error %v does not wrap ErrMalformedKey", vkey, err)
			}
			return
		}
		if v.String() != vkey {
			t.Fatalf("NewVerifier(%q).String() = %q", vkey, v.String())
		}
		if v.KeyHash() != cosign.KeyID(v.Name(), v.PublicKey()) {
			t.Fatalf("NewVerifier(%q): key ID %08x", vkey, v.KeyHash())
		}
		if _, err := note.NewVerifier(vkey); err == nil {
			t.Fatalf("x/mod note.NewVerifier accepts cosigner key %q", vkey)
		}
	})
}

func FuzzParsePrivateKey(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, skey string) {
		name, key, err := cosign.ParsePrivateKey(skey)
		if err != nil {
			if !errors.Is(err, cosign.ErrMalformedKey) {
				t.Fatalf("ParsePrivateKey(%q) error %v does not wrap ErrMalformedKey", skey, err)
			}
			return
		}
		if s, err := cosign.MarshalPrivateKey(name, key); err != nil || s != skey {
			t.Fatalf("MarshalPrivateKey(ParsePrivateKey(%q)) = %q, %v", skey, s, err)
		}
		s, err := cosign.NewSignerFromKey(skey, fixedClock(testTime))
		if err != nil {
			t.Fatal(err)
		}
		n, err := note.Open(sign(t, fuzzText, s), note.VerifierList(s.Verifier()))
		if err != nil || len(n.Sigs) != 1 {
			t.Fatalf("signature by %q does not verify: %v", skey, err)
		}
		if _, err := note.NewSigner(skey); err == nil {
			t.Fatalf("x/mod note.NewSigner accepts cosigner key %q", skey)
		}
	})
}

func FuzzSatisfied(f *testing.F) {
	addSeeds(f)
	text, _, _ := specPolicy(f)
	p, err := cosign.ParsePolicy([]byte(text))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		ok, d, err := p.Satisfied(msg)
		if err != nil {
			if !errors.Is(err, tlog.ErrBadCheckpoint) && !errors.Is(err, tlog.ErrCheckpointSignature) && !errors.Is(err, cosign.ErrInvalidCosignature) {
				t.Fatalf("Satisfied(%q) error %v wraps no sentinel", msg, err)
			}
			if ok || d != nil {
				t.Fatalf("Satisfied(%q) = %v, %+v with error %v", msg, ok, d, err)
			}
			return
		}
		if d.Log != specOrigin || d.Checkpoint.Origin != specOrigin {
			t.Fatalf("Satisfied(%q): log %q, checkpoint %+v", msg, d.Log, d.Checkpoint)
		}
		if nt, err := tlog.NoteText(msg); err != nil || nt != d.Checkpoint.String() {
			t.Fatalf("Satisfied(%q): checkpoint %q, note text %q", msg, d.Checkpoint, nt)
		}
		var x, y int
		for _, c := range d.Cosigned {
			if c.Witness[0] == 'X' {
				x++
			} else {
				y++
			}
			if c.Time.Unix() < 1 || c.Time.Unix() > cosign.MaxTimestamp {
				t.Fatalf("Satisfied(%q): cosignature time %v", msg, c.Time)
			}
		}
		if ok != (x >= 2 && y >= 1) || len(d.Cosigned)+len(d.Missing) != 6 {
			t.Fatalf("Satisfied(%q) = %v with %+v", msg, ok, d)
		}
	})
}
