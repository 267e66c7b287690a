package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestBuildBody(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{nil, `{}`},
		{[]string{"text=hello world"}, `{"text":"hello world"}`},
		{[]string{"n=54.7", "i=-3", "e=1e3", "t=true", "f=false", "z=null"}, `{"e":1e3,"f":false,"i":-3,"n":54.7,"t":true,"z":null}`},
		{[]string{"a=[1, 2]", `o={"k": "v"}`}, `{"a":[1,2],"o":{"k":"v"}}`},
		{[]string{"zip=007", "s=", "eq=a=b", `q="quoted"`, "word=truth"}, `{"eq":"a=b","q":"\"quoted\"","s":"","word":"truth","zip":"007"}`},
		{[]string{"position.lat=54.7", "position.lon=20.5", "position.name=Kaliningrad"}, `{"position":{"lat":54.7,"lon":20.5,"name":"Kaliningrad"}}`},
		{[]string{"a.b.c=1", "a.b.d=x", "a.e=2"}, `{"a":{"b":{"c":1,"d":"x"},"e":2}}`},
		{[]string{`raw:={"x": [1, "y"]}`, `n:=12`}, `{"n":12,"raw":{"x":[1,"y"]}}`},
		{[]string{"count==12", "flag==true"}, `{"count":"12","flag":"true"}`},
		{[]string{"big=123456789012345678901234567890"}, `{"big":123456789012345678901234567890}`},
	}
	for _, tt := range tests {
		got, err := buildBody(tt.args)
		if err != nil {
			t.Errorf("%q: %v", tt.args, err)
			continue
		}
		if string(got) != tt.want {
			t.Errorf("%q: %s, want %s", tt.args, got, tt.want)
		}
	}
}

func TestBuildBodyErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"text"}, `body field "text" has no '='`},
		{[]string{"a=1", "a=2"}, "body field a is given twice"},
		{[]string{"a=1", "a.b=2"}, "body field a is both a value and an object"},
		{[]string{"a.b=1", "a=2"}, "body field a is both a value and an object"},
		{[]string{"a..b=1"}, `body field "a..b" has an empty name`},
		{[]string{"=1"}, `body field "" has an empty name`},
		{[]string{"x:=nope"}, `body field x: "nope" is not JSON: invalid character 'o'`},
	}
	for _, tt := range tests {
		_, err := buildBody(tt.args)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: %v, want %q", tt.args, err, tt.want)
		}
	}
}

func TestSend(t *testing.T) {
	n := newTestNode(t)
	code, stdout, stderr := n.run(t, "send", "notify.exercise", "--to", "RU,US", "--precedence", "priority",
		"--ref", receivedRef, "text=Exercise Zapad", "position.lat=54.7", "position.lon=20.5", "troops=12000")
	if code != 0 {
		t.Fatalf("code %d\n%s", code, stderr)
	}
	c := n.lastSend(t)
	if c.Send.Type != "notify.exercise" || !slices.Equal(c.Send.To, []string{"RU", "US"}) || c.Send.Precedence != "PRIORITY" ||
		!slices.Equal(c.Send.Refs, []string{receivedRef}) || c.Role != "officer" {
		t.Errorf("request %+v, role %s", c.Send, c.Role)
	}
	if want := `{"position":{"lat":54.7,"lon":20.5},"text":"Exercise Zapad","troops":12000}`; string(c.Send.Body) != want {
		t.Errorf("body %s, want %s", c.Send.Body, want)
	}
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "nato-russia-2022/NATO/0#") ||
		lines[1] != "sent notify.exercise PRIORITY from NATO to RU, US: pending, next deadline 2022-01-16 10:05:00Z" {
		t.Errorf("output:\n%s", stdout)
	}

	// Flags after the fields, a repeated --to, and no body at all.
	if code, _, stderr := n.run(t, "send", "link.test", "--to", "RU", "--to", "US"); code != 0 {
		t.Fatalf("code %d\n%s", code, stderr)
	}
	if c := n.lastSend(t); string(c.Send.Body) != `{}` || !slices.Equal(c.Send.To, []string{"RU", "US"}) || c.Send.Precedence != "" {
		t.Errorf("request %+v", c.Send)
	}
}

