package regime

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/tillit/tillit/cosign"
)

func TestParseValid(t *testing.T) {
	r := mustParse(t, testTOML())
	if r.ID != testID || r.Version != 1 || r.Title != "Test regime" {
		t.Errorf("header = %q %d %q", r.ID, r.Version, r.Title)
	}
	if r.LogAccess != AccessParties {
		t.Errorf("default log_access = %q, want parties", r.LogAccess)
	}
	if got := r.WitnessPolicy; strings.Join(got.Witnesses, ",") != "A,B,O" || got.Quorum != 0 {
		t.Errorf("default witness policy = %+v, want every party, all", got)
	}
	if got := r.Witnesses("A"); strings.Join(got, ",") != "B,O" {
		t.Errorf("Witnesses(A) = %v", got)
	}
	if r.Quorum("A") != 2 || !r.Final("A", []string{"O", "B"}) || r.Final("A", []string{"B", "B", "A"}) || r.Final("X", nil) {
		t.Error("finality under the default policy is wrong")
	}
	ack := r.Type("ack")
	if ack.Precedence.String() != "ROUTINE" || ack.AckWithin != 0 || ack.ReplyType != "" || ack.MinRefs != 1 {
		t.Errorf("ack = %+v", ack)
	}
	if n := r.Type("notice"); n.ReplyType != "ack" || n.NoticeBefore.Field != "window.start" || n.NoticeBefore.AtLeast.Hours() != 24 {
		t.Errorf("notice = %+v", n)
	}
	if n := r.Type("change"); n.NotifyWithin.Within.Hours() != 120 {
		t.Errorf("change.notify_within = %v, want 5d", n.NotifyWithin.Within)
	}
	if r.Type("request").ReplyType != "reply" || r.Inspections != nil || r.Party("nobody") != nil || r.Type("nothing") != nil {
		t.Error("wrong optional settings")
	}
}

// edit returns a function that replaces the first old in a regime file with new.
func edit(old, new string) func(string) string {
	return func(s string) string {
		if !strings.Contains(s, old) {
			panic("test edit: no " + old)
		}
		return strings.Replace(s, old, new, 1)
	}
}

// header edits the top of the file, before any table.
func header(add string) func(string) string {
	return edit("heartbeat = \"10s\"\n", "heartbeat = \"10s\"\n"+add+"\n")
}

// appendTOML adds text at the end of the file.
func appendTOML(add string) func(string) string {
	return func(s string) string { return s + "\n" + add + "\n" }
}

