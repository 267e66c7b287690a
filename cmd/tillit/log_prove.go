package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
)

func runLogProve(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("log prove", "INDEX", "Prints a c2sp.org/tlog-proof@v1 proof that entry INDEX is in the tree of the\nlatest checkpoint. Anyone with the log's verifier key can check it offline.", stderr)
	dir := fs.String("dir", "", "log directory (required)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *dir == "" || fs.NArg() != 1 {
		fs.Usage()
		return errUsage
	}
	index, err := strconv.ParseInt(fs.Arg(0), 10, 64)
	if err != nil || index < 0 {
		return fmt.Errorf("entry index %q is not a non-negative integer", fs.Arg(0))
	}
	ctx := context.Background()
	d, err := openLogDir(ctx, *dir, cliLogger(stderr), nil)
	if err != nil {
		return err
	}
	defer d.Close()
	p, err := d.log.Proof(ctx, index)
	if err != nil {
		return err
	}
	_, err = stdout.Write(p.Marshal())
	return err
}
