package regime

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// signAll signs r (amending prev, or nil) with the given parties' keys of
// generation gen.
func signAll(t *testing.T, r, prev *Regime, sigs *Signatures, gen int, parties ...string) *Signatures {
	t.Helper()
	for _, p := range parties {
		var err error
		if sigs, _, err = r.Sign(prev, sigs, testSigner(t, r.ID, p, gen)); err != nil {
			t.Fatalf("%s signs: %v", p, err)
		}
	}
	return sigs
}

func TestSignVerify(t *testing.T) {
	r := mustParse(t, testTOML())
	st, err := r.Verify(nil)
	if !errors.Is(err, ErrNotInForce) || st.InForce() {
		t.Fatalf("unsigned regime: %v", err)
	}
	if want := "no regime signatures from A, B and O; run `tillit regime sign` on their nodes"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q, want %q", err, want)
	}

	sigs := signAll(t, r, nil, nil, 0, "A", "B")
	st, err = r.Verify(sigs)
	if want := "no regime signature from O; run `tillit regime sign` on O's node"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("error %v, want %q", err, want)
	}
	if strings.Join(st.Missing, ",") != "O" || !st.Signatories[0].Signed || st.Signatories[2].Signed {
		t.Errorf("status = %+v", st)
	}

	// Signing again changes nothing.
	again, added, err := r.Sign(nil, sigs, testSigner(t, testID, "A", 0))
	if err != nil || added || !bytes.Equal(again.Bytes(), sigs.Bytes()) {
		t.Errorf("second signature by A: added %v, err %v", added, err)
	}

	sigs = signAll(t, r, nil, sigs, 0, "O")
	if st, err = r.Verify(sigs); err != nil || !st.InForce() || st.Hash != r.Hash() {
		t.Fatalf("fully signed: %v", err)
	}

	// The file round-trips, and the order of signing does not matter.
	parsed, err := ParseSignatures(sigs.Bytes())
	if err != nil || !bytes.Equal(parsed.Bytes(), sigs.Bytes()) || parsed.Len() != 3 {
		t.Fatalf("ParseSignatures(Bytes()) = %v, %v", parsed, err)
	}
	other := signAll(t, r, nil, nil, 0, "O", "B", "A")
	if !bytes.Equal(other.Bytes(), sigs.Bytes()) {
		t.Errorf("signature files differ with the order of signing:\n%s\n%s", other.Bytes(), sigs.Bytes())
	}
	if !strings.HasPrefix(string(sigs.Bytes()), r.SignedText()+"\n— test-regime/A ") {
		t.Errorf("signature file:\n%s", sigs.Bytes())
	}
}

