package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/tillit/tillit/internal/keys"
	"github.com/tillit/tillit/statement"
	"github.com/tillit/tillit/store/sqlite"
)

func runLogInit(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("log init", "", "Creates a new, empty log in --dir: log.db, log.key (mode 0600) and log.vkey.\nPrints the verifier key.", stderr)
	dir := fs.String("dir", "", "log directory to create (required)")
	origin := fs.String("origin", "", "log origin, <regime>/<party>, such as nato-russia-2022/RU (required unless --key)")
	keyPath := fs.String("key", "", "existing private key file (from 'tillit keygen') to use instead of a new one")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *dir == "" || (*origin == "" && *keyPath == "") || fs.NArg() != 0 {
		fs.Usage()
		return errUsage
	}
	if err := initLogDir(*dir, *origin, *keyPath); err != nil {
		return err
	}
	b, _ := os.ReadFile(filepath.Join(*dir, vkeyFile))
	fmt.Fprint(stdout, string(b))
	return nil
}

func initLogDir(dir, origin, keyPath string) error {
	if origin != "" && !statement.ValidOrigin(origin) {
		return withHint(fmt.Errorf("invalid origin %q", origin), "an origin is <regime>/<party>: printable ASCII, no spaces or '+'")
	}
	if _, err := os.Stat(filepath.Join(dir, dbFile)); err == nil {
		return withHint(fmt.Errorf("%s already holds a log", dir), "choose another --dir; an existing log is never overwritten")
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("couldn't create %s: %w", dir, err)
	}
	var skey, vkey string
	if keyPath != "" {
		b, err := os.ReadFile(keyPath)
		if err != nil {
			return fmt.Errorf("couldn't read key: %w", err)
		}
		s, _, v, err := keys.Parse(string(bytes.TrimSpace(b)))
		if err != nil {
			return err
		}
		if origin != "" && s.Name() != origin {
			return withHint(fmt.Errorf("key %s is named %q, not the origin %q", keyPath, s.Name(), origin), "the key name must be the log origin")
		}
		origin, skey, vkey = s.Name(), string(bytes.TrimSpace(b)), v
	} else {
		var err error
		if skey, vkey, err = keys.Generate(origin); err != nil {
			return err
		}
	}
	if err := keys.Write(filepath.Join(dir, keyFile), skey); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, vkeyFile), []byte(vkey+"\n"), 0o644); err != nil {
		return fmt.Errorf("couldn't write verifier key: %w", err)
	}
	db, err := sqlite.Open(filepath.Join(dir, dbFile))
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.CreateLog(context.Background(), origin)
	return err
}
