package cosign_test

import (
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tillit/tillit/cosign"
	"github.com/tillit/tillit/tlog"
	"golang.org/x/mod/sumdb/note"
)

// torchwoodVectors are cosignatures made by an independent implementation,
// filippo.io/torchwood v0.6.1 (CosignatureSigner, with note.Sign), in a
// throwaway module outside this repository so that torchwood stays out of
// go.mod. testdata/torchwood-gen.txtar is the program that made them: the
// seed of vector N is SHA-256("seed N") and the clock was pinned with
// testing/synctest. Ed25519 is deterministic, so our Signer, given the same
// seed and time, must produce the same bytes.
type torchwoodVector struct {
	Comment   string `json:"comment"`
	Name      string `json:"name"`
	Seed      string `json:"seed"`
	VKey      string `json:"vkey"`
	Text      string `json:"checkpoint"`
	Line      string `json:"signature_line"`
	Timestamp int64  `json:"timestamp"`
}

func loadTorchwoodVectors(t testing.TB) []torchwoodVector {
	t.Helper()
	b, err := os.ReadFile("testdata/torchwood-vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct{ Vectors []torchwoodVector }
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Vectors) == 0 {
		t.Fatal("no vectors")
	}
	return f.Vectors
}

func TestTorchwoodVectors(t *testing.T) {
	for _, tv := range loadTorchwoodVectors(t) {
		t.Run(tv.Comment, func(t *testing.T) {
			// Our verifier accepts torchwood's key and cosignature.
			v, err := cosign.NewVerifier(tv.VKey)
			if err != nil {
				t.Fatalf("NewVerifier(%q): %v", tv.VKey, err)
			}
			if v.String() != tv.VKey {
				t.Errorf("String() = %q, want %q", v.String(), tv.VKey)
			}
			msg := []byte(tv.Text + "\n" + tv.Line + "\n")
			n, err := note.Open(msg, note.VerifierList(v))
			if err != nil {
				t.Fatalf("note.Open: %v", err)
			}
			ts, err := cosign.Timestamp(n.Sigs[0])
			if err != nil || ts.Unix() != tv.Timestamp {
				t.Errorf("Timestamp = %v, %v; want %d", ts, err, tv.Timestamp)
			}
			sig, err := cosign.ParseLine(tv.Line)
			if err != nil {
				t.Fatalf("ParseLine: %v", err)
			}
			if ts, err := cosign.VerifyCosignature(tv.Text, sig, v); err != nil || ts.Unix() != tv.Timestamp {
				t.Errorf("VerifyCosignature = %v, %v", ts, err)
			}

			// Our signer, with the same seed and clock, makes the same bytes.
			seed, err := hex.DecodeString(tv.Seed)
			if err != nil {
				t.Fatal(err)
			}
			s, err := cosign.NewSigner(tv.Name, ed25519.NewKeyFromSeed(seed), fixedClock(tv.Timestamp))
			if err != nil {
				t.Fatal(err)
			}
			if got := s.Verifier().String(); got != tv.VKey {
				t.Errorf("our vkey %q, torchwood's %q", got, tv.VKey)
			}
			if got := sign(t, tv.Text, s); string(got) != string(msg) {
				t.Errorf("note.Sign with our Signer:\n%s\ntorchwood:\n%s", got, msg)
			}
			got, gotTime, err := s.Cosign(tv.Text)
			if err != nil || cosign.FormatLine(got) != tv.Line || gotTime.Unix() != tv.Timestamp {
				t.Errorf("Cosign = %q, %v, %v; want %q", cosign.FormatLine(got), gotTime, err, tv.Line)
			}
		})
	}
}

// specCheckpoint is the example of c2sp.org/tlog-cosignature, with its log
// signature and the cosignature of witness.example.com/w1, whose public key
// the spec doesn't give.
const specCheckpoint = `example.com/behind-the-sofa
20852163
CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=

— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=
— witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==
`

