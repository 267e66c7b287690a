package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/tillit/tillit/node"
)

func init() {
	register(command{"send", "make a statement through the node's operator API", runSend})
}

// maxBodyFile bounds a body file; the API takes at most 1 MiB per request.
const maxBodyFile = 1 << 20

func runSend(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("send", "TYPE --to P[,P...] [-f body.json | field=value ...]",
		"Makes a statement of TYPE to the parties --to (or * for every other party):\n"+
			"the node checks it against the regime, appends it to the party's log and\n"+
			"pushes it to them. Prints the statement's reference and where it stands.\n\n"+
			"The body is a JSON object, from a file (-f FILE, or -f - for stdin) or from\n"+
			"field=value arguments: dotted fields make nested objects (position.lat=54.7);\n"+
			"values that are JSON numbers, true, false, null, arrays or objects are used as\n"+
			"JSON, others as strings; field:=json forces JSON and field==text a string.\n"+
			"Without either, the body is {}.", stderr)
	var to, refs listFlag
	to.comma = true
	fs.Var(&to, "to", "recipient parties, comma-separated or repeated; * for every other party (required)")
	fs.Var(&refs, "ref", "reference to an earlier statement (repeatable)")
	prec := fs.String("precedence", "", "ROUTINE, PRIORITY, IMMEDIATE or FLASH (default the type's)")
	file := fs.String("f", "", "read the body from this JSON file; - for stdin")
	af := addAPIFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() < 1 || len(to.values) == 0 {
		fs.Usage()
		return errUsage
	}
	fields := fs.Args()[1:]
	var body json.RawMessage
	var err error
	switch {
	case *file != "" && len(fields) > 0:
		return withHint(fmt.Errorf("both -f and field=value arguments"), "give the body one way: a file or field=value arguments")
	case *file != "":
		body, err = readBodyFile(*file)
	default:
		body, err = buildBody(fields)
	}
	if err != nil {
		return err
	}
	c, err := af.connect()
	if err != nil {
		return err
	}
	ctx, cancel := callContext()
	defer cancel()
	m, err := c.Send(ctx, node.SendRequest{
		Type:       fs.Arg(0),
		To:         to.values,
		Precedence: strings.ToUpper(*prec),
		Refs:       refs.values,
		Body:       body,
	})
	if err != nil {
		return c.explain(err)
	}
	if *af.json {
		return writeJSON(stdout, m)
	}
	fmt.Fprintln(stdout, m.Ref)
	fmt.Fprintln(stdout, "sent "+messageSummary(m))
	return nil
}

// listFlag is a flag that may be repeated, and whose values may be
// comma-separated lists.
type listFlag struct {
	values []string
	comma  bool
}

func (l *listFlag) String() string { return strings.Join(l.values, ",") }

func (l *listFlag) Set(s string) error {
	vs := []string{s}
	if l.comma {
		vs = strings.Split(s, ",")
	}
	for _, v := range vs {
		if v = strings.TrimSpace(v); v == "" {
			return fmt.Errorf("empty value in %q", s)
		}
		l.values = append(l.values, v)
	}
	return nil
}

// readBodyFile reads a JSON body from a file, or stdin for "-".
func readBodyFile(name string) (json.RawMessage, error) {
	r := io.Reader(os.Stdin)
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, fmt.Errorf("couldn't read the body: %w", err)
		}
		defer f.Close()
		r = f
	} else {
		name = "stdin"
	}
	b, err := io.ReadAll(io.LimitReader(r, maxBodyFile+1))
	if err != nil {
		return nil, fmt.Errorf("couldn't read the body from %s: %w", name, err)
	}
	if len(b) > maxBodyFile {
		return nil, fmt.Errorf("body in %s is larger than 1 MiB", name)
	}
	if !json.Valid(b) {
		var v any
		err := json.Unmarshal(b, &v)
		return nil, withHint(fmt.Errorf("body in %s is not valid JSON: %v", name, err), "the body must be one JSON object")
	}
	if b = bytes.TrimSpace(b); len(b) == 0 || b[0] != '{' {
		return nil, withHint(fmt.Errorf("body in %s is not a JSON object", name), "the body must be one JSON object, like {\"text\":\"…\"}")
	}
	return b, nil
}

// buildBody makes a JSON object from field=value, field:=json and
// field==text arguments, with dotted fields as nested objects.
func buildBody(args []string) (json.RawMessage, error) {
	root := map[string]any{}
	for _, arg := range args {
		key, val, err := parseField(arg)
		if err != nil {
			return nil, withHint(err, "body fields are field=value, field:=json or field==text")
		}
		if err := setField(root, key, val); err != nil {
			return nil, err
		}
	}
	b, err := json.Marshal(root)
	if err != nil {
		return nil, err
	}
	return b, nil
}

// parseField splits one body argument into its dotted key and JSON value.
func parseField(arg string) (string, json.RawMessage, error) {
	i := strings.IndexByte(arg, '=')
	if i < 0 {
		return "", nil, fmt.Errorf("body field %q has no '='", arg)
	}
	key, val := arg[:i], arg[i+1:]
	switch {
	case strings.HasSuffix(key, ":"):
		key = strings.TrimSuffix(key, ":")
		var buf bytes.Buffer
		if err := json.Compact(&buf, []byte(val)); err != nil {
			var v any
			err = json.Unmarshal([]byte(val), &v)
			return "", nil, fmt.Errorf("body field %s: %q is not JSON: %v", key, val, err)
		}
		return key, buf.Bytes(), nil
	case strings.HasPrefix(val, "="):
		return key, jsonString(val[1:]), nil
	}
	if looksLikeJSON(val) {
		var buf bytes.Buffer
		if json.Compact(&buf, []byte(val)) == nil {
			return key, buf.Bytes(), nil
		}
	}
	return key, jsonString(val), nil
}

// looksLikeJSON reports whether a plain value is meant as JSON: a number,
// true, false, null, an array or an object (but not a string).
func looksLikeJSON(v string) bool {
	if v == "" || !json.Valid([]byte(v)) {
		return false
	}
	return strings.TrimSpace(v)[0] != '"'
}

func jsonString(s string) json.RawMessage {
	b, _ := json.Marshal(s)
	return b
}

// setField sets the dotted key in the object root.
func setField(root map[string]any, key string, val json.RawMessage) error {
	parts := strings.Split(key, ".")
	obj := root
	for i, p := range parts {
		if p == "" {
			return withHint(fmt.Errorf("body field %q has an empty name", key), "dotted names like position.lat make nested objects; no part may be empty")
		}
		path := strings.Join(parts[:i+1], ".")
		if i == len(parts)-1 {
			switch obj[p].(type) {
			case map[string]any:
				return fmt.Errorf("body field %s is both a value and an object", path)
			case json.RawMessage:
				return fmt.Errorf("body field %s is given twice", path)
			}
			obj[p] = val
			return nil
		}
		switch next := obj[p].(type) {
		case nil:
			m := map[string]any{}
			obj[p] = m
			obj = m
		case map[string]any:
			obj = next
		default:
			return fmt.Errorf("body field %s is both a value and an object", path)
		}
	}
	return nil
}
