package main

import (
	"context"
	"flag"
	"fmt"
	"io"
)

func runLogExport(args []string, stdout, stderr io.Writer) error {
	return dirCommand("log export", "OUT", "Writes the tree of the latest checkpoint to directory OUT as static files in the\nc2sp.org/tlog-tiles layout, for auditors, mirrors or a CDN. Exporting again into\nthe same directory adds only what is new; the checkpoint is written last.",
		1, args, stderr, nil, func(ctx context.Context, d *logDir, fs *flag.FlagSet) error {
			p := newProgress(stderr, "exporting")
			cp, err := d.log.Export(ctx, fs.Arg(0), p.update)
			p.done()
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "exported %s size %d to %s\n", cp.Origin, cp.Tree.N, fs.Arg(0))
			return nil
		})
}
