package regime

import (
	"bytes"
	"cmp"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/tillit/tillit/statement"
	"golang.org/x/mod/sumdb/note"
)

// signedTextHeader is the first line of the text the signatories sign.
const signedTextHeader = "tillit regime v1"

// MaxSignaturesSize bounds a signature file.
const MaxSignaturesSize = 64 << 10

// SignedText returns the text every signatory signs (spec section
// "Signatures"):
//
//	tillit regime v1
//	<id>
//	<base64 hash>
func (r *Regime) SignedText() string { return signedText(r.ID, r.hash) }

func signedText(id string, h Hash) string {
	return signedTextHeader + "\n" + id + "\n" + h.String() + "\n"
}

// SidecarPath returns the path of the signature file of the regime file at
// path: the same name with the extension replaced by ".sigs", so
// "regime.toml" has "regime.sigs".
func SidecarPath(path string) string {
	return strings.TrimSuffix(path, filepath.Ext(path)) + ".sigs"
}

// Signatures is a signature file (spec section "Signature file"): a
// c2sp.org/signed-note whose text is the [Regime.SignedText] of one regime
// hash, with one signature line per signing key.
type Signatures struct {
	ID   string // regime id
	Hash Hash   // regime hash
	sigs []note.Signature
}

// ParseSignatures parses a signature file. It checks the format only; use
// [Regime.Verify] or [Regime.VerifyAmendment] to check the signatures. Errors
// wrap [ErrBadSignature].
func ParseSignatures(b []byte) (*Signatures, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrBadSignature, fmt.Sprintf(format, args...))
	}
	if len(b) > MaxSignaturesSize {
		return nil, bad("signature file is %d bytes, more than %d", len(b), MaxSignaturesSize)
	}
	_, err := note.Open(b, note.VerifierList())
	var unverified *note.UnverifiedNoteError
	if !errors.As(err, &unverified) {
		return nil, bad("not a signed note (text, blank line, signature lines)")
	}
	n := unverified.Note
	lines := strings.Split(n.Text, "\n")
	if len(lines) != 4 || lines[0] != signedTextHeader || lines[3] != "" {
		return nil, bad("the signed text must be %q, the regime id and its hash, one per line", signedTextHeader)
	}
	if !statement.ValidName(lines[1]) {
		return nil, bad("%q is not a regime id", truncate(lines[1]))
	}
	h, err := ParseHash(lines[2])
	if err != nil {
		return nil, bad("hash: %v", err)
	}
	s := &Signatures{ID: lines[1], Hash: h}
	if signedText(s.ID, h) != n.Text {
		return nil, bad("malformed signed text")
	}
	for _, sig := range n.UnverifiedSigs {
		if i := slices.IndexFunc(s.sigs, func(o note.Signature) bool { return o.Name == sig.Name && o.Hash == sig.Hash }); i >= 0 {
			return nil, bad("two different signatures by key %s+%08x", sig.Name, sig.Hash)
		}
		s.sigs = append(s.sigs, sig)
	}
	s.sort()
	return s, nil
}

