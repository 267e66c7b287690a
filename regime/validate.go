package regime

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"io/fs"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/tillit/tillit/cosign"
	"github.com/tillit/tillit/statement"
	"golang.org/x/mod/sumdb/note"
)

// Bounds on settings (spec section "Regime file").
const (
	maxTitleLen       = 256
	maxVersion        = 1 << 31
	maxClockTolerance = 10 * time.Minute
	minHeartbeat      = 100 * time.Millisecond
	maxMinRefs        = 16
	maxQuota          = 1000
	maxEndpointLen    = 255
	tlsPinPrefix      = "ed25519:"
)

func invalid(field, format string, args ...any) *Error {
	return &Error{Field: field, Err: ErrInvalid, Msg: fmt.Sprintf(format, args...)}
}

func unsafe(field, format string, args ...any) *Error {
	return &Error{Field: field, Err: ErrUnsafe, Msg: fmt.Sprintf(format, args...)}
}

// build validates a decoded file and returns the regime it describes.
func build(f *fileRegime, fsys fs.FS) (*Regime, error) {
	r := &Regime{parties: map[string]int{}, types: map[string]int{}}
	steps := []func() error{
		func() error { return r.buildHeader(f) },
		func() error { return r.buildParties(f.Party) },
		func() error { return r.buildTypes(f.Type, fsys) },
		func() error { return r.buildWitnessPolicy(f.WitnessPolicy) },
		func() error { return r.buildInspections(f.Inspections) },
		r.checkTimings,
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, err
		}
	}
	r.canonical = encodeCanonical(r)
	r.hash = hashOf(r.canonical)
	return r, nil
}

func (r *Regime) buildHeader(f *fileRegime) error {
	switch {
	case f.ID == "":
		return invalid("id", "is required: the regime's name, like \"nato-russia-2022\"")
	case !statement.ValidName(f.ID):
		return invalid("id", "%q is not a valid name (1 to 64 of A-Z a-z 0-9 . _ -)", truncate(f.ID))
	}
	r.ID = f.ID
	switch {
	case f.Title == "":
		return invalid("title", "is required")
	case len(f.Title) > maxTitleLen:
		return invalid("title", "is %d bytes, more than %d", len(f.Title), maxTitleLen)
	case strings.IndexFunc(f.Title, unicode.IsControl) >= 0:
		return invalid("title", "must be one line without control characters")
	}
	r.Title = f.Title
	switch {
	case f.Version == 0:
		return invalid("version", "is required: 1 for a new regime, previous version + 1 for an amendment")
	case f.Version < 0 || f.Version > maxVersion:
		return invalid("version", "must be from 1 to %d, not %d", maxVersion, f.Version)
	}
	r.Version = f.Version
	switch {
	case f.Version == 1 && f.Previous != nil:
		return invalid("previous", "version 1 amends nothing; remove previous or raise the version")
	case f.Version > 1 && f.Previous == nil:
		return invalid("previous", "is required for version %d: the hash of version %d (tillit regime hash)", f.Version, f.Version-1)
	case f.Previous != nil:
		h, err := ParseHash(*f.Previous)
		if err != nil {
			return invalid("previous", "%v", err)
		}
		r.Previous = &h
	}
	r.LogAccess = AccessParties
	if f.LogAccess != nil {
		switch a := LogAccess(*f.LogAccess); a {
		case AccessParties, AccessPublic:
			r.LogAccess = a
		default:
			return invalid("log_access", "must be %q or %q, not %q", AccessParties, AccessPublic, truncate(*f.LogAccess))
		}
	}
	var err error
	if r.ClockTolerance, err = requiredDuration("clock_tolerance", f.ClockTolerance); err != nil {
		return err
	}
	if r.ClockTolerance > maxClockTolerance {
		return unsafe("clock_tolerance", "%s is more than %s: it would let a party backdate statements and receipts by that much",
			human(r.ClockTolerance), human(maxClockTolerance))
	}
	if f.Heartbeat != nil && isZeroDuration(*f.Heartbeat) {
		return unsafe("heartbeat", "must not be zero: checkpoints would never be pushed again, so a lost push would go unnoticed")
	}
	if r.Heartbeat, err = requiredDuration("heartbeat", f.Heartbeat); err != nil {
		return err
	}
	if r.Heartbeat < minHeartbeat {
		return unsafe("heartbeat", "%s is less than %s: nodes would flood each other with pushes", human(r.Heartbeat), human(minHeartbeat))
	}
	return nil
}

