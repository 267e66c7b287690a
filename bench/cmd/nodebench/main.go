// Command nodebench measures the whole system end to end: two tillit nodes
// on loopback, statements from the send entry point of node A to B's
// receipt (cosignature) back at A, side by side with an embedded NATS
// JetStream server carrying the same payloads at the same concurrency,
// published with ack, with `sync_interval: always` ("nats-sync") and with
// the server's default syncing ("nats-default").
//
// At concurrency N there are always N statements (messages) in flight: for
// tillit N goroutines each call Send on A and then WaitReceipt for B's
// receipt before sending the next; for NATS one publisher keeps at most N
// js.PublishAsync calls without an ack (-nats-publisher async, the default:
// NATS's fastest way to have N in flight) or N goroutines each call
// js.Publish (-nats-publisher sync). Every statement is timed from the send
// call to its acknowledgment; throughput counts the acknowledgments inside
// the -duration window that follows -warmup.
//
// Each (system, concurrency, run) is measured in a fresh child process (the
// command re-executes itself) with its data in a fresh directory, so peak
// RSS and CPU are that system's alone. Runs are interleaved across systems
// and concurrencies so that drift on a noisy machine hits all of them alike.
//
//	go run ./cmd/nodebench -system nats-sync,nats-default -concurrency 1,64,256 -runs 1 -duration 3s
//
// The tillit side is in tillit.go:
//
//	go run ./cmd/nodebench -concurrency 1,64,256 -runs 3
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/tillit/tillit/bench/internal/harness"
)

var (
	systemFlag    = flag.String("system", "", "comma-separated systems among tillit, nats-sync, nats-default (default: all compiled in)")
	concFlag      = flag.String("concurrency", "1,64,256", "comma-separated numbers of statements (messages) in flight")
	runs          = flag.Int("runs", 3, "runs per (system, concurrency); medians are reported")
	duration      = flag.Duration("duration", 5*time.Second, "measured window of each run")
	warmup        = flag.Duration("warmup", time.Second, "load before the measured window, not counted")
	size          = flag.Int("size", 512, "bytes per statement (tillit: the encoded statement; NATS: the message payload)")
	dirFlag       = flag.String("dir", "", "parent directory for the systems' data (default: the system temp dir); keep all systems on one disk")
	outFlag       = flag.String("out", "", "write results as JSON here and the tables as markdown beside it (.md); default results/nodebench-DATE-TIME.json; - for none")
	natsPublisher = flag.String("nats-publisher", "async", "NATS publisher: async (js.PublishAsync, at most -concurrency without an ack) or sync (-concurrency goroutines each calling js.Publish)")
	natsConns     = flag.Int("nats-conns", 1, "NATS client connections the publishers share")
	flashRoutine  = flag.Int("flash-routine", 100000, "tillit FLASH scenario: ROUTINE statements to enqueue (0 skips the scenario)")
	flashSenders  = flag.Int("flash-senders", 64, "tillit FLASH scenario: goroutines enqueueing the ROUTINE statements")
	flashGap      = flag.Duration("flash-gap", 0, "tillit FLASH scenario: pause between one FLASH receipt and the next FLASH send")
	flashTimeout  = flag.Duration("flash-timeout", 10*time.Minute, "tillit FLASH scenario: give up after this long")
	inProcess     = flag.Bool("inprocess", false, "run everything in this process instead of one child per run (RSS is then not per system)")
	keep          = flag.Bool("keep", false, "keep the data directories")
	verbose       = flag.Bool("v", false, "let the systems log to stderr")
	waitIdle      = flag.Float64("wait-idle", 0, "before each run wait (at most -wait-idle-max) until the machine's CPUs are at least this idle over 1 s; 0 disables")
	waitIdleMax   = flag.Duration("wait-idle-max", time.Minute, "longest wait for -wait-idle before running anyway")
	child         = flag.Bool("child", false, "internal: run one measurement and print it as JSON")
	childC        = flag.Int("c", 0, "internal: concurrency for -child")
	childRun      = flag.Int("run", 0, "internal: run number for -child")
	childScenario = flag.String("scenario", "throughput", "internal: throughput or flash, for -child")
)

// systems maps each system name to its opener; tillit.go adds "tillit".
var systems = map[string]opener{
	"nats-sync":    openNATS(true),
	"nats-default": openNATS(false),
}

// systemOrder is the report order.
var systemOrder = []string{"tillit", "nats-sync", "nats-default"}