func TestSpecExample(t *testing.T) {
	sig := lastSig(t, []byte(specCheckpoint))
	if sig.Name != "witness.example.com/w1" || sig.Hash != 0x8d66cf3f {
		t.Fatalf("ParseLine = %+v", sig)
	}
	ts, err := cosign.Timestamp(sig)
	if err != nil || ts.Unix() != 1679315147 || ts.Location() != time.UTC {
		t.Fatalf("Timestamp = %v, %v; want 1679315147 (the spec's time line) in UTC", ts, err)
	}
	// The log's own signature (type 0x01, 64 bytes) is no cosignature.
	lines := strings.Split(specCheckpoint, "\n")
	logSig, err := cosign.ParseLine(lines[4])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cosign.Timestamp(logSig); !errors.Is(err, cosign.ErrMalformedCosignature) {
		t.Errorf("Timestamp(log signature) error %v, want ErrMalformedCosignature", err)
	}
}

// TestSpecWitnessResponse parses the example response of c2sp.org/tlog-witness,
// "add-checkpoint". Its signatures are 76 random bytes: their "timestamps"
// are all beyond the range a cosignature may have.
func TestSpecWitnessResponse(t *testing.T) {
	body := `— witness.example/w1 CMp+6LWBU0anHGH5aNDTJkH/gj79sG+T6+iP2ThYN5krrDJbR1HDnucjL39QsZTSvVjyQLrdk3DXDqI5G2HgLatVs0pWh6Up69HVOw==
— witness.example/w1 I7rEps0pvK2UqkS2gSpVUDhrhVtQV9lgF6pRrWAvjJHjyWpW7VcE3SiOlVlbQNt64vWhO+DlkL0+UfzuOBMh9ChdMkP1vi/lCAsmlw==
— witness.example/w2 AWui8Sk55XjYLOijihBjhqEH6nS1ndDymE0a+6idX7pLcnoB+dhnz0854aLZgrrKbYKA7nC3HNJhm/kWl7oJlqU3rXXvpysAdyP3wQ==
`
	sigs, err := cosign.ParseLines([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		name string
		id   uint32
	}{{"witness.example/w1", 0x08ca7ee8}, {"witness.example/w1", 0x23bac4a6}, {"witness.example/w2", 0x016ba2f1}}
	if len(sigs) != len(want) {
		t.Fatalf("%d signatures, want %d", len(sigs), len(want))
	}
	for i, s := range sigs {
		if s.Name != want[i].name || s.Hash != want[i].id {
			t.Errorf("signature %d = %s/%08x, want %s/%08x", i, s.Name, s.Hash, want[i].name, want[i].id)
		}
		if _, err := cosign.Timestamp(s); !errors.Is(err, cosign.ErrMalformedCosignature) {
			t.Errorf("Timestamp(signature %d) error %v, want ErrMalformedCosignature", i, err)
		}
	}
	if got := cosign.FormatLines(sigs...); string(got) != body {
		t.Errorf("FormatLines = %q, want the body back", got)
	}
}

// TestSignedNoteSpecKey checks that the Ed25519 (0x01) vkey of the example
// of c2sp.org/signed-note, "Verifier keys", is refused as a cosigner key.
func TestSignedNoteSpecKey(t *testing.T) {
	_, err := cosign.NewVerifier("example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k")
	if !errors.Is(err, cosign.ErrMalformedKey) || !strings.Contains(err.Error(), "0x01") {
		t.Fatalf("NewVerifier(0x01 key) error %v, want ErrMalformedKey about type 0x01", err)
	}
}

const (
	goodVKey = "witness.example.com/w1+1ab28454+BFRMroU845vhmL/ENdfnHq2SFKJlGsDZdMuTwT6zPX7p"
	goodSKey = "PRIVATE+KEY+witness.example.com/w1+1ab28454+BKJcpzxxieKiylrPIIi1fig9TNRa73VJGFwsOyikvvHe"
)

// vkeyTests are verifier keys; NewVerifier must accept exactly the ok ones.
var vkeyTests = []struct {
	name string
	vkey string
	ok   bool
}{
	{"torchwood vector", goodVKey, true},
	{"wrong key ID", "witness.example.com/w1+1ab28455+BFRMroU845vhmL/ENdfnHq2SFKJlGsDZdMuTwT6zPX7p", false},
	{"key ID of another name", "witness.example.com/w2+1ab28454+BFRMroU845vhmL/ENdfnHq2SFKJlGsDZdMuTwT6zPX7p", false},
	{"uppercase key ID", "witness.example/w2+40C3D37F+BPOcRKi+2Uk7LjbLDQu0tCcoMpjol73T+XyJZiEIJyHy", false},
	{"short key ID", "witness.example.com/w1+1ab2845+BFRMroU845vhmL/ENdfnHq2SFKJlGsDZdMuTwT6zPX7p", false},
	{"key ID with sign", "witness.example.com/w1+-ab28454+BFRMroU845vhmL/ENdfnHq2SFKJlGsDZdMuTwT6zPX7p", false},
	{"type 0x01 (log key)", "witness.example.com/w1+1ab28454+AVRMroU845vhmL/ENdfnHq2SFKJlGsDZdMuTwT6zPX7p", false},
	{"type 0x06 (ML-DSA-44)", "witness.example.com/w1+1ab28454+BlRMroU845vhmL/ENdfnHq2SFKJlGsDZdMuTwT6zPX7p", false},
	{"key 31 bytes", "witness.example.com/w1+1ab28454+BFRMroU845vhmL/ENdfnHq2SFKJlGsDZdMuTwT6zPX4=", false},
	{"key 33 bytes", "witness.example.com/w1+1ab28454+BFRMroU845vhmL/ENdfnHq2SFKJlGsDZdMuTwT6zPX7pAA==", false},
	{"type byte only", "witness.example.com/w1+1ab28454+BA==", false},
	{"empty key", "witness.example.com/w1+1ab28454+", false},
	{"non-canonical base64", "witness.example.com/w1+1ab28454+BFRMroU845vhmL/ENdfnHq2SFKJlGsDZdMuTwT6zPX7q", false},
	{"base64 without padding", "witness.example/w2+40c3d37f+BPOcRKi+2Uk7LjbLDQu0tCcoMpjol73T+XyJZiEIJyHy=", false},
	{"empty name", "+1ab28454+BFRMroU845vhmL/ENdfnHq2SFKJlGsDZdMuTwT6zPX7p", false},
	{"name with space", "witness example+1ab28454+BFRMroU845vhmL/ENdfnHq2SFKJlGsDZdMuTwT6zPX7p", false},
	{"name with control character", "witness\x01+1ab28454+BFRMroU845vhmL/ENdfnHq2SFKJlGsDZdMuTwT6zPX7p", false},
	{"two parts", "witness.example.com/w1+1ab28454", false},
	{"trailing newline", goodVKey + "\n", false},
	{"empty", "", false},
	{"private key", goodSKey, false},
}

func TestNewVerifier(t *testing.T) {
	for _, tt := range vkeyTests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := cosign.NewVerifier(tt.vkey)
			if !tt.ok {
				if err == nil || !errors.Is(err, cosign.ErrMalformedKey) {
					t.Fatalf("NewVerifier(%q) = %v, %v; want ErrMalformedKey", tt.vkey, v, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("NewVerifier(%q): %v", tt.vkey, err)
			}
			if v.String() != tt.vkey {
				t.Fatalf("String() = %q", v.String())
			}
		})
	}
}

