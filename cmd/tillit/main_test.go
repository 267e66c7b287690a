package main

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"tillit": func() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) },
	})
}

// TestScript runs the CLI scripts in testdata/script.
func TestScript(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			env.Setenv("TZ", "UTC")
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"waithttp":   waitHTTP,
			"freeport":   freePort,
			"eventually": eventually,
			"extract":    extract,
			"capture":    capture,
		},
	})
}

// waitHTTP URL [FILE]: waits up to 20 s for URL to answer 200, and writes
// the body to FILE if given.
func waitHTTP(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 || len(args) > 2 {
		ts.Fatalf("usage: waithttp URL [FILE]")
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(args[0])
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				if len(args) == 2 {
					ts.Check(os.WriteFile(ts.MkAbs(args[1]), body, 0o644))
				}
				return
			}
		}
		if time.Now().After(deadline) {
			ts.Fatalf("%s did not answer 200 within 20 s: %v", args[0], err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// freePort NAME...: sets each environment variable NAME to a TCP port that
// was free on 127.0.0.1 a moment ago.
func freePort(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: freeport NAME...")
	}
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	for _, name := range args {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		ts.Check(err)
		lns = append(lns, ln) // held until all are chosen, so they differ
		ts.Setenv(name, strconv.Itoa(ln.Addr().(*net.TCPAddr).Port))
	}
}

// eventually REGEXP PROG [ARG...]: runs PROG every 100 ms, for up to 20 s,
// until it succeeds and its stdout matches REGEXP; its stdout and stderr
// are then those of the last run.
func eventually(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: eventually REGEXP PROG [ARG...]")
	}
	re, err := regexp.Compile("(?m)" + args[0])
	ts.Check(err)
	deadline := time.Now().Add(20 * time.Second)
	for {
		err := ts.Exec(args[1], args[2:]...)
		if err == nil && re.MatchString(ts.ReadFile("stdout")) {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("%s did not succeed with stdout matching %q within 20 s (last error: %v)", args[1], args[0], err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// extract FILE FROM TO DST: appends to DST the lines of FILE from the
// first one that matches the regexp FROM up to, not including, the next one
// that matches TO (or the end).
func extract(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 4 {
		ts.Fatalf("usage: extract FILE FROM TO DST")
	}
	from, err := regexp.Compile(args[1])
	ts.Check(err)
	to, err := regexp.Compile(args[2])
	ts.Check(err)
	var out strings.Builder
	in := false
	sc := bufio.NewScanner(strings.NewReader(ts.ReadFile(args[0])))
	for sc.Scan() {
		line := sc.Text()
		if !in && from.MatchString(line) {
			in = true
		} else if in && to.MatchString(line) {
			break
		}
		if in {
			out.WriteString(line + "\n")
		}
	}
	if !in {
		ts.Fatalf("%s has no line matching %q", args[0], args[1])
	}
	f, err := os.OpenFile(ts.MkAbs(args[3]), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	ts.Check(err)
	_, err = f.WriteString(out.String())
	ts.Check(err)
	ts.Check(f.Close())
}

// capture NAME REGEXP [FILE]: sets the environment variable NAME to the
// first submatch of REGEXP in FILE (default stdout).
func capture(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 || len(args) > 3 {
		ts.Fatalf("usage: capture NAME REGEXP [FILE]")
	}
	re, err := regexp.Compile("(?m)" + args[1])
	ts.Check(err)
	file := "stdout"
	if len(args) == 3 {
		file = args[2]
	}
	m := re.FindStringSubmatch(ts.ReadFile(file))
	if len(m) < 2 {
		ts.Fatalf("%s has no match for %q with a submatch", file, args[1])
	}
	ts.Setenv(args[0], m[1])
}