// flashScenario runs tillit's FLASH-under-backlog scenario; nil unless
// tillit.go is compiled in.
var flashScenario func(ctx context.Context, dir string, cfg flashConfig) (*flashResult, error)

// result is one measured run of one system at one concurrency. Latencies
// are in milliseconds.
type result struct {
	System      string `json:"system"`
	Concurrency int    `json:"concurrency"`
	Run         int    `json:"run"`
	Size        int    `json:"size"`
	Publisher   string `json:"publisher,omitempty"` // NATS: sync or async

	Messages   uint64  `json:"messages"` // acknowledged (receipted) inside the window
	Total      uint64  `json:"total"`    // completions including warm-up and drain
	Stored     uint64  `json:"stored"`   // what the receiving side holds at the end (sanity check)
	Errors     uint64  `json:"errors"`
	FirstError string  `json:"first_error,omitempty"`
	WindowSec  float64 `json:"window_s"`
	PerSec     float64 `json:"per_s"`

	// Send to acknowledgment (NATS: PubAck; tillit: B's receipt at A).
	P50 float64 `json:"p50_ms"`
	P90 float64 `json:"p90_ms"`
	P99 float64 `json:"p99_ms"`
	Max float64 `json:"max_ms"`
	// Send to durable in the sender's own log (tillit only).
	DurableP50 float64 `json:"durable_p50_ms,omitempty"`
	DurableP99 float64 `json:"durable_p99_ms,omitempty"`

	PeakRSSMiB float64 `json:"peak_rss_mib"` // VmHWM of the process at the end of the run
	EndRSSMiB  float64 `json:"end_rss_mib"`  // VmRSS at the end of the run
	CPUSec     float64 `json:"cpu_s"`        // user+sys of the whole process
	IdleBefore float64 `json:"idle_before"`
	OtherCPU   float64 `json:"other_cpu"` // fraction of the machine other processes used
}

// flashConfig describes tillit's FLASH scenario.
type flashConfig struct {
	Routine int           // ROUTINE statements to enqueue
	Senders int           // goroutines enqueueing them
	Gap     time.Duration // pause between FLASH statements
	Size    int
	Timeout time.Duration
	Verbose bool
}

// flashResult is one run of the FLASH scenario. Latencies in milliseconds.
type flashResult struct {
	Run     int `json:"run"`
	Routine int `json:"routine"`
	Senders int `json:"senders"`
	Size    int `json:"size"`

	Flash       int     `json:"flash"` // FLASH statements sent (and receipted) while the backlog drained
	FlashP50    float64 `json:"flash_p50_ms"`
	FlashP99    float64 `json:"flash_p99_ms"`
	FlashMax    float64 `json:"flash_max_ms"`
	FlashDurP99 float64 `json:"flash_durable_p99_ms"`

	EnqueueSec    float64 `json:"enqueue_s"` // until every ROUTINE Send returned
	DrainSec      float64 `json:"drain_s"`   // until every ROUTINE statement was receipted
	RoutinePerSec float64 `json:"routine_per_s"`
	Errors        uint64  `json:"errors"`
	FirstError    string  `json:"first_error,omitempty"`

	PeakRSSMiB float64 `json:"peak_rss_mib"`
	CPUSec     float64 `json:"cpu_s"`
	IdleBefore float64 `json:"idle_before"`
	OtherCPU   float64 `json:"other_cpu"`
}

// childOutput is what a child prints.
type childOutput struct {
	Result *result      `json:"result,omitempty"`
	Flash  *flashResult `json:"flash,omitempty"`
}

