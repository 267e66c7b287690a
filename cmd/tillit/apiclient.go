package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/tillit/tillit/internal/api"
	"github.com/tillit/tillit/internal/localnet"
	"github.com/tillit/tillit/node"
	"github.com/tillit/tillit/statement"
)

// apiTimeout bounds one call to the operator API.
const apiTimeout = 30 * time.Second

// timeNow is the clock of ages in command output; tests replace it.
var timeNow = time.Now

// apiFlags are the flags of the commands that talk to a node's operator API.
type apiFlags struct {
	node      *string
	tokenFile *string
	api       *string
	json      *bool
}

func addAPIFlags(fs *flag.FlagSet) *apiFlags {
	return &apiFlags{
		node:      fs.String("node", "", "the node's directory, with node.toml and tokens/ (default $TILLIT_NODE, else the current directory)"),
		tokenFile: fs.String("token-file", "", "file with the API token (default $TILLIT_TOKEN, else DIR/tokens/officer.token)"),
		api:       fs.String("api", "", "the operator API's URL (default from api.listen in DIR/node.toml)"),
		json:      fs.Bool("json", false, "print JSON for scripts"),
	}
}

// apiConn is a client of a node's operator API, with what it takes to
// explain failures.
type apiConn struct {
	*api.Client
	dir       string // the node directory
	tokenFrom string // the token file, or "$TILLIT_TOKEN"
	fixed     bool   // the address is from --api
}

// connect finds the API's address and the token: --api, else api.listen in
// DIR/node.toml; --token-file, else $TILLIT_TOKEN, else
// DIR/tokens/officer.token.
func (f *apiFlags) connect() (*apiConn, error) {
	dir := *f.node
	if dir == "" {
		dir = os.Getenv("TILLIT_NODE")
	}
	if dir == "" {
		dir = "."
	}
	base := *f.api
	if base == "" {
		var err error
		if base, err = apiURL(dir); err != nil {
			return nil, err
		}
	} else if !strings.Contains(base, "://") {
		base = "http://" + base
	}
	tok, from, err := apiToken(dir, *f.tokenFile)
	if err != nil {
		return nil, err
	}
	return &apiConn{Client: api.NewClient(base, tok), dir: dir, tokenFrom: from, fixed: *f.api != ""}, nil
}

// parseConnect parses the flags of a command that talks to the operator API
// and takes n arguments (see parseArgs), then connects to the node.
func (f *apiFlags) parseConnect(fs *flag.FlagSet, args []string, n int) (*apiConn, error) {
	if err := parseArgs(fs, args, n); err != nil {
		return nil, err
	}
	return f.connect()
}

// follow looks again for the node's API, which moves when a node with an
// ephemeral api.listen port restarts, and reports where it moved.
func (c *apiConn) follow() (string, bool) {
	if c.fixed {
		return "", false
	}
	u, err := apiURL(c.dir)
	if err != nil || u == c.BaseURL() || strings.HasSuffix(u, ":0") {
		return "", false
	}
	c.SetBaseURL(u)
	return u, true
}

// runningAPIFile is the file, in a node's data directory, where 'tillit
// serve' writes the URL its operator API listens at.
const runningAPIFile = "api.url"

// apiURL returns the URL of the API of the node in dir: the one the running
// node wrote to its data directory, else api.listen in its configuration.
func apiURL(dir string) (string, error) {
	path := filepath.Join(dir, localnet.ConfigFile)
	cfg, err := node.LoadConfig(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", withHint(fmt.Errorf("no node configuration: %s does not exist", path),
			"run this in the node's directory, or pass --node DIR or set TILLIT_NODE; or give the API's address with --api URL")
	}
	if err != nil {
		return "", withHint(err, "fix the node configuration, or give the API's address with --api URL")
	}
	if b, err := os.ReadFile(filepath.Join(cfg.Path(cfg.Data), runningAPIFile)); err == nil {
		if u := strings.TrimSpace(string(b)); strings.HasPrefix(u, "http://") || strings.HasPrefix(u, "https://") {
			return u, nil
		}
	}
	host, port, err := net.SplitHostPort(cfg.API.Listen)
	if err != nil {
		return "", fmt.Errorf("%s: api.listen: %v", path, err)
	}
	if port == "0" {
		return "", withHint(fmt.Errorf("the node's API address is not known: api.listen in %s has port 0, and there is no %s",
			path, filepath.Join(cfg.Path(cfg.Data), runningAPIFile)),
			fmt.Sprintf("is the node running? start it with 'tillit serve --config %s'", path))
	}
	// A node listening on every address is reachable on loopback.
	switch ip := net.ParseIP(host); {
	case host == "", ip != nil && ip.IsUnspecified() && ip.To4() != nil:
		host = "127.0.0.1"
	case ip != nil && ip.IsUnspecified():
		host = "::1"
	}
	return "http://" + net.JoinHostPort(host, port), nil
}