func requiredDuration(field string, s *string) (time.Duration, error) {
	if s == nil {
		return 0, invalid(field, "is required")
	}
	return duration(field, *s)
}

func duration(field, s string) (time.Duration, error) {
	d, msg := parseDuration(s)
	if msg != "" {
		return 0, invalid(field, "%s", msg)
	}
	return d, nil
}

func isZeroDuration(s string) bool {
	d, err := time.ParseDuration(s)
	return (err == nil && d == 0) || s == "0d"
}

func (r *Regime) buildParties(fps []fileParty) error {
	if len(fps) > MaxParties {
		return invalid("party", "%d parties, more than %d", len(fps), MaxParties)
	}
	keys := map[string]string{} // Ed25519 public key -> what uses it
	endpoints := map[string]string{}
	full := 0
	for i, fp := range fps {
		p, err := r.buildParty(i, fp, keys, endpoints)
		if err != nil {
			return err
		}
		r.parties[p.Name] = len(r.Parties)
		r.Parties = append(r.Parties, p)
		if p.Role == RoleParty {
			full++
		}
	}
	if full < 2 {
		return invalid("party", "the regime has %d parties with role %q; it needs at least 2", full, RoleParty)
	}
	return nil
}

func (r *Regime) buildParty(i int, fp fileParty, keys, endpoints map[string]string) (Party, error) {
	field := func(f string) string { return partyField(i, fp.Name, f) }
	var p Party
	switch {
	case fp.Name == "":
		return p, invalid(field("name"), "is required")
	case !statement.ValidName(fp.Name):
		return p, invalid(field("name"), "%q is not a valid name (1 to 64 of A-Z a-z 0-9 . _ -)", truncate(fp.Name))
	case r.Party(fp.Name) != nil:
		return p, invalid(partyField(i, "", "name"), "duplicate party name %q", fp.Name)
	}
	p.Name = fp.Name
	switch Role(fp.Role) {
	case RoleParty, RoleObserver:
		p.Role = Role(fp.Role)
	case "":
		return p, invalid(field("role"), "is required: %q or %q", RoleParty, RoleObserver)
	default:
		return p, invalid(field("role"), "must be %q or %q, not %q", RoleParty, RoleObserver, truncate(fp.Role))
	}
	if err := r.buildLogKey(&p, fp.LogKey, field("log_key"), keys); err != nil {
		return p, err
	}
	if err := r.buildCosignKey(&p, fp.CosignKey, field("cosign_key"), keys); err != nil {
		return p, err
	}
	if err := buildTLSKey(&p, fp.TLSKey, field("tls_key"), keys); err != nil {
		return p, err
	}
	switch {
	case len(fp.Endpoints) == 0:
		return p, invalid(field("endpoints"), "at least one https URL is required")
	case len(fp.Endpoints) > MaxEndpoints:
		return p, invalid(field("endpoints"), "%d endpoints, more than %d", len(fp.Endpoints), MaxEndpoints)
	}
	for j, e := range fp.Endpoints {
		f := fmt.Sprintf("%s[%d]", field("endpoints"), j)
		if msg := checkEndpoint(e); msg != "" {
			return p, invalid(f, "%s", msg)
		}
		if other, ok := endpoints[e]; ok {
			return p, unsafe(f, "%s is also an endpoint of %s: each endpoint must reach one party", e, other)
		}
		endpoints[e] = "party " + p.Name
	}
	p.Endpoints = slices.Clone(fp.Endpoints)
	return p, nil
}