func main() {
	log.SetFlags(0)
	log.SetPrefix("nodebench: ")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if *natsPublisher != "sync" && *natsPublisher != "async" {
		log.Fatalf("bad -nats-publisher %q", *natsPublisher)
	}
	if *child {
		out, err := measure(ctx, *childScenario, *systemFlag, *childC, *childRun)
		if out.Result != nil || out.Flash != nil {
			if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
				log.Fatal(err)
			}
		}
		if err != nil {
			log.Fatal(err)
		}
		return
	}

	var names []string
	if *systemFlag == "" {
		for _, s := range systemOrder {
			if systems[s] != nil {
				names = append(names, s)
			}
		}
		if systems["tillit"] == nil {
			log.Printf("tillit not compiled in (build with -tags nodebench_tillit); measuring %s", strings.Join(names, ", "))
		}
	} else {
		for _, s := range strings.Split(*systemFlag, ",") {
			s = strings.TrimSpace(s)
			if s == "tillit" && systems[s] == nil {
				log.Fatal("tillit is not compiled in: build with -tags nodebench_tillit (needs the node package)")
			}
			if systems[s] == nil {
				log.Fatalf("unknown system %q", s)
			}
			names = append(names, s)
		}
	}
	concs, err := harness.Concurrencies(*concFlag)
	if err != nil {
		log.Fatal(err)
	}
	doFlash := slices.Contains(names, "tillit") && *flashRoutine > 0

	var results []result
	var flashes []flashResult
	for r := 1; r <= *runs; r++ {
		for _, c := range concs {
			for _, s := range names {
				out, err := runOne(ctx, "throughput", s, c, r)
				if err != nil {
					log.Printf("%s c=%d run %d: %v", s, c, r, err)
					if ctx.Err() != nil {
						os.Exit(1)
					}
					if out.Result == nil {
						continue
					}
				}
				res := out.Result
				log.Printf("%s c=%d run %d: %.0f/s, p50/p99 %.2f/%.2f ms, peak rss %.0f MiB, errors %d, stored %d, other load %.0f%%",
					s, c, r, res.PerSec, res.P50, res.P99, res.PeakRSSMiB, res.Errors, res.Stored, 100*res.OtherCPU)
				results = append(results, *res)
			}
		}
		if doFlash {
			out, err := runOne(ctx, "flash", "tillit", 0, r)
			if err != nil {
				log.Printf("tillit FLASH run %d: %v", r, err)
				if ctx.Err() != nil {
					os.Exit(1)
				}
			}
			if f := out.Flash; f != nil {
				log.Printf("tillit FLASH run %d: %d FLASH p50/p99 %.2f/%.2f ms while %d ROUTINE drained in %.1f s, peak rss %.0f MiB, errors %d",
					r, f.Flash, f.FlashP50, f.FlashP99, f.Routine, f.DrainSec, f.PeakRSSMiB, f.Errors)
				flashes = append(flashes, *f)
			}
		}
	}

	sums := summarize(results, names, concs)
	fsum := summarizeFlash(flashes)
	var md bytes.Buffer
	fmt.Fprintf(&md, "%d-byte statements, %s measured per run after %s warm-up, %s/%s, %d CPUs, GOMAXPROCS=%d, NATS publisher %s over %d connection(s).\n\n",
		*size, *duration, *warmup, runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.GOMAXPROCS(0), *natsPublisher, *natsConns)
	writeMarkdown(&md, sums, fsum, names, concs)
	os.Stdout.Write(md.Bytes())

	if *outFlag == "-" {
		return
	}
	out := *outFlag
	if out == "" {
		out = filepath.Join("results", "nodebench-"+time.Now().Format("2006-01-02-150405")+".json")
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		log.Fatal(err)
	}
	data, err := json.MarshalIndent(struct {
		Args      []string      `json:"args"`
		Commit    string        `json:"commit,omitempty"`
		Time      time.Time     `json:"time"`
		CPUs      int           `json:"cpus"`
		Summaries []summary     `json:"summaries"`
		Flash     *flashSummary `json:"flash,omitempty"`
		Runs      []result      `json:"runs"`
		FlashRuns []flashResult `json:"flash_runs,omitempty"`
	}{os.Args[1:], gitCommit(), time.Now().UTC(), runtime.NumCPU(), sums, fsum, results, flashes}, "", "  ")
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(out, append(data, '\n'), 0o644); err != nil {
		log.Fatal(err)
	}
	mdPath := strings.TrimSuffix(out, filepath.Ext(out)) + ".md"
	if err := os.WriteFile(mdPath, md.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
	log.Printf("wrote %s and %s", out, mdPath)
}