// skeyTests are private keys; ParsePrivateKey must accept exactly the ok ones.
var skeyTests = []struct {
	name string
	skey string
	ok   bool
}{
	{"seed 1", goodSKey, true},
	{"wrong key ID", "PRIVATE+KEY+witness.example.com/w1+1ab28455+BKJcpzxxieKiylrPIIi1fig9TNRa73VJGFwsOyikvvHe", false},
	{"uppercase key ID", "PRIVATE+KEY+witness.example.com/w1+1AB28454+BKJcpzxxieKiylrPIIi1fig9TNRa73VJGFwsOyikvvHe", false},
	{"type 0x01 (signed-note Ed25519 key)", "PRIVATE+KEY+witness.example.com/w1+1ab28454+AaJcpzxxieKiylrPIIi1fig9TNRa73VJGFwsOyikvvHe", false},
	{"seed 31 bytes", "PRIVATE+KEY+witness.example.com/w1+1ab28454+BKJcpzxxieKiylrPIIi1fig9TNRa73VJGFwsOyikvvE=", false},
	{"seed 64 bytes", "PRIVATE+KEY+witness.example.com/w1+1ab28454+BKJcpzxxieKiylrPIIi1fig9TNRa73VJGFwsOyikvvHeolynPHGJ4qLKWs8giLV+KD1M1FrvdUkYXCw7KKS+8d4=", false},
	{"non-canonical base64", "PRIVATE+KEY+witness.example.com/w1+1ab28454+BKJcpzxxieKiylrPIIi1fig9TNRa73VJGFwsOyikvvHf", false},
	{"no prefix", "witness.example.com/w1+1ab28454+BKJcpzxxieKiylrPIIi1fig9TNRa73VJGFwsOyikvvHe", false},
	{"lowercase prefix", "private+key+witness.example.com/w1+1ab28454+BKJcpzxxieKiylrPIIi1fig9TNRa73VJGFwsOyikvvHe", false},
	{"verifier key", goodVKey, false},
	{"empty", "", false},
}

