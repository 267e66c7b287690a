package cosign_test

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/tillit/tillit/cosign"
	"github.com/tillit/tillit/tlog"
	"golang.org/x/mod/sumdb/note"
)

const specOrigin = "example.com/behind-the-sofa"

// specPolicy is the example of c2sp.org/tlog-policy, "Example policy", with
// the elided keys filled in.
func specPolicy(t testing.TB) (text string, log note.Signer, ws map[string]*cosign.Signer) {
	t.Helper()
	log, logVKey := logKey(t, specOrigin)
	ws = map[string]*cosign.Signer{}
	vkey := func(name string) string {
		ws[name] = witness(t, strings.ToLower(name)+".example/witness")
		return ws[name].Verifier().String()
	}
	text = fmt.Sprintf(`log %s

witness X1 %s
witness X2 %s
witness X3 %s
group X-witnesses 2 X1 X2 X3

witness Y1 %s
witness Y2 %s
witness Y3 %s
group Y-witnesses any Y1 Y2 Y3

group X-and-Y all X-witnesses Y-witnesses
quorum X-and-Y
`, logVKey, vkey("X1"), vkey("X2"), vkey("X3"), vkey("Y1"), vkey("Y2"), vkey("Y3"))
	return text, log, ws
}

// TestSpecPolicy evaluates the spec's example policy on every subset of its
// six witnesses, against the rule the spec states in words: "at least two of
// the X-witnesses, and ... at least one of the Y-witnesses".
func TestSpecPolicy(t *testing.T) {
	text, log, ws := specPolicy(t)
	p, err := cosign.ParsePolicy([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"X1", "X2", "X3", "Y1", "Y2", "Y3"}
	cp := checkpointText(specOrigin, 20852163, "spec policy")
	for mask := range 1 << len(names) {
		signers := []note.Signer{log}
		var x, y int
		var want []string
		for i, n := range names {
			if mask&(1<<i) == 0 {
				continue
			}
			signers = append(signers, ws[n])
			want = append(want, n)
			if n[0] == 'X' {
				x++
			} else {
				y++
			}
		}
		ok, d, err := p.Satisfied(sign(t, cp, signers...))
		if err != nil {
			t.Fatalf("%v: %v", want, err)
		}
		if ok != (x >= 2 && y >= 1) {
			t.Errorf("cosigned by %v: Satisfied = %v", want, ok)
		}
		var got []string
		for _, c := range d.Cosigned {
			got = append(got, c.Witness)
			if c.Time.Unix() != testTime {
				t.Errorf("%s: time %v", c.Witness, c.Time)
			}
		}
		if !slices.Equal(got, want) || len(d.Missing)+len(got) != 6 || d.Log != specOrigin || d.Checkpoint.String() != cp {
			t.Errorf("cosigned by %v: details %+v", want, d)
		}
	}
	if len(p.Logs()) != 1 || len(p.Witnesses()) != 6 || p.Witnesses()[3].Name != "Y1" {
		t.Errorf("Logs() = %v, Witnesses() = %v", p.Logs(), p.Witnesses())
	}
	checkString(t, p)
}

// checkString checks that String gives a policy that parses to the same
// String.
func checkString(t testing.TB, p *cosign.Policy) {
	t.Helper()
	s := p.String()
	p2, err := cosign.ParsePolicy([]byte(s))
	if err != nil {
		t.Fatalf("ParsePolicy(String()) of\n%s: %v", s, err)
	}
	if s2 := p2.String(); s2 != s {
		t.Fatalf("String() not stable:\n%s\nthen\n%s", s, s2)
	}
}

// policyKeys are keys for the policy tables, derived from fixed labels.
type policyKeys struct {
	log, log2, w1, w2, w3, w1LogType, w1Type6, w1WrongID string
}

func newPolicyKeys(t testing.TB) policyKeys {
	_, log := logKey(t, "example.com/log")
	_, log2 := logKey(t, "example.com/log2")
	w1 := witness(t, "w1.example").Verifier().String()
	// The same public key as w1 as a 0x01 log key, and as a 0x06 key.
	pub := witness(t, "w1.example").Verifier().PublicKey()
	w1LogType, err := note.NewEd25519VerifierKey("w1.example", pub)
	if err != nil {
		t.Fatal(err)
	}
	b64 := w1[strings.LastIndex(w1, "+")+1:]
	raw, _ := base64Decode(b64)
	raw[0] = 0x06
	type6 := base64.StdEncoding.EncodeToString(raw)
	return policyKeys{
		log: log, log2: log2, w1: w1,
		w2:        witness(t, "w2.example").Verifier().String(),
		w3:        witness(t, "w3.example").Verifier().String(),
		w1LogType: w1LogType,
		w1Type6:   "w1.example+00000000+" + type6,
		w1WrongID: "w1.example+00000000+" + b64,
	}
}

// policyTests are policies; ParsePolicy must accept those with line 0 and
// refuse the others with a PolicyError naming line (-1 for the whole
// policy) and containing msg.
func policyTests(k policyKeys) []struct {
	name, text string
	line       int
	msg        string
} {
	w := func(name, vkey string) string { return "witness " + name + " " + vkey + "\n" }
	ws := w("A", k.w1) + w("B", k.w2) + w("C", k.w3)
	return []struct {
		name, text string
		line       int
		msg        string
	}{
		// Accepted.
		{"quorum none alone", "quorum none\n", 0, ""},
		{"log and quorum none", "log " + k.log + "\nquorum none", 0, ""},
		{"single witness quorum", w("A", k.w1) + "quorum A\n", 0, ""},
		{"comments blanks and tabs", "# policy\n\n  \t\n\t# indented comment\n\tlog\t" + k.log + "  https://log.example/ \n" + w("A", k.w1) + "quorum\tA  \n", 0, ""},
		{"urls", "log " + k.log + " https://log.example/\nwitness A " + k.w1 + " https://w1.example/add\nquorum A\n", 0, ""},
		{"non-ASCII names", "witness \xe2\x84\xaa " + k.w1 + "\nwitness K " + k.w2 + "\ngroup \xff\xfe all \xe2\x84\xaa K\nquorum \xff\xfe\n", 0, ""},
		{"keywords as names", "witness all " + k.w1 + "\nwitness any " + k.w2 + "\ngroup group 2 all any\nquorum group\n", 0, ""},
		{"two logs", "log " + k.log + "\nlog " + k.log2 + "\nquorum none\n", 0, ""},
		{"nested groups", ws + "group G1 any A B\ngroup G2 2 G1 C\nquorum G2\n", 0, ""},
		{"threshold k", ws + "group G 2 A B C\nquorum G\n", 0, ""},
		{"hash inside a line", "witness #A " + k.w1 + "\nquorum #A\n", 0, ""},
		{"no final newline", ws + "quorum A", 0, ""},
		{"unused witnesses", ws + "quorum none\n", 0, ""},

		// Refused.
		{"empty", "", -1, "no quorum line"},
		{"quorum missing", ws + "group G any A B\n", -1, "no quorum line"},
		{"unknown keyword", "witnesses A " + k.w1 + "\n", 1, `unknown keyword "witnesses"`},
		{"uppercase keyword", "Quorum none\n", 1, "unknown keyword"},
		{"duplicate witness name", w("A", k.w1) + w("A", k.w2) + "quorum A\n", 2, `duplicate name "A"`},
		{"group named like a witness", ws + "group A any B C\nquorum A\n", 4, `duplicate name "A"`},
		{"duplicate group name", ws + "group G any A\ngroup G any B\nquorum G\n", 5, `duplicate name "G"`},
		{"witness named none", w("none", k.w1) + "quorum none\n", 1, "predefined"},
		{"group named none", ws + "group none any A\nquorum none\n", 4, "predefined"},
		{"k > n", ws + "group G 4 A B C\nquorum G\n", 4, "not in [1, 3]"},
		{"k = 0", ws + "group G 0 A B C\nquorum G\n", 4, "threshold"},
		{"k with leading zero", ws + "group G 01 A B C\nquorum G\n", 4, "threshold"},
		{"k with sign", ws + "group G +1 A B C\nquorum G\n", 4, "threshold"},
		{"k negative", ws + "group G -1 A B C\nquorum G\n", 4, "threshold"},
		{"k huge", ws + "group G 99999999999999999999 A B C\nquorum G\n", 4, "threshold"},
		{"k in words", ws + "group G two A B C\nquorum G\n", 4, "threshold"},
		{"k uppercase ALL", ws + "group G ALL A B C\nquorum G\n", 4, "threshold"},
		{"group without members", ws + "group G any\nquorum G\n", 4, "at least one member"},
		{"undefined member", ws + "group G any A D\nquorum G\n", 4, `member "D" is not defined`},
		{"member defined later", "witness A " + k.w1 + "\ngroup G any A B\nwitness B " + k.w2 + "\nquorum G\n", 2, `member "B" is not defined`},
		{"cycle: group lists itself", ws + "group G any A G\nquorum G\n", 4, `member "G" is not defined`},
		{"cycle: two groups", ws + "group G any A H\ngroup H any B G\nquorum H\n", 4, `member "H" is not defined`},
		{"none as member", ws + "group G any A none\nquorum G\n", 4, `"none" can't be a group member`},
		{"member twice in a group", ws + "group G 2 A B A\nquorum G\n", 4, `lists "A" twice`},
		{"member of two groups", ws + "group G any A B\ngroup H any A C\ngroup Q all G H\nquorum Q\n", 5, `"A" is already a member of group "G"`},
		{"group member of two groups", ws + "group G any A\ngroup H any G\ngroup I any G B\nquorum I\n", 6, `"G" is already a member of group "H"`},
		{"quorum undefined", ws + "quorum D\n", 4, `quorum "D" is not defined`},
		{"quorum before definition", "quorum A\n" + w("A", k.w1), 1, `quorum "A" is not defined`},
		{"second quorum", ws + "quorum A\nquorum B\n", 5, "exactly one quorum line"},
		{"quorum none twice", "quorum none\nquorum none\n", 2, "exactly one quorum line"},
		{"quorum two names", ws + "quorum A B\n", 4, "want \"quorum <name>\""},
		{"quorum no name", "quorum\n", 1, "want \"quorum <name>\""},
		{"duplicate log key", "log " + k.log + "\nlog " + k.log + "\nquorum none\n", 2, "same public key"},
		{"duplicate witness key", w("A", k.w1) + w("B", k.w1) + "quorum A\n", 2, "same public key as witness A"},
		{"witness key is the log key", "log " + k.w1LogType + "\n" + w("A", k.w1) + "quorum A\n", 2, "same public key as log w1.example"},
		{"witness with a log key", w("A", k.w1LogType) + "quorum A\n", 1, "0x01"},
		{"witness with ML-DSA-44 key", w("A", k.w1Type6) + "quorum A\n", 1, "ML-DSA-44"},
		{"log with a witness key", "log " + k.w1 + "\nquorum none\n", 1, "type 0x01"},
		{"witness key with wrong ID", w("A", k.w1WrongID) + "quorum A\n", 1, `witness "A": malformed cosigner key: key ID 00000000`},
		{"log without key", "log\nquorum none\n", 1, "want \"log <vkey> [<url>]\""},
		{"log with extra field", "log " + k.log + " https://a https://b\nquorum none\n", 1, "want \"log"},
		{"witness without key", "witness A\nquorum none\n", 1, "want \"witness"},
		{"trailing comment", "witness A " + k.w1 + " https://w/ # main\nquorum A\n", 1, "comments must be on a line of their own"},
		{"comment as URL", "witness A " + k.w1 + " #main\nquorum A\n", 1, "comments must be on a line of their own"},
		{"CRLF", "quorum none\r\n", 1, "CRLF"},
		{"NUL", "quorum none\x00\n", 1, "control character 0x00"},
		{"DEL", "# \x7f\nquorum none\n", 1, "control character 0x7f"},
		{"vertical tab", "quorum\vnone\n", 1, "control character 0x0b"},
		{"control character in comment", "# \x1b[31m\nquorum none\n", 1, "control character 0x1b"},
		{"no-break space is not whitespace", "quorum\xc2\xa0none\n", 1, "unknown keyword"},
	}
}

func TestParsePolicy(t *testing.T) {
	for _, tt := range policyTests(newPolicyKeys(t)) {
		t.Run(tt.name, func(t *testing.T) {
			p, err := cosign.ParsePolicy([]byte(tt.text))
			if tt.line == 0 {
				if err != nil {
					t.Fatalf("ParsePolicy(%q): %v", tt.text, err)
				}
				checkString(t, p)
				return
			}
			var pe *cosign.PolicyError
			if !errors.As(err, &pe) || !errors.Is(err, cosign.ErrBadPolicy) {
				t.Fatalf("ParsePolicy(%q) = %v, %v; want a PolicyError", tt.text, p, err)
			}
			if want := max(tt.line, 0); pe.Line != want || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("ParsePolicy(%q) error %q; want line %d and %q", tt.text, err, want, tt.msg)
			}
		})
	}
}

