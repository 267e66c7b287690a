// Command logbench measures durable appends/s, append-to-durable latency,
// append-to-signed-checkpoint latency, peak RSS and CPU of tillit's party log
// and of Tessera's POSIX log side by side.
//
// Each (system, concurrency, run) is measured in a fresh child process (the
// command re-executes itself) on a fresh log in a fresh directory, so peak
// RSS and CPU are per system. Runs are interleaved across systems and
// concurrencies so that drift on a noisy machine hits all of them alike.
//
//	go run ./cmd/logbench -system all -concurrency 1,64,256,1024 -runs 3
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/tillit/tillit/bench"
	"github.com/tillit/tillit/bench/internal/harness"
	"k8s.io/klog/v2"
)

var (
	systemFlag  = flag.String("system", "all", "tillit, tessera-default, tessera-tuned, a comma-separated list, or all")
	concFlag    = flag.String("concurrency", "1,64,256,1024", "comma-separated numbers of concurrent appending goroutines")
	duration    = flag.Duration("duration", 10*time.Second, "how long each run appends")
	nFlag       = flag.Uint64("n", 0, "append exactly this many entries per run instead of for -duration")
	entrySize   = flag.Int("entry", 512, "entry size in bytes")
	dirFlag     = flag.String("dir", "", "parent directory for the logs (default: the system temp dir); use the same disk for all systems")
	runs        = flag.Int("runs", 3, "runs per (system, concurrency); medians are reported")
	outFlag     = flag.String("out", "", "also write results here: markdown if the name ends in .md, JSON otherwise")
	cpWait      = flag.Duration("cpwait", 30*time.Second, "after the last append, wait at most this long for a checkpoint covering every entry")
	tunedAge    = flag.Duration("tessera-tuned-age", bench.TesseraTunedMaxAge, "batch max age of tessera-tuned")
	inProcess   = flag.Bool("inprocess", false, "run everything in this process instead of one child per run (RSS is then not per system)")
	keep        = flag.Bool("keep", false, "keep the log directories")
	cpuProfile  = flag.String("cpuprofile", "", "write a CPU profile per run to this prefix (+ .system.cN.rR.pprof)")
	memProfile  = flag.String("memprofile", "", "write a heap profile per run to this prefix (+ .system.cN.rR.pprof)")
	storeStats  = flag.Bool("tillit-store-stats", false, "print how long tillit's store writes take (a diagnostic; adds a little overhead)")
	verbose     = flag.Bool("v", false, "let the systems log to stderr")
	child       = flag.Bool("child", false, "internal: run one measurement and print it as JSON")
	runNumber   = flag.Int("run", 0, "internal: run number for -child")
	concurrency = flag.Int("c", 0, "internal: concurrency for -child")
	waitIdle    = flag.Float64("wait-idle", 0.8, "before each run wait (at most -wait-idle-max) until the machine's CPUs are at least this idle over 1 s; 0 disables")
	maxOther    = flag.Float64("max-other", 0, "if other processes used more than this fraction of the machine during a run, repeat it (up to -retries times) and keep the least disturbed; 0 disables")
	retries     = flag.Int("retries", 2, "repeats allowed per run for -max-other")
	report      = flag.Bool("report", false, "don't run: merge the JSON result files given as arguments and print the tables")
	reportOther = flag.Float64("report-max-other", 0, "with -report, leave out runs during which other processes used more than this fraction of the machine; 0 keeps all")
	waitIdleMax = flag.Duration("wait-idle-max", 2*time.Minute, "longest wait for -wait-idle before running anyway")
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("logbench: ")
	flag.Parse()
	bench.TesseraTunedMaxAge = *tunedAge
	if !*verbose {
		klog.LogToStderr(false)
		klog.SetOutput(io.Discard)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if *storeStats {
		bench.TillitStoreStats = os.Stderr
	}
	if *child {
		res, err := measure(ctx, *systemFlag, *concurrency, *runNumber)
		if res != nil {
			if err := json.NewEncoder(os.Stdout).Encode(res); err != nil {
				log.Fatal(err)
			}
		}
		if err != nil {
			log.Fatal(err)
		}
		return
	}

	systems := bench.SystemNames
	if *systemFlag != "all" {
		systems = strings.Split(*systemFlag, ",")
		for _, s := range systems {
			if _, ok := bench.Systems[s]; !ok {
				log.Fatalf("unknown system %q", s)
			}
		}
	}
	concs, err := harness.Concurrencies(*concFlag)
	if err != nil {
		log.Fatal(err)
	}

	var results []bench.Result
	if *report {
		results = readResults(flag.Args())
		n := 0
		for _, r := range results {
			n = max(n, r.Run)
		}
		*runs = n
	}
	for r := 1; r <= *runs && !*report; r++ {
		for _, c := range concs {
			for _, s := range systems {
				var res *bench.Result
				var err error
				for try := 0; ; try++ {
					idle := harness.AwaitIdle(ctx, *waitIdle, *waitIdleMax)
					before := harness.ReadCPUStat()
					t0 := time.Now()
					var rr *bench.Result
					var e error
					if *inProcess {
						rr, e = measure(ctx, s, c, r)
					} else {
						rr, e = spawn(ctx, s, c, r)
					}
					if rr != nil {
						rr.IdleBefore = idle
						rr.OtherCPU = harness.OtherCPU(before, harness.ReadCPUStat(), time.Since(t0), rr.CPUSec)
						rr.Tries = try + 1
					}
					if res == nil || e == nil && (err != nil || rr.OtherCPU < res.OtherCPU) {
						res, err = rr, e
					}
					if e != nil || *maxOther <= 0 || rr.OtherCPU <= *maxOther || try >= *retries {
						break
					}
					log.Printf("%s c=%d run %d: other processes used %.0f%% of the machine; repeating", s, c, r, 100*rr.OtherCPU)
				}
				if err != nil {
					log.Printf("%s c=%d run %d: %v", s, c, r, err)
					if ctx.Err() != nil {
						os.Exit(1)
					}
					continue
				}
				log.Printf("%s c=%d run %d: %.0f appends/s, durable p50/p99 %.2f/%.2f ms, checkpoint p50/p99 %.1f/%.1f ms, rss %.0f MiB, errors %d, uncovered %d, idle before %.0f%%, other load %.0f%%",
					s, c, r, res.PerSec, res.DurableP50, res.DurableP99, res.CheckpointP50, res.CheckpointP99, res.PeakRSSMiB, res.Errors, res.CheckpointMissing, 100*res.IdleBefore, 100*res.OtherCPU)
				results = append(results, *res)
			}
		}
	}

	sums := bench.Summarize(results, systems, concs)
	var md bytes.Buffer
	fmt.Fprintf(&md, "%d-byte entries, %s per run, %s/%s, GOMAXPROCS=%d.\n\n", *entrySize, runLength(), runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0))
	bench.WriteMarkdown(&md, sums, systems, concs)
	os.Stdout.Write(md.Bytes())
	if *outFlag != "" {
		var data []byte
		if strings.HasSuffix(*outFlag, ".md") {
			data = md.Bytes()
		} else {
			var err error
			data, err = json.MarshalIndent(struct {
				Args      []string        `json:"args"`
				Summaries []bench.Summary `json:"summaries"`
				Runs      []bench.Result  `json:"runs"`
			}{os.Args[1:], sums, results}, "", "  ")
			if err != nil {
				log.Fatal(err)
			}
		}
		if err := os.WriteFile(*outFlag, data, 0o644); err != nil {
			log.Fatal(err)
		}
	}
}

