package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"

	"github.com/tillit/tillit/internal/localnet"
	"github.com/tillit/tillit/node"
	"github.com/tillit/tillit/statement"
)

func init() {
	register(command{"init", "set up a new party: keys, TLS identity, operator tokens, node.toml", runInit})
}

func runInit(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("init", "", `Set up a new party's node in a directory: its log key, receipt (cosign) key,
TLS identity, operator API tokens (officer, analyst, auditor) and node.toml.
It prints the [[party]] table to add to the regime. Private keys and tokens
are written with mode 0600 and never overwritten.`, stderr)
	dir := fs.String("dir", "", "the node's directory (required; created if missing)")
	party := fs.String("party", "", "this party's name in the regime (required)")
	id := fs.String("regime-id", "", "the regime's id, which names the keys (required)")
	regimePath := fs.String("regime", "regime.toml", "the regime file, relative to --dir or absolute")
	listen := fs.String("listen", ":7101", "address for peers (HTTPS, pinned TLS)")
	apiListen := fs.String("api", "127.0.0.1:7201", "address of the operator API (keep it on loopback)")
	endpoint := fs.String("endpoint", "", "the URL peers reach this node at, for the regime (default https://HOST:PORT from --listen)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *dir == "" || *party == "" || *id == "" || fs.NArg() != 0 {
		fs.Usage()
		return errUsage
	}
	if !statement.ValidName(*party) {
		return withHint(fmt.Errorf("party name %q is not valid", *party), "use letters, digits, '.', '_' or '-' (docs/spec/statement.md)")
	}
	if !statement.ValidName(*id) {
		return withHint(fmt.Errorf("regime id %q is not valid", *id), "use letters, digits, '.', '_' or '-'")
	}
	for _, a := range []string{*listen, *apiListen} {
		if _, _, err := net.SplitHostPort(a); err != nil {
			return withHint(fmt.Errorf("address %q: %v", a, err), "write HOST:PORT, like :7101 or 127.0.0.1:7201")
		}
	}
	if host, _, _ := net.SplitHostPort(*apiListen); host != "localhost" && (net.ParseIP(host) == nil || !net.ParseIP(host).IsLoopback()) {
		return withHint(fmt.Errorf("--api %q is not a loopback address", *apiListen), "the operator API is plain HTTP with bearer tokens: keep it on 127.0.0.1 or ::1 (reach it remotely through a TLS proxy or an SSH tunnel)")
	}
	cfgPath := filepath.Join(*dir, localnet.ConfigFile)
	if _, err := os.Stat(cfgPath); err == nil {
		return withHint(fmt.Errorf("%s already exists", cfgPath), "choose another --dir; init never overwrites a node")
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := os.MkdirAll(*dir, 0o700); err != nil {
		return err
	}
	pub, err := localnet.GenerateKeys(*dir, *id, *party)
	if err != nil {
		return withHint(err, "init never overwrites keys; choose an empty --dir")
	}
	cfg := &node.Config{
		Party: *party, Regime: *regimePath, Data: "data",
		LogKey: localnet.LogKeyFile, CosignKey: localnet.CosignKeyFile, TLSKey: localnet.TLSKeyFile,
		Peer: node.PeerConfig{Listen: *listen}, API: node.APIConfig{Listen: *apiListen},
	}
	for _, role := range []string{node.RoleOfficer, node.RoleAnalyst, node.RoleAuditor} {
		t, _, err := localnet.NewToken(*dir, role)
		if err != nil {
			return err
		}
		cfg.API.Tokens = append(cfg.API.Tokens, t)
	}
	b, err := cfg.Encode()
	if err != nil {
		return err
	}
	header := "# tillit node configuration (docs/node.md). Paths are relative to this file.\n"
	if err := os.WriteFile(cfgPath, append([]byte(header), b...), 0o600); err != nil {
		return err
	}
	if _, err := node.LoadConfig(cfgPath); err != nil {
		return fmt.Errorf("the configuration written does not load: %w", err)
	}
	ep := *endpoint
	if ep == "" {
		host, port, _ := net.SplitHostPort(*listen)
		if host == "" || host == "0.0.0.0" || host == "::" {
			if h, err := os.Hostname(); err == nil {
				host = h
			} else {
				host = "HOST"
			}
		}
		ep = "https://" + net.JoinHostPort(host, port)
	}
	fmt.Fprintf(stdout, `Created %s's node in %s:
  %-22s log key (signs checkpoints and the regime)
  %-22s receipt key (cosigns other parties' checkpoints)
  %-22s TLS identity (pinned by the regime)
  %-22s operator API tokens (officer, analyst, auditor)
  %-22s node configuration

Add this party to the regime file (%s):

[[party]]
name = %q
role = "party"
log_key = %q
cosign_key = %q
tls_key = %q
endpoints = [%q]

Then every party signs the regime:
  tillit regime sign --regime REGIME.toml --key %s
and, once regime.sigs holds every signature, starts its node:
  tillit serve --config %s
`, *party, *dir, localnet.LogKeyFile, localnet.CosignKeyFile, localnet.TLSKeyFile, "tokens/", localnet.ConfigFile,
		*regimePath, *party, pub.LogKey, pub.CosignKey, pub.TLSKey, ep,
		filepath.Join(*dir, localnet.LogKeyFile), cfgPath)
	return nil
}
