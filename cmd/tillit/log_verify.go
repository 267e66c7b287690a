package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"strings"

	"github.com/tillit/tillit/internal/keys"
	"github.com/tillit/tillit/tlog"
)

func runLogVerify(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("log verify", "URL|DIR", "Fetches a whole log from a tlog-tiles URL prefix or an exported directory,\nrecomputes every tile and the root from the entries, and checks the checkpoint\nsignature. Prints the verified origin, size and root, or the first fault and where.", stderr)
	vkey := fs.String("vkey", "", "the log's verifier key, or a file holding it (required); its name is the origin")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *vkey == "" || fs.NArg() != 1 {
		fs.Usage()
		return errUsage
	}
	v, err := keys.ParseVerifier(*vkey)
	if err != nil {
		return err
	}
	src := fs.Arg(0)
	fetch := tlog.DirFetcher(src)
	if strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://") {
		if fetch, err = tlog.HTTPFetcher(src, nil); err != nil {
			return err
		}
	}
	p := newProgress(stderr, "verifying")
	c, err := tlog.VerifyLog(context.Background(), fetch, v.Name(), v, tlog.VerifyOptions{Progress: p.update})
	p.done()
	if err != nil {
		return fmt.Errorf("verification failed: %w", err)
	}
	fmt.Fprintf(stdout, "verified %s\nsize %d\nroot %s\n", c.Origin, c.Tree.N, base64.StdEncoding.EncodeToString(c.Tree.Hash[:]))
	return nil
}
