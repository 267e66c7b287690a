package regime

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tillit/tillit/cosign"
	"golang.org/x/mod/sumdb/note"
)

// testID is the id of the regimes the tests build.
const testID = "test-regime"

// testSeed derives a fixed Ed25519 seed, so that keys, hashes and error
// messages are the same in every run.
func testSeed(label string) []byte {
	h := sha256.Sum256([]byte("tillit regime test key " + label))
	return h[:]
}

// testVKey returns the verifier key of party's log key in regime id, key
// generation gen (rotated keys have gen > 0).
func testVKey(id, party string, gen int) string {
	priv := ed25519.NewKeyFromSeed(testSeed(fmt.Sprintf("%s/%s/%d", id, party, gen)))
	vkey, err := note.NewEd25519VerifierKey(id+"/"+party, priv.Public().(ed25519.PublicKey))
	if err != nil {
		panic(err)
	}
	return vkey
}

// testSigner returns the signer matching testVKey.
func testSigner(t testing.TB, id, party string, gen int) note.Signer {
	t.Helper()
	name := id + "/" + party
	seed := testSeed(fmt.Sprintf("%s/%s/%d", id, party, gen))
	pub := ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)
	h := sha256.Sum256(append([]byte(name+"\n\x01"), pub...))
	skey := fmt.Sprintf("PRIVATE+KEY+%s+%08x+%s", name, binary.BigEndian.Uint32(h[:4]),
		base64.StdEncoding.EncodeToString(append([]byte{1}, seed...)))
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// testCosignVKey returns the verifier key of party's cosign (receipt) key in
// regime id, key generation gen.
func testCosignVKey(id, party string, gen int) string {
	return testCosigner(id, party, gen, nil).Verifier().String()
}

// testCosigner returns the cosigner matching testCosignVKey, with clock now
// (time.Now if nil).
func testCosigner(id, party string, gen int, now func() time.Time) *cosign.Signer {
	seed := testSeed(fmt.Sprintf("cosign %s/%s/%d", id, party, gen))
	s, err := cosign.NewSigner(id+"/"+party, ed25519.NewKeyFromSeed(seed), now)
	if err != nil {
		panic(err)
	}
	return s
}

// testTLSPin returns a fixed TLS key pin for a party.
func testTLSPin(id, party string) string {
	pub := ed25519.NewKeyFromSeed(testSeed("tls " + id + "/" + party)).Public().(ed25519.PublicKey)
	return "ed25519:" + base64.StdEncoding.EncodeToString(pub)
}

// testParty returns a [[party]] table.
func testParty(id, name, role string, gen int) string {
	return fmt.Sprintf(`
[[party]]
name = %q
role = %q
log_key = %q
cosign_key = %q
tls_key = %q
endpoints = ["https://%s.example:8443"]
`, name, role, testVKey(id, name, gen), testCosignVKey(id, name, gen), testTLSPin(id, name), strings.ToLower(name))
}

// testTypes are the statement types of the test regime: an advance notice,
// an after-the-fact notification, a FLASH report, a request answered by a
// reply, and ack.
const testTypes = `
[[type]]
name = "notice"
precedence = "PRIORITY"
receipt_within = "60s"
ack_within = "1h"
notice_before = { field = "window.start", at_least = "24h" }
schema = '''{"type": "object", "required": ["window"], "properties": {"window": {"type": "object", "required": ["start"], "properties": {"start": {"type": "string", "format": "date-time"}}}}}'''

[[type]]
name = "change"
receipt_within = "60s"
notify_within = { field = "changed_at", within = "5d" }
schema = '''{"type": "object", "required": ["changed_at"], "properties": {"changed_at": {"type": "string", "format": "date-time"}}}'''

[[type]]
name = "report"
precedence = "FLASH"
receipt_within = "60s"
ack_within = "5m"
schema = '''{"type": "object"}'''

[[type]]
name = "request"
receipt_within = "60s"
ack_within = "48h"
reply_type = "reply"
schema = '''{"type": "object"}'''

[[type]]
name = "reply"
receipt_within = "60s"
min_refs = 1
schema = '''{"type": "object"}'''

[[type]]
name = "ack"
receipt_within = "60s"
min_refs = 1
schema = '''{"type": "object", "properties": {"text": {"type": "string"}}, "additionalProperties": false}'''
`

// testHeader is the top of the test regime, before any table.
const testHeader = `id = "test-regime"
title = "Test regime"
version = 1
clock_tolerance = "30s"
heartbeat = "10s"
`

// testTOML returns a valid regime file with parties A and B and the
// observer O.
func testTOML() string { return testTOMLFor(testID) }

// testTOMLFor returns the test regime with another id.
func testTOMLFor(id string) string {
	return strings.Replace(testHeader, testID, id, 1) + testParty(id, "A", "party", 0) + testParty(id, "B", "party", 0) +
		testParty(id, "O", "observer", 0) + testTypes
}

func mustParse(t testing.TB, text string) *Regime {
	t.Helper()
	r, err := Parse([]byte(text), nil)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return r
}
