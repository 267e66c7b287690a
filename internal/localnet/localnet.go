// Package localnet sets up tillit parties on one machine: each party's keys,
// TLS identity, operator token and node configuration, a regime naming
// them, signed by all, and peer listeners on loopback ports chosen by the
// system. The demo, the tests and the benchmarks use it; `tillit init` uses
// its key generation.
package localnet

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/tillit/tillit/cosign"
	"github.com/tillit/tillit/examples"
	"github.com/tillit/tillit/internal/keys"
	"github.com/tillit/tillit/internal/link"
	"github.com/tillit/tillit/node"
	"github.com/tillit/tillit/regime"
)

// Key file names inside a party's directory.
const (
	LogKeyFile    = "keys/log.key"
	CosignKeyFile = "keys/cosign.key"
	TLSKeyFile    = "keys/tls.key"
	ConfigFile    = "node.toml"
)

// TokenFile is the path, in a party's directory, of its token for role.
func TokenFile(role string) string { return "tokens/" + role + ".token" }

// PublicKeys are what a party publishes for the regime file.
type PublicKeys struct {
	LogKey    string // log verifier key
	CosignKey string // receipt verifier key
	TLSKey    string // "ed25519:<base64>"
}

// GenerateKeys creates a party's keys in dir (keys/log.key, keys/cosign.key,
// keys/tls.key, each 0600, never overwriting) for regime id, and returns
// their public halves.
func GenerateKeys(dir, id, party string) (PublicKeys, error) {
	name := id + "/" + party
	if err := os.MkdirAll(filepath.Join(dir, "keys"), 0o700); err != nil {
		return PublicKeys{}, err
	}
	skey, vkey, err := keys.Generate(name)
	if err != nil {
		return PublicKeys{}, err
	}
	if err := keys.Write(filepath.Join(dir, LogKeyFile), skey); err != nil {
		return PublicKeys{}, err
	}
	cskey, cvkey, err := cosign.GenerateKey(name)
	if err != nil {
		return PublicKeys{}, err
	}
	if err := keys.Write(filepath.Join(dir, CosignKeyFile), cskey); err != nil {
		return PublicKeys{}, err
	}
	id2, err := link.GenerateIdentity()
	if err != nil {
		return PublicKeys{}, err
	}
	if err := id2.Save(filepath.Join(dir, TLSKeyFile)); err != nil {
		return PublicKeys{}, err
	}
	return PublicKeys{LogKey: vkey, CosignKey: cvkey, TLSKey: id2.Pin().String()}, nil
}

// NewToken creates a random operator token, writes it to dir/tokens/<role>.token
// (0600) and returns the configuration entry for it.
func NewToken(dir, role string) (node.Token, string, error) {
	b := make([]byte, 32)
	rand.Read(b)
	tok := "tillit_" + base64.RawURLEncoding.EncodeToString(b)
	path := filepath.Join(dir, TokenFile(role))
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return node.Token{}, "", err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return node.Token{}, "", fmt.Errorf("couldn't create token file: %w", err)
	}
	if _, err := f.WriteString(tok + "\n"); err != nil {
		f.Close()
		return node.Token{}, "", err
	}
	if err := f.Close(); err != nil {
		return node.Token{}, "", err
	}
	return node.Token{Name: role, Role: role, SHA256: node.HashToken(tok)}, tok, nil
}

// Party describes a party of a network to set up.
type Party struct {
	Name string
	Role regime.Role // default regime.RoleParty
}

// An Option changes a setting of the regime New writes.
type Option func(*settings)

type settings struct {
	logAccess regime.LogAccess
}

// LogAccess sets the regime's log_access (default "parties").
func LogAccess(a regime.LogAccess) Option { return func(s *settings) { s.logAccess = a } }

// Network is a set of parties set up on this machine.
type Network struct {
	Dir     string
	Regime  *regime.Regime
	Sigs    *regime.Signatures
	Parties []string
	// Configs and Listeners are each party's node configuration and peer
	// listener (already listening, on 127.0.0.1).
	Configs   map[string]*node.Config
	Listeners map[string]net.Listener
	// Tokens are each party's officer token.
	Tokens map[string]string
}