func TestPolicyLimits(t *testing.T) {
	var b strings.Builder
	for i := range cosign.MaxWitnesses + 1 {
		fmt.Fprintf(&b, "witness W%d %s\n", i, witness(t, fmt.Sprintf("w%d.example", i)).Verifier())
	}
	all := b.String()
	_, err := cosign.ParsePolicy([]byte(all + "quorum none\n"))
	if pe := (*cosign.PolicyError)(nil); !errors.As(err, &pe) || pe.Line != cosign.MaxWitnesses+1 || !strings.Contains(err.Error(), "witnesses") {
		t.Errorf("%d witnesses: %v", cosign.MaxWitnesses+1, err)
	}
	// Exactly MaxWitnesses is fine, in one group.
	text := strings.SplitAfterN(all, "\n", cosign.MaxWitnesses+1)
	members := make([]string, cosign.MaxWitnesses)
	for i := range members {
		members[i] = fmt.Sprint("W", i)
	}
	ok := strings.Join(text[:cosign.MaxWitnesses], "") + "group G all " + strings.Join(members, " ") + "\nquorum G\n"
	if _, err := cosign.ParsePolicy([]byte(ok)); err != nil {
		t.Errorf("%d witnesses: %v", cosign.MaxWitnesses, err)
	}

	// Nesting: G1 = any W0, G(i+1) = any Gi.
	nest := func(depth int) string {
		s := strings.Join(text[:1], "") + "group G1 any W0\n"
		for i := 2; i <= depth; i++ {
			s += fmt.Sprintf("group G%d any G%d\n", i, i-1)
		}
		return s + fmt.Sprintf("quorum G%d\n", depth)
	}
	if _, err := cosign.ParsePolicy([]byte(nest(cosign.MaxNesting))); err != nil {
		t.Errorf("nesting %d: %v", cosign.MaxNesting, err)
	}
	_, err = cosign.ParsePolicy([]byte(nest(cosign.MaxNesting + 1)))
	if pe := (*cosign.PolicyError)(nil); !errors.As(err, &pe) || pe.Line != cosign.MaxNesting+2 || !strings.Contains(err.Error(), "nests") {
		t.Errorf("nesting %d: %v", cosign.MaxNesting+1, err)
	}

	// Groups: one per witness, then one more.
	var g strings.Builder
	g.WriteString(strings.Join(text[:cosign.MaxWitnesses], ""))
	for i := range cosign.MaxGroups {
		fmt.Fprintf(&g, "group G%d any W%d\n", i, i)
	}
	if _, err := cosign.ParsePolicy([]byte(g.String() + "quorum G0\n")); err != nil {
		t.Errorf("%d groups: %v", cosign.MaxGroups, err)
	}
	g.WriteString("group H any G0\nquorum H\n")
	_, err = cosign.ParsePolicy([]byte(g.String()))
	if pe := (*cosign.PolicyError)(nil); !errors.As(err, &pe) || pe.Line != cosign.MaxWitnesses+cosign.MaxGroups+1 || !strings.Contains(err.Error(), "groups") {
		t.Errorf("%d groups: %v", cosign.MaxGroups+1, err)
	}

	// Size and lines.
	big := strings.Repeat("#\n", cosign.MaxPolicyLines) + "quorum none\n"
	if _, err := cosign.ParsePolicy([]byte(big)); err == nil || !strings.Contains(err.Error(), "lines exceed") {
		t.Errorf("%d lines: %v", cosign.MaxPolicyLines+1, err)
	}
	huge := strings.Repeat("#", cosign.MaxPolicySize) + "\nquorum none\n"
	if _, err := cosign.ParsePolicy([]byte(huge)); err == nil || !strings.Contains(err.Error(), "bytes exceed") {
		t.Errorf("%d bytes: %v", len(huge), err)
	}
}

