package cosign

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

// Limits on a policy (c2sp.org/tlog-policy, "Implementation limits", asks
// implementations to support at least 32 logs, 32 witnesses and 32 groups).
const (
	MaxPolicySize  = 256 << 10 // bytes of policy text
	MaxPolicyLines = 2048      // lines, comments and blank lines included
	MaxLogs        = 256
	MaxWitnesses   = 256
	MaxGroups      = 256
	// MaxNesting bounds how deep groups nest: a group of witnesses has depth
	// 1, a group with a member group of depth d has depth d+1.
	MaxNesting = 16
)

// NoQuorum is the predefined name of the empty quorum (c2sp.org/tlog-policy,
// "Defining the quorum"): "quorum none" requires no cosignatures.
const NoQuorum = "none"

// ErrBadPolicy is wrapped by every error for a policy that is malformed or
// breaks a rule of c2sp.org/tlog-policy.
var ErrBadPolicy = errors.New("malformed policy")

// PolicyError is the error for a malformed policy. It wraps ErrBadPolicy.
type PolicyError struct {
	Line int // 1-based line of the policy text, or 0 for the whole policy
	Msg  string
}

func (e *PolicyError) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("%v: %s", ErrBadPolicy, e.Msg)
	}
	return fmt.Sprintf("%v: line %d: %s", ErrBadPolicy, e.Line, e.Msg)
}

func (e *PolicyError) Unwrap() error { return ErrBadPolicy }

// Log is a log of a policy (c2sp.org/tlog-policy, "Defining a log"). Its key
// name is the log's origin.
type Log struct {
	Verifier note.Verifier
	VKey     string
	URL      string // "" if none
}

// Witness is a witness of a policy (c2sp.org/tlog-policy, "Defining a
// witness").
type Witness struct {
	Name     string // the name the policy refers to it by
	Verifier *Verifier
	URL      string // "" if none
}

// Policy is a c2sp.org/tlog-policy trust policy: the logs that may sign a
// checkpoint, the witnesses that may cosign it, and the quorum of witnesses
// whose cosignatures make it valid. Build one with [ParsePolicy] or [AllOf].
// A Policy is immutable and safe for concurrent use. The zero Policy is not a
// policy: Satisfied refuses it rather than treat it as "quorum none".
type Policy struct {
	built     bool
	logs      []Log
	witnesses []Witness
	groups    []group
	quorum    *ref // nil: "quorum none"
}

type group struct {
	name    string
	k       int
	members []ref
	depth   int
}

// ref names a witness or a group by its index.
type ref struct {
	group bool
	index int
}

// Logs returns the policy's logs, in policy order.
func (p *Policy) Logs() []Log { return append([]Log(nil), p.logs...) }

// Witnesses returns the policy's witnesses, in policy order.
func (p *Policy) Witnesses() []Witness { return append([]Witness(nil), p.witnesses...) }

// String returns the policy in the text format of c2sp.org/tlog-policy: logs,
// witnesses, groups in definition order, then the quorum, without comments.
// Thresholds are written "all" when k = n, else "any" when k = 1, else k.
// ParsePolicy(String()) gives back an equivalent policy.
func (p *Policy) String() string {
	var b strings.Builder
	opt := func(url string) string {
		if url == "" {
			return ""
		}
		return " " + url
	}
	for _, l := range p.logs {
		fmt.Fprintf(&b, "log %s%s\n", l.VKey, opt(l.URL))
	}
	for _, w := range p.witnesses {
		fmt.Fprintf(&b, "witness %s %s%s\n", w.Name, w.Verifier, opt(w.URL))
	}
	for _, g := range p.groups {
		k := strconv.Itoa(g.k)
		if g.k == len(g.members) {
			k = "all"
		} else if g.k == 1 {
			k = "any"
		}
		fmt.Fprintf(&b, "group %s %s", g.name, k)
		for _, m := range g.members {
			b.WriteString(" " + p.name(m))
		}
		b.WriteString("\n")
	}
	q := NoQuorum
	if p.quorum != nil {
		q = p.name(*p.quorum)
	}
	fmt.Fprintf(&b, "quorum %s\n", q)
	return b.String()
}

