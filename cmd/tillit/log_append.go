package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"os"

	"github.com/tillit/tillit/statement"
)

func runLogAppend(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("log append", "[FILE...]", "Appends statements, one JSON object per line, from the files or standard input.\nEvery line is validated first; if any is invalid nothing is appended.\nPrints the index of each statement, in input order, once it is durable,\nthen forces a checkpoint that covers them all.", stderr)
	dir := fs.String("dir", "", "log directory (required)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *dir == "" {
		fs.Usage()
		return errUsage
	}
	var entries [][]byte
	if fs.NArg() == 0 {
		var err error
		if entries, err = readStatements(os.Stdin, "stdin"); err != nil {
			return err
		}
	}
	for _, name := range fs.Args() {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		es, err := readStatements(f, name)
		f.Close()
		if err != nil {
			return err
		}
		entries = append(entries, es...)
	}
	if len(entries) == 0 {
		return withHint(fmt.Errorf("no statements to append"), "give one JSON statement per line on stdin or in files")
	}
	ctx := context.Background()
	d, err := openLogDir(ctx, *dir, cliLogger(stderr), nil)
	if err != nil {
		return err
	}
	defer d.Close()
	idx, failed, err := appendAll(ctx, d, entries, newProgress(stderr, "appending"))
	for _, n := range idx {
		if n < 0 {
			fmt.Fprintln(stdout, "failed")
		} else {
			fmt.Fprintln(stdout, n)
		}
	}
	if err != nil {
		return fmt.Errorf("%d of %d statements were not appended (marked \"failed\"); first error: %w", failed, len(entries), err)
	}
	cp, err := d.log.Checkpoint(ctx)
	if err != nil {
		return fmt.Errorf("couldn't checkpoint: %w", err)
	}
	fmt.Fprintf(stderr, "appended %d statements; checkpoint %s size %d\n", len(entries), cp.Origin, cp.Tree.N)
	return nil
}

// readStatements reads and validates one statement per non-blank line.
func readStatements(r io.Reader, name string) ([][]byte, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), statement.MaxSize+2)
	var out [][]byte
	for line := 1; sc.Scan(); line++ {
		b := bytes.TrimRight(sc.Bytes(), "\r")
		if len(bytes.TrimSpace(b)) == 0 {
			continue
		}
		if _, err := statement.Parse(b); err != nil {
			return nil, withHint(fmt.Errorf("%s:%d: %w", name, line, err), "nothing was appended; fix the line and run again")
		}
		out = append(out, bytes.Clone(b))
	}
	if err := sc.Err(); err != nil {
		if err == bufio.ErrTooLong {
			return nil, fmt.Errorf("%s:%d: line longer than %d bytes; nothing was appended", name, len(out)+1, statement.MaxSize)
		}
		return nil, fmt.Errorf("couldn't read %s: %w", name, err)
	}
	return out, nil
}

// appendAll appends entries in input order, in chunks so that progress
// can be shown, and returns the index of each, or -1 for each that failed.
func appendAll(ctx context.Context, d *logDir, entries [][]byte, p *progress) (idx []int64, failed int, firstErr error) {
	const chunk = 4096
	for i := 0; i < len(entries); i += chunk {
		n, err := d.log.AppendAll(ctx, entries[i:min(i+chunk, len(entries))])
		idx = append(idx, n...)
		for _, x := range n {
			if x < 0 {
				failed++
			}
		}
		firstErr = cmp.Or(firstErr, err)
		p.update(int64(len(idx)), int64(len(entries)))
	}
	p.done()
	return idx, failed, firstErr
}