// readResults loads the runs of earlier -out JSON files, numbering them
// afresh so that runs from several files don't collide.
func readResults(files []string) []bench.Result {
	var out []bench.Result
	next := map[string]int{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			log.Fatal(err)
		}
		var v struct {
			Runs []bench.Result `json:"runs"`
		}
		if err := json.Unmarshal(data, &v); err != nil {
			log.Fatalf("%s: %v", f, err)
		}
		for _, r := range v.Runs {
			if *reportOther > 0 && r.OtherCPU > *reportOther {
				continue
			}
			k := fmt.Sprintf("%s/%d", r.System, r.Concurrency)
			next[k]++
			r.Run = next[k]
			out = append(out, r)
		}
	}
	return out
}

func runLength() string {
	if *nFlag > 0 {
		return fmt.Sprintf("%d appends", *nFlag)
	}
	return duration.String()
}

// spawn re-executes this binary to measure one run in a fresh process and
// adds that process's peak RSS and CPU time to the result.
func spawn(ctx context.Context, system string, c, run int) (*bench.Result, error) {
	args := []string{"-child", "-system", system, "-c", strconv.Itoa(c), "-run", strconv.Itoa(run),
		"-duration", duration.String(), "-n", strconv.FormatUint(*nFlag, 10), "-entry", strconv.Itoa(*entrySize),
		"-dir", *dirFlag, "-cpwait", cpWait.String(), "-tessera-tuned-age", tunedAge.String(),
		"-keep=" + strconv.FormatBool(*keep), "-tillit-store-stats=" + strconv.FormatBool(*storeStats), "-v=" + strconv.FormatBool(*verbose),
		"-cpuprofile", *cpuProfile, "-memprofile", *memProfile}
	res, ps, err := harness.Child(ctx, args, func(r *bench.Result) bool { return r.System != "" })
	if err != nil {
		return res, err
	}
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		res.PeakRSSMiB = float64(ru.Maxrss) / 1024 // Linux reports KiB
	}
	res.CPUSec = (ps.UserTime() + ps.SystemTime()).Seconds()
	return res, nil
}

// measure runs one measurement in this process.
func measure(ctx context.Context, system string, c, run int) (*bench.Result, error) {
	parent := *dirFlag
	if parent == "" {
		parent = os.TempDir()
	}
	dir, err := os.MkdirTemp(parent, fmt.Sprintf("logbench-%s-c%d-r%d-", system, c, run))
	if err != nil {
		return nil, err
	}
	if !*keep {
		defer os.RemoveAll(dir)
	}
	tag := fmt.Sprintf(".%s.c%d.r%d.pprof", system, c, run)
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile + tag)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return nil, err
		}
		defer pprof.StopCPUProfile()
	}
	var ru0 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	res, err := bench.Run(ctx, system, filepath.Clean(dir), bench.Config{
		Concurrency:    c,
		Duration:       *duration,
		N:              *nFlag,
		EntrySize:      *entrySize,
		CheckpointWait: *cpWait,
	})
	if res != nil {
		res.Run = run
		if *inProcess {
			var ru syscall.Rusage
			_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
			res.PeakRSSMiB = float64(ru.Maxrss) / 1024
			res.CPUSec = tvSec(ru.Utime) + tvSec(ru.Stime) - tvSec(ru0.Utime) - tvSec(ru0.Stime)
		}
	}
	if *memProfile != "" {
		f, err := os.Create(*memProfile + tag)
		if err != nil {
			return res, err
		}
		defer f.Close()
		runtime.GC()
		if err := pprof.WriteHeapProfile(f); err != nil {
			return res, err
		}
	}
	return res, err
}

func tvSec(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
