package peer

import (
	"bytes"
	"errors"
	"testing"
)

func TestPushRoundTrip(t *testing.T) {
	for _, p := range []*Push{
		{Origin: "example/A", Start: 0, Checkpoint: []byte("cp\n\n— sig\n")},
		{Origin: "x", Start: 1 << 40, Checkpoint: nil, Entries: [][]byte{{}, []byte("a"), bytes.Repeat([]byte{7}, 65535)}},
	} {
		b, err := p.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		q, err := ParsePush(b)
		if err != nil {
			t.Fatal(err)
		}
		b2, err := q.Marshal()
		if err != nil || !bytes.Equal(b, b2) || q.Origin != p.Origin || q.Start != p.Start || len(q.Entries) != len(p.Entries) {
			t.Errorf("round trip of %+v gave %+v (%v)", p, q, err)
		}
	}
	if _, err := (&Push{Origin: "x", Entries: [][]byte{make([]byte, 65536)}}).Marshal(); !errors.Is(err, ErrMalformed) {
		t.Errorf("oversized entry: %v, want ErrMalformed", err)
	}
}

func TestParsePushErrors(t *testing.T) {
	good, _ := (&Push{Origin: "example/A", Start: 3, Checkpoint: []byte("note"), Entries: [][]byte{[]byte("abc")}}).Marshal()
	for name, b := range map[string][]byte{
		"empty":              {},
		"empty origin":       {0, 0},
		"truncated header":   good[:12],
		"truncated note":     good[:len(good)-8],
		"truncated entry":    good[:len(good)-1],
		"dangling length":    append(append([]byte{}, good...), 0),
		"start out of range": append(append([]byte{0, 1, 'x'}, 0xff, 0, 0, 0, 0, 0, 0, 0), 0, 0, 0, 0),
	} {
		if _, err := ParsePush(b); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", name, err)
		}
	}
}

func TestMirrorInfo(t *testing.T) {
	info, err := ParseMirrorInfo([]byte(MirrorInfo{Size: 42}.String()))
	if err != nil || info.Size != 42 {
		t.Fatalf("round trip: %v, %v", info, err)
	}
	for _, bad := range []string{"", "1\n2\n", "1\n02\n\n", "1\n-2\n\n", "1\n2\n\nx"} {
		if _, err := ParseMirrorInfo([]byte(bad)); err == nil {
			t.Errorf("ParseMirrorInfo(%q) succeeded", bad)
		}
	}
}

func FuzzParsePush(f *testing.F) {
	good, _ := (&Push{Origin: "example/A", Start: 3, Checkpoint: []byte("note"), Entries: [][]byte{[]byte("abc"), {}}}).Marshal()
	f.Add(good)
	f.Add([]byte{0, 1, 'x', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParsePush(b)
		if err != nil {
			return
		}
		out, err := p.Marshal()
		if err != nil || !bytes.Equal(out, b) {
			t.Fatalf("parse → marshal changed the bytes: %v", err)
		}
	})
}
