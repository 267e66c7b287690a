package main

import (
	"fmt"
	"io"

	"github.com/tillit/tillit/internal/keys"
)

func runKeygen(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("keygen", "", "Generates an Ed25519 signed-note key. The private key is written to --out\n(mode 0600, never overwritten); the verifier key is printed.", stderr)
	name := fs.String("name", "", "key name: the log origin, such as nato-russia-2022/RU (required)")
	out := fs.String("out", "", "private key file to create (required)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *name == "" || *out == "" || fs.NArg() != 0 {
		fs.Usage()
		return errUsage
	}
	skey, vkey, err := keys.Generate(*name)
	if err != nil {
		return withHint(err, "key names must be non-empty and contain no spaces or '+'")
	}
	if err := keys.Write(*out, skey); err != nil {
		return err
	}
	fmt.Fprintln(stdout, vkey)
	return nil
}