func (r *Regime) buildLogKey(p *Party, vkey, field string, keys map[string]string) error {
	origin := r.Origin(p.Name)
	if vkey == "" {
		return invalid(field, "is required: the verifier key of the party's log, named %q (tillit keygen --name %s)", origin, origin)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return invalid(field, "%q is not an Ed25519 signed-note verifier key (<name>+<id>+<key>)", truncate(vkey))
	}
	if v.Name() != origin {
		return invalid(field, "key is named %q, want %q: a party's log key must be named after its log's origin <id>/<party>", truncate(v.Name()), origin)
	}
	_, b64, _ := strings.Cut(strings.TrimPrefix(vkey, v.Name()+"+"), "+")
	raw, _ := base64.StdEncoding.DecodeString(b64) // NewVerifier checked it
	if len(raw) != 1+ed25519.PublicKeySize || raw[0] != 1 {
		return invalid(field, "not an Ed25519 key")
	}
	pub := ed25519.PublicKey(raw[1:])
	if other, ok := keys[string(pub)]; ok {
		return unsafe(field, "same public key as %s: every key must belong to one party and have one use", other)
	}
	keys[string(pub)] = "the log key of party " + p.Name
	p.LogKey, p.verifier = vkey, v
	return nil
}

// buildCosignKey parses a party's receipt key: a c2sp.org/tlog-cosignature
// verifier key (type 0x04) named like the log key, "<id>/<party>". The name
// says whose receipt a cosignature is; the key ID, which hashes the type
// byte too, tells it apart from the log key's signatures.
func (r *Regime) buildCosignKey(p *Party, vkey, field string, keys map[string]string) error {
	origin := r.Origin(p.Name)
	if vkey == "" {
		return invalid(field, "is required: the party's receipt key, a c2sp.org/tlog-cosignature verifier key (type 0x04) named %q, as cosign.GenerateKey makes", origin)
	}
	v, err := cosign.NewVerifier(vkey)
	if err != nil {
		return invalid(field, "%q is not a cosigner verifier key (<name>+<id>+base64(0x04 || key)): %s",
			truncate(vkey), strings.TrimPrefix(err.Error(), cosign.ErrMalformedKey.Error()+": "))
	}
	if v.Name() != origin {
		return invalid(field, "key is named %q, want %q: a party's cosign key is named like its log key, <id>/<party>", truncate(v.Name()), origin)
	}
	pub := v.PublicKey()
	if keys[string(pub)] == "the log key of party "+p.Name {
		return unsafe(field, "same public key as the party's log_key: receipts (cosignatures, type 0x04) must not be made with the log's signed-note key (type 0x01); generate a separate key")
	}
	if other, ok := keys[string(pub)]; ok {
		return unsafe(field, "same public key as %s: every key must belong to one party and have one use", other)
	}
	keys[string(pub)] = "the cosign key of party " + p.Name
	p.CosignKey, p.cosigner = vkey, v
	return nil
}

func buildTLSKey(p *Party, pin, field string, keys map[string]string) error {
	const want = "want ed25519:<standard base64 of the 32-byte public key>"
	b64, ok := strings.CutPrefix(pin, tlsPinPrefix)
	switch {
	case pin == "":
		return invalid(field, "is required (%s)", want)
	case !ok:
		return invalid(field, "%q is not an Ed25519 key pin (%s)", truncate(pin), want)
	}
	raw, err := base64.StdEncoding.Strict().DecodeString(b64)
	if err != nil || len(raw) != ed25519.PublicKeySize || base64.StdEncoding.EncodeToString(raw) != b64 {
		return invalid(field, "%q is not an Ed25519 key pin (%s)", truncate(pin), want)
	}
	if other, ok := keys[string(raw)]; ok {
		return unsafe(field, "same public key as %s: every key must belong to one party and have one use", other)
	}
	keys[string(raw)] = "the TLS key of party " + p.Name
	p.TLSKey = ed25519.PublicKey(raw)
	return nil
}

// checkEndpoint returns what is wrong with an endpoint URL, or "".
func checkEndpoint(e string) string {
	if len(e) > maxEndpointLen {
		return fmt.Sprintf("URL is %d bytes, more than %d", len(e), maxEndpointLen)
	}
	u, err := url.Parse(e)
	switch {
	case err != nil || strings.ContainsAny(e, " \t\n"):
		return fmt.Sprintf("%q is not a URL", truncate(e))
	case u.Scheme != "https":
		return fmt.Sprintf("%q must be an https:// URL", truncate(e))
	case u.Host == "" || u.Hostname() == "":
		return fmt.Sprintf("%q has no host", truncate(e))
	case u.User != nil:
		return fmt.Sprintf("%q must not hold credentials", truncate(e))
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(e, "#"):
		return fmt.Sprintf("%q must not have a query or fragment", truncate(e))
	}
	return ""
}

