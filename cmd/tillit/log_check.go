package main

import (
	"context"
	"encoding/base64"
	"flag"
	"fmt"
	"io"
)

func runLogCheck(args []string, stdout, stderr io.Writer) error {
	return dirCommand("log check", "", "Checks a log's own store against its latest checkpoint: reads every entry and\nhash tile, recomputes every hash and the root. Opening a log checks only the\nhashes its last checkpoint's root is computed from; this finds damage anywhere.",
		0, args, stderr, nil, func(ctx context.Context, d *logDir, fs *flag.FlagSet) error {
			p := newProgress(stderr, "checking")
			c, err := d.log.Verify(ctx, p.update)
			p.done()
			if err != nil {
				return withHint(fmt.Errorf("the store is damaged: %w", err), "restore the database from a copy, or rebuild it from an export or a peer's mirror")
			}
			fmt.Fprintf(stdout, "ok %s\nsize %d\nroot %s\n", c.Origin, c.Tree.N, base64.StdEncoding.EncodeToString(c.Tree.Hash[:]))
			return nil
		})
}