func gitCommit() string {
	out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// runOne measures one run, in a child process unless -inprocess, and adds
// the machine's load around it.
func runOne(ctx context.Context, scenario, sys string, c, run int) (childOutput, error) {
	idle := harness.AwaitIdle(ctx, *waitIdle, *waitIdleMax)
	before := harness.ReadCPUStat()
	t0 := time.Now()
	var out childOutput
	var err error
	if *inProcess {
		out, err = measure(ctx, scenario, sys, c, run)
	} else {
		out, err = spawn(ctx, scenario, sys, c, run)
	}
	after := harness.ReadCPUStat()
	if r := out.Result; r != nil {
		r.IdleBefore = idle
		r.OtherCPU = harness.OtherCPU(before, after, time.Since(t0), r.CPUSec)
	}
	if f := out.Flash; f != nil {
		f.IdleBefore = idle
		f.OtherCPU = harness.OtherCPU(before, after, time.Since(t0), f.CPUSec)
	}
	return out, err
}

// spawn re-executes this binary to measure one run in a fresh process.
func spawn(ctx context.Context, scenario, sys string, c, run int) (childOutput, error) {
	args := []string{"-child", "-scenario", scenario, "-system", sys, "-c", strconv.Itoa(c), "-run", strconv.Itoa(run),
		"-duration", duration.String(), "-warmup", warmup.String(), "-size", strconv.Itoa(*size), "-dir", *dirFlag,
		"-nats-publisher", *natsPublisher, "-nats-conns", strconv.Itoa(*natsConns),
		"-flash-routine", strconv.Itoa(*flashRoutine), "-flash-senders", strconv.Itoa(*flashSenders),
		"-flash-gap", flashGap.String(), "-flash-timeout", flashTimeout.String(),
		"-keep=" + strconv.FormatBool(*keep), "-v=" + strconv.FormatBool(*verbose)}
	out, _, err := harness.Child(ctx, args, func(o *childOutput) bool { return o.Result != nil || o.Flash != nil })
	if out == nil {
		return childOutput{}, err
	}
	return *out, err
}

// measure runs one measurement in this process.
func measure(ctx context.Context, scenario, sys string, c, run int) (childOutput, error) {
	var out childOutput
	parent := *dirFlag
	if parent == "" {
		parent = os.TempDir()
	}
	dir, err := os.MkdirTemp(parent, fmt.Sprintf("nodebench-%s-%s-c%d-r%d-", sys, scenario, c, run))
	if err != nil {
		return out, err
	}
	if !*keep {
		defer os.RemoveAll(dir)
	}
	var ru0 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	cpu := func() float64 {
		var ru syscall.Rusage
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		return tvSec(ru.Utime) + tvSec(ru.Stime) - tvSec(ru0.Utime) - tvSec(ru0.Stime)
	}

	if scenario == "flash" {
		if flashScenario == nil {
			return out, errors.New("tillit is not compiled in: build with -tags nodebench_tillit")
		}
		f, err := flashScenario(ctx, dir, flashConfig{
			Routine: *flashRoutine, Senders: *flashSenders, Gap: *flashGap, Size: *size,
			Timeout: *flashTimeout, Verbose: *verbose,
		})
		if f != nil {
			f.Run = run
			f.PeakRSSMiB, _ = memStatus()
			f.CPUSec = cpu()
		}
		out.Flash = f
		return out, err
	}

	open := systems[sys]
	if open == nil {
		return out, fmt.Errorf("system %q not available", sys)
	}
	cfg := runConfig{Concurrency: c, Size: *size, Warmup: *warmup, Duration: *duration, Verbose: *verbose}
	s, err := open(ctx, dir, cfg)
	if err != nil {
		return out, fmt.Errorf("open: %w", err)
	}
	res, err := drive(ctx, s, cfg)
	if res != nil {
		res.System, res.Concurrency, res.Run, res.Size = sys, c, run, *size
		if strings.HasPrefix(sys, "nats") {
			res.Publisher = *natsPublisher
		}
	}
	if cerr := s.close(); err == nil && cerr != nil {
		err = fmt.Errorf("close: %w", cerr)
	}
	if res != nil {
		res.PeakRSSMiB, res.EndRSSMiB = memStatus()
		res.CPUSec = cpu()
	}
	out.Result = res
	return out, err
}

// drive loads s for the warm-up and the measured window, then lets the
// statements in flight complete.
func drive(ctx context.Context, s system, cfg runConfig) (*result, error) {
	start := time.Now()
	rec := &recorder{from: start.Add(cfg.Warmup)}
	rec.to = rec.from.Add(cfg.Duration)
	stop := make(chan struct{})
	timer := time.AfterFunc(time.Until(rec.to), func() { close(stop) })
	defer timer.Stop()
	err := s.load(ctx, cfg, stop, rec)
	res := &result{}
	rec.fill(res)
	res.Stored = s.stored(ctx)
	if err == nil && ctx.Err() != nil {
		err = ctx.Err()
	}
	if err == nil && res.Messages == 0 {
		err = fmt.Errorf("nothing acknowledged in the window (%d errors; first: %s)", res.Errors, res.FirstError)
	}
	return res, err
}

func tvSec(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