func (r *Regime) buildTypes(fts []fileType, fsys fs.FS) error {
	switch {
	case len(fts) == 0:
		return invalid("type", "the regime defines no statement types")
	case len(fts) > MaxTypes:
		return invalid("type", "%d types, more than %d", len(fts), MaxTypes)
	}
	for i, ft := range fts {
		t, err := r.buildType(i, ft, fsys)
		if err != nil {
			return err
		}
		r.types[t.Name] = len(r.Types)
		r.Types = append(r.Types, t)
	}
	return r.checkReplies()
}

func (r *Regime) buildType(i int, ft fileType, fsys fs.FS) (Type, error) {
	field := func(f string) string { return typeField(i, ft.Name, f) }
	var t Type
	switch {
	case ft.Name == "":
		return t, invalid(field("name"), "is required")
	case !statement.ValidName(ft.Name):
		return t, invalid(field("name"), "%q is not a valid name (1 to 64 of A-Z a-z 0-9 . _ -)", truncate(ft.Name))
	case r.Type(ft.Name) != nil:
		return t, invalid(typeField(i, "", "name"), "duplicate type name %q", ft.Name)
	}
	t.Name = ft.Name
	if ft.Schema == nil {
		return t, invalid(field("schema"), "is required: a JSON Schema, inline or the path of a file")
	}
	text, err := readSchema(*ft.Schema, fsys, field("schema"))
	if err != nil {
		return t, err
	}
	if t.schema, err = compileSchema(text, t.Name, field("schema")); err != nil {
		return t, err
	}
	t.Schema = text
	t.Precedence = statement.Routine
	if ft.Precedence != nil {
		if t.Precedence, err = statement.ParsePrecedence(*ft.Precedence); err != nil {
			return t, invalid(field("precedence"), "must be FLASH, IMMEDIATE, PRIORITY or ROUTINE, not %q", truncate(*ft.Precedence))
		}
	}
	if t.ReceiptWithin, err = requiredDuration(field("receipt_within"), ft.ReceiptWithin); err != nil {
		return t, err
	}
	if err := buildAck(&t, ft, field); err != nil {
		return t, err
	}
	if ft.MinRefs != nil {
		if *ft.MinRefs < 0 || *ft.MinRefs > maxMinRefs {
			return t, invalid(field("min_refs"), "must be from 0 to %d, not %d", maxMinRefs, *ft.MinRefs)
		}
		t.MinRefs = int(*ft.MinRefs)
	}
	return t, buildRules(&t, ft, field)
}

func buildAck(t *Type, ft fileType, field func(string) string) error {
	if ft.AckWithin == nil {
		if ft.ReplyType != nil {
			return invalid(field("reply_type"), "is set but ack_within is not: nothing would wait for the reply")
		}
		return nil
	}
	var err error
	if t.AckWithin, err = duration(field("ack_within"), *ft.AckWithin); err != nil {
		return err
	}
	if t.AckWithin < t.ReceiptWithin {
		return unsafe(field("ack_within"), "%s is shorter than receipt_within (%s): people cannot be held to answer faster than the network is allowed to deliver",
			human(t.AckWithin), human(t.ReceiptWithin))
	}
	t.ReplyType = "ack"
	if ft.ReplyType != nil {
		t.ReplyType = *ft.ReplyType
	}
	return nil
}

func buildRules(t *Type, ft fileType, field func(string) string) error {
	if n := ft.NoticeBefore; n != nil {
		if msg := checkFieldPath(n.Field); msg != "" {
			return invalid(field("notice_before.field"), "%s", msg)
		}
		d, err := requiredDuration(field("notice_before.at_least"), n.AtLeast)
		if err != nil {
			return err
		}
		t.NoticeBefore = &NoticeRule{Field: n.Field, AtLeast: d}
	}
	if n := ft.NotifyWithin; n != nil {
		if msg := checkFieldPath(n.Field); msg != "" {
			return invalid(field("notify_within.field"), "%s", msg)
		}
		d, err := requiredDuration(field("notify_within.within"), n.Within)
		if err != nil {
			return err
		}
		t.NotifyWithin = &NotifyRule{Field: n.Field, Within: d}
	}
	return nil
}