func TestParseErrors(t *testing.T) {
	keyA, keyB := testVKey(testID, "A", 0), testVKey(testID, "B", 0)
	cosA, cosB := testCosignVKey(testID, "A", 0), testCosignVKey(testID, "B", 0)
	pinA := testTLSPin(testID, "A")
	// cosignFrom returns a cosign key named for party with the public key
	// of the Ed25519 verifier key vkey (a log key, or a TLS pin's key).
	cosignFrom := func(party, b64 string) string {
		raw, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			panic(err)
		}
		if len(raw) == 33 {
			raw = raw[1:]
		}
		v, err := cosign.NewVerifierFromPublicKey(testID+"/"+party, raw)
		if err != nil {
			panic(err)
		}
		return v.String()
	}
	keyPart := func(vkey string) string { return strings.SplitN(vkey, "+", 3)[2] }
	tests := []struct {
		name string
		edit func(string) string
		err  error
		msg  string // substring of the error
	}{
		// Syntax.
		{"not TOML", edit("version = 1", "version = "), ErrSyntax, "line 3"},
		{"wrong TOML type", edit("version = 1", `version = "1"`), ErrSyntax, `line 3 (last key "version"): incompatible types`},
		{"duplicate key", header(`title = "again"`), ErrSyntax, "already been defined"},
		{"invalid UTF-8", edit("Test regime", "Test \xff regime"), ErrSyntax, "UTF-8"},

		// Unknown keys, named with where they are.
		{"unknown top-level key", header(`colour = "blue"`), ErrUnknownKey, `unknown key "colour"`},
		{"unknown party key", edit(`role = "observer"`, "role = \"observer\"\nfax = \"+43 1 514 36\""), ErrUnknownKey, `party "O": unknown key "fax"`},
		{"unknown type key", edit(`name = "change"`, "name = \"change\"\nreceipt_witin = \"60s\""), ErrUnknownKey, `type "change": unknown key "receipt_witin"`},
		{"unknown key in inline table", edit(`at_least = "24h"`, `at_least = "24h", before = "x"`), ErrUnknownKey, `type "notice": unknown key "notice_before.before"`},
		{"unknown table", appendTOML("[extra]\nx = 1"), ErrUnknownKey, `unknown key "extra"`},
		{"unknown witness_policy key", appendTOML("[witness_policy]\nk = 2"), ErrUnknownKey, `unknown key "witness_policy.k"`},
		{"unknown inspections key", appendTOML("[inspections]\nper_host_per_year = 3\nper_inspector_per_year = 1\nper_month = 1"), ErrUnknownKey, `unknown key "inspections.per_month"`},

		// Header.
		{"no id", edit(`id = "test-regime"`, ""), ErrInvalid, "id: is required"},
		{"bad id", edit(`id = "test-regime"`, `id = "test regime"`), ErrInvalid, `id: "test regime" is not a valid name`},
		{"no title", edit(`title = "Test regime"`, ""), ErrInvalid, "title: is required"},
		{"title with newline", edit(`title = "Test regime"`, `title = "Test\nregime"`), ErrInvalid, "title: must be one line"},
		{"no version", edit("version = 1", ""), ErrInvalid, "version: is required"},
		{"negative version", edit("version = 1", "version = -2"), ErrInvalid, "version: must be from 1"},
		{"previous on version 1", header(`previous = "tIzP0hoE2atQ+sIgGD5Pfo0IW5yUXJdj9ZPDz3XjVo4="`), ErrInvalid, "previous: version 1 amends nothing"},
		{"version 2 without previous", edit("version = 1", "version = 2"), ErrInvalid, "previous: is required for version 2"},
		{"bad previous", edit("version = 1", "version = 2\nprevious = \"abc\""), ErrInvalid, "previous: \"abc\" is not the standard base64"},
		{"bad log_access", header(`log_access = "everyone"`), ErrInvalid, `log_access: must be "parties" or "public"`},
		{"no clock_tolerance", edit(`clock_tolerance = "30s"`, ""), ErrInvalid, "clock_tolerance: is required"},
		{"bad duration", edit(`clock_tolerance = "30s"`, `clock_tolerance = "30 seconds"`), ErrInvalid, `clock_tolerance: invalid duration "30 seconds"`},
		{"negative duration", edit(`clock_tolerance = "30s"`, `clock_tolerance = "-30s"`), ErrInvalid, "is negative"},
		{"fractional duration", edit(`clock_tolerance = "30s"`, `clock_tolerance = "1500us"`), ErrInvalid, "not a whole number of milliseconds"},
		{"huge duration", edit(`clock_tolerance = "30s"`, `clock_tolerance = "400d"`), ErrInvalid, "longer than 366d"},
		{"huge clock tolerance", edit(`clock_tolerance = "30s"`, `clock_tolerance = "1h"`), ErrUnsafe, "backdate"},
		{"zero heartbeat", edit(`heartbeat = "10s"`, `heartbeat = "0s"`), ErrUnsafe, "heartbeat: must not be zero"},
		{"zero days heartbeat", edit(`heartbeat = "10s"`, `heartbeat = "0d"`), ErrUnsafe, "heartbeat: must not be zero"},
		{"no heartbeat", edit(`heartbeat = "10s"`, ""), ErrInvalid, "heartbeat: is required"},
		{"tiny heartbeat", edit(`heartbeat = "10s"`, `heartbeat = "10ms"`), ErrUnsafe, "flood"},

		// Parties.
		{"one full party", edit(`role = "party"`, `role = "observer"`), ErrInvalid, `has 1 parties with role "party"; it needs at least 2`},
		{"no party name", edit(`name = "B"`, ""), ErrInvalid, "party #2.name: is required"},
		{"bad party name", edit(`name = "B"`, `name = "B/C"`), ErrInvalid, `party #2.name: "B/C" is not a valid name`},
		{"star party", edit(`name = "B"`, `name = "*"`), ErrInvalid, `"*" is not a valid name`},
		{"duplicate party", edit(`name = "B"`, `name = "A"`), ErrInvalid, `duplicate party name "A"`},
		{"no role", edit(`role = "observer"`, ""), ErrInvalid, `party "O".role: is required`},
		{"bad role", edit(`role = "observer"`, `role = "witness"`), ErrInvalid, `party "O".role: must be "party" or "observer"`},
		{"no log key", edit(`log_key = "`+keyB+`"`, ""), ErrInvalid, `party "B".log_key: is required`},
		{"malformed log key", edit(keyB, "nonsense"), ErrInvalid, `party "B".log_key: "nonsense" is not an Ed25519 signed-note verifier key`},
		{"log key of another party", edit(`log_key = "`+keyB, `log_key = "`+testVKey(testID, "A", 1)), ErrInvalid,
			`party "B".log_key: key is named "test-regime/A", want "test-regime/B"`},
		{"log key of another regime", edit(keyB, testVKey("other", "B", 0)), ErrInvalid, `want "test-regime/B"`},
		{"shared log key", edit(`log_key = "`+keyB, `log_key = "`+keyA), ErrInvalid, `want "test-regime/B"`},
		{"no cosign key", edit(`cosign_key = "`+cosB+`"`, ""), ErrInvalid, `party "B".cosign_key: is required: the party's receipt key`},
		{"malformed cosign key", edit(cosB, "nonsense"), ErrInvalid, `party "B".cosign_key: "nonsense" is not a cosigner verifier key`},
		{"log key as cosign key", edit(`cosign_key = "`+cosB, `cosign_key = "`+keyB), ErrInvalid,
			`party "B".cosign_key: "` + keyB + `" is not a cosigner verifier key (<name>+<id>+base64(0x04 || key)): signature type 0x01 is a signed-note Ed25519 key (a log key), not a cosigner key (0x04)`},
		{"wrong cosign key ID", edit(cosB, strings.Replace(cosB, "+"+strings.SplitN(cosB, "+", 3)[1], "+00000000", 1)), ErrInvalid,
			`party "B".cosign_key: "test-regime/B+00000000+`},
		{"cosign key of another party", edit(`cosign_key = "`+cosB, `cosign_key = "`+cosA), ErrInvalid,
			`party "B".cosign_key: key is named "test-regime/A", want "test-regime/B": a party's cosign key is named like its log key`},
		{"cosign key of another regime", edit(cosB, testCosignVKey("other", "B", 0)), ErrInvalid, `want "test-regime/B"`},
		{"cosign key is the log key", edit(cosB, cosignFrom("B", keyPart(keyB))), ErrUnsafe,
			`party "B".cosign_key: same public key as the party's log_key: receipts (cosignatures, type 0x04) must not be made with the log's signed-note key`},
		{"cosign key is another party's log key", edit(cosB, cosignFrom("B", keyPart(keyA))), ErrUnsafe,
			`party "B".cosign_key: same public key as the log key of party A`},
		{"shared cosign key", edit(cosB, cosignFrom("B", keyPart(cosA))), ErrUnsafe,
			`party "B".cosign_key: same public key as the cosign key of party A`},
		{"tls key is the cosign key", edit(testTLSPin(testID, "B"), "ed25519:"+base64.StdEncoding.EncodeToString(testCosigner(testID, "B", 0, nil).Verifier().PublicKey())),
			ErrUnsafe, `party "B".tls_key: same public key as the cosign key of party B`},
		{"no tls key", edit(`tls_key = "`+pinA+`"`, ""), ErrInvalid, `party "A".tls_key: is required`},
		{"tls key without prefix", edit(pinA, strings.TrimPrefix(pinA, "ed25519:")), ErrInvalid, "is not an Ed25519 key pin"},
		{"tls key bad base64", edit(pinA, "ed25519:AAAA"), ErrInvalid, "is not an Ed25519 key pin"},
		{"tls key is another party's", edit(testTLSPin(testID, "B"), pinA), ErrUnsafe, `party "B".tls_key: same public key as the TLS key of party A`},
		{"tls key is the log key", edit(pinA, "ed25519:"+keyA[len(keyA)-44+1:]+"="), ErrInvalid, "Ed25519 key pin"},
		{"no endpoints", edit(`endpoints = ["https://b.example:8443"]`, ""), ErrInvalid, `party "B".endpoints: at least one https URL is required`},
		{"http endpoint", edit("https://b.example", "http://b.example"), ErrInvalid, `party "B".endpoints[0]: "http://b.example:8443" must be an https:// URL`},
		{"endpoint with query", edit("https://b.example:8443", "https://b.example:8443/?x=1"), ErrInvalid, "must not have a query"},
		{"endpoint with credentials", edit("https://b.example:8443", "https://u:p@b.example:8443"), ErrInvalid, "must not hold credentials"},
		{"endpoint without host", edit("https://b.example:8443", "https:///x"), ErrInvalid, "has no host"},
		{"shared endpoint", edit("https://b.example:8443", "https://a.example:8443"), ErrUnsafe, `party "B".endpoints[0]: https://a.example:8443 is also an endpoint of party A`},

		// Types.
		{"no type name", edit(`name = "change"`, ""), ErrInvalid, "type #2.name: is required"},
		{"bad type name", edit(`name = "change"`, `name = "change notice"`), ErrInvalid, `type #2.name: "change notice" is not a valid name`},
		{"duplicate type", edit(`name = "change"`, `name = "notice"`), ErrInvalid, `duplicate type name "notice"`},
		{"no schema", edit(`schema = '''{"type": "object"}'''`, ""), ErrInvalid, `type "report".schema: is required`},
		{"schema not JSON", edit(`schema = '''{"type": "object"}'''`, `schema = '''{"type": object}'''`), ErrInvalid, `type "report".schema: schema is not valid JSON`},
		{"schema with duplicate key", edit(`schema = '''{"type": "object"}'''`, `schema = '''{"type": "object", "type": "string"}'''`), ErrInvalid, `duplicate member "type"`},
		{"schema does not compile", edit(`schema = '''{"type": "object"}'''`, `schema = '''{"type": 5}'''`), ErrInvalid, "schema does not compile"},
		{"schema refers outside", edit(`schema = '''{"type": "object"}'''`, `schema = '''{"$ref": "https://example.com/s.json"}'''`), ErrInvalid, "self-contained"},
		{"schema refers to a file", edit(`schema = '''{"type": "object"}'''`, `schema = '''{"$ref": "other.json"}'''`), ErrInvalid, "self-contained"},
		{"schema of another draft", edit(`schema = '''{"type": "object"}'''`, `schema = '''{"$schema": "http://json-schema.org/draft-07/schema#"}'''`), ErrInvalid, "draft 2020-12"},
		{"schema file without fs", edit(`schema = '''{"type": "object"}'''`, `schema = "report.json"`), ErrInvalid, "inline the schema"},
		{"bad precedence", edit(`precedence = "FLASH"`, `precedence = "flash"`), ErrInvalid, `type "report".precedence: must be FLASH, IMMEDIATE, PRIORITY or ROUTINE, not "flash"`},
		{"no receipt_within", edit("name = \"report\"\nprecedence = \"FLASH\"\nreceipt_within = \"60s\"", "name = \"report\"\nprecedence = \"FLASH\""), ErrInvalid, `type "report".receipt_within: is required`},
		{"ack shorter than receipt", edit(`ack_within = "5m"`, `ack_within = "30s"`), ErrUnsafe, `type "report".ack_within: 30s is shorter than receipt_within (1m)`},
		{"reply_type without ack_within", edit(`name = "reply"`, "name = \"reply\"\nreply_type = \"ack\""), ErrInvalid, `type "reply".reply_type: is set but ack_within is not`},
		{"unknown reply_type", edit(`reply_type = "reply"`, `reply_type = "answer"`), ErrInvalid, `type "request".reply_type: no type "answer"`},
		{"reply_type without refs", edit(`reply_type = "reply"`, `reply_type = "report"`), ErrInvalid, `type "report".min_refs: type "report" answers "request"`},
		{"no ack type", edit(`name = "ack"`, `name = "acknowledgment"`), ErrInvalid, `type "notice".reply_type: ack_within is set, so statements of this type are acknowledged by an "ack" statement, but the regime defines no type "ack"`},
		{"acks of acks", edit("name = \"ack\"\nreceipt_within = \"60s\"", "name = \"ack\"\nreceipt_within = \"60s\"\nack_within = \"1h\""), ErrUnsafe, `type "ack".reply_type: replies loop (ack -> ack)`},
		{"reply loop", func(s string) string {
			s = edit("name = \"reply\"\nreceipt_within = \"60s\"", "name = \"reply\"\nreceipt_within = \"60s\"\nack_within = \"1h\"\nreply_type = \"request\"")(s)
			return edit(`reply_type = "reply"`, "reply_type = \"reply\"\nmin_refs = 1")(s)
		}, ErrUnsafe, `type "request".reply_type: replies loop (request -> reply -> request)`},
		{"negative min_refs", edit("min_refs = 1", "min_refs = -1"), ErrInvalid, `type "reply".min_refs: must be from 0 to 16, not -1`},
		{"notice rule without field", edit(`field = "window.start", `, ""), ErrInvalid, `type "notice".notice_before.field: is required`},
		{"notice rule with bad field", edit(`field = "window.start"`, `field = "window..start"`), ErrInvalid, `"window..start" is not a body field`},
		{"notice rule without at_least", edit(`, at_least = "24h"`, ""), ErrInvalid, `type "notice".notice_before.at_least: is required`},
		{"notice shorter than clock error", edit(`at_least = "24h"`, `at_least = "10s"`), ErrUnsafe, `type "notice".notice_before.at_least: 10s is not longer than clock_tolerance`},
		{"notify rule bad within", edit(`within = "5d"`, `within = "5 days"`), ErrInvalid, `type "change".notify_within.within: invalid duration`},
		{"notify within clock error", edit(`within = "5d"`, `within = "1s"`), ErrUnsafe, `type "change".notify_within.within: 1s is not longer than clock_tolerance`},
		{"receipt within clock error", edit(`receipt_within = "60s"`, `receipt_within = "30s"`), ErrUnsafe, `type "notice".receipt_within: 30s is not longer than clock_tolerance (30s)`},
		{"receipt within heartbeat", edit(`heartbeat = "10s"`, `heartbeat = "2m"`), ErrUnsafe, `receipt_within: 1m is not longer than heartbeat (2m)`},

		// Witness policy.
		{"empty witnesses", appendTOML("[witness_policy]\nwitnesses = []"), ErrInvalid, "witness_policy.witnesses: is empty"},
		{"unknown witness", appendTOML("[witness_policy]\nwitnesses = [\"A\", \"C\"]"), ErrInvalid, `witness_policy.witnesses[1]: "C" is not a party`},
		{"duplicate witness", appendTOML("[witness_policy]\nwitnesses = [\"A\", \"B\", \"A\"]"), ErrInvalid, `witness_policy.witnesses[2]: "A" is listed twice`},
		{"log without witness", appendTOML("[witness_policy]\nwitnesses = [\"A\"]"), ErrUnsafe, "the log of A would have no witness"},
		{"zero quorum", appendTOML("[witness_policy]\nquorum = 0"), ErrInvalid, "witness_policy.quorum: must be at least 1"},
		{"quorum too large", appendTOML("[witness_policy]\nquorum = 3"), ErrInvalid, "witness_policy.quorum: 3 can never be met for the log of A, which has 2 witnesses"},
		{"bad quorum word", appendTOML("[witness_policy]\nquorum = \"most\""), ErrInvalid, `must be "all", "any" or a number, not "most"`},
		{"float quorum", appendTOML("[witness_policy]\nquorum = 1.5"), ErrInvalid, `witness_policy.quorum: must be "all", "any" or a number`},

		// Inspections.
		{"no host quota", appendTOML("[inspections]\nper_inspector_per_year = 1"), ErrInvalid, "inspections.per_host_per_year: is required"},
		{"zero quota", appendTOML("[inspections]\nper_host_per_year = 0\nper_inspector_per_year = 1"), ErrInvalid, "inspections.per_host_per_year: must be from 1 to 1000, not 0"},
		{"inspector quota over host quota", appendTOML("[inspections]\nper_host_per_year = 1\nper_inspector_per_year = 2"), ErrInvalid, "inspections.per_inspector_per_year: 2 is more than per_host_per_year (1)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := tt.edit(testTOML())
			r, err := Parse([]byte(text), nil)
			if err == nil {
				t.Fatalf("Parse succeeded (hash %s), want an error containing %q", r.Hash(), tt.msg)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T is not an *Error: %v", err, err)
			}
			if !errors.Is(err, tt.err) {
				t.Errorf("error %q does not wrap %v", err, tt.err)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q\ndoes not contain %q", err, tt.msg)
			}
		})
	}
}

