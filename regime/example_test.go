package regime

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tillit/tillit/cosign"
	"github.com/tillit/tillit/statement"
	"golang.org/x/mod/sumdb/note"
)

var genExample = flag.Bool("genexample", false, "write the missing demo keys into "+exampleDir+"/demo-keys (then update regime.toml and re-sign)")

const exampleDir = "../examples/nato-russia-2022"

var exampleParties = []string{"NATO", "RU", "OSCE"}

// TestGenerateExampleKeys writes the missing demo keys of the example regime
// when run with -genexample: per party a signed-note log key (<party>.key,
// <party>.vkey), a tlog-cosignature receipt key (<party>.cosign.key,
// <party>.cosign.vkey) and an Ed25519 TLS key (<party>.tls.key as PKCS #8
// PEM, <party>.tls.pin as the regime's pin). A key whose files all exist is
// kept; delete them to replace it. They are public demo keys.
func TestGenerateExampleKeys(t *testing.T) {
	if !*genExample {
		t.Skip("run with -genexample to write the missing demo keys")
	}
	dir := filepath.Join(exampleDir, "demo-keys")
	for _, p := range exampleParties {
		name := "nato-russia-2022/" + p
		gens := []struct {
			priv, pub string
			gen       func() (priv, pub string, err error)
		}{
			{p + ".key", p + ".vkey", func() (string, string, error) { return note.GenerateKey(rand.Reader, name) }},
			{p + ".cosign.key", p + ".cosign.vkey", func() (string, string, error) { return cosign.GenerateKey(name) }},
			{p + ".tls.key", p + ".tls.pin", func() (string, string, error) {
				pub, priv, err := ed25519.GenerateKey(rand.Reader)
				if err != nil {
					return "", "", err
				}
				der, err := x509.MarshalPKCS8PrivateKey(priv)
				if err != nil {
					return "", "", err
				}
				return strings.TrimSpace(string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))),
					"ed25519:" + base64.StdEncoding.EncodeToString(pub), nil
			}},
		}
		for _, g := range gens {
			_, errPriv := os.Stat(filepath.Join(dir, g.priv))
			_, errPub := os.Stat(filepath.Join(dir, g.pub))
			switch {
			case errPriv == nil && errPub == nil:
				continue
			case errPriv == nil || errPub == nil:
				t.Fatalf("%s: only one of %s and %s exists; delete it to make a new key", p, g.priv, g.pub)
			}
			priv, pub, err := g.gen()
			if err != nil {
				t.Fatal(err)
			}
			for file, text := range map[string]string{g.priv: priv, g.pub: pub} {
				if err := os.WriteFile(filepath.Join(dir, file), []byte(text+"\n"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			t.Logf("%s: new %s: %s", p, g.pub, pub)
		}
	}
}

// TestExample checks the shipped example: it loads, its demo keys are the
// keys in the regime, and its signature file puts it in force.
func TestExample(t *testing.T) {
	r, err := Load(filepath.Join(exampleDir, "regime.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Parties) != 3 || r.Party("OSCE").Role != RoleObserver {
		t.Errorf("parties = %+v, want NATO, RU and the observer OSCE", r.Parties)
	}
	for _, name := range []string{"launch.notice", "exercise.notice", "deployment.change", "incident.report",
		"consultation.request", "consultation.reply", "message", "translation", "link.test", "ack"} {
		if r.Type(name) == nil {
			t.Errorf("example has no type %q", name)
		}
	}
	for _, p := range exampleParties {
		vkey := readDemo(t, p+".vkey")
		if got := r.Party(p).LogKey; got != vkey {
			t.Errorf("%s: log_key = %s, demo key %s", p, got, vkey)
		}
		if got := r.Party(p).CosignKey; got != readDemo(t, p+".cosign.vkey") {
			t.Errorf("%s: cosign_key = %s, demo key %s", p, got, readDemo(t, p+".cosign.vkey"))
		}
		cs, err := cosign.NewSignerFromKey(readDemo(t, p+".cosign.key"), nil)
		if err != nil {
			t.Fatalf("%s.cosign.key: %v", p, err)
		}
		if got := cs.Verifier().String(); got != r.Party(p).CosignKey {
			t.Errorf("%s.cosign.key is the key of %s, not of cosign_key %s", p, got, r.Party(p).CosignKey)
		}
		if got := r.Party(p).TLSPin(); got != readDemo(t, p+".tls.pin") {
			t.Errorf("%s: tls_key = %s, demo key %s", p, got, readDemo(t, p+".tls.pin"))
		}
		block, _ := pem.Decode([]byte(readDemo(t, p+".tls.key")))
		if block == nil {
			t.Fatalf("%s.tls.key is not PEM", p)
		}
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		if pub := k.(ed25519.PrivateKey).Public().(ed25519.PublicKey); !bytes.Equal(pub, r.Party(p).TLSKey) {
			t.Errorf("%s.tls.key does not match the pin", p)
		}
	}
	sigs, err := LoadSignatures(SidecarPath(filepath.Join(exampleDir, "regime.toml")))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Verify(sigs); err != nil {
		t.Errorf("example regime is not in force: %v", err)
	}
}

func readDemo(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(exampleDir, "demo-keys", name))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// A launch notice given 20 hours ahead, receipted by NATO after 12 seconds
// and acknowledged after 40 minutes: the acknowledgment is in time, the
// notice is not.
func ExampleRegime_Evaluate() {
	r, err := Load(filepath.Join(exampleDir, "regime.toml"))
	if err != nil {
		panic(err)
	}
	b := []byte(`{"v":1,"regime":"nato-russia-2022","from":"RU","to":["NATO"],"type":"launch.notice","precedence":"IMMEDIATE",` +
		`"time":"2022-01-12T09:30:00.000Z","refs":[],"body":{"launch_window":{"start":"2022-01-13T05:30:00Z","end":"2022-01-13T09:30:00Z"},` +
		`"launch_area":{"center":{"lat":62.9,"lon":40.6},"radius_km":10},"impact_area":{"center":{"lat":65.0,"lon":160.0},"radius_km":100}}}`)
	s, err := statement.Parse(b)
	if err != nil {
		panic(err)
	}
	if err := r.CheckStatement(s); err != nil {
		panic(err)
	}
	t0 := s.Time
	v, err := r.Evaluate(s, Events{Receipt: t0.Add(12 * time.Second), Ack: t0.Add(40 * time.Minute)}, t0.Add(time.Hour))
	if err != nil {
		panic(err)
	}
	fmt.Println(v.State)
	for _, x := range v.Violations {
		fmt.Printf("%s (%s): %s\n", x.Rule, x.Party, x.Msg)
	}
	// Output:
	// acknowledged
	// notice_before (sender): provided 2022-01-12T09:30:12Z, 19h59m48s before launch_window.start (2022-01-13T05:30:00Z); at least 1d is required
}

// NATO's checkpoint is final once RU and the OSCE have receipted it:
// cosigned it with the cosign keys the regime names.
func ExampleRegime_ReceiptPolicy() {
	r, err := Load(filepath.Join(exampleDir, "regime.toml"))
	if err != nil {
		panic(err)
	}
	policy, err := r.ReceiptPolicy("NATO")
	if err != nil {
		panic(err)
	}
	demoKey := func(name string) string {
		b, err := os.ReadFile(filepath.Join(exampleDir, "demo-keys", name))
		if err != nil {
			panic(err)
		}
		return strings.TrimSpace(string(b))
	}
	logKey, err := note.NewSigner(demoKey("NATO.key"))
	if err != nil {
		panic(err)
	}
	clock := func() time.Time { return time.Date(2022, 1, 12, 9, 30, 5, 0, time.UTC) }
	var receipts []note.Signer
	for _, p := range []string{"RU", "OSCE"} {
		s, err := cosign.NewSignerFromKey(demoKey(p+".cosign.key"), clock)
		if err != nil {
			panic(err)
		}
		receipts = append(receipts, s)
	}
	checkpoint := "nato-russia-2022/NATO\n3\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
	for n := 0; n <= 2; n++ {
		signed, err := note.Sign(&note.Note{Text: checkpoint}, append([]note.Signer{logKey}, receipts[:n]...)...)
		if err != nil {
			panic(err)
		}
		final, details, err := policy.Satisfied(signed)
		if err != nil {
			panic(err)
		}
		fmt.Println(n, "receipts: final", final, "missing", details.Missing)
	}
	// Output:
	// 0 receipts: final false missing [nato-russia-2022/OSCE nato-russia-2022/RU]
	// 1 receipts: final false missing [nato-russia-2022/OSCE]
	// 2 receipts: final true missing []
}