func (p *Policy) name(r ref) string {
	if r.group {
		return p.groups[r.index].name
	}
	return p.witnesses[r.index].Name
}

// builder checks the rules of c2sp.org/tlog-policy as definitions are added.
type builder struct {
	p         Policy
	names     map[string]ref
	keys      map[string]string // raw Ed25519 public key → what it is
	ids       map[string]string // name+key ID → what it is
	listed    map[string]string // member name → group that lists it
	sawQuorum bool
}

func newBuilder() *builder {
	return &builder{names: map[string]ref{}, keys: map[string]string{}, ids: map[string]string{}, listed: map[string]string{}}
}

// addKey records a key, refusing duplicates (c2sp.org/tlog-policy, "Public
// key representation": two vkeys wrapping the same public key are duplicates).
// It also refuses two keys with the same name and key ID, which signed-note
// verifiers could not tell apart.
func (b *builder) addKey(what, name string, id uint32, pub []byte) error {
	if prev, ok := b.keys[string(pub)]; ok {
		return fmt.Errorf("%s has the same public key as %s", what, prev)
	}
	nid := fmt.Sprintf("%s+%08x", name, id)
	if prev, ok := b.ids[nid]; ok {
		return fmt.Errorf("%s has the same key name and ID (%s) as %s", what, nid, prev)
	}
	b.keys[string(pub)] = what
	b.ids[nid] = what
	return nil
}

func (b *builder) addLog(vkey, url string) error {
	if len(b.p.logs) == MaxLogs {
		return fmt.Errorf("more than %d logs", MaxLogs)
	}
	name, typ, pub, id, err := splitVKey(vkey)
	if err != nil {
		return fmt.Errorf("log key: %v", err)
	}
	if typ != 0x01 || len(pub) != 32 {
		return fmt.Errorf("log key must be a signed-note Ed25519 key (type 0x01, 32 bytes), not type 0x%02x with %d bytes", typ, len(pub))
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return fmt.Errorf("log key: %v", err)
	}
	if err := b.addKey(fmt.Sprintf("log %s", name), name, id, pub); err != nil {
		return err
	}
	b.p.logs = append(b.p.logs, Log{Verifier: v, VKey: vkey, URL: url})
	return nil
}

func (b *builder) addWitness(name string, v *Verifier, url string) error {
	if err := b.define(name); err != nil {
		return err
	}
	if len(b.p.witnesses) == MaxWitnesses {
		return fmt.Errorf("more than %d witnesses", MaxWitnesses)
	}
	if err := b.addKey(fmt.Sprintf("witness %s", name), v.name, v.id, v.pub); err != nil {
		return err
	}
	b.names[name] = ref{index: len(b.p.witnesses)}
	b.p.witnesses = append(b.p.witnesses, Witness{Name: name, Verifier: v, URL: url})
	return nil
}

// define checks that name may be defined as a witness or group name.
func (b *builder) define(name string) error {
	if name == NoQuorum {
		return fmt.Errorf("%q is predefined and can't be redefined", NoQuorum)
	}
	if _, ok := b.names[name]; ok {
		return fmt.Errorf("duplicate name %q", name)
	}
	return nil
}