func TestParseLimits(t *testing.T) {
	big := make([]byte, MaxFileSize+1)
	if _, err := Parse(big, nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("oversized file: %v", err)
	}
	var parties strings.Builder
	for i := range MaxParties + 1 {
		parties.WriteString(testParty(testID, "P"+string(rune('a'+i%26))+string(rune('a'+i/26)), "party", 0))
	}
	if _, err := Parse([]byte(testHeader+parties.String()+testTypes), nil); err == nil || !strings.Contains(err.Error(), "more than 32") {
		t.Errorf("33 parties: %v", err)
	}
	noTypes := testHeader + testParty(testID, "A", "party", 0) + testParty(testID, "B", "party", 0)
	if _, err := Parse([]byte(noTypes), nil); err == nil || !strings.Contains(err.Error(), "no statement types") {
		t.Errorf("no types: %v", err)
	}
	many := strings.Repeat(`"https://x.example/", `, 1)
	for i := range MaxEndpoints {
		many += `"https://x.example/` + string(rune('a'+i)) + `", `
	}
	text := edit(`endpoints = ["https://b.example:8443"]`, "endpoints = ["+many+"]")(testTOML())
	if _, err := Parse([]byte(text), nil); err == nil || !strings.Contains(err.Error(), "9 endpoints, more than 8") {
		t.Errorf("9 endpoints: %v", err)
	}
}

