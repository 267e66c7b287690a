package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/tillit/tillit/internal/keys"
	"github.com/tillit/tillit/partylog"
	"github.com/tillit/tillit/store/sqlite"
	"golang.org/x/mod/sumdb/note"
)

// A log directory holds log.db (the SQLite store), log.key (the private key,
// mode 0600) and log.vkey (the verifier key). The key's name is the origin.
const (
	dbFile   = "log.db"
	keyFile  = "log.key"
	vkeyFile = "log.vkey"
	lockFile = "log.lock"
)

var logCommands = []command{
	{"init", "create a new log in a directory", runLogInit},
	{"append", "append statements (JSON lines) and print their indexes", runLogAppend},
	{"serve", "serve a log over HTTP as tlog-tiles", runLogServe},
	{"export", "write a log as static tlog-tiles files", runLogExport},
	{"verify", "fetch a whole log (URL or directory) and verify it", runLogVerify},
	{"check", "check a log's own store from the entries up", runLogCheck},
	{"prove", "print a tlog-proof for an entry", runLogProve},
}

func runLog(args []string, stdout, stderr io.Writer) error {
	return (&group{name: "log", usage: "Usage: tillit log <command> [flags] [args]", width: 8, cmds: logCommands}).run(args, stdout, stderr)
}

// logDir is an opened log directory.
type logDir struct {
	lock     *os.File
	db       *sqlite.DB
	log      *partylog.Log
	verifier note.Verifier
	vkey     string
}

func (d *logDir) Close() error {
	err := errors.Join(d.log.Close(), d.db.Close())
	d.lock.Close() // releases the lock
	return err
}

// lockDir takes the directory's exclusive lock, so that one process at a
// time runs a log: a second writer would be refused by the store anyway, but
// only after it had started, and a second reader would serve a stale view.
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("couldn't lock %s: %w", dir, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, withHint(fmt.Errorf("the log in %s is in use by another tillit process", dir),
			"stop the other process (such as 'tillit log serve') first; one process at a time runs a log")
	}
	return f, nil
}

// openLogDir opens the log in dir and starts it.
// Metrics go to reg if it is not nil.
func openLogDir(ctx context.Context, dir string, logger *slog.Logger, reg prometheus.Registerer) (*logDir, error) {
	if _, err := os.Stat(filepath.Join(dir, dbFile)); errors.Is(err, fs.ErrNotExist) {
		return nil, withHint(fmt.Errorf("no log in %s", dir), fmt.Sprintf("create one with 'tillit log init --dir %s --origin ORIGIN'", dir))
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	d, err := openLocked(ctx, dir, logger, reg)
	if err != nil {
		lock.Close()
		return nil, err
	}
	d.lock = lock
	return d, nil
}

func openLocked(ctx context.Context, dir string, logger *slog.Logger, reg prometheus.Registerer) (*logDir, error) {
	signer, verifier, vkey, err := keys.Load(filepath.Join(dir, keyFile))
	if err != nil {
		return nil, err
	}
	db, err := sqlite.Open(filepath.Join(dir, dbFile))
	if err != nil {
		return nil, err
	}
	st, err := db.Log(ctx, signer.Name())
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("%w (is %s the key of this log?)", err, keyFile)
	}
	lg, err := partylog.Open(ctx, st, partylog.Options{Origin: signer.Name(), Signer: signer, Verifier: verifier, Logger: logger, Registerer: reg})
	if err != nil {
		db.Close()
		if errors.Is(err, partylog.ErrFatal) {
			return nil, withHint(err, "the log refuses to run rather than risk signing a second tree; restore the database from a copy that matches the last checkpoint")
		}
		return nil, err
	}
	return &logDir{db: db, log: lg, verifier: verifier, vkey: vkey}, nil
}

// cliLogger logs warnings and errors as text to stderr.
func cliLogger(stderr io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// dirCommand parses the flags of a log subcommand that takes --dir and
// nargs positional arguments (-1: any number), opens the log, and runs fn.
// extra, if set, defines more flags before parsing.
func dirCommand(name, argsUsage, summary string, nargs int, args []string, stderr io.Writer,
	extra func(*flag.FlagSet), fn func(ctx context.Context, d *logDir, fs *flag.FlagSet) error) error {
	fs := newFlags(name, argsUsage, summary, stderr)
	dir := fs.String("dir", "", "log directory (required)")
	if extra != nil {
		extra(fs)
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *dir == "" || (nargs >= 0 && fs.NArg() != nargs) {
		fs.Usage()
		return errUsage
	}
	ctx := context.Background()
	d, err := openLogDir(ctx, *dir, cliLogger(stderr), nil)
	if err != nil {
		return err
	}
	defer d.Close()
	return fn(ctx, d, fs)
}
