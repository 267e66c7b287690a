package jsonpos

import "testing"

func TestOriginal(t *testing.T) {
	data := []byte("{ \"a b\" :\t[1, \"x\\\" y\"] }")
	compact := []byte(`{"a b":[1,"x\" y"]}`)
	for i := range compact {
		if got := data[Original(data, i)]; got != compact[i] {
			t.Errorf("Original(%d) points at %q, want %q", i, got, compact[i])
		}
	}
	if Original(data, len(compact)) != len(data) {
		t.Errorf("past the end: %d", Original(data, len(compact)))
	}
}

func TestHelpers(t *testing.T) {
	if InvalidUTF8([]byte("ok\xffno")) != 2 || InvalidUTF8([]byte("fine é")) != 7 {
		t.Error("InvalidUTF8")
	}
	if FirstDiff([]byte("abcd"), []byte("abXd")) != 2 || FirstDiff([]byte("ab"), []byte("abc")) != 2 {
		t.Error("FirstDiff")
	}
	if w := Window([]byte("0123456789abcdefghijklmnopqrstuvwxyz0123"), 20); w != "456789abcdefghijklmnopqrstuvwxyz" {
		t.Errorf("Window = %q", w)
	}
}