// checkFieldPath checks a rule's body field: member names joined by dots.
func checkFieldPath(p string) string {
	const want = "a body field such as \"launch_window.start\" (member names joined by dots)"
	if p == "" {
		return "is required: " + want
	}
	if len(p) > 256 {
		return "is longer than 256 bytes"
	}
	for seg := range strings.SplitSeq(p, ".") {
		if seg == "" || strings.IndexFunc(seg, unicode.IsControl) >= 0 {
			return fmt.Sprintf("%q is not %s", truncate(p), want)
		}
	}
	return ""
}

// checkReplies checks reply types once all types are known: each names a
// type that requires a reference, and no chain of replies loops.
func (r *Regime) checkReplies() error {
	for i := range r.Types {
		t := &r.Types[i]
		if t.ReplyType == "" {
			continue
		}
		field := typeField(i, t.Name, "reply_type")
		rt := r.Type(t.ReplyType)
		switch {
		case rt == nil && t.ReplyType == "ack":
			return invalid(field, "ack_within is set, so statements of this type are acknowledged by an \"ack\" statement, but the regime defines no type \"ack\" (define one, or set reply_type)")
		case rt == nil:
			return invalid(field, "no type %q in the regime", truncate(t.ReplyType))
		case rt.MinRefs < 1:
			return invalid(typeField(r.types[rt.Name], rt.Name, "min_refs"), "type %q answers %q (its reply_type), so it must refer to what it answers: set min_refs = 1", rt.Name, t.Name)
		}
		seen := []string{t.Name}
		for u := rt; u != nil && u.ReplyType != ""; u = r.Type(u.ReplyType) {
			if j := slices.Index(seen, u.Name); j >= 0 {
				loop := append(seen[j:], u.Name)
				return unsafe(typeField(r.types[loop[0]], loop[0], "reply_type"), "replies loop (%s): acknowledgments would never end", strings.Join(loop, " -> "))
			}
			seen = append(seen, u.Name)
		}
	}
	return nil
}

// checkTimings checks settings that only make sense relative to each other.
func (r *Regime) checkTimings() error {
	for i := range r.Types {
		t := &r.Types[i]
		if t.ReceiptWithin <= r.ClockTolerance {
			return unsafe(typeField(i, t.Name, "receipt_within"), "%s is not longer than clock_tolerance (%s): the deadline would be lost in clock error",
				human(t.ReceiptWithin), human(r.ClockTolerance))
		}
		if t.ReceiptWithin <= r.Heartbeat {
			return unsafe(typeField(i, t.Name, "receipt_within"), "%s is not longer than heartbeat (%s): a lost push is only repeated at the next heartbeat, after the deadline",
				human(t.ReceiptWithin), human(r.Heartbeat))
		}
		if n := t.NoticeBefore; n != nil && n.AtLeast <= r.ClockTolerance {
			return unsafe(typeField(i, t.Name, "notice_before.at_least"), "%s is not longer than clock_tolerance (%s): the rule could not be judged",
				human(n.AtLeast), human(r.ClockTolerance))
		}
		if n := t.NotifyWithin; n != nil && n.Within <= r.ClockTolerance {
			return unsafe(typeField(i, t.Name, "notify_within.within"), "%s is not longer than clock_tolerance (%s): the rule could not be judged",
				human(n.Within), human(r.ClockTolerance))
		}
	}
	return nil
}

