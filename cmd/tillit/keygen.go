package main

import (
	"fmt"
	"io"

	"github.com/tillit/tillit/cosign"
	"github.com/tillit/tillit/internal/keys"
)

func runKeygen(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("keygen", "", "Generates an Ed25519 key. The private key is written to --out (mode 0600,\nnever overwritten); the verifier key is printed. A log key signs the log's\ncheckpoints (c2sp.org/signed-note); a cosign key signs receipts of other\nparties' logs (c2sp.org/tlog-cosignature). Both are named <regime>/<party>.", stderr)
	name := fs.String("name", "", "key name, such as nato-russia-2022/RU (required)")
	out := fs.String("out", "", "private key file to create (required)")
	kind := fs.String("type", "log", "key type: log or cosign")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *name == "" || *out == "" || fs.NArg() != 0 {
		fs.Usage()
		return errUsage
	}
	var skey, vkey string
	var err error
	switch *kind {
	case "log":
		skey, vkey, err = keys.Generate(*name)
	case "cosign":
		skey, vkey, err = cosign.GenerateKey(*name)
	default:
		return withHint(fmt.Errorf("unknown key type %q", *kind), "use --type log or --type cosign")
	}
	if err != nil {
		return withHint(err, "key names must be non-empty and contain no spaces or '+'")
	}
	if err := keys.Write(*out, skey); err != nil {
		return err
	}
	fmt.Fprintln(stdout, vkey)
	return nil
}