// New sets up parties with fresh keys in dir: a regime with id, the example
// regime's statement types and settings, every party as a witness of every
// other, signed by all.
func New(dir, id string, parties []Party, opts ...Option) (nw *Network, err error) {
	set := settings{logAccess: regime.AccessParties}
	for _, o := range opts {
		o(&set)
	}
	nw = &Network{Dir: dir, Configs: map[string]*node.Config{}, Listeners: map[string]net.Listener{}, Tokens: map[string]string{}}
	defer func() {
		if err != nil {
			nw.Close()
		}
	}()
	var b strings.Builder
	fmt.Fprintf(&b, "id = %q\ntitle = \"local test network\"\nversion = 1\nlog_access = %q\nclock_tolerance = \"30s\"\nheartbeat = \"2s\"\n\n", id, set.logAccess)
	fmt.Fprintf(&b, "[inspections]\nper_host_per_year = 3\nper_inspector_per_year = 1\n\n")
	for _, p := range parties {
		role := p.Role
		if role == "" {
			role = regime.RoleParty
		}
		pdir := filepath.Join(dir, p.Name)
		pub, err := GenerateKeys(pdir, id, p.Name)
		if err != nil {
			return nil, err
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		nw.Listeners[p.Name] = ln
		nw.Parties = append(nw.Parties, p.Name)
		fmt.Fprintf(&b, "[[party]]\nname = %q\nrole = %q\nlog_key = %q\ncosign_key = %q\ntls_key = %q\nendpoints = [\"https://%s\"]\n\n",
			p.Name, role, pub.LogKey, pub.CosignKey, pub.TLSKey, ln.Addr())
	}
	types, err := exampleTypes()
	if err != nil {
		return nil, err
	}
	b.WriteString(types)
	if err := writeSchemas(dir); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "regime.toml")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		return nil, err
	}
	if nw.Regime, err = regime.Load(path); err != nil {
		return nil, err
	}
	for _, p := range nw.Parties {
		signer, _, _, err := keys.Load(filepath.Join(dir, p, LogKeyFile))
		if err != nil {
			return nil, err
		}
		if nw.Sigs, _, err = nw.Regime.Sign(nil, nw.Sigs, signer); err != nil {
			return nil, err
		}
	}
	if err := os.WriteFile(regime.SidecarPath(path), nw.Sigs.Bytes(), 0o644); err != nil {
		return nil, err
	}
	for _, p := range nw.Parties {
		if err := nw.writeConfig(p, "../regime.toml", nil); err != nil {
			return nil, err
		}
	}
	return nw, nil
}

// Example sets up the example regime's parties (NATO, RU, OSCE) in dir with
// their public demo keys. The example regime names fixed loopback ports;
// each node is told where the others really listen through
// peer.endpoints, so the signed regime is used unchanged.
func Example(dir string) (nw *Network, err error) {
	nw = &Network{Dir: dir, Configs: map[string]*node.Config{}, Listeners: map[string]net.Listener{}, Tokens: map[string]string{}}
	defer func() {
		if err != nil {
			nw.Close()
		}
	}()
	fsys, err := fs.Sub(examples.NATORussia2022, "nato-russia-2022")
	if err != nil {
		return nil, err
	}
	if err := os.CopyFS(filepath.Join(dir, "regime"), fsys); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "regime", "regime.toml")
	if nw.Regime, err = regime.Load(path); err != nil {
		return nil, err
	}
	if nw.Sigs, err = regime.LoadSignatures(regime.SidecarPath(path)); err != nil {
		return nil, err
	}
	for _, p := range nw.Regime.Parties {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		nw.Listeners[p.Name] = ln
		nw.Parties = append(nw.Parties, p.Name)
		pdir := filepath.Join(dir, p.Name)
		if err := os.MkdirAll(filepath.Join(pdir, "keys"), 0o700); err != nil {
			return nil, err
		}
		if err := demoIdentity(fsys, p.Name, filepath.Join(pdir, TLSKeyFile)); err != nil {
			return nil, err
		}
		for src, dst := range map[string]string{p.Name + ".key": LogKeyFile, p.Name + ".cosign.key": CosignKeyFile} {
			b, err := fs.ReadFile(fsys, "demo-keys/"+src)
			if err != nil {
				return nil, err
			}
			if err := os.WriteFile(filepath.Join(pdir, dst), b, 0o600); err != nil {
				return nil, err
			}
		}
	}
	for _, p := range nw.Parties {
		eps := map[string][]string{}
		for _, q := range nw.Parties {
			if q != p {
				eps[q] = []string{"https://" + nw.Listeners[q].Addr().String()}
			}
		}
		if err := nw.writeConfig(p, "../regime/regime.toml", eps); err != nil {
			return nil, err
		}
	}
	return nw, nil
}