func TestParsePrivateKey(t *testing.T) {
	for _, tt := range skeyTests {
		t.Run(tt.name, func(t *testing.T) {
			name, key, err := cosign.ParsePrivateKey(tt.skey)
			if !tt.ok {
				if !errors.Is(err, cosign.ErrMalformedKey) {
					t.Fatalf("ParsePrivateKey(%q) error %v, want ErrMalformedKey", tt.skey, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParsePrivateKey(%q): %v", tt.skey, err)
			}
			if s, err := cosign.MarshalPrivateKey(name, key); err != nil || s != tt.skey {
				t.Fatalf("MarshalPrivateKey = %q, %v", s, err)
			}
			s, err := cosign.NewSignerFromKey(tt.skey, nil)
			if err != nil {
				t.Fatal(err)
			}
			if s.Verifier().String() != goodVKey {
				t.Fatalf("verifier %q, want %q", s.Verifier(), goodVKey)
			}
		})
	}
	// x/mod's note.NewSigner must not take a cosigner key for a log key.
	if _, err := note.NewSigner(goodSKey); err == nil {
		t.Error("note.NewSigner accepted a cosigner private key")
	}
}

func TestGenerateKey(t *testing.T) {
	skey, vkey, err := cosign.GenerateKey("party-b.example/witness")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(skey, "PRIVATE+KEY+party-b.example/witness+") {
		t.Errorf("skey %q", skey)
	}
	s, err := cosign.NewSignerFromKey(skey, fixedClock(testTime))
	if err != nil {
		t.Fatal(err)
	}
	v, err := cosign.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	if s.Verifier().String() != vkey || s.KeyHash() != v.KeyHash() || s.Name() != v.Name() {
		t.Fatalf("signer %s, verifier %s", s.Verifier(), vkey)
	}
	text := checkpointText("party-a.example/log", 3, "gen")
	if _, err := note.Open(sign(t, text, s), note.VerifierList(v)); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"", "a b", "a+b", "a\tb", "a\u00a0b", "a\x00b", "\xff"} {
		if _, _, err := cosign.GenerateKey(name); !errors.Is(err, cosign.ErrMalformedKey) {
			t.Errorf("GenerateKey(%q) error %v, want ErrMalformedKey", name, err)
		}
	}
}

func TestNewSignerRefuses(t *testing.T) {
	k := testKey("refuse")
	bad := append(ed25519.PrivateKey(nil), k...)
	bad[40] ^= 1 // public half no longer matches the seed
	for _, tt := range []struct {
		name string
		key  ed25519.PrivateKey
	}{
		{"", k},
		{"a b", k},
		{"ok", k[:32]},
		{"ok", nil},
		{"ok", bad},
	} {
		if _, err := cosign.NewSigner(tt.name, tt.key, nil); !errors.Is(err, cosign.ErrMalformedKey) {
			t.Errorf("NewSigner(%q, %d-byte key) error %v, want ErrMalformedKey", tt.name, len(tt.key), err)
		}
	}
}

func TestSignerRefuses(t *testing.T) {
	text := checkpointText("example.com/log", 5, "refuse")
	for _, tt := range []struct {
		name string
		now  time.Time
		text string
	}{
		{"not a checkpoint", time.Unix(testTime, 0), "hello\n"},
		{"non-canonical checkpoint", time.Unix(testTime, 0), strings.Replace(text, "\n5\n", "\n05\n", 1)},
		{"clock at the epoch", time.Unix(0, 0), text},
		{"clock before the epoch", time.Unix(-5, 0), text},
		{"clock past year 9999", time.Unix(cosign.MaxTimestamp+1, 0), text},
		{"zero time", time.Time{}, text},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, err := cosign.NewSigner("w", testKey("w"), func() time.Time { return tt.now })
			if err != nil {
				t.Fatal(err)
			}
			if sig, err := s.Sign([]byte(tt.text)); err == nil {
				t.Fatalf("Sign = %x, want error", sig)
			}
			if _, _, err := s.Cosign(tt.text); err == nil {
				t.Fatal("Cosign succeeded")
			}
		})
	}
	// The edges of the clock range are fine, and sub-second clocks truncate.
	for _, now := range []time.Time{time.Unix(1, 0), time.Unix(cosign.MaxTimestamp, 999999999)} {
		s, _ := cosign.NewSigner("w", testKey("w"), func() time.Time { return now })
		if _, ts, err := s.Cosign(text); err != nil || ts.Unix() != now.Unix() {
			t.Errorf("Cosign at %v = %v, %v", now, ts, err)
		}
	}
}