// addGroup adds a group; k < 0 means "all".
func (b *builder) addGroup(name string, k int, members []string) error {
	if err := b.define(name); err != nil {
		return err
	}
	if len(b.p.groups) == MaxGroups {
		return fmt.Errorf("more than %d groups", MaxGroups)
	}
	if len(members) == 0 {
		return fmt.Errorf("group %q has no members", name)
	}
	if k < 0 {
		k = len(members)
	}
	if k < 1 || k > len(members) {
		return fmt.Errorf("group %q: threshold %d not in [1, %d]", name, k, len(members))
	}
	g := group{name: name, k: k}
	seen := map[string]bool{}
	for _, m := range members {
		if m == NoQuorum {
			return fmt.Errorf("group %q: %q can't be a group member", name, NoQuorum)
		}
		r, ok := b.names[m]
		if !ok {
			return fmt.Errorf("group %q: member %q is not defined on a preceding line", name, m)
		}
		if seen[m] {
			return fmt.Errorf("group %q lists %q twice", name, m)
		}
		if prev, ok := b.listed[m]; ok {
			return fmt.Errorf("group %q: %q is already a member of group %q; a name may be listed as a member only once", name, m, prev)
		}
		seen[m] = true
		d := 0
		if r.group {
			d = b.p.groups[r.index].depth
		}
		g.depth = max(g.depth, d+1)
		g.members = append(g.members, r)
	}
	if g.depth > MaxNesting {
		return fmt.Errorf("group %q nests %d deep, more than %d", name, g.depth, MaxNesting)
	}
	for _, m := range members {
		b.listed[m] = name
	}
	b.names[name] = ref{group: true, index: len(b.p.groups)}
	b.p.groups = append(b.p.groups, g)
	return nil
}

func (b *builder) setQuorum(name string) error {
	if b.sawQuorum {
		return errors.New("a policy has exactly one quorum line; this is the second")
	}
	b.sawQuorum = true
	if name == NoQuorum {
		return nil
	}
	r, ok := b.names[name]
	if !ok {
		return fmt.Errorf("quorum %q is not defined on a preceding line", name)
	}
	b.p.quorum = &r
	return nil
}

// ParsePolicy parses a policy in the text format of c2sp.org/tlog-policy,
// "Policy file syntax and structure". Errors are [*PolicyError] values naming
// the line. Beyond the limits in the package documentation, it is strict:
//
//   - only tab, newline, 0x20–0x7E and 0x80–0xFF may appear ("Character
//     set"), so CRLF line endings are refused;
//   - a comment is a line whose first non-blank character is '#', and a URL
//     may not start with '#' (it would be a comment misplaced at the end of
//     a line);
//   - unknown keywords, missing or extra fields, an undefined, predefined or
//     duplicate name, k outside [1, n] or not in canonical decimal, and a
//     missing or second quorum line are errors;
//   - duplicate keys (same public key, among logs and witnesses both) are
//     errors;
//   - a name may be listed as a group member only once in the whole policy,
//     so that each witness contributes to the quorum in only one way ("Defining
//     a witness group");
//   - log keys must be signed-note Ed25519 keys (type 0x01) and witness keys
//     cosignature keys (type 0x04).
//
// The last line need not end with a newline.
func ParsePolicy(text []byte) (*Policy, error) {
	if len(text) > MaxPolicySize {
		return nil, &PolicyError{0, fmt.Sprintf("%d bytes exceed %d", len(text), MaxPolicySize)}
	}
	lines := bytes.Split(text, []byte("\n"))
	if len(lines[len(lines)-1]) == 0 {
		lines = lines[:len(lines)-1]
	}
	if len(lines) > MaxPolicyLines {
		return nil, &PolicyError{0, fmt.Sprintf("%d lines exceed %d", len(lines), MaxPolicyLines)}
	}
	b := newBuilder()
	for i, line := range lines {
		if err := b.parseLine(line); err != nil {
			return nil, &PolicyError{i + 1, err.Error()}
		}
	}
	if !b.sawQuorum {
		return nil, &PolicyError{0, "no quorum line (write \"quorum none\" to require no cosignatures)"}
	}
	p := b.p
	p.built = true
	return &p, nil
}