func TestSatisfiedErrors(t *testing.T) {
	log, logVKey := logKey(t, "example.com/log")
	otherLog, _ := logKey(t, "example.com/other")
	w1, w2, stranger := witness(t, "w1.example"), witness(t, "w2.example"), witness(t, "stranger.example")
	policy := fmt.Sprintf("log %s\nwitness A %s\nwitness B %s\ngroup G any A B\nquorum G\n", logVKey, w1.Verifier(), w2.Verifier())
	p, err := cosign.ParsePolicy([]byte(policy))
	if err != nil {
		t.Fatal(err)
	}
	text := checkpointText("example.com/log", 42, "satisfied")
	good := sign(t, text, log, w1)
	badW1 := rawSig(w1.Name(), w1.KeyHash(), testTime, make([]byte, 64))
	badLog := lastSig(t, sign(t, text, otherLog))
	badLog.Name, badLog.Hash = log.Name(), log.KeyHash()
	otherText := checkpointText("example.com/other", 42, "satisfied")

	for _, tt := range []struct {
		name string
		msg  []byte
		ok   bool
		err  error
	}{
		{"log and A", good, true, nil},
		{"log only", sign(t, text, log), false, nil},
		{"log and a stranger", sign(t, text, log, stranger), false, nil},
		{"duplicate cosignature line", withLines(good, lastSig(t, good)), true, nil},
		{"bad cosignature by A", withLines(sign(t, text, log, w2), badW1), false, cosign.ErrInvalidCosignature},
		{"A's cosignature of another checkpoint", withLines(sign(t, text, log), lastSig(t, sign(t, checkpointText("example.com/log", 43, "satisfied"), w1))), false, cosign.ErrInvalidCosignature},
		{"bad log signature", withLines(sign(t, text, w1), badLog), false, tlog.ErrCheckpointSignature},
		{"no log signature", sign(t, text, w1, w2), false, tlog.ErrCheckpointSignature},
		{"signed by another log", sign(t, text, otherLog, w1), false, tlog.ErrCheckpointSignature},
		{"origin is not the log's", sign(t, otherText, log, w1), false, tlog.ErrCheckpointSignature},
		{"not a checkpoint", withLines(sign(t, "hello\n", log), badW1), false, tlog.ErrBadCheckpoint},
		{"no signatures", []byte(text + "\n"), false, tlog.ErrBadCheckpoint},
		{"no blank line", []byte(text), false, tlog.ErrBadCheckpoint},
		{"garbage signature line", append(sign(t, text, log, w1), "— x\n"...), false, tlog.ErrBadCheckpoint},
		{"too large", append(sign(t, text, log, w1), strings.Repeat("— x AAAAAAA=\n", tlog.MaxCheckpointSize/12)...), false, tlog.ErrBadCheckpoint},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ok, d, err := p.Satisfied(tt.msg)
			if tt.err != nil {
				if !errors.Is(err, tt.err) || ok || d != nil {
					t.Fatalf("Satisfied = %v, %+v, %v; want error %v", ok, d, err, tt.err)
				}
				return
			}
			if err != nil || ok != tt.ok {
				t.Fatalf("Satisfied = %v, %v; want %v", ok, err, tt.ok)
			}
		})
	}
}

