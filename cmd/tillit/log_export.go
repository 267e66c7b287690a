package main

import (
	"context"
	"fmt"
	"io"
)

func runLogExport(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("log export", "OUT", "Writes the tree of the latest checkpoint to directory OUT as static files in the\nc2sp.org/tlog-tiles layout, for auditors, mirrors or a CDN. Exporting again into\nthe same directory adds only what is new; the checkpoint is written last.", stderr)
	dir := fs.String("dir", "", "log directory (required)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *dir == "" || fs.NArg() != 1 {
		fs.Usage()
		return errUsage
	}
	ctx := context.Background()
	d, err := openLogDir(ctx, *dir, cliLogger(stderr), nil)
	if err != nil {
		return err
	}
	defer d.Close()
	p := newProgress(stderr, "exporting")
	cp, err := d.log.Export(ctx, fs.Arg(0), p.update)
	p.done()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "exported %s size %d to %s\n", cp.Origin, cp.Tree.N, fs.Arg(0))
	return nil
}
