package node

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// MaxConfigSize bounds a node configuration file.
const MaxConfigSize = 1 << 20

// Roles of operator API tokens.
const (
	// RoleOfficer may do everything: send statements of any precedence and
	// acknowledge received ones.
	RoleOfficer = "officer"
	// RoleAnalyst reads everything and may send ROUTINE and PRIORITY
	// statements, but neither IMMEDIATE nor FLASH ones, nor acknowledge.
	RoleAnalyst = "analyst"
	// RoleAuditor only reads.
	RoleAuditor = "auditor"
)

// Config is a node's configuration file, node.toml (docs/node.md). Relative
// paths in it are relative to the directory the file is in.
type Config struct {
	// Party is this node's party name in the regime.
	Party string `toml:"party"`
	// Regime is the regime file; its signatures are in the sidecar file next
	// to it (regime.SidecarPath).
	Regime string `toml:"regime"`
	// Data is the directory of the node's database.
	Data string `toml:"data"`
	// LogKey, CosignKey and TLSKey are the party's private keys: the log's
	// signed-note key, the receipt (cosign) key and the TLS identity.
	LogKey    string `toml:"log_key"`
	CosignKey string `toml:"cosign_key"`
	TLSKey    string `toml:"tls_key"`
	// LinkTest is how often the node sends a link.test statement to every
	// other party; "0s" or empty turns scheduled link tests off.
	LinkTest Duration `toml:"link_test"`
	// Hook, if set, is a command run (without a shell) when an alarm is
	// raised; the alarm is in its environment (docs/node.md).
	Hook []string `toml:"hook"`

	Peer PeerConfig `toml:"peer"`
	API  APIConfig  `toml:"api"`

	// Dir is the directory relative paths are resolved against: the
	// directory of the configuration file. It is not read from the file.
	Dir string `toml:"-"`
}

// PeerConfig configures the peer interface.
type PeerConfig struct {
	// Listen is the address of the HTTPS server for peers, like ":7101".
	Listen string `toml:"listen"`
	// PublicListen, if set, is the address of a read-only HTTPS server that
	// serves the logs, gossip and cosignatures to anyone, without client
	// certificates. Only a regime with log_access "public" allows it.
	PublicListen string `toml:"public_listen,omitempty"`
	// Endpoints overrides the regime's endpoints of some parties for this
	// node only (a relay, a tunnel, a test proxy), by party name.
	Endpoints map[string][]string `toml:"endpoints"`
}

// APIConfig configures the operator API.
type APIConfig struct {
	// Listen is the address of the operator API, like "127.0.0.1:7201".
	// It is plain HTTP and must be a loopback address.
	Listen string `toml:"listen"`
	// Tokens are the bearer tokens that may use it.
	Tokens []Token `toml:"token"`
}

// Token is an operator API bearer token, stored as its SHA-256 hash.
type Token struct {
	Name   string `toml:"name"`
	Role   string `toml:"role"`
	SHA256 string `toml:"sha256"` // hex SHA-256 of the token
}

// Duration is a time.Duration that is a string like "1h30m" in TOML.
type Duration struct{ time.Duration }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		d.Duration = 0
		return nil
	}
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	if v < 0 {
		return fmt.Errorf("negative duration %q", b)
	}
	d.Duration = v
	return nil
}

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// LoadConfig reads and checks the configuration file at path.
func LoadConfig(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var buf bytes.Buffer
	if n, err := buf.ReadFrom(&limitReader{f, MaxConfigSize + 1}); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	} else if n > MaxConfigSize {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, MaxConfigSize)
	}
	c, err := ParseConfig(buf.Bytes())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	abs, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, err
	}
	c.Dir = abs
	return c, nil
}

type limitReader struct {
	f *os.File
	n int64
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, errors.New("file too large")
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.f.Read(p)
	l.n -= int64(n)
	return n, err
}