func TestSignErrors(t *testing.T) {
	r := mustParse(t, testTOML())
	sigs := signAll(t, r, nil, nil, 0, "A")

	_, _, err := r.Sign(nil, sigs, testSigner(t, testID, "B", 1))
	if !errors.Is(err, ErrNotSignatory) || !strings.Contains(err.Error(), "is not B's log key") {
		t.Errorf("B's wrong key: %v", err)
	}
	_, _, err = r.Sign(nil, sigs, testSigner(t, testID, "C", 0))
	if !errors.Is(err, ErrNotSignatory) || !strings.Contains(err.Error(), "not the log key of any party that signs test-regime version 1 (A, B, O)") {
		t.Errorf("outsider: %v", err)
	}

	// A changed regime does not take the old signatures.
	changed := mustParse(t, strings.Replace(testTOML(), "Test regime", "Changed regime", 1))
	for _, f := range []func() error{
		func() error { _, err := changed.Verify(sigs); return err },
		func() error { _, _, err := changed.Sign(nil, sigs, testSigner(t, testID, "B", 0)); return err },
	} {
		if err := f(); !errors.Is(err, ErrBadSignature) || !strings.Contains(err.Error(), "changed after it was signed") {
			t.Errorf("changed regime: %v", err)
		}
	}

	// A forged signature by a party's key is refused, not ignored.
	b := string(sigs.Bytes())
	fs, err := ParseSignatures([]byte(flipBase64(b, strings.LastIndexByte(b[:len(b)-1], ' ')+10)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Verify(fs); !errors.Is(err, ErrBadSignature) || !strings.Contains(err.Error(), "does not verify") {
		t.Errorf("forged signature: %v", err)
	}
	if _, _, err := r.Sign(nil, fs, testSigner(t, testID, "B", 0)); !errors.Is(err, ErrBadSignature) {
		t.Errorf("signing next to a forged signature: %v", err)
	}
}

func TestSignaturesOfOutsiders(t *testing.T) {
	// Signatures by keys the regime does not know are kept and ignored
	// (c2sp.org/signed-note), so that one file can hold the signatures of
	// two versions' keys.
	r := mustParse(t, testTOML())
	sigs := signAll(t, r, nil, nil, 0, "A")
	text := strings.Replace(string(sigs.Bytes()), "\n\n", "\n\n— example.com/other AAAAAQIDBAUG\n", 1)
	parsed, err := ParseSignatures([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	st, err := r.Verify(parsed)
	if !errors.Is(err, ErrNotInForce) || strings.Join(st.Missing, ",") != "B,O" {
		t.Errorf("Verify = %+v, %v", st, err)
	}
	out := signAll(t, r, nil, parsed, 0, "B", "O")
	if !strings.Contains(string(out.Bytes()), "— example.com/other AAAAAQIDBAUG\n") || out.Len() != 4 {
		t.Errorf("unknown signature dropped:\n%s", out.Bytes())
	}
}

func TestParseSignaturesErrors(t *testing.T) {
	r := mustParse(t, testTOML())
	good := string(signAll(t, r, nil, nil, 0, "A", "B").Bytes())
	sigA := good[strings.Index(good, "— test-regime/A"):strings.Index(good, "— test-regime/B")]
	for name, text := range map[string]string{
		"empty":            "",
		"no signatures":    r.SignedText(),
		"no blank line":    strings.Replace(good, "\n\n", "\n", 1),
		"wrong header":     strings.Replace(good, "tillit regime v1", "tillit regime v2", 1),
		"extra line":       strings.Replace(good, "\n\n", "\nextra\n\n", 1),
		"bad hash":         strings.Replace(good, r.Hash().String(), "abc", 1),
		"bad id":           strings.Replace(good, "test-regime\n", "test regime\n", 1),
		"control char":     strings.Replace(good, "test-regime\n", "test-regime\r\n", 1),
		"malformed line":   good + "— test-regime/A\n",
		"two sigs one key": good + flipBase64(sigA, len(sigA)-6),
		"too large":        good + strings.Repeat("— x/y AAAAAQIDBAUG\n", MaxSignaturesSize/19),
	} {
		if _, err := ParseSignatures([]byte(text)); !errors.Is(err, ErrBadSignature) {
			t.Errorf("%s: error %v, want ErrBadSignature", name, err)
		}
	}
}

// flipBase64 replaces the base64 character at s[i] with another one.
func flipBase64(s string, i int) string {
	c := byte('A')
	if s[i] == 'A' {
		c = 'B'
	}
	return s[:i] + string(c) + s[i+1:]
}

// amendTOML returns version 2 of the test regime: A's key rotated, B kept,
// the observer O removed and a party C added.
func amendTOML(prev *Regime) string {
	return fmt.Sprintf("id = %q\ntitle = \"Test regime\"\nversion = 2\nprevious = %q\nclock_tolerance = \"30s\"\nheartbeat = \"10s\"\n",
		testID, prev.Hash()) +
		testParty(testID, "A", "party", 1) + testParty(testID, "B", "party", 0) + testParty(testID, "C", "party", 0) + testTypes
}

func TestAmendment(t *testing.T) {
	v1 := mustParse(t, testTOML())
	sigs1 := signAll(t, v1, nil, nil, 0, "A", "B", "O")
	v2 := mustParse(t, amendTOML(v1))

	signatories, err := v2.Signatories(v1)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range signatories {
		got = append(got, s.Party+": "+s.Why)
	}
	want := "A: party of version 1, new cosign key in version 2|B: party of version 1|O: party of version 1|A: new key in version 2|C: added in version 2"
	if strings.Join(got, "|") != want {
		t.Errorf("signatories = %q\nwant %q", strings.Join(got, "|"), want)
	}

	if _, err := v2.Verify(nil); !errors.Is(err, ErrAmendment) {
		t.Errorf("Verify of version 2 without version 1: %v", err)
	}
	// The previous keys of A, B and O sign; A's new key and C have not yet.
	sigs2 := signAll(t, v2, v1, nil, 0, "A", "B", "O")
	st, err := v2.VerifyAmendment(v1, sigs2)
	if !errors.Is(err, ErrNotInForce) || strings.Join(st.Missing, ",") != "A,C" ||
		!strings.Contains(err.Error(), "no regime signatures from A (new key in version 2) and C") {
		t.Fatalf("half-signed amendment: %+v, %v", st, err)
	}
	sigs2 = signAll(t, v2, v1, sigs2, 1, "A")
	sigs2 = signAll(t, v2, v1, sigs2, 0, "C")
	if st, err := v2.VerifyAmendment(v1, sigs2); err != nil || !st.InForce() {
		t.Fatalf("signed amendment: %v", err)
	}
	if st, err := VerifyChain([]*Regime{v1, v2}, []*Signatures{sigs1, sigs2}); err != nil || st.Version != 2 {
		t.Errorf("VerifyChain: %v", err)
	}

	// The old key of A cannot stand in for the new one, nor C's for O's.
	if _, _, err := v2.Sign(v1, nil, testSigner(t, testID, "A", 2)); !errors.Is(err, ErrNotSignatory) {
		t.Errorf("unknown key of A: %v", err)
	}
	// A chain with version 1 not in force fails at version 1.
	if _, err := VerifyChain([]*Regime{v1, v2}, []*Signatures{signAll(t, v1, nil, nil, 0, "A"), sigs2}); !errors.Is(err, ErrNotInForce) ||
		!strings.HasPrefix(err.Error(), "version 1: ") {
		t.Errorf("chain with unsigned version 1: %v", err)
	}
	if _, err := VerifyChain([]*Regime{v2}, []*Signatures{sigs2}); !errors.Is(err, ErrAmendment) {
		t.Errorf("chain starting at version 2: %v", err)
	}
	if _, err := VerifyChain(nil, nil); !errors.Is(err, ErrAmendment) {
		t.Errorf("empty chain: %v", err)
	}
}

// TestAmendmentCosignKey rotates only B's cosign key: a rotated key, which
// B consents to with its (unchanged) log key, as a party of version 1.
func TestAmendmentCosignKey(t *testing.T) {
	v1 := mustParse(t, testTOML())
	text := fmt.Sprintf("id = %q\ntitle = \"Test regime\"\nversion = 2\nprevious = %q\nclock_tolerance = \"30s\"\nheartbeat = \"10s\"\n",
		testID, v1.Hash()) + testParty(testID, "A", "party", 0) + testParty(testID, "B", "party", 0) + testParty(testID, "O", "observer", 0) + testTypes
	text = strings.Replace(text, testCosignVKey(testID, "B", 0), testCosignVKey(testID, "B", 1), 1)
	v2 := mustParse(t, text)
	if v2.Party("B").Cosigner().String() != testCosignVKey(testID, "B", 1) || v2.Party("B").LogKey != v1.Party("B").LogKey {
		t.Fatal("B's cosign key is not rotated alone")
	}
	signatories, err := v2.Signatories(v1)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range signatories {
		got = append(got, s.Party+": "+s.Why)
	}
	want := "A: party of version 1|B: party of version 1, new cosign key in version 2|O: party of version 1"
	if strings.Join(got, "|") != want {
		t.Errorf("signatories = %q\nwant %q", strings.Join(got, "|"), want)
	}
	st, err := v2.VerifyAmendment(v1, signAll(t, v2, v1, nil, 0, "A", "O"))
	if !errors.Is(err, ErrNotInForce) || strings.Join(st.Missing, ",") != "B" {
		t.Errorf("amendment without B: %+v, %v", st, err)
	}
	if st, err := v2.VerifyAmendment(v1, signAll(t, v2, v1, nil, 0, "A", "B", "O")); err != nil || !st.InForce() {
		t.Errorf("signed amendment: %v", err)
	}
	// The rotated cosign key is in force for receipts: B's new key counts
	// towards the finality of A's log, the old one does not.
	p, err := v2.ReceiptPolicy("A")
	if err != nil {
		t.Fatal(err)
	}
	if ws := p.Witnesses(); ws[0].Verifier.String() != testCosignVKey(testID, "B", 1) {
		t.Errorf("A's policy has B's cosign key %s", ws[0].Verifier)
	}
}

func TestCheckAmendment(t *testing.T) {
	v1 := mustParse(t, testTOML())
	v2 := mustParse(t, amendTOML(v1))
	other := mustParse(t, strings.Replace(testTOML(), "Test regime", "Other", 1))
	tests := []struct {
		name      string
		prev, r   *Regime
		wantError string
	}{
		{"valid", v1, v2, ""},
		{"wrong previous hash", other, v2, "names previous hash"},
		{"not the next version", v2, v2, "cannot amend version 2 (want version 3)"},
		{"other regime", mustParse(t, testTOMLFor("other-regime")), v2, "regime test-regime cannot amend regime other-regime"},
	}
	for _, tt := range tests {
		err := tt.r.CheckAmendment(tt.prev)
		if tt.wantError == "" {
			if err != nil {
				t.Errorf("%s: %v", tt.name, err)
			}
			continue
		}
		if !errors.Is(err, ErrAmendment) || !strings.Contains(err.Error(), tt.wantError) {
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.wantError)
		}
	}
}

func TestSidecarPath(t *testing.T) {
	for in, want := range map[string]string{
		"regime.toml":              "regime.sigs",
		"a/b/treaty-v2.toml":       "a/b/treaty-v2.sigs",
		"noext":                    "noext.sigs",
		"examples/x.y/regime.toml": "examples/x.y/regime.sigs",
	} {
		if got := SidecarPath(in); got != want {
			t.Errorf("SidecarPath(%q) = %q, want %q", in, got, want)
		}
	}
}
