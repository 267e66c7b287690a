package regime

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the test vectors in testdata/vectors")

// vectorFile is testdata/vectors/vectors.json, the test vectors of
// docs/spec/regime.md.
type vectorFile struct {
	Comment string      `json:"comment"`
	Keys    []vectorKey `json:"keys"`
	Regimes []vector    `json:"regimes"`
}

type vectorKey struct {
	Kind  string `json:"kind"` // "log" (signed-note, 0x01) or "cosign" (tlog-cosignature, 0x04)
	Party string `json:"party"`
	Gen   int    `json:"gen"`
	Seed  string `json:"seed"` // hex Ed25519 seed
	VKey  string `json:"vkey"`
}

// seedLabel is the label of a vector key's seed (see testSeed).
func (k vectorKey) seedLabel() string {
	l := fmt.Sprintf("vectors/%s/%d", k.Party, k.Gen)
	if k.Kind == "cosign" {
		l = "cosign " + l
	}
	return l
}

func (k vectorKey) vkey() string {
	if k.Kind == "cosign" {
		return testCosignVKey("vectors", k.Party, k.Gen)
	}
	return testVKey("vectors", k.Party, k.Gen)
}

type vector struct {
	File       string   `json:"file"`
	Canonical  string   `json:"canonical"`
	Hash       string   `json:"hash"`
	SignedText string   `json:"signed_text"`
	Previous   string   `json:"previous,omitempty"`
	Sigs       string   `json:"sigs,omitempty"`
	Signers    []string `json:"signers,omitempty"` // party/gen
	Note       string   `json:"note"`
}

// vectorSpecs lists the vectors; -update recomputes their outputs.
var vectorSpecs = []vector{
	{File: "minimal.toml", Canonical: "minimal.json", Sigs: "minimal.sigs", Signers: []string{"NATO/0", "RU/0"},
		Note: "two parties, one type; every default explicit in the canonical encoding"},
	{File: "full.toml", Canonical: "full.json", Note: "every setting; non-ASCII, quotes and a multi-line schema"},
	{File: "reordered.toml", Canonical: "full.json", Note: "full.toml said differently: same canonical encoding and hash"},
	{File: "amendment.toml", Canonical: "amendment.json", Previous: "minimal.toml", Sigs: "amendment.sigs",
		Signers: []string{"NATO/0", "RU/0", "NATO/1", "OSCE/0"},
		Note: "version 2 of minimal.toml: NATO's log key rotated, RU's cosign key rotated, OSCE added; " +
			"signed by NATO's old and new log keys, RU's (unchanged) log key and OSCE"},
}

const vectorDir = "testdata/vectors"