func (b *builder) parseLine(line []byte) error {
	for _, c := range line {
		if c < 0x20 && c != '\t' || c == 0x7f {
			hint := ""
			if c == '\r' {
				hint = " (CRLF line endings are not allowed)"
			}
			return fmt.Errorf("control character 0x%02x%s", c, hint)
		}
	}
	f := fields(line)
	if len(f) == 0 || f[0][0] == '#' {
		return nil
	}
	args := f[1:]
	switch f[0] {
	case "log":
		if len(args) < 1 || len(args) > 2 {
			return fmt.Errorf("want \"log <vkey> [<url>]\", got %d fields after log%s", len(args), commentHint(args))
		}
		url, err := optional(args, 1)
		if err != nil {
			return err
		}
		return b.addLog(args[0], url)
	case "witness":
		if len(args) < 2 || len(args) > 3 {
			return fmt.Errorf("want \"witness <name> <vkey> [<url>]\", got %d fields after witness%s", len(args), commentHint(args))
		}
		v, err := NewVerifier(args[1])
		if err != nil {
			return fmt.Errorf("witness %q: %v", args[0], err)
		}
		url, err := optional(args, 2)
		if err != nil {
			return err
		}
		return b.addWitness(args[0], v, url)
	case "group":
		if len(args) < 3 {
			return fmt.Errorf("want \"group <name> all|any|<k> <name>...\" with at least one member")
		}
		k, err := threshold(args[1])
		if err != nil {
			return fmt.Errorf("group %q: %v", args[0], err)
		}
		return b.addGroup(args[0], k, args[2:])
	case "quorum":
		if len(args) != 1 {
			return fmt.Errorf("want \"quorum <name>\", got %d fields after quorum%s", len(args), commentHint(args))
		}
		return b.setQuorum(args[0])
	}
	return fmt.Errorf("unknown keyword %q (want log, witness, group or quorum)", f[0])
}

// fields splits a line at runs of spaces and tabs, and only those
// (c2sp.org/tlog-policy, "Structure"): octets with the high bit set are
// opaque, never whitespace.
func fields(line []byte) []string {
	var f []string
	for _, w := range bytes.FieldsFunc(line, func(r rune) bool { return r == ' ' || r == '\t' }) {
		f = append(f, string(w))
	}
	return f
}

// optional returns the optional URL field args[i], or "".
func optional(args []string, i int) (string, error) {
	if i >= len(args) {
		return "", nil
	}
	if strings.HasPrefix(args[i], "#") {
		return "", fmt.Errorf("URL %q starts with '#' (comments must be on a line of their own)", args[i])
	}
	return args[i], nil
}

func commentHint(args []string) string {
	for _, a := range args {
		if strings.HasPrefix(a, "#") {
			return " (comments must be on a line of their own)"
		}
	}
	return ""
}

// threshold parses "all" (returned as -1), "any" or a decimal k without sign
// or leading zeros.
func threshold(s string) (int, error) {
	switch s {
	case "all":
		return -1, nil
	case "any":
		return 1, nil
	}
	if s == "" || len(s) > 9 || strings.Trim(s, "0123456789") != "" || s[0] == '0' {
		return 0, fmt.Errorf("threshold %q is not all, any or a decimal k >= 1", s)
	}
	return strconv.Atoi(s)
}

// AllOf returns tillit's default policy, "every other party": every one of
// witnesses must cosign. Each witness is named in the policy by its key
// name; with more than one, the quorum is a group named "+all", a name no
// key can have. The policy lists no logs, so [Policy.Satisfied] checks no log
// signature: open the checkpoint with tlog.OpenCheckpoint first. Each witness
// must be a [*Verifier].
func AllOf(witnesses ...note.Verifier) (*Policy, error) {
	if len(witnesses) == 0 {
		return nil, &PolicyError{0, "AllOf needs at least one witness (a policy with no witnesses is \"quorum none\")"}
	}
	b := newBuilder()
	var names []string
	for i, w := range witnesses {
		v, ok := w.(*Verifier)
		if !ok || v == nil {
			return nil, &PolicyError{0, fmt.Sprintf("witness %d is a %T, not a c2sp.org/tlog-cosignature *cosign.Verifier", i, w)}
		}
		if err := b.addWitness(v.name, v, ""); err != nil {
			return nil, &PolicyError{0, err.Error()}
		}
		names = append(names, v.name)
	}
	q := names[0]
	if len(names) > 1 {
		q = "+all"
		if err := b.addGroup(q, -1, names); err != nil {
			return nil, &PolicyError{0, err.Error()}
		}
	}
	if err := b.setQuorum(q); err != nil {
		return nil, &PolicyError{0, err.Error()}
	}
	p := b.p
	p.built = true
	return &p, nil
}
