package bench

import (
	"fmt"
	"io"
	"strconv"

	"github.com/tillit/tillit/bench/internal/harness"
)

// Summary is the per-(system, concurrency) median over runs.
type Summary struct {
	System      string  `json:"system"`
	Concurrency int     `json:"concurrency"`
	Runs        int     `json:"runs"`
	Errors      uint64  `json:"errors"`
	PerSec      float64 `json:"appends_per_s"`
	DurableP50  float64 `json:"durable_p50_ms"`
	DurableP99  float64 `json:"durable_p99_ms"`
	CPP50       float64 `json:"checkpoint_p50_ms"`
	CPP99       float64 `json:"checkpoint_p99_ms"`
	CPMissing   uint64  `json:"checkpoint_missing"`
	PeakRSSMiB  float64 `json:"peak_rss_mib"`
	CPUPerKApp  float64 `json:"cpu_ms_per_1k_appends"`
	AppendsSum  uint64  `json:"appends_total"`
	ElapsedMean float64 `json:"elapsed_s_mean"`
	OtherCPU    float64 `json:"other_cpu"` // median fraction of the machine used by other processes
}

// Summarize computes medians per (system, concurrency), in the order given.
func Summarize(results []Result, systems []string, concurrencies []int) []Summary {
	var out []Summary
	for _, sys := range systems {
		for _, c := range concurrencies {
			var rs []Result
			for _, r := range results {
				if r.System == sys && r.Concurrency == c {
					rs = append(rs, r)
				}
			}
			if len(rs) == 0 {
				continue
			}
			pick := func(f func(Result) float64) float64 { return harness.MedianOf(rs, f) }
			s := Summary{System: sys, Concurrency: c, Runs: len(rs)}
			var el float64
			for _, r := range rs {
				s.Errors += r.Errors
				s.CPMissing += r.CheckpointMissing
				s.AppendsSum += r.Appends
				el += r.ElapsedSec
			}
			s.ElapsedMean = el / float64(len(rs))
			s.PerSec = pick(func(r Result) float64 { return r.PerSec })
			s.DurableP50 = pick(func(r Result) float64 { return r.DurableP50 })
			s.DurableP99 = pick(func(r Result) float64 { return r.DurableP99 })
			s.CPP50 = pick(func(r Result) float64 { return r.CheckpointP50 })
			s.CPP99 = pick(func(r Result) float64 { return r.CheckpointP99 })
			s.OtherCPU = pick(func(r Result) float64 { return r.OtherCPU })
			s.PeakRSSMiB = pick(func(r Result) float64 { return r.PeakRSSMiB })
			s.CPUPerKApp = pick(func(r Result) float64 {
				if r.Appends == 0 {
					return 0
				}
				return 1000 * 1000 * r.CPUSec / float64(r.Appends)
			})
			out = append(out, s)
		}
	}
	return out
}

func find(ss []Summary, sys string, c int) *Summary {
	for i := range ss {
		if ss[i].System == sys && ss[i].Concurrency == c {
			return &ss[i]
		}
	}
	return nil
}

func ratio(a, b float64) string {
	if b == 0 {
		return "–"
	}
	return strconv.FormatFloat(a/b, 'g', 3, 64) + "×"
}

func cell(s *Summary, f func(*Summary) float64) string {
	if s == nil {
		return "–"
	}
	return harness.Fnum(f(s))
}

// WriteMarkdown writes the median tables and the ratios of tillit to each
// Tessera configuration.
func WriteMarkdown(w io.Writer, ss []Summary, systems []string, concurrencies []int) {
	runs := 0
	for _, s := range ss {
		runs = max(runs, s.Runs)
	}
	minRuns := runs
	for _, s := range ss {
		minRuns = min(minRuns, s.Runs)
	}
	if minRuns == runs {
		fmt.Fprintf(w, "Durable appends/s (median of %d runs) and ratios:\n\n", runs)
	} else {
		fmt.Fprintf(w, "Durable appends/s (median of %d to %d runs; see the runs column below) and ratios:\n\n", minRuns, runs)
	}
	fmt.Fprintln(w, "| writers | tillit | tessera-default | tessera-tuned | tillit / default | tillit / tuned |")
	fmt.Fprintln(w, "|---:|---:|---:|---:|---:|---:|")
	per := func(s *Summary) float64 { return s.PerSec }
	for _, c := range concurrencies {
		t, d, u := find(ss, "tillit", c), find(ss, "tessera-default", c), find(ss, "tessera-tuned", c)
		fmt.Fprintf(w, "| %d | %s | %s | %s | %s | %s |\n", c, cell(t, per), cell(d, per), cell(u, per), ratioS(t, d, per), ratioS(t, u, per))
	}

	fmt.Fprintf(w, "\nLatency (ms), peak RSS and CPU (medians):\n\n")
	fmt.Fprintln(w, "| system | writers | appends/s | durable p50 | durable p99 | checkpoint p50 | checkpoint p99 | peak RSS MiB | CPU ms / 1k appends | errors | uncovered | other load | runs |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, sys := range systems {
		for _, c := range concurrencies {
			s := find(ss, sys, c)
			if s == nil {
				continue
			}
			fmt.Fprintf(w, "| %s | %d | %s | %s | %s | %s | %s | %s | %s | %d | %d | %.0f%% | %d |\n", sys, c, harness.Fnum(s.PerSec),
				harness.Fnum(s.DurableP50), harness.Fnum(s.DurableP99), harness.Fnum(s.CPP50), harness.Fnum(s.CPP99), harness.Fnum(s.PeakRSSMiB), harness.Fnum(s.CPUPerKApp), s.Errors, s.CPMissing, 100*s.OtherCPU, s.Runs)
		}
	}

	fmt.Fprintf(w, "\np99 latency ratios (tillit / Tessera; below 1 means tillit is faster):\n\n")
	fmt.Fprintln(w, "| writers | durable p99 / default | durable p99 / tuned | checkpoint p99 / default | checkpoint p99 / tuned |")
	fmt.Fprintln(w, "|---:|---:|---:|---:|---:|")
	dp := func(s *Summary) float64 { return s.DurableP99 }
	cp := func(s *Summary) float64 { return s.CPP99 }
	for _, c := range concurrencies {
		t, d, u := find(ss, "tillit", c), find(ss, "tessera-default", c), find(ss, "tessera-tuned", c)
		fmt.Fprintf(w, "| %d | %s | %s | %s | %s |\n", c, ratioS(t, d, dp), ratioS(t, u, dp), ratioS(t, d, cp), ratioS(t, u, cp))
	}
}

func ratioS(a, b *Summary, f func(*Summary) float64) string {
	if a == nil || b == nil {
		return "–"
	}
	return ratio(f(a), f(b))
}
