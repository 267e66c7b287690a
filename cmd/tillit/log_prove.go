package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"
)

func runLogProve(args []string, stdout, stderr io.Writer) error {
	return dirCommand("log prove", "INDEX", "Prints a c2sp.org/tlog-proof@v1 proof that entry INDEX is in the tree of the\nlatest checkpoint. Anyone with the log's verifier key can check it offline.",
		1, args, stderr, nil, func(ctx context.Context, d *logDir, fs *flag.FlagSet) error {
			index, err := strconv.ParseInt(fs.Arg(0), 10, 64)
			if err != nil || index < 0 {
				return fmt.Errorf("entry index %q is not a non-negative integer", fs.Arg(0))
			}
			p, err := d.log.Proof(ctx, index)
			if err != nil {
				return err
			}
			_, err = stdout.Write(p.Marshal())
			return err
		})
}