func TestSendFile(t *testing.T) {
	n := newTestNode(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "body.json")
	body := "{\n  \"text\": \"from a file\",\n  \"n\": 1.50\n}\n"
	if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := n.run(t, "send", "notify.exercise", "--to", "RU", "-f", file, "--json")
	if code != 0 {
		t.Fatalf("code %d\n%s", code, stderr)
	}
	if got := n.lastSend(t).Send.Body; string(got) != `{"text":"from a file","n":1.50}` {
		t.Errorf("body %s, want the file's, compacted", got)
	}
	var m struct {
		Ref   string          `json:"ref"`
		State string          `json:"state"`
		Body  json.RawMessage `json:"body"`
	}
	if err := json.Unmarshal([]byte(stdout), &m); err != nil || m.Ref == "" || m.State != "pending" {
		t.Errorf("--json output %q: %v", stdout, err)
	}

	// -f - reads stdin.
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stdin
	os.Stdin = r
	t.Cleanup(func() { os.Stdin = old })
	w.WriteString(`{"text":"from stdin"}`)
	w.Close()
	if code, _, stderr := n.run(t, "send", "notify.exercise", "--to", "RU", "-f", "-"); code != 0 {
		t.Fatalf("-f -: code %d\n%s", code, stderr)
	}
	if got := n.lastSend(t).Send.Body; string(got) != `{"text":"from stdin"}` {
		t.Errorf("body %s", got)
	}
}

func TestSendErrors(t *testing.T) {
	n := newTestNode(t)
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"no type", []string{"send", "--to", "RU"}, 2, []string{"Usage: tillit send"}},
		{"no recipients", []string{"send", "t", "a=1"}, 2, []string{"Usage: tillit send"}},
		{"file and fields", []string{"send", "t", "--to", "RU", "-f", write("b.json", "{}"), "a=1"}, 1,
			[]string{"tillit: both -f and field=value arguments\n", "hint: give the body one way"}},
		{"file not JSON", []string{"send", "t", "--to", "RU", "-f", write("bad.json", "{text:1}")}, 1,
			[]string{"bad.json is not valid JSON: invalid character 't'", "hint: the body must be one JSON object"}},
		{"file not object", []string{"send", "t", "--to", "RU", "-f", write("arr.json", "[1]")}, 1,
			[]string{"arr.json is not a JSON object"}},
		{"file missing", []string{"send", "t", "--to", "RU", "-f", filepath.Join(dir, "none.json")}, 1,
			[]string{"couldn't read the body: open "}},
		{"bad field", []string{"send", "t", "--to", "RU", "a.=1"}, 1,
			[]string{`tillit: body field "a." has an empty name`, "hint: dotted names"}},
		{"refused by the node", []string{"send", "t", "--to", "RU", "--precedence", "urgent"}, 1,
			[]string{`tillit: 422 Request refused: field "precedence": "URGENT" is not ROUTINE, PRIORITY, IMMEDIATE or FLASH` + "\n"}},
		{"analyst FLASH", []string{"send", "t", "--to", "RU", "--precedence", "FLASH", "--token-file", filepath.Join(n.dir, "tokens", "analyst.token")}, 1,
			[]string{"tillit: 403 Not allowed for this token's role: role analyst may send ROUTINE and PRIORITY statements only, not FLASH",
				"hint: use a token whose role may do this"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := n.run(t, tt.args...)
			if code != tt.code {
				t.Errorf("code %d, want %d\n%s", code, tt.code, stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			if stdout != "" {
				t.Errorf("stdout %q", stdout)
			}
		})
	}
}