// LoadSignatures reads and parses the signature file at path. If the file
// does not exist, the error wraps [fs.ErrNotExist].
func LoadSignatures(path string) (*Signatures, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("regime: couldn't read signature file: %w", err)
	}
	if fi.Size() > MaxSignaturesSize {
		return nil, fmt.Errorf("%w: %s is %d bytes, more than %d", ErrBadSignature, path, fi.Size(), MaxSignaturesSize)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("regime: couldn't read signature file: %w", err)
	}
	s, err := ParseSignatures(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

func (s *Signatures) sort() {
	slices.SortFunc(s.sigs, func(a, b note.Signature) int {
		return cmp.Or(strings.Compare(a.Name, b.Name), cmp.Compare(a.Hash, b.Hash), strings.Compare(a.Base64, b.Base64))
	})
}

// Bytes returns the signature file: the signed text, a blank line and the
// signature lines sorted by key name, key ID and signature.
func (s *Signatures) Bytes() []byte {
	var b bytes.Buffer
	b.WriteString(signedText(s.ID, s.Hash))
	b.WriteString("\n")
	for _, sig := range s.sigs {
		fmt.Fprintf(&b, "— %s %s\n", sig.Name, sig.Base64)
	}
	return b.Bytes()
}

// Len returns the number of signature lines.
func (s *Signatures) Len() int { return len(s.sigs) }

// A Signatory is a key whose signature a regime version needs to be in force.
type Signatory struct {
	Party string // party name
	Key   string // the party's log key (verifier key) that must sign
	// Why says why this key must sign, like "party of version 1" or "new
	// key in version 2".
	Why string

	verifier note.Verifier
}

// Signatories returns the keys that must sign r for it to be in force (spec
// section "Amendments"). For version 1, prev must be nil and every party of r
// signs with its log key. For an amendment, prev is the version r amends:
// every party of prev signs with its log key in prev, and every party of r
// whose log key is not its key in prev (an added party, or a rotated key)
// signs with its new key as well. A party that rotates its cosign key signs
// with its log key of prev, as every party of prev does; its Why says so.
// Errors wrap [ErrAmendment].
func (r *Regime) Signatories(prev *Regime) ([]Signatory, error) {
	if prev == nil {
		if r.Version != 1 {
			return nil, fmt.Errorf("%w: %s version %d amends version %d; check it together with that version", ErrAmendment, r.ID, r.Version, r.Version-1)
		}
		var out []Signatory
		for _, p := range r.Parties {
			out = append(out, Signatory{Party: p.Name, Key: p.LogKey, Why: "party of version 1", verifier: p.verifier})
		}
		return out, nil
	}
	if err := r.CheckAmendment(prev); err != nil {
		return nil, err
	}
	var out []Signatory
	for _, p := range prev.Parties {
		why := fmt.Sprintf("party of version %d", prev.Version)
		if np := r.Party(p.Name); np != nil && np.CosignKey != p.CosignKey {
			// A rotated cosign key is a rotated key, but a cosigner key
			// signs only checkpoints: the party consents with its
			// previous log key, which signs here anyway.
			why += fmt.Sprintf(", new cosign key in version %d", r.Version)
		}
		out = append(out, Signatory{Party: p.Name, Key: p.LogKey, Why: why, verifier: p.verifier})
	}
	for _, p := range r.Parties {
		old := prev.Party(p.Name)
		switch {
		case old == nil:
			out = append(out, Signatory{Party: p.Name, Key: p.LogKey, Why: fmt.Sprintf("added in version %d", r.Version), verifier: p.verifier})
		case old.LogKey != p.LogKey:
			out = append(out, Signatory{Party: p.Name, Key: p.LogKey, Why: fmt.Sprintf("new key in version %d", r.Version), verifier: p.verifier})
		}
	}
	return out, nil
}

// CheckAmendment checks that r validly amends prev: the same id, the next
// version, and prev's hash as r's previous hash. Errors wrap [ErrAmendment].
func (r *Regime) CheckAmendment(prev *Regime) error {
	switch {
	case prev.ID != r.ID:
		return fmt.Errorf("%w: regime %s cannot amend regime %s", ErrAmendment, r.ID, prev.ID)
	case r.Version != prev.Version+1:
		return fmt.Errorf("%w: %s version %d cannot amend version %d (want version %d)", ErrAmendment, r.ID, r.Version, prev.Version, prev.Version+1)
	case r.Previous == nil || *r.Previous != prev.Hash():
		return fmt.Errorf("%w: %s version %d names previous hash %v, but version %d has hash %s", ErrAmendment, r.ID, r.Version, r.Previous, prev.Version, prev.Hash())
	}
	return nil
}

// A Status says who has signed a regime version.
type Status struct {
	ID          string
	Version     int64
	Hash        Hash
	Signatories []SignatoryStatus
	// Missing names the parties with a key that has not signed, in the
	// order of Signatories, each once.
	Missing []string
}

// SignatoryStatus is a signatory and whether it has signed.
type SignatoryStatus struct {
	Signatory
	Signed bool
}

// InForce reports whether every signatory has signed.
func (s *Status) InForce() bool { return len(s.Missing) == 0 }

// Verify checks the signatures of version 1 of a regime (spec section
// "Signatures") and returns who has signed. If a signatory has not, it
// returns the status and an error wrapping [ErrNotInForce] that names them;
// if sigs is for another regime or hash, or holds a signature by a
// signatory's key that does not verify, an error wrapping
// [ErrBadSignature]. sigs may be nil (nobody has signed). For later versions
// use [Regime.VerifyAmendment].
func (r *Regime) Verify(sigs *Signatures) (*Status, error) {
	return r.VerifyAmendment(nil, sigs)
}

// VerifyAmendment is like [Regime.Verify] for a version that amends prev (or
// for version 1, if prev is nil): it checks the amendment and that every
// signatory ([Regime.Signatories]) has signed.
func (r *Regime) VerifyAmendment(prev *Regime, sigs *Signatures) (*Status, error) {
	signatories, err := r.Signatories(prev)
	if err != nil {
		return nil, err
	}
	signed, err := r.verifySigs(signatories, sigs)
	if err != nil {
		return nil, err
	}
	st := &Status{ID: r.ID, Version: r.Version, Hash: r.hash}
	for _, s := range signatories {
		ok := signed[s.Key]
		st.Signatories = append(st.Signatories, SignatoryStatus{Signatory: s, Signed: ok})
		if !ok && !slices.Contains(st.Missing, s.Party) {
			st.Missing = append(st.Missing, s.Party)
		}
	}
	if !st.InForce() {
		return st, r.notInForce(st)
	}
	return st, nil
}

// verifySigs returns the keys of the signatories that signed sigs.
func (r *Regime) verifySigs(signatories []Signatory, sigs *Signatures) (map[string]bool, error) {
	signed := map[string]bool{}
	if sigs == nil || len(sigs.sigs) == 0 {
		return signed, nil
	}
	if sigs.ID != r.ID || sigs.Hash != r.hash {
		return nil, fmt.Errorf("%w: the signatures are for %s hash %s, but %s version %d has hash %s: the regime changed after it was signed",
			ErrBadSignature, truncate(sigs.ID), sigs.Hash, r.ID, r.Version, r.hash)
	}
	var vs []note.Verifier
	byKey := map[string]string{} // name+hash -> vkey
	for _, s := range signatories {
		id := fmt.Sprintf("%s+%08x", s.verifier.Name(), s.verifier.KeyHash())
		if _, ok := byKey[id]; !ok {
			byKey[id] = s.Key
			vs = append(vs, s.verifier)
		}
	}
	n, err := note.Open(sigs.Bytes(), note.VerifierList(vs...))
	var unverified *note.UnverifiedNoteError
	var invalid *note.InvalidSignatureError
	switch {
	case errors.As(err, &unverified):
		return signed, nil
	case errors.As(err, &invalid):
		return nil, fmt.Errorf("%w: the signature by %s+%08x does not verify", ErrBadSignature, invalid.Name, invalid.Hash)
	case err != nil:
		return nil, fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	for _, sig := range n.Sigs {
		signed[byKey[fmt.Sprintf("%s+%08x", sig.Name, sig.Hash)]] = true
	}
	return signed, nil
}

func (r *Regime) notInForce(st *Status) error {
	var who []string
	for _, p := range st.Missing {
		n, desc := 0, ""
		for _, s := range st.Signatories {
			if s.Party == p {
				n++
				if !s.Signed {
					desc = s.Why
				}
			}
		}
		if n > 1 {
			p += " (" + desc + ")"
		}
		who = append(who, p)
	}
	if len(who) == 1 {
		return fmt.Errorf("%w: no regime signature from %s; run `tillit regime sign` on %s's node", ErrNotInForce, who[0], st.Missing[0])
	}
	return fmt.Errorf("%w: no regime signatures from %s; run `tillit regime sign` on their nodes",
		ErrNotInForce, strings.Join(who[:len(who)-1], ", ")+" and "+who[len(who)-1])
}

// Sign adds the signature of signer to sigs, a signature file of r (nil for
// a new one), and returns the new file. It returns added == false and sigs
// unchanged if signer has already signed. prev is the version r amends, or
// nil for version 1. The signer must be one of [Regime.Signatories] (else
// the error wraps [ErrNotSignatory]), and every signature already in sigs
// must verify (else [ErrBadSignature]).
func (r *Regime) Sign(prev *Regime, sigs *Signatures, signer note.Signer) (out *Signatures, added bool, err error) {
	signatories, err := r.Signatories(prev)
	if err != nil {
		return nil, false, err
	}
	i := slices.IndexFunc(signatories, func(s Signatory) bool {
		return s.verifier.Name() == signer.Name() && s.verifier.KeyHash() == signer.KeyHash()
	})
	if i < 0 {
		return nil, false, r.notSignatory(signer, signatories)
	}
	signed, err := r.verifySigs(signatories, sigs)
	if err != nil {
		return nil, false, err
	}
	if signed[signatories[i].Key] {
		return sigs, false, nil
	}
	text := r.SignedText()
	sig, err := signer.Sign([]byte(text))
	if err != nil {
		return nil, false, fmt.Errorf("regime: couldn't sign: %w", err)
	}
	if !signatories[i].verifier.Verify([]byte(text), sig) {
		return nil, false, fmt.Errorf("%w: key %s+%08x does not match %s's log key in the regime", ErrNotSignatory, signer.Name(), signer.KeyHash(), signatories[i].Party)
	}
	var hb [4]byte
	binary.BigEndian.PutUint32(hb[:], signer.KeyHash())
	out = &Signatures{ID: r.ID, Hash: r.hash}
	if sigs != nil {
		out.sigs = slices.Clone(sigs.sigs)
	}
	out.sigs = append(out.sigs, note.Signature{Name: signer.Name(), Hash: signer.KeyHash(), Base64: base64.StdEncoding.EncodeToString(append(hb[:], sig...))})
	out.sort()
	return out, true, nil
}

func (r *Regime) notSignatory(signer note.Signer, signatories []Signatory) error {
	var names []string
	for _, s := range signatories {
		if s.verifier.Name() == signer.Name() {
			return fmt.Errorf("%w: key %s+%08x is not %s's log key in %s version %d (want %s)",
				ErrNotSignatory, signer.Name(), signer.KeyHash(), s.Party, r.ID, r.Version, s.Key)
		}
		if !slices.Contains(names, s.Party) {
			names = append(names, s.Party)
		}
	}
	return fmt.Errorf("%w: key %s is not the log key of any party that signs %s version %d (%s)",
		ErrNotSignatory, signer.Name(), r.ID, r.Version, strings.Join(names, ", "))
}

// VerifyChain checks a chain of versions of one regime, oldest first, with
// the signature file of each (spec section "Amendments"): the first is
// version 1 and in force, and each later one validly amends its predecessor
// and is in force. It returns the status of the last version.
func VerifyChain(versions []*Regime, sigs []*Signatures) (*Status, error) {
	if len(versions) == 0 || len(versions) != len(sigs) {
		return nil, fmt.Errorf("%w: %d versions and %d signature files", ErrAmendment, len(versions), len(sigs))
	}
	var st *Status
	var prev *Regime
	for i, r := range versions {
		var err error
		if st, err = r.VerifyAmendment(prev, sigs[i]); err != nil {
			return st, fmt.Errorf("version %d: %w", r.Version, err)
		}
		prev = r
	}
	return st, nil
}
