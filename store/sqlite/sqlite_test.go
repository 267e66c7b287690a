package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/tillit/tillit/store"
	"github.com/tillit/tillit/store/storetest"
)

func TestConformance(t *testing.T) {
	var n int
	storetest.Run(t, func(t *testing.T) store.LogStore {
		db, err := Open(filepath.Join(t.TempDir(), "log.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		n++
		l, err := db.CreateLog(context.Background(), fmt.Sprintf("example/%d", n))
		if err != nil {
			t.Fatal(err)
		}
		return l
	})
}

func TestLogs(t *testing.T) {
	ctx := context.Background()
	db, err := Open(filepath.Join(t.TempDir(), "log.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Log(ctx, "example/a"); err == nil {
		t.Error("Log of a missing origin succeeded")
	}
	a, err := db.CreateLog(ctx, "example/a")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateLog(ctx, "example/a"); err == nil {
		t.Error("creating a log twice succeeded")
	}
	b, _ := db.CreateLog(ctx, "example/b")
	if err := a.Append(ctx, &store.Batch{OldSize: 0, NewSize: 7}); err != nil {
		t.Fatal(err)
	}
	if s, _ := b.Load(ctx); s.Size != 0 {
		t.Errorf("log b has size %d after an append to log a", s.Size)
	}
	origins, err := db.Origins(ctx)
	if err != nil || len(origins) != 2 || origins[0] != "example/a" {
		t.Errorf("Origins = %v, %v", origins, err)
	}
}