func TestSchemaFiles(t *testing.T) {
	fsys := fstest.MapFS{
		"schemas/report.json": {Data: []byte(`{"type": "object", "required": ["what"]}`)},
		"array.json":          {Data: []byte(`[1, 2]`)},
		"big.json":            {Data: []byte(`{"description": "` + strings.Repeat("x", MaxSchemaSize) + `"}`)},
	}
	inline := `schema = '''{"type": "object"}'''`
	r, err := Parse([]byte(edit(inline, `schema = "schemas/report.json"`)(testTOML())), fsys)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Type("report").Schema; got != string(fsys["schemas/report.json"].Data) {
		t.Errorf("schema = %q, want the file's text", got)
	}
	for path, want := range map[string]string{
		"../report.json":     "must be a relative path",
		"/etc/passwd":        "must be a relative path",
		"schemas/none.json":  "couldn't read schema file",
		"array.json":         "does not hold a JSON object",
		"big.json":           "more than 65536",
		"schemas\\\\x.json":  "couldn't read",
		"schemas/report.jso": "couldn't read",
	} {
		_, err := Parse([]byte(edit(inline, `schema = "`+path+`"`)(testTOML())), fsys)
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), want) {
			t.Errorf("schema %q: error %v, want one containing %q", path, err, want)
		}
	}
}

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]string{
		"60s": "1m", "5m": "5m", "48h": "2d", "42d": "42d", "1008h": "42d", "1h30m": "1h30m", "250ms": "250ms", "366d": "366d",
	} {
		d, msg := parseDuration(in)
		if msg != "" || human(d) != want {
			t.Errorf("parseDuration(%q) = %s, %q; want %s", in, human(d), msg, want)
		}
	}
	for _, in := range []string{"", "0", "0s", "-1s", "1.5ms", "1d12h", "d", "1e3s", "367d", "9999999999999999999d", "10000000h", "5 s"} {
		if d, msg := parseDuration(in); msg == "" {
			t.Errorf("parseDuration(%q) = %v, want an error", in, d)
		}
	}
}