// TestMalformedCosignatures feeds Timestamp and VerifyCosignature signatures
// that are not cosignatures by the witness.
func TestMalformedCosignatures(t *testing.T) {
	w := witness(t, "witness.example/w1")
	v := w.Verifier()
	text := checkpointText("example.com/log", 10, "malformed")
	good := lastSig(t, sign(t, text, w))
	key := testKey("witness witness.example/w1")
	id := v.KeyHash()
	sig64 := make([]byte, 64)

	tests := []struct {
		name      string
		sig       note.Signature
		malformed bool // Timestamp fails too, not only VerifyCosignature
	}{
		{"wrong key ID", rawSig(v.Name(), id^1, testTime, sig64), false},
		{"key ID of line differs from bytes", note.Signature{Name: v.Name(), Hash: id ^ 1, Base64: good.Base64}, true},
		{"other name", note.Signature{Name: "witness.example/w2", Hash: id, Base64: good.Base64}, false},
		{"timestamp 0", rawSig(v.Name(), id, 0, sig64), true},
		{"timestamp 0 validly signed", resign(t, text, v.Name(), key, 0), true},
		{"timestamp 2^63", rawSig(v.Name(), id, 1<<63, sig64), true},
		{"timestamp 2^64-1", rawSig(v.Name(), id, math.MaxUint64, sig64), true},
		{"timestamp 2^63-1 validly signed", resign(t, text, v.Name(), key, 1<<63-1), true},
		{"timestamp year 10000 validly signed", resign(t, text, v.Name(), key, cosign.MaxTimestamp+1), true},
		{"signature 63 bytes", rawSig(v.Name(), id, testTime, sig64[:63]), true},
		{"signature 65 bytes", rawSig(v.Name(), id, testTime, append(sig64, 0)), true},
		{"no timestamp (plain Ed25519 signature)", rawSig(v.Name(), id, 0, nil), true},
		{"not base64", note.Signature{Name: v.Name(), Hash: id, Base64: "!!!!"}, true},
		{"empty", note.Signature{Name: v.Name(), Hash: id}, true},
		{"zero signature", rawSig(v.Name(), id, testTime, sig64), false},
		{"timestamp changed", rawSig(v.Name(), id, testTime+1, decodeSig(t, good)[12:]), false},
		{"signed for another text", lastSig(t, sign(t, checkpointText("example.com/log", 11, "malformed"), w)), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := cosign.Timestamp(tt.sig)
			if tt.malformed != (err != nil) {
				t.Errorf("Timestamp error %v, want malformed=%v", err, tt.malformed)
			}
			if err != nil && !errors.Is(err, cosign.ErrMalformedCosignature) {
				t.Errorf("Timestamp error %v does not wrap ErrMalformedCosignature", err)
			}
			_, err = cosign.VerifyCosignature(text, tt.sig, v)
			if !errors.Is(err, cosign.ErrMalformedCosignature) && !errors.Is(err, cosign.ErrInvalidCosignature) {
				t.Errorf("VerifyCosignature error %v, want ErrMalformedCosignature or ErrInvalidCosignature", err)
			}
			// note.Open with the Verifier refuses it as well.
			b := decodeSig(t, tt.sig)
			if len(b) >= 4 {
				if v.Verify([]byte(text), b[4:]) && tt.sig.Name == v.Name() && tt.sig.Hash == id {
					t.Errorf("Verify accepted it")
				}
			}
		})
	}
	if ts, err := cosign.VerifyCosignature(text, good, v); err != nil || ts.Unix() != testTime {
		t.Fatalf("VerifyCosignature(good) = %v, %v", ts, err)
	}
}

