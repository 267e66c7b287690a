// Package fuzzseed keeps a package's checked-in fuzz seed corpus
// (testdata/fuzz/<Target>/seed-*) in step with the seed tables its tests
// define, so that the seeds are reviewed as code and replayed as files.
package fuzzseed

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Seed is one table case: a name and a string or []byte value.
type Seed struct {
	Name string
	Val  any
}

// FileName turns a table case name into a corpus file name.
func FileName(name string) string {
	return "seed-" + strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-':
			return r
		case r >= 'A' && r <= 'Z':
			return r - 'A' + 'a'
		}
		return '-'
	}, strings.ReplaceAll(name, "+", "plus"))
}

// Encode encodes a value in the "go test fuzz v1" corpus format.
func Encode(v any) string {
	switch v := v.(type) {
	case string:
		return fmt.Sprintf("go test fuzz v1\nstring(%q)\n", v)
	case []byte:
		return fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", v)
	}
	panic(fmt.Sprintf("unsupported seed type %T", v))
}

// Sync checks that testdata/fuzz/<target> holds exactly the given seeds as
// seed-* files (files the fuzzer writes are named by hash and left alone),
// or, with update, rewrites them. hint is the command that updates them.
func Sync(t *testing.T, target string, seeds []Seed, update bool, hint string) {
	t.Helper()
	dir := filepath.Join("testdata", "fuzz", target)
	if update {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	names := map[string]bool{}
	for _, s := range seeds {
		name := FileName(s.Name)
		if names[name] {
			t.Errorf("%s: two seeds named %s", target, name)
		}
		names[name] = true
		want := Encode(s.Val)
		file := filepath.Join(dir, name)
		if update {
			if err := os.WriteFile(file, []byte(want), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if got, err := os.ReadFile(file); err != nil || string(got) != want {
			t.Errorf("%s is missing or stale; run %s", file, hint)
		}
	}
	old, _ := filepath.Glob(filepath.Join(dir, "seed-*"))
	for _, file := range old {
		if names[filepath.Base(file)] {
			continue
		}
		if update {
			os.Remove(file)
		} else {
			t.Errorf("%s has no table case; run %s", file, hint)
		}
	}
}