// apiToken returns the API token and where it came from.
func apiToken(dir, file string) (tok, from string, err error) {
	if file == "" {
		if tok := strings.TrimSpace(os.Getenv("TILLIT_TOKEN")); tok != "" {
			return tok, "$TILLIT_TOKEN", nil
		}
		file = filepath.Join(dir, filepath.FromSlash(localnet.TokenFile(node.RoleOfficer)))
	}
	b, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return "", "", withHint(fmt.Errorf("no API token: %s does not exist", file),
			"pass --token-file FILE (such as tokens/analyst.token in the node's directory) or set TILLIT_TOKEN")
	}
	if err != nil {
		return "", "", fmt.Errorf("couldn't read the API token: %w", err)
	}
	if tok = strings.TrimSpace(string(b)); tok == "" {
		return "", "", withHint(fmt.Errorf("no API token: %s is empty", file), "pass --token-file FILE or set TILLIT_TOKEN")
	}
	return tok, file, nil
}

// explain turns a failed call into a CLI error with a hint where the fix is
// knowable.
func (c *apiConn) explain(err error) error {
	var p *api.Problem
	var op *net.OpError
	switch {
	case errors.As(err, &p):
		switch p.Status {
		case http.StatusUnauthorized:
			return withHint(p, fmt.Sprintf("the node did not accept the token from %s; its SHA-256 must be in an [[api.token]] of %s",
				c.tokenFrom, filepath.Join(c.dir, localnet.ConfigFile)))
		case http.StatusForbidden:
			return withHint(p, "use a token whose role may do this: pass --token-file FILE or set TILLIT_TOKEN")
		case http.StatusServiceUnavailable:
			return withHint(p, "wait for the node to be back, then try again")
		}
		return p
	case errors.Is(err, syscall.ECONNREFUSED), errors.As(err, &op) && op.Op == "dial":
		return withHint(fmt.Errorf("couldn't reach the node's API at %s: %w", c.BaseURL(), unwrapNet(err)),
			fmt.Sprintf("is the node running? start it with 'tillit serve --config %s'", filepath.Join(c.dir, localnet.ConfigFile)))
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("the node's API at %s did not answer within %v", c.BaseURL(), apiTimeout)
	}
	return err
}

// unwrapNet drops the method and URL that net/http puts in front of a
// network error.
func unwrapNet(err error) error {
	var op *net.OpError
	if errors.As(err, &op) {
		return op.Err
	}
	return err
}

// callContext returns the context of one call, which ends after apiTimeout.
func callContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), apiTimeout)
}

// shortRef abbreviates a statement reference for tables: the party's name
// instead of the whole log origin, and the first 8 characters of the hash,
// like "RU/41#bo0g0sSO". Unparsable references are cut at 24 characters.
func shortRef(ref string) string {
	r, err := statement.ParseRef(ref)
	if err != nil {
		if len(ref) > 24 {
			return ref[:23] + "…"
		}
		return ref
	}
	log := r.Log
	if i := strings.LastIndexByte(log, '/'); i >= 0 {
		log = log[i+1:]
	}
	_, hash, _ := strings.Cut(ref[len(r.Log)+1:], "#")
	return fmt.Sprintf("%s/%d#%s", log, r.Index, hash[:min(8, len(hash))])
}

// nextDeadline returns the earliest deadline a statement waits on, or zero.
func nextDeadline(m node.Message) time.Time {
	var next time.Time
	for _, r := range m.Recipients {
		if n := r.Verdict.Next; !n.IsZero() && (next.IsZero() || n.Before(next)) {
			next = n
		}
	}
	return next
}

// tableTime formats a time for tables, in UTC.
func tableTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

// messageSummary describes a statement in one line, like "notify.exercise
// PRIORITY from NATO to RU: pending, next deadline 2022-01-16 10:05:00Z".
func messageSummary(m node.Message) string {
	s := fmt.Sprintf("%s %s from %s to %s: %s", m.Type, m.Precedence, m.From, strings.Join(m.To, ", "), m.State)
	if next := nextDeadline(m); !next.IsZero() {
		s += ", next deadline " + tableTime(next)
	}
	return s
}

// ageOf formats how long ago t was, like "12s ago" or "3h05m ago".
func ageOf(t time.Time) string { return ageAt(timeNow(), t) }

// ageAt is how long before now t was, for people.
func ageAt(now, t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t)
	switch {
	case d < 0:
		return "in the future"
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds ago", int(d.Minutes()), int(d.Seconds())%60)
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%02dm ago", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd ago", int(d.Hours()/24))
}