func (r *Regime) buildWitnessPolicy(fw *fileWitness) error {
	var names []string
	var quorum any = "all"
	if fw != nil {
		names = fw.Witnesses
		if fw.Quorum != nil {
			quorum = fw.Quorum
		}
		if names != nil && len(names) == 0 {
			return invalid("witness_policy.witnesses", "is empty: leave it out for every party, or name the witnesses")
		}
	}
	if names == nil {
		for _, p := range r.Parties {
			names = append(names, p.Name)
		}
	}
	for i, w := range names {
		switch {
		case r.Party(w) == nil:
			return invalid(fmt.Sprintf("witness_policy.witnesses[%d]", i), "%q is not a party", truncate(w))
		case slices.Contains(names[:i], w):
			return invalid(fmt.Sprintf("witness_policy.witnesses[%d]", i), "%q is listed twice", w)
		}
	}
	r.WitnessPolicy.Witnesses = slices.Sorted(slices.Values(names))
	fewest, fewestLog := MaxParties+1, ""
	for _, p := range r.Parties {
		if n := len(r.Witnesses(p.Name)); n < fewest {
			fewest, fewestLog = n, p.Name
		}
	}
	if fewest == 0 {
		return unsafe("witness_policy.witnesses", "the log of %s would have no witness: nobody could detect a fork of it", fewestLog)
	}
	switch q := quorum.(type) {
	case string:
		switch q {
		case "all":
		case "any":
			r.WitnessPolicy.Quorum = 1
		default:
			return invalid("witness_policy.quorum", "must be \"all\", \"any\" or a number, not %q", truncate(q))
		}
	case int64:
		switch {
		case q < 1:
			return invalid("witness_policy.quorum", "must be at least 1, not %d", q)
		case q > int64(fewest):
			return invalid("witness_policy.quorum", "%d can never be met for the log of %s, which has %d witnesses", q, fewestLog, fewest)
		}
		r.WitnessPolicy.Quorum = int(q)
	default:
		return invalid("witness_policy.quorum", "must be \"all\", \"any\" or a number")
	}
	return nil
}

func (r *Regime) buildInspections(fi *fileInspections) error {
	if fi == nil {
		return nil
	}
	in := &Inspections{}
	for _, q := range []struct {
		field string
		v     *int64
		dst   *int
	}{
		{"inspections.per_host_per_year", fi.PerHostPerYear, &in.PerHostPerYear},
		{"inspections.per_inspector_per_year", fi.PerInspectorPerYear, &in.PerInspectorPerYear},
	} {
		switch {
		case q.v == nil:
			return invalid(q.field, "is required")
		case *q.v < 1 || *q.v > maxQuota:
			return invalid(q.field, "must be from 1 to %d, not %d", maxQuota, *q.v)
		}
		*q.dst = int(*q.v)
	}
	if in.PerInspectorPerYear > in.PerHostPerYear {
		return invalid("inspections.per_inspector_per_year", "%d is more than per_host_per_year (%d)", in.PerInspectorPerYear, in.PerHostPerYear)
	}
	r.Inspections = in
	return nil
}

// readSchema returns the schema text: the value itself if it is inline
// (starts with '{' after white space), else the file it names in fsys.
func readSchema(v string, fsys fs.FS, field string) (string, error) {
	if strings.HasPrefix(strings.TrimLeft(v, " \t\r\n"), "{") {
		return v, nil
	}
	switch {
	case v == "":
		return "", invalid(field, "is empty: give a JSON Schema object or the path of a file")
	case fsys == nil:
		return "", invalid(field, "%q: schema files cannot be read here; inline the schema", truncate(v))
	case !fs.ValidPath(v) || v == ".":
		return "", invalid(field, "%q must be a relative path with forward slashes inside the regime's directory, or an inline JSON object", truncate(v))
	}
	fi, err := fs.Stat(fsys, v)
	if err != nil {
		return "", invalid(field, "couldn't read schema file: %v", err)
	}
	if fi.Size() > MaxSchemaSize {
		return "", invalid(field, "schema file %s is %d bytes, more than %d", v, fi.Size(), MaxSchemaSize)
	}
	b, err := fs.ReadFile(fsys, v)
	if err != nil {
		return "", invalid(field, "couldn't read schema file: %v", err)
	}
	if !bytes.HasPrefix(bytes.TrimLeft(b, " \t\r\n"), []byte("{")) {
		return "", invalid(field, "schema file %s does not hold a JSON object", v)
	}
	return string(b), nil
}