// writeConfig writes party's node.toml and officer, analyst and auditor
// tokens.
func (nw *Network) writeConfig(party, regimePath string, endpoints map[string][]string) error {
	pdir := filepath.Join(nw.Dir, party)
	cfg := &node.Config{
		Party: party, Regime: regimePath, Data: "data",
		LogKey: LogKeyFile, CosignKey: CosignKeyFile, TLSKey: TLSKeyFile,
		Peer: node.PeerConfig{Listen: nw.Listeners[party].Addr().String(), Endpoints: endpoints},
		API:  node.APIConfig{Listen: "127.0.0.1:0"},
	}
	for _, role := range []string{node.RoleOfficer, node.RoleAnalyst, node.RoleAuditor} {
		t, tok, err := NewToken(pdir, role)
		if err != nil {
			return err
		}
		cfg.API.Tokens = append(cfg.API.Tokens, t)
		if role == node.RoleOfficer {
			nw.Tokens[party] = tok
		}
	}
	b, err := cfg.Encode()
	if err != nil {
		return err
	}
	path := filepath.Join(pdir, ConfigFile)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return err
	}
	loaded, err := node.LoadConfig(path)
	if err != nil {
		return fmt.Errorf("the written configuration does not load: %w", err)
	}
	nw.Configs[party] = loaded
	return nil
}

// Open opens party's node with its listener, the network's regime, and opts.
func (nw *Network) Open(ctx context.Context, party string, opts node.Options) (*node.Node, error) {
	cfg := nw.Configs[party]
	if cfg == nil {
		return nil, fmt.Errorf("no party %q in the network", party)
	}
	if opts.PeerListener == nil {
		opts.PeerListener = nw.Listeners[party]
	}
	if opts.Regime == nil {
		opts.Regime, opts.Sigs = nw.Regime, nw.Sigs
	}
	return node.Open(ctx, cfg, opts)
}

// Relisten replaces party's listener with a new one on the same address,
// for restarting a node after its server closed the old one.
func (nw *Network) Relisten(party string) error {
	addr := nw.Configs[party].Peer.Listen
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	nw.Listeners[party] = ln
	return nil
}

// Close closes the listeners no node took.
func (nw *Network) Close() {
	for _, ln := range nw.Listeners {
		ln.Close()
	}
}

// exampleTypes returns the [[type]] tables of the example regime.
func exampleTypes() (string, error) {
	b, err := fs.ReadFile(examples.NATORussia2022, "nato-russia-2022/regime.toml")
	if err != nil {
		return "", err
	}
	i := bytes.Index(b, []byte("\n[[type]]"))
	if i < 0 {
		return "", errors.New("example regime has no types")
	}
	// Keep the comment block that precedes the first type out: start at it.
	return string(b[i+1:]), nil
}

func writeSchemas(dir string) error {
	sub, err := fs.Sub(examples.NATORussia2022, "nato-russia-2022/schemas")
	if err != nil {
		return err
	}
	return os.CopyFS(filepath.Join(dir, "schemas"), sub)
}

// demoIdentity makes a TLS identity file from a demo party's TLS key (a
// PKCS #8 PEM key), with a fresh self-signed certificate.
func demoIdentity(fsys fs.FS, party, path string) error {
	b, err := fs.ReadFile(fsys, "demo-keys/"+party+".tls.key")
	if err != nil {
		return err
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "PRIVATE KEY" {
		return fmt.Errorf("demo TLS key of %s is not a PEM private key", party)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return err
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return fmt.Errorf("demo TLS key of %s is not Ed25519", party)
	}
	id, err := link.NewIdentity(priv)
	if err != nil {
		return err
	}
	return id.Save(path)
}
