// Command logscale grows one tillit log to large sizes and measures, at each
// size, the cost of proofs and the memory the log process holds:
//
//	go run ./cmd/logscale -sizes 1000000,10000000
//
// It appends 512-byte entries with 256 concurrent writers (the build rate is
// reported too), then times inclusion proofs for random entries against the
// latest checkpoint and consistency proofs between random sizes (medians and
// p99 of -proofs samples each, every proof verified), and reports the
// process's resident memory (VmRSS now, VmHWM peak) from /proc/self/status.
package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"log"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tillit/tillit/bench"
	"github.com/tillit/tillit/partylog"
	"github.com/tillit/tillit/store/sqlite"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

func main() {
	sizesFlag := flag.String("sizes", "1000000,10000000", "comma-separated log sizes to measure at")
	dir := flag.String("dir", "", "directory for the database (default: a temp dir, removed at exit)")
	entry := flag.Int("entry", 512, "entry size in bytes")
	writers := flag.Int("writers", 256, "concurrent appenders while growing the log")
	proofs := flag.Int("proofs", 2000, "proofs timed at each size")
	flag.Parse()
	var sizes []int64
	for _, s := range strings.Split(*sizesFlag, ",") {
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil || n <= 0 {
			log.Fatalf("bad size %q", s)
		}
		sizes = append(sizes, n)
	}
	slices.Sort(sizes)
	if *dir == "" {
		d, err := os.MkdirTemp("", "logscale-")
		if err != nil {
			log.Fatal(err)
		}
		defer os.RemoveAll(d)
		*dir = d
	}
	ctx := context.Background()
	skey, vkey, _ := note.GenerateKey(rand.Reader, "bench/logscale")
	signer, _ := note.NewSigner(skey)
	verifier, _ := note.NewVerifier(vkey)
	db, err := sqlite.Open(filepath.Join(*dir, "log.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	st, err := db.CreateLog(ctx, "bench/logscale")
	if err != nil {
		log.Fatal(err)
	}
	lg, err := partylog.Open(ctx, st, partylog.Options{Origin: "bench/logscale", Signer: signer, Verifier: verifier})
	if err != nil {
		log.Fatal(err)
	}
	defer lg.Close()

	fmt.Printf("| entries | build rate (appends/s) | inclusion proof p50 / p99 | consistency proof p50 / p99 | RSS now / peak (MiB) | Go heap (MiB) |\n")
	fmt.Printf("| ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, size := range sizes {
		start, have := time.Now(), lg.Size()
		grow(ctx, lg, size, *entry, *writers)
		rate := float64(size-have) / time.Since(start).Seconds()
		cp, err := lg.Checkpoint(ctx)
		if err != nil {
			log.Fatal(err)
		}
		inc := timeInclusion(ctx, lg, cp.Tree, *proofs)
		con := timeConsistency(ctx, lg, cp.Tree, *proofs)
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		rss, hwm := procStatus("VmRSS"), procStatus("VmHWM")
		fmt.Printf("| %d | %.0f | %v / %v | %v / %v | %.0f / %.0f | %.0f |\n", cp.Tree.N, rate,
			q(inc, 0.5), q(inc, 0.99), q(con, 0.5), q(con, 0.99), rss, hwm, float64(ms.HeapInuse)/(1<<20))
	}
}

// grow appends entries until the log holds size entries.
func grow(ctx context.Context, lg *partylog.Log, size int64, entry, writers int) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	left := size - lg.Size()
	last := time.Now()
	for w := range writers {
		wg.Go(func() {
			p := bench.NewPayloads(w, entry)
			for {
				mu.Lock()
				if left <= 0 {
					mu.Unlock()
					return
				}
				left--
				if time.Since(last) > 10*time.Second {
					last = time.Now()
					fmt.Fprintf(os.Stderr, "  growing: %d/%d\n", size-left, size)
				}
				mu.Unlock()
				if _, err := lg.Append(ctx, p.Next()); err != nil {
					log.Fatal(err)
				}
			}
		})
	}
	wg.Wait()
}

func timeInclusion(ctx context.Context, lg *partylog.Log, tree tlog.Tree, n int) []time.Duration {
	var ds []time.Duration
	for range n {
		i := mrand.Int64N(tree.N)
		start := time.Now()
		p, err := lg.ProveInclusion(ctx, i, tree.N)
		ds = append(ds, time.Since(start))
		if err != nil {
			log.Fatal(err)
		}
		e, err := lg.Entry(ctx, i)
		if err != nil {
			log.Fatal(err)
		}
		if err := tlog.CheckRecord(p, tree.N, tree.Hash, i, tlog.RecordHash(e)); err != nil {
			log.Fatalf("inclusion proof %d: %v", i, err)
		}
	}
	return ds
}

func timeConsistency(ctx context.Context, lg *partylog.Log, tree tlog.Tree, n int) []time.Duration {
	var ds []time.Duration
	for range n {
		old := 1 + mrand.Int64N(tree.N)
		start := time.Now()
		p, err := lg.ProveConsistency(ctx, old, tree.N)
		ds = append(ds, time.Since(start))
		if err != nil {
			log.Fatal(err)
		}
		oldRoot, err := lg.TreeHash(ctx, old)
		if err != nil {
			log.Fatal(err)
		}
		if err := tlog.CheckTree(p, tree.N, tree.Hash, old, oldRoot); err != nil {
			log.Fatalf("consistency proof %d→%d: %v", old, tree.N, err)
		}
	}
	return ds
}

func q(ds []time.Duration, p float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[int(p*float64(len(s)-1))].Round(time.Microsecond)
}

// procStatus returns a memory figure from /proc/self/status, in MiB.
func procStatus(key string) float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), key+":"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			return kb / 1024
		}
	}
	return -1
}