// lineTests are signature lines; ParseLine must accept exactly the ok ones.
var lineTests = []struct {
	name string
	line string
	ok   bool
}{
	{"spec cosignature", "— witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==", true},
	{"spec log signature", "— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=", true},
	{"five bytes", "— a AAAAAAA=", true},
	{"four bytes", "— a AAAAAA==", false},
	{"hyphen instead of em dash", "- a AAAAAAA=", false},
	{"no space after dash", "—a AAAAAAA=", false},
	{"two spaces", "— a  AAAAAAA=", false},
	{"trailing space", "— a AAAAAAA= ", false},
	{"trailing newline", "— a AAAAAAA=\n", false},
	{"no signature", "— a", false},
	{"empty signature", "— a ", false},
	{"empty name", "—  AAAAAAA=", false},
	{"name with plus", "— a+b AAAAAAA=", false},
	{"name with no-break space", "— a\u00a0b AAAAAAA=", false},
	{"name not UTF-8", "— \xff AAAAAAA=", false},
	{"non-canonical padding bits", "— a AAAAAAB=", false},
	{"missing padding", "— a AAAAAAA", false},
	{"URL-safe base64", "— a ____AAA=", false},
	{"empty", "", false},
}

func TestParseLine(t *testing.T) {
	for _, tt := range lineTests {
		t.Run(tt.name, func(t *testing.T) {
			sig, err := cosign.ParseLine(tt.line)
			if !tt.ok {
				if !errors.Is(err, cosign.ErrMalformedCosignature) {
					t.Fatalf("ParseLine(%q) = %+v, %v; want ErrMalformedCosignature", tt.line, sig, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseLine(%q): %v", tt.line, err)
			}
			if l := cosign.FormatLine(sig); l != tt.line {
				t.Fatalf("FormatLine = %q", l)
			}
		})
	}
}

func TestParseLines(t *testing.T) {
	line := lineTests[0].line
	for _, tt := range []struct {
		name string
		body string
		n    int // -1: error
	}{
		{"one", line + "\n", 1},
		{"two", line + "\n" + lineTests[1].line + "\n", 2},
		{"empty", "", -1},
		{"no final newline", line, -1},
		{"blank line", line + "\n\n", -1},
		{"CRLF", line + "\r\n", -1},
		{"too many", strings.Repeat(line+"\n", cosign.MaxResponseLines+1), -1},
		{"as many as allowed", strings.Repeat(line+"\n", cosign.MaxResponseLines), cosign.MaxResponseLines},
	} {
		sigs, err := cosign.ParseLines([]byte(tt.body))
		if tt.n < 0 {
			if !errors.Is(err, cosign.ErrMalformedCosignature) {
				t.Errorf("%s: ParseLines error %v, want ErrMalformedCosignature", tt.name, err)
			}
			continue
		}
		if err != nil || len(sigs) != tt.n {
			t.Errorf("%s: ParseLines = %d signatures, %v; want %d", tt.name, len(sigs), err, tt.n)
		}
	}
}

func decodeSig(t testing.TB, s note.Signature) []byte {
	t.Helper()
	b, _ := base64Decode(s.Base64)
	return b
}

// TestSignVerifyProperty signs random checkpoints at random times and checks
// that they verify, that the timestamp comes back, and that changing any
// byte of the body, the timestamp or the signature breaks verification.
func TestSignVerifyProperty(t *testing.T) {
	r := newRand(1)
	iters := 300
	if testing.Short() {
		iters = 50
	}
	for i := range iters {
		c := randomCheckpoint(r)
		text := c.String()
		ts := 1 + r.Int64N(cosign.MaxTimestamp)
		if i%10 == 0 {
			ts = []int64{1, cosign.MaxTimestamp, testTime}[i/10%3]
		}
		name := randomName(r)
		s, err := cosign.NewSigner(name, testKey(name), fixedClock(ts))
		if err != nil {
			t.Fatal(err)
		}
		v := s.Verifier()
		msg := sign(t, text, s)
		n, err := note.Open(msg, note.VerifierList(v))
		if err != nil {
			t.Fatalf("note.Open(%q): %v", msg, err)
		}
		got, err := cosign.VerifyCosignature(text, n.Sigs[0], v)
		if err != nil || got.Unix() != ts {
			t.Fatalf("VerifyCosignature = %v, %v; want %d", got, err, ts)
		}
		raw := decodeSig(t, n.Sigs[0])[4:]

		// Tampered body: flip one bit of one byte. The result is either no
		// longer a canonical checkpoint or a different one.
		body := []byte(text)
		j := r.IntN(len(body))
		body[j] ^= 1 << r.IntN(7)
		if v.Verify(body, raw) {
			t.Fatalf("Verify accepted %q for %q", body, text)
		}
		// Tampered timestamp, signature byte, or truncated signature.
		for _, k := range []int{r.IntN(8), 8 + r.IntN(64)} {
			bad := append([]byte(nil), raw...)
			bad[k] ^= 1 << r.IntN(8)
			if v.Verify([]byte(text), bad) {
				t.Fatalf("Verify accepted a signature with byte %d changed", k)
			}
		}
		if v.Verify([]byte(text), raw[:len(raw)-1]) {
			t.Fatal("Verify accepted a truncated signature")
		}
		// Another key with the same name.
		other, _ := cosign.NewSigner(name, testKey(name+"'"), fixedClock(ts))
		if other.Verifier().Verify([]byte(text), raw) {
			t.Fatal("another key verified the signature")
		}
	}
}

// randomCheckpoint returns a random canonical checkpoint.
func randomCheckpoint(r interface {
	IntN(int) int
	Int64N(int64) int64
}) tlog.Checkpoint {
	var c tlog.Checkpoint
	c.Origin = randomName(r)
	c.Tree.N = r.Int64N(math.MaxInt64)
	if r.IntN(4) == 0 {
		c.Tree.N = int64(r.IntN(3))
	}
	for k := range c.Tree.Hash {
		c.Tree.Hash[k] = byte(r.IntN(256))
	}
	for range r.IntN(3) {
		c.Extensions = append(c.Extensions, "ext "+randomName(r))
	}
	return c
}

// randomName returns a random valid key name, sometimes not ASCII.
func randomName(r interface{ IntN(int) int }) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789./-_:éü世"
	runes := []rune(alphabet)
	var b strings.Builder
	for range 1 + r.IntN(20) {
		b.WriteRune(runes[r.IntN(len(runes))])
	}
	return b.String()
}