// ParseConfig parses and checks a configuration file. Unknown keys are
// errors.
func ParseConfig(data []byte) (*Config, error) {
	var c Config
	md, err := toml.Decode(string(data), &c)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	if u := md.Undecoded(); len(u) > 0 {
		keys := make([]string, len(u))
		for i, k := range u {
			keys[i] = k.String()
		}
		return nil, fmt.Errorf("%w: unknown key %s", ErrConfig, strings.Join(keys, ", "))
	}
	if err := c.check(); err != nil {
		return nil, err
	}
	return &c, nil
}

// ErrConfig means a configuration file is malformed or incomplete.
var ErrConfig = errors.New("bad node configuration")

func (c *Config) check() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrConfig, fmt.Sprintf(format, args...))
	}
	for _, f := range []struct{ name, v string }{
		{"party", c.Party}, {"regime", c.Regime}, {"data", c.Data},
		{"log_key", c.LogKey}, {"cosign_key", c.CosignKey}, {"tls_key", c.TLSKey},
		{"peer.listen", c.Peer.Listen}, {"api.listen", c.API.Listen},
	} {
		if f.v == "" {
			return bad("%s is missing", f.name)
		}
	}
	for _, a := range []struct{ name, v string }{{"peer.listen", c.Peer.Listen}, {"api.listen", c.API.Listen}, {"peer.public_listen", c.Peer.PublicListen}} {
		if a.v == "" {
			continue
		}
		if _, _, err := net.SplitHostPort(a.v); err != nil {
			return bad("%s: %v", a.name, err)
		}
	}
	if host, _, _ := net.SplitHostPort(c.API.Listen); !loopback(host) {
		return bad("api.listen %q is not a loopback address: the operator API is plain HTTP with bearer tokens; keep it on 127.0.0.1 or ::1 and reach it through a TLS proxy or an SSH tunnel", c.API.Listen)
	}
	for p, eps := range c.Peer.Endpoints {
		if len(eps) == 0 {
			return bad("peer.endpoints.%s is empty", p)
		}
		for _, e := range eps {
			if !strings.HasPrefix(e, "https://") {
				return bad("peer.endpoints.%s: %q is not an https URL", p, e)
			}
		}
	}
	if len(c.API.Tokens) == 0 {
		return bad("no [[api.token]]: nobody could use the operator API")
	}
	for i, t := range c.API.Tokens {
		if !slices.Contains([]string{RoleOfficer, RoleAnalyst, RoleAuditor}, t.Role) {
			return bad("api.token[%d] (%q): role %q is not officer, analyst or auditor", i, t.Name, t.Role)
		}
		if b, err := hex.DecodeString(t.SHA256); err != nil || len(b) != sha256.Size {
			return bad("api.token[%d] (%q): sha256 must be 64 hex digits", i, t.Name)
		}
	}
	if len(c.Hook) > 0 && c.Hook[0] == "" {
		return bad("hook: empty command")
	}
	return nil
}

// Path resolves a path from the configuration against its directory.
func (c *Config) Path(p string) string {
	if filepath.IsAbs(p) || c.Dir == "" {
		return p
	}
	return filepath.Join(c.Dir, p)
}

// Authenticate returns the token whose hash matches the bearer token tok, or
// false. The comparison takes the same time whichever token matches.
func (c *APIConfig) Authenticate(tok string) (Token, bool) {
	h := sha256.Sum256([]byte(tok))
	var found Token
	ok := 0
	for _, t := range c.Tokens {
		want, err := hex.DecodeString(t.SHA256)
		if err != nil || len(want) != len(h) {
			continue
		}
		if subtle.ConstantTimeCompare(want, h[:]) == 1 {
			found, ok = t, 1
		}
	}
	return found, ok == 1 && tok != ""
}

// HashToken returns the hex SHA-256 of a token, as stored in the
// configuration.
func HashToken(tok string) string {
	h := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(h[:])
}

// Encode returns the configuration as TOML.
func (c *Config) Encode() ([]byte, error) {
	var buf bytes.Buffer
	if err := toml.NewEncoder(&buf).Encode(c); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// loopback reports whether host names a loopback address.
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
