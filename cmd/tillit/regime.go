package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/tillit/tillit/internal/keys"
	"github.com/tillit/tillit/regime"
)

var regimeCommands = []command{
	{"sign", "add this party's signature to a regime's signature file", runRegimeSign},
	{"verify", "check that every party has signed a regime", runRegimeVerify},
	{"hash", "print a regime's canonical hash", runRegimeHash},
}

func runRegime(args []string, stdout, stderr io.Writer) error {
	return (&group{name: "regime", usage: "Usage: tillit regime <command> [flags]", width: 8,
		footer: "The regime format is specified in docs/spec/regime.md.", cmds: regimeCommands}).run(args, stdout, stderr)
}

// regimeFlags are the flags every regime command has.
type regimeFlags struct {
	fs       *flag.FlagSet
	regime   *string
	previous *string
	json     *bool
}

func newRegimeFlags(name, summary string, stderr io.Writer, previous bool) *regimeFlags {
	f := &regimeFlags{fs: newFlags("regime "+name, "", summary, stderr)}
	f.regime = f.fs.String("regime", "", "the regime file (required)")
	if previous {
		f.previous = f.fs.String("previous", "", "the regime file of the version this one amends (required for version 2 and later)")
	}
	f.json = f.fs.Bool("json", false, "print JSON for scripts")
	return f
}

func (f *regimeFlags) parse(args []string) error {
	if err := parseFlags(f.fs, args); err != nil {
		return err
	}
	if *f.regime == "" || f.fs.NArg() != 0 {
		f.fs.Usage()
		return errUsage
	}
	return nil
}

// load loads the regime and, for an amendment, the version it amends.
func (f *regimeFlags) load() (r, prev *regime.Regime, err error) {
	if r, err = loadRegime(*f.regime); err != nil {
		return nil, nil, err
	}
	if f.previous == nil {
		return r, nil, nil
	}
	switch {
	case *f.previous == "" && r.Version > 1:
		return nil, nil, withHint(fmt.Errorf("%s is version %d of %s, which amends version %d", *f.regime, r.Version, r.ID, r.Version-1),
			fmt.Sprintf("pass the regime file of version %d with --previous FILE", r.Version-1))
	case *f.previous == "":
		return r, nil, nil
	}
	if prev, err = loadRegime(*f.previous); err != nil {
		return nil, nil, err
	}
	if err := r.CheckAmendment(prev); err != nil {
		return nil, nil, err
	}
	return r, prev, nil
}

func loadRegime(path string) (*regime.Regime, error) {
	r, err := regime.Load(path)
	switch {
	case errors.Is(err, regime.ErrUnknownKey):
		return nil, withHint(err, "check the key's spelling; the regime format is specified in docs/spec/regime.md")
	case errors.Is(err, regime.ErrSyntax):
		return nil, withHint(err, "the regime file must be valid TOML; see docs/spec/regime.md")
	case err != nil:
		return nil, err
	}
	return r, nil
}

// loadSigs loads the signature file of a regime; a missing file means no
// signatures.
func loadSigs(regimePath string) (*regime.Signatures, string, error) {
	path := regime.SidecarPath(regimePath)
	sigs, err := regime.LoadSignatures(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, path, nil
	}
	return sigs, path, err
}

func runRegimeHash(args []string, stdout, stderr io.Writer) error {
	f := newRegimeFlags("hash", "Prints the SHA-256 hash of the regime's canonical encoding (base64), which\nthe parties sign and an amendment names as its previous version.", stderr, false)
	canonical := f.fs.Bool("canonical", false, "print the canonical encoding instead of its hash")
	if err := f.parse(args); err != nil {
		return err
	}
	r, err := loadRegime(*f.regime)
	if err != nil {
		return err
	}
	switch {
	case *canonical:
		_, err = stdout.Write(r.Canonical())
	case *f.json:
		err = writeJSON(stdout, map[string]any{"id": r.ID, "version": r.Version, "hash": r.Hash().String()})
	default:
		_, err = fmt.Fprintln(stdout, r.Hash())
	}
	return err
}

func runRegimeSign(args []string, stdout, stderr io.Writer) error {
	f := newRegimeFlags("sign", "Signs the regime's hash with this party's log key and adds the signature to\nthe regime's signature file (regime.toml -> regime.sigs). Signing twice\nchanges nothing.", stderr, true)
	keyFile := f.fs.String("key", "", "this party's log private key file (required)")
	if err := f.parse(args); err != nil {
		return err
	}
	if *keyFile == "" {
		f.fs.Usage()
		return errUsage
	}
	r, prev, err := f.load()
	if err != nil {
		return err
	}
	signer, _, _, err := keys.Load(*keyFile)
	if err != nil {
		return err
	}
	sigs, sigsPath, err := loadSigs(*f.regime)
	if err != nil {
		return sigsHint(err, sigsPath)
	}
	out, added, err := r.Sign(prev, sigs, signer)
	if err != nil {
		return sigsHint(err, sigsPath)
	}
	if added {
		if err := writeFileAtomic(sigsPath, out.Bytes()); err != nil {
			return err
		}
	}
	st, err := r.VerifyAmendment(prev, out)
	if err != nil && !errors.Is(err, regime.ErrNotInForce) {
		return err
	}
	party := strings.TrimPrefix(signer.Name(), r.ID+"/")
	if *f.json {
		return writeJSON(stdout, map[string]any{"party": party, "added": added, "signatures": sigsPath, "status": statusJSON(r, st)})
	}
	if added {
		fmt.Fprintf(stdout, "signed %s version %d (hash %s) as %s\n", r.ID, r.Version, r.Hash(), party)
	} else {
		fmt.Fprintf(stdout, "%s has already signed %s version %d (hash %s)\n", party, r.ID, r.Version, r.Hash())
	}
	if st.InForce() {
		fmt.Fprintf(stdout, "in force: every party has signed (%s)\n", sigsPath)
	} else {
		fmt.Fprintf(stdout, "not in force yet: waiting for %s (%s)\n", andList(st.Missing), sigsPath)
	}
	return nil
}