func TestSatisfiedWithoutLogs(t *testing.T) {
	w1, w2 := witness(t, "w1.example"), witness(t, "w2.example")
	log, _ := logKey(t, "example.com/log")
	text := checkpointText("example.com/log", 1, "nolog")
	for _, tt := range []struct {
		policy string
		msg    []byte
		ok     bool
	}{
		{"quorum none\n", sign(t, text, log), true},
		{"quorum none\n", sign(t, text, w1), true},
		{"witness A " + w1.Verifier().String() + "\nquorum A\n", sign(t, text, log), false},
		{"witness A " + w1.Verifier().String() + "\nquorum A\n", sign(t, text, w1), true},
		{"witness A " + w1.Verifier().String() + "\nquorum A\n", sign(t, text, w2), false},
	} {
		p, err := cosign.ParsePolicy([]byte(tt.policy))
		if err != nil {
			t.Fatal(err)
		}
		ok, d, err := p.Satisfied(tt.msg)
		if err != nil || ok != tt.ok || d.Log != "" {
			t.Errorf("%q on %q: Satisfied = %v, %+v, %v; want %v", tt.policy, tt.msg, ok, d, err, tt.ok)
		}
	}
}

func TestAllOf(t *testing.T) {
	ws := []*cosign.Signer{witness(t, "b.example/w"), witness(t, "c.example/w"), witness(t, "d.example/w")}
	var vs []note.Verifier
	for _, w := range ws {
		vs = append(vs, w.Verifier())
	}
	p, err := cosign.AllOf(vs...)
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("witness b.example/w %s\nwitness c.example/w %s\nwitness d.example/w %s\ngroup +all all b.example/w c.example/w d.example/w\nquorum +all\n",
		vs[0], vs[1], vs[2])
	if p.String() != want {
		t.Errorf("String() =\n%s\nwant\n%s", p, want)
	}
	checkString(t, p)
	text := checkpointText("a.example/log", 9, "allof")
	for mask := range 8 {
		var signers []note.Signer
		for i, w := range ws {
			if mask&(1<<i) != 0 {
				signers = append(signers, w)
			}
		}
		if len(signers) == 0 {
			continue
		}
		ok, d, err := p.Satisfied(sign(t, text, signers...))
		if err != nil || ok != (mask == 7) || len(d.Cosigned) != len(signers) {
			t.Errorf("mask %b: Satisfied = %v, %+v, %v", mask, ok, d, err)
		}
	}
	// No signature at all: not satisfied, no error (no logs to check).
	if ok, _, err := p.Satisfied([]byte(text + "\n— x AAAAAAA=\n")); ok || err != nil {
		t.Errorf("unsigned: %v, %v", ok, err)
	}

	one, err := cosign.AllOf(vs[0])
	if err != nil || one.String() != "witness b.example/w "+vs[0].(*cosign.Verifier).String()+"\nquorum b.example/w\n" {
		t.Errorf("AllOf(one) = %v, %v", one, err)
	}

	_, logVKey := logKey(t, "a.example/log")
	logV, _ := note.NewVerifier(logVKey)
	sameName, _ := cosign.NewVerifierFromPublicKey("b.example/w", testKey("other").Public().(ed25519.PublicKey))
	for _, tt := range []struct {
		name string
		vs   []note.Verifier
	}{
		{"none", nil},
		{"duplicate", []note.Verifier{vs[0], vs[0]}},
		{"same name, other key", []note.Verifier{vs[0], sameName}},
		{"log verifier", []note.Verifier{vs[0], logV}},
		{"nil", []note.Verifier{(*cosign.Verifier)(nil)}},
	} {
		if _, err := cosign.AllOf(tt.vs...); !errors.Is(err, cosign.ErrBadPolicy) {
			t.Errorf("AllOf(%s) error %v, want ErrBadPolicy", tt.name, err)
		}
	}
}

func TestPolicyAccessorsCopy(t *testing.T) {
	text, _, _ := specPolicy(t)
	p, err := cosign.ParsePolicy([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	ws := p.Witnesses()
	ws[0].Name = "changed"
	if reflect.DeepEqual(ws, p.Witnesses()) {
		t.Error("Witnesses() shares its slice with the policy")
	}
}

func TestZeroPolicy(t *testing.T) {
	log, _ := logKey(t, "example.com/log")
	msg := sign(t, checkpointText("example.com/log", 1, "zero"), log)
	for _, p := range []*cosign.Policy{nil, {}} {
		if ok, _, err := p.Satisfied(msg); ok || !errors.Is(err, cosign.ErrBadPolicy) {
			t.Errorf("%#v.Satisfied = %v, %v; want ErrBadPolicy", p, ok, err)
		}
	}
}
