package node

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tillit/tillit/statement"
)

func TestBackoff(t *testing.T) {
	hb := 10 * time.Second
	for f := -1; f < 40; f++ {
		d := backoff(f, hb) // must not panic, even for f <= 0
		if d <= 0 || d > hb/2 {
			t.Errorf("backoff(%d) = %v, want in (0, %v]", f, d, hb/2)
		}
	}
}

func TestConfigRefusesRemoteAPI(t *testing.T) {
	base := "party = \"A\"\nregime = \"r\"\ndata = \"d\"\nlog_key = \"k\"\ncosign_key = \"c\"\ntls_key = \"t\"\n[peer]\nlisten = \":1\"\n[api]\nlisten = %q\n[[api.token]]\nname = \"x\"\nrole = \"officer\"\nsha256 = \"" + HashToken("x") + "\"\n"
	for listen, ok := range map[string]bool{"127.0.0.1:1": true, "[::1]:1": true, "localhost:1": true, ":1": false, "0.0.0.0:1": false, "10.0.0.1:1": false} {
		_, err := ParseConfig([]byte(strings.Replace(base, "%q", `"`+listen+`"`, 1)))
		if ok != (err == nil) {
			t.Errorf("api.listen %q: %v", listen, err)
		}
	}
}

func TestCosigEarliestKept(t *testing.T) {
	s, err := openState(filepath.Join(t.TempDir(), "node.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	t0 := time.Unix(1_700_000_000, 0).UTC()
	for _, c := range []struct {
		t    time.Time
		want bool
	}{{t0.Add(time.Minute), true}, {t0.Add(2 * time.Minute), false}, {t0, true}, {t0, false}} {
		got, err := s.addCosig(ctx, "A", "B", 5, c.t, []byte("n"))
		if err != nil || got != c.want {
			t.Errorf("addCosig at %v: %v, %v; want %v", c.t, got, err, c.want)
		}
	}
	// The earlier cosignature, recorded last, is served as new to peers
	// that fetched the first one already.
	if got, err := s.cosignedAfter(ctx, "A", 1, 10); err != nil || len(got) != 1 || got[0].Seq <= 1 {
		t.Errorf("cosignedAfter(1) = %+v, %v; want the updated row with a new sequence number", got, err)
	}
	if err := s.setCursor(ctx, "B", "A", 7); err != nil {
		t.Fatal(err)
	}
	if err := s.setCursor(ctx, "B", "A", 9); err != nil {
		t.Fatal(err)
	}
	if c, err := s.cursors(ctx); err != nil || c["B"]["A"] != 9 {
		t.Errorf("cursors = %v, %v; want B/A at 9", c, err)
	}
	all, err := s.cosigs(ctx)
	if err != nil || len(all[[2]string{"A", "B"}]) != 1 || !all[[2]string{"A", "B"}][0].Time.Equal(t0) {
		t.Fatalf("stored %v, %v; want one cosignature at %v", all, err, t0)
	}
}

func TestCosigListRanges(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	l := newCosigList(nil)
	check := func(x cosig, wantGrew bool, wantFrom int64) {
		t.Helper()
		grew, from := l.addRange(x)
		if grew != wantGrew || from != wantFrom {
			t.Errorf("addRange(%d at +%v) = %v, %d; want %v, %d", x.Size, x.Time.Sub(t0), grew, from, wantGrew, wantFrom)
		}
	}
	check(cosig{Size: 10, Time: t0.Add(10 * time.Second)}, true, 0)
	check(cosig{Size: 20, Time: t0.Add(20 * time.Second)}, true, 10)  // appended: 10..19 newly covered
	check(cosig{Size: 20, Time: t0.Add(30 * time.Second)}, false, -1) // later: nothing changes
	check(cosig{Size: 15, Time: t0.Add(12 * time.Second)}, false, 0)  // inserted in the middle
	check(cosig{Size: 30, Time: t0.Add(5 * time.Second)}, true, 0)    // earlier than all: lowers them
	if got, _ := l.covering(3); !got.Equal(t0.Add(5 * time.Second)) {
		t.Errorf("covering(3) = %v, want the lowered time", got.Sub(t0))
	}
	if got, ok := l.covering(30); ok {
		t.Errorf("covering(30) = %v, want none", got)
	}
}

func TestSendQueueOrder(t *testing.T) {
	q := newSendQueue()
	ctx := context.Background()
	put := func(p statement.Precedence, tag string) {
		if err := q.put(ctx, &sendItem{entry: []byte(tag), prec: p, done: make(chan sendResult, 1)}); err != nil {
			t.Fatal(err)
		}
	}
	put(statement.Routine, "r1")
	put(statement.Priority, "p1")
	put(statement.Routine, "r2")
	put(statement.Flash, "f1")
	put(statement.Immediate, "i1")
	var got []string
	for _, it := range q.take(ctx, 10, statement.Routine, 0) {
		got = append(got, string(it.entry))
	}
	if strings.Join(got, " ") != "f1 i1 p1 r1 r2" {
		t.Errorf("take order %v, want f1 i1 p1 r1 r2", got)
	}
	// Under flow control only IMMEDIATE and FLASH are taken; the rest wait.
	put(statement.Routine, "r3")
	put(statement.Flash, "f2")
	got = nil
	for _, it := range q.take(ctx, 10, statement.Immediate, time.Millisecond) {
		got = append(got, string(it.entry))
	}
	if strings.Join(got, " ") != "f2" {
		t.Errorf("take under flow control %v, want f2", got)
	}
	if its := q.take(ctx, 10, statement.Immediate, time.Millisecond); its != nil {
		t.Errorf("took %d items under flow control with only ROUTINE queued", len(its))
	}
}