func runRegimeVerify(args []string, stdout, stderr io.Writer) error {
	f := newRegimeFlags("verify", "Checks the regime and its signature file (regime.toml -> regime.sigs): prints\nthe id, version, hash, parties and who has signed. Exits non-zero, naming\nthem, unless every party has signed.", stderr, true)
	if err := f.parse(args); err != nil {
		return err
	}
	r, prev, err := f.load()
	if err != nil {
		return err
	}
	sigs, sigsPath, err := loadSigs(*f.regime)
	if err != nil {
		return sigsHint(err, sigsPath)
	}
	st, err := r.VerifyAmendment(prev, sigs)
	if err != nil && !errors.Is(err, regime.ErrNotInForce) {
		return sigsHint(err, sigsPath)
	}
	if *f.json {
		if err := writeJSON(stdout, statusJSON(r, st)); err != nil {
			return err
		}
	} else {
		printStatus(stdout, r, st)
	}
	if !st.InForce() {
		return withHint(fmt.Errorf("%s version %d is not in force: no regime %s from %s", r.ID, r.Version,
			map[bool]string{true: "signature", false: "signatures"}[len(st.Missing) == 1], andList(st.Missing)),
			fmt.Sprintf("run `tillit regime sign --regime %s --key KEYFILE` on %s", *f.regime, nodesOf(st.Missing)))
	}
	return nil
}

// andList writes "A", "A and B", "A, B and C".
func andList(ss []string) string {
	if len(ss) < 2 {
		return strings.Join(ss, "")
	}
	return strings.Join(ss[:len(ss)-1], ", ") + " and " + ss[len(ss)-1]
}

// nodesOf writes "RU's node" or "the nodes of NATO and RU".
func nodesOf(parties []string) string {
	if len(parties) == 1 {
		return parties[0] + "'s node"
	}
	return "the nodes of " + andList(parties)
}

func sigsHint(err error, sigsPath string) error {
	if errors.Is(err, regime.ErrBadSignature) && strings.Contains(err.Error(), "changed after it was signed") {
		return withHint(err, fmt.Sprintf("if the change is intended, remove %s and have every party sign again", sigsPath))
	}
	return err
}

func printStatus(w io.Writer, r *regime.Regime, st *regime.Status) {
	fmt.Fprintf(w, "regime   %s\ntitle    %s\nversion  %d\nhash     %s\n", r.ID, r.Title, r.Version, r.Hash())
	if r.Previous != nil {
		fmt.Fprintf(w, "previous %s\n", r.Previous)
	}
	fmt.Fprintln(w, "signatures:")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, s := range st.Signatories {
		state := "signed"
		if !s.Signed {
			state = "NOT SIGNED"
		}
		role := "(removed)"
		if p := r.Party(s.Party); p != nil {
			role = string(p.Role)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", s.Party, role, state, s.Why, keyID(s.Key))
	}
	tw.Flush()
	if st.InForce() {
		fmt.Fprintln(w, "in force: every party has signed")
	}
}

// keyID shortens a verifier key <name>+<id>+<key> to <name>+<id>. Names
// have no '+', but the base64 key may.
func keyID(vkey string) string {
	if parts := strings.SplitN(vkey, "+", 3); len(parts) == 3 {
		return parts[0] + "+" + parts[1]
	}
	return vkey
}

func statusJSON(r *regime.Regime, st *regime.Status) any {
	type signatory struct {
		Party  string `json:"party"`
		Key    string `json:"key"`
		Why    string `json:"why"`
		Signed bool   `json:"signed"`
	}
	out := struct {
		ID          string      `json:"id"`
		Title       string      `json:"title"`
		Version     int64       `json:"version"`
		Hash        string      `json:"hash"`
		Previous    string      `json:"previous,omitempty"`
		InForce     bool        `json:"in_force"`
		Signatories []signatory `json:"signatories"`
		Missing     []string    `json:"missing"`
	}{ID: r.ID, Title: r.Title, Version: r.Version, Hash: r.Hash().String(), InForce: st.InForce(), Missing: st.Missing}
	if r.Previous != nil {
		out.Previous = r.Previous.String()
	}
	if out.Missing == nil {
		out.Missing = []string{}
	}
	for _, s := range st.Signatories {
		out.Signatories = append(out.Signatories, signatory{s.Party, s.Key, s.Why, s.Signed})
	}
	return out
}

func writeJSON(w io.Writer, v any) error {
	e := json.NewEncoder(w)
	e.SetIndent("", "  ")
	e.SetEscapeHTML(false)
	return e.Encode(v)
}

// writeFileAtomic replaces path with b: a temporary file in the same
// directory, synced, then renamed over path.
func writeFileAtomic(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("couldn't write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("couldn't write %s: %w", path, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("couldn't write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("couldn't write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("couldn't write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("couldn't write %s: %w", path, err)
	}
	return nil
}
