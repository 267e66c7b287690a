package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tillit/tillit/escrow"
	"github.com/tillit/tillit/node"
	"github.com/tillit/tillit/statement"
)

// TestMessageEntry checks that a statement a node describes is accepted only
// if its canonical encoding hashes to its reference.
func TestMessageEntry(t *testing.T) {
	b, err := statement.Encode(&statement.Statement{Regime: "nato-russia-2022", From: "RU", To: []string{"*"}, Type: typeCommit,
		Precedence: statement.Routine, Time: time.Date(2022, 1, 27, 5, 6, 0, 0, time.UTC), Body: []byte(`{"size":16}`)})
	if err != nil {
		t.Fatal(err)
	}
	st, err := statement.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	ref := st.Ref(4)
	m := node.Message{Ref: ref.String(), Log: "nato-russia-2022/RU", Index: 4, From: "RU", To: []string{"*"}, Type: typeCommit,
		Precedence: "ROUTINE", Time: st.Time, Body: []byte(`{"size": 16}`)}
	e, err := messageEntry(m)
	if err != nil || e.ref != ref || string(e.st.Raw()) != string(b) {
		t.Fatalf("messageEntry: %v, %v", e, err)
	}
	for name, change := range map[string]func(*node.Message){
		"body":   func(m *node.Message) { m.Body = []byte(`{"size":32}`) },
		"time":   func(m *node.Message) { m.Time = m.Time.Add(time.Millisecond) },
		"to":     func(m *node.Message) { m.To = []string{"NATO"} },
		"index":  func(m *node.Message) { m.Index = 5 },
		"sender": func(m *node.Message) { m.From = "NATO" },
	} {
		bad := m
		change(&bad)
		if _, err := messageEntry(bad); err == nil {
			t.Errorf("a message with another %s is accepted", name)
		}
	}
}

// TestWriteSecret checks that secrets are private and never overwritten.
func TestWriteSecret(t *testing.T) {
	dir := t.TempDir()
	path := secretPath(dir, "nato-russia-2022", 1)
	if err := writeSecret(path, []byte("one")); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("%v %v", fi, err)
	}
	if fi, err := os.Stat(filepath.Dir(path)); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("escrow directory: %v %v", fi, err)
	}
	err = writeSecret(path, []byte("two"))
	if err == nil || !strings.Contains(err.Error(), "already exists; secrets are never overwritten") {
		t.Fatalf("second write: %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "one" {
		t.Fatalf("the secret was changed to %q", b)
	}
}

// TestSplitSite checks that REGION/SITE is split where names allow.
func TestSplitSite(t *testing.T) {
	d := &escrow.Declaration{Regions: []escrow.Region{
		{Name: "A/B", Sites: []escrow.Site{{Name: "C"}}},
		{Name: "A", Sites: []escrow.Site{{Name: "B/D"}}},
	}}
	for arg, want := range map[string]string{"A/B/C": "A/B|C", "A/B/D": "A|B/D", "A/C": "", "A": "", "/": ""} {
		r, s, ok := splitSite(d, arg)
		got := ""
		if ok {
			got = r + "|" + s
		}
		if got != want {
			t.Errorf("splitSite(%q) = %q, want %q", arg, got, want)
		}
	}
}