func TestVectors(t *testing.T) {
	if *update {
		writeVectors(t)
	}
	b, err := os.ReadFile(filepath.Join(vectorDir, "vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var vf vectorFile
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(&vf); err != nil {
		t.Fatal(err)
	}
	for _, k := range vf.Keys {
		if got := k.vkey(); got != k.VKey || hex.EncodeToString(testSeed(k.seedLabel())) != k.Seed {
			t.Errorf("%s key %s/%d: vkey %s, recorded %s", k.Kind, k.Party, k.Gen, got, k.VKey)
		}
	}
	regimes := map[string]*Regime{}
	for _, v := range vf.Regimes {
		t.Run(v.File, func(t *testing.T) {
			r, err := Load(filepath.Join(vectorDir, v.File))
			if err != nil {
				t.Fatal(err)
			}
			regimes[v.File] = r
			want, err := os.ReadFile(filepath.Join(vectorDir, v.Canonical))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(r.Canonical(), want) {
				t.Errorf("canonical encoding differs from %s:\n%s", v.Canonical, r.Canonical())
			}
			if r.Hash().String() != v.Hash || r.SignedText() != v.SignedText {
				t.Errorf("hash %s, signed text %q; recorded %s, %q", r.Hash(), r.SignedText(), v.Hash, v.SignedText)
			}
			rc, err := ParseCanonical(want)
			if err != nil || rc.Hash() != r.Hash() {
				t.Errorf("ParseCanonical(%s) = %v", v.Canonical, err)
			}
			if v.Sigs == "" {
				return
			}
			sigs, err := LoadSignatures(filepath.Join(vectorDir, v.Sigs))
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := os.ReadFile(filepath.Join(vectorDir, v.Sigs))
			if !bytes.Equal(sigs.Bytes(), raw) {
				t.Errorf("%s is not in canonical order", v.Sigs)
			}
			if _, err := r.VerifyAmendment(regimes[v.Previous], sigs); err != nil {
				t.Errorf("%s: %v", v.Sigs, err)
			}
		})
	}
}

// writeVectors recomputes the outputs of the test vectors.
func writeVectors(t *testing.T) {
	vf := vectorFile{Comment: "Test vectors of docs/spec/regime.md. Each regime file has the canonical encoding in the named file " +
		"and the hash (base64 SHA-256 of that file). Keys: an Ed25519 seed = SHA-256(\"tillit regime test key vectors/<party>/<gen>\") " +
		"for a log key (kind log, signed-note type 0x01) and SHA-256(\"tillit regime test key cosign vectors/<party>/<gen>\") " +
		"for a cosign key (kind cosign, tlog-cosignature type 0x04); gen 1 is a rotated key. Signature files are signed by the listed log keys."}
	for _, k := range []vectorKey{
		{Kind: "log", Party: "NATO"}, {Kind: "log", Party: "RU"}, {Kind: "log", Party: "OSCE"}, {Kind: "log", Party: "NATO", Gen: 1},
		{Kind: "cosign", Party: "NATO"}, {Kind: "cosign", Party: "RU"}, {Kind: "cosign", Party: "OSCE"}, {Kind: "cosign", Party: "RU", Gen: 1},
	} {
		k.Seed = hex.EncodeToString(testSeed(k.seedLabel()))
		k.VKey = k.vkey()
		vf.Keys = append(vf.Keys, k)
	}
	regimes := map[string]*Regime{}
	for _, v := range vectorSpecs {
		r, err := Load(filepath.Join(vectorDir, v.File))
		if err != nil {
			t.Fatal(err)
		}
		regimes[v.File] = r
		v.Hash, v.SignedText = r.Hash().String(), r.SignedText()
		if err := os.WriteFile(filepath.Join(vectorDir, v.Canonical), r.Canonical(), 0o644); err != nil {
			t.Fatal(err)
		}
		if v.Sigs != "" {
			var sigs *Signatures
			for _, s := range v.Signers {
				var gen int
				party, g, _ := strings.Cut(s, "/")
				fmt.Sscan(g, &gen)
				if sigs, _, err = r.Sign(regimes[v.Previous], sigs, testSigner(t, "vectors", party, gen)); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.WriteFile(filepath.Join(vectorDir, v.Sigs), sigs.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		vf.Regimes = append(vf.Regimes, v)
	}
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	e.SetIndent("", "\t")
	if err := e.Encode(vf); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(vectorDir, "vectors.json"), b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestCanonicalJCS checks the canonical encoding against encoding/json as an
// independent RFC 8785 encoder for this subset: decoded and re-encoded with
// sorted keys and no HTML escaping, it must give back the same bytes.
func TestCanonicalJCS(t *testing.T) {
	for _, r := range []*Regime{mustParse(t, testTOML()), example(t)} {
		var v any
		if err := json.Unmarshal(r.Canonical(), &v); err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		e := json.NewEncoder(&b)
		e.SetEscapeHTML(false)
		if err := e.Encode(v); err != nil {
			t.Fatal(err)
		}
		if got := bytes.TrimSuffix(b.Bytes(), []byte("\n")); !bytes.Equal(got, r.Canonical()) {
			t.Errorf("encoding/json re-encodes %s differently:\n%s\n%s", r.ID, got, r.Canonical())
		}
	}
}

func TestJCSStrings(t *testing.T) {
	for in, want := range map[string]string{
		"plain":           `"plain"`,
		"q\"b\\s/":        `"q\"b\\s/"`,
		"\b\t\n\f\r":      `"\b\t\n\f\r"`,
		"\x00\x01\x1f":    `"\u0000\u0001\u001f"`,
		"\x7f":            "\"\x7f\"",
		"\u2028\u2029<&>": "\"\u2028\u2029<&>\"",
		"НАТО €𝄞":         `"НАТО €𝄞"`,
	} {
		var b bytes.Buffer
		writeJCSString(&b, in)
		if b.String() != want {
			t.Errorf("writeJCSString(%q) = %s, want %s", in, b.String(), want)
		}
	}
	// Member names sort by UTF-16 code units: U+FF61 before U+1F600 (a
	// surrogate pair starting 0xD83D), unlike UTF-8 byte order.
	keys := []string{"\U0001F600", "\uFF61", "a", "B"}
	slices.SortFunc(keys, compareUTF16)
	if strings.Join(keys, " ") != "B a \U0001F600 \uFF61" {
		t.Errorf("UTF-16 order = %q", keys)
	}
}

func TestParseCanonicalRejects(t *testing.T) {
	c := mustParse(t, testTOML()).Canonical()
	for name, b := range map[string][]byte{
		"trailing newline": append(slices.Clone(c), '\n'),
		"leading space":    append([]byte(" "), c...),
		"reordered":        bytes.Replace(c, []byte(`{"clock_tolerance":30000,"heartbeat":10000,`), []byte(`{"heartbeat":10000,"clock_tolerance":30000,`), 1),
		"spaced":           bytes.Replace(c, []byte(`"heartbeat":10000`), []byte(`"heartbeat": 10000`), 1),
		"unknown field":    bytes.Replace(c, []byte(`{"clock_tolerance"`), []byte(`{"colour":1,"clock_tolerance"`), 1),
		"escaped letter":   bytes.Replace(c, []byte(`"Test regime"`), []byte(`"Test r\u0065gime"`), 1),
		"float":            bytes.Replace(c, []byte(`"heartbeat":10000`), []byte(`"heartbeat":10000.0`), 1),
		"not JSON":         []byte("id = 1"),
	} {
		if _, err := ParseCanonical(b); !errors.Is(err, ErrSyntax) {
			t.Errorf("%s: error %v, want ErrSyntax", name, err)
		}
	}
	invalid := bytes.Replace(c, []byte(`"heartbeat":10000`), []byte(`"heartbeat":0`), 1)
	if _, err := ParseCanonical(invalid); !errors.Is(err, ErrUnsafe) {
		t.Errorf("zero heartbeat: %v, want ErrUnsafe", err)
	}
}
