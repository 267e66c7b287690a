package main

import (
	"fmt"
	"io"

	"github.com/tillit/tillit/escrow"
)

func init() {
	register(command{"declare", "commit to an inventory of treaty-limited items (an escrowed declaration)", runDeclare})
}

func runDeclare(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("declare", "FILE",
		"Commits to the inventory in FILE (- for stdin) as this party's next declaration\n"+
			"version (docs/spec/escrow.md) and logs the commitment as a declaration.commit\n"+
			"statement, referring to the previous version's. Nothing of the inventory leaves\n"+
			"the node: its secret (every item and salt) is kept in DIR/escrow/, mode 0600, and\n"+
			"later reveals are made from it with 'tillit reveal'.\n\n"+
			"FILE is CSV whose first line is region,site,id,category, then one line per item\n"+
			"(region,site,id,category, then any key=value attributes), or JSON\n"+
			"{\"regions\":[{\"name\":…,\"sites\":[{\"name\":…,\"items\":[{\"id\":…,\"category\":…,\"attrs\":{…}}]}]}]}.\n"+
			"A malformed file is refused whole, naming the line and field; nothing is sent.", stderr)
	format := fs.String("format", "", "csv or json (default: by the file's extension, else by its first character)")
	quantum := fs.Uint64("quantum", 0, "pad the committed size to a multiple of this many leaves (default: to the next power of two)")
	var to listFlag
	to.comma = true
	fs.Var(&to, "to", "recipients, comma-separated (default * for every other party)")
	af := addAPIFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errUsage
	}
	if *quantum > escrow.MaxQuantum {
		return fmt.Errorf("--quantum %d is more than %d", *quantum, escrow.MaxQuantum)
	}
	data, err := readInput(fs.Arg(0))
	if err != nil {
		return err
	}
	d, err := parseInventory(fs.Arg(0), *format, data)
	if err != nil {
		return err
	}
	a, c, err := connectArms(af)
	if err != nil {
		return err
	}
	ctx, cancel := callContext()
	defer cancel()
	res, err := a.declare(ctx, d, *quantum, recipients(to))
	if err != nil {
		return c.explain(err)
	}
	if *af.json {
		return writeJSON(stdout, map[string]any{
			"ref": res.Msg.Ref, "version": res.Commitment.Version, "prev": res.Commitment.Prev,
			"regions": res.Regions, "sites": res.Sites, "items": res.Items, "categories": res.Categories,
			"commitment": res.Commitment, "secret_file": res.SecretFile, "message": res.Msg,
		})
	}
	fmt.Fprintln(stdout, res.Msg.Ref)
	cats := ""
	if len(res.Categories) > 0 {
		cats = " (" + describeCounts(res.Categories) + ")"
	}
	fmt.Fprintf(stdout, "declared version %d of %s's inventory: %s, %s, %s%s, committed as %d leaves\n",
		res.Commitment.Version, res.Commitment.Party, plural(res.Regions, "region"), plural(res.Sites, "site"), plural(res.Items, "item"), cats, res.Commitment.Size)
	if res.Commitment.Prev != "" {
		fmt.Fprintf(stdout, "it follows version %d, %s\n", res.Commitment.Version-1, res.Commitment.Prev)
	}
	fmt.Fprintf(stdout, "the secret is in %s: keep it like a private key; reveals are made from it\n", res.SecretFile)
	fmt.Fprintln(stdout, "sent "+messageSummary(res.Msg))
	return nil
}

// recipients returns the --to parties, or every other party.
func recipients(to listFlag) []string {
	if len(to.values) == 0 {
		return allParties
	}
	return to.values
}
