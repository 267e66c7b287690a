// Command tillit runs and inspects tillit logs.
//
// Each subcommand lives in its own file; main only dispatches.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// command is one subcommand: its name, one-line summary, and runner.
type command struct {
	name    string
	summary string
	run     func(args []string, stdout, stderr io.Writer) error
}

// commands are the subcommands; each file that implements one registers it
// in its init function with register. usage lists them by name.
var commands []command

func register(c command) {
	commands = append(commands, c)
	slices.SortFunc(commands, func(a, b command) int { return strings.Compare(a.name, b.name) })
}

func init() {
	register(command{"keygen", "generate a log or receipt (cosign) key", runKeygen})
	register(command{"log", "operate on a log: init, append, serve, export, verify, check, prove", runLog})
	register(command{"regime", "hash, sign and verify a regime (the treaty as configuration)", runRegime})
}

// group is a command with subcommands, like "tillit log".
type group struct {
	name   string    // the command's name
	usage  string    // what precedes the list of subcommands in its help
	width  int       // the width of the subcommand name column
	footer string    // printed after the list, if set
	cmds   []command // the subcommands
}

// run runs the subcommand args[0], or prints the group's help.
func (g *group) run(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(stderr, g.usage+"\n\nCommands:")
		for _, c := range g.cmds {
			fmt.Fprintf(stderr, "  %-*s %s\n", g.width, c.name, c.summary)
		}
		if g.footer != "" {
			fmt.Fprintln(stderr, "\n"+g.footer)
		}
		if len(args) == 0 {
			return errUsage
		}
		return nil
	}
	for _, c := range g.cmds {
		if c.name == args[0] {
			return c.run(args[1:], stdout, stderr)
		}
	}
	return withHint(fmt.Errorf("unknown %s command %q", g.name, args[0]), fmt.Sprintf("run 'tillit %s -h' for the list", g.name))
}

// cliError is an error with an optional hint for the user.
type cliError struct {
	msg  string
	hint string
}

func (e *cliError) Error() string { return e.msg }

func withHint(err error, hint string) error {
	return &cliError{msg: err.Error(), hint: hint}
}

// errUsage means the usage was already printed.
var errUsage = errors.New("usage")

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands {
		if c.name == args[0] {
			return report(c.run(args[1:], stdout, stderr), stderr)
		}
	}
	fmt.Fprintf(stderr, "tillit: unknown command %q\nhint: run 'tillit help' for the list of commands\n", args[0])
	return 2
}

func report(err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if errors.Is(err, errUsage) {
		return 2
	}
	msg := strings.TrimPrefix(err.Error(), "tillit: ")
	fmt.Fprintf(stderr, "tillit: %s\n", msg)
	var ce *cliError
	if errors.As(err, &ce) && ce.hint != "" {
		fmt.Fprintf(stderr, "hint: %s\n", ce.hint)
	}
	return 1
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "tillit: verifiable, mutual arms-control communication on transparency logs")
	fmt.Fprintln(w, "\nUsage: tillit <command> [flags] [args]\n\nCommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-11s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'tillit <command> -h' for a command's flags.")
}

// newFlags returns a flag set that prints usage to stderr and returns errors.
func newFlags(name, argsUsage, summary string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: tillit %s [flags] %s\n\n%s\n", name, argsUsage, summary)
		var hasFlags bool
		fs.VisitAll(func(*flag.Flag) { hasFlags = true })
		if hasFlags {
			fmt.Fprintln(stderr, "\nFlags:")
			fs.PrintDefaults()
		}
	}
	return fs
}

// parseFlags parses args, allowing flags after positional arguments.
func parseFlags(fs *flag.FlagSet, args []string) error {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return err
			}
			return errUsage
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	return fs.Parse(append([]string{"--"}, pos...))
}

// parseArgs parses args like parseFlags and checks that n positional
// arguments remain; if not, it prints the command's usage.
func parseArgs(fs *flag.FlagSet, args []string, n int) error {
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != n {
		fs.Usage()
		return errUsage
	}
	return nil
}
