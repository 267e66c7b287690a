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

	"github.com/tillit/tillit/statement"
	"golang.org/x/mod/sumdb/note"
)

var genExample = flag.Bool("genexample", false, "write new demo keys into "+exampleDir+"/demo-keys (then update regime.toml and re-sign)")

const exampleDir = "../examples/nato-russia-2022"

var exampleParties = []string{"NATO", "RU", "OSCE"}

// TestGenerateExampleKeys writes fresh demo keys for the example regime when
// run with -genexample: per party a signed-note log key (<party>.key,
// <party>.vkey) and an Ed25519 TLS key (<party>.tls.key as PKCS #8 PEM,
// <party>.tls.pin as the regime's pin). They are public demo keys.
func TestGenerateExampleKeys(t *testing.T) {
	if !*genExample {
		t.Skip("run with -genexample to write new demo keys")
	}
	dir := filepath.Join(exampleDir, "demo-keys")
	for _, p := range exampleParties {
		skey, vkey, err := note.GenerateKey(rand.Reader, "nato-russia-2022/"+p)
		if err != nil {
			t.Fatal(err)
		}
		pub, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		der, err := x509.MarshalPKCS8PrivateKey(priv)
		if err != nil {
			t.Fatal(err)
		}
		files := map[string][]byte{
			p + ".key":     []byte(skey + "\n"),
			p + ".vkey":    []byte(vkey + "\n"),
			p + ".tls.key": pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}),
			p + ".tls.pin": []byte("ed25519:" + base64.StdEncoding.EncodeToString(pub) + "\n"),
		}
		for name, b := range files {
			if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		t.Logf("%s: log_key = %q, tls_key = %q", p, vkey, strings.TrimSpace(string(files[p+".tls.pin"])))
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
