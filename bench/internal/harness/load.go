// Package harness holds what the bench commands share around one measured
// run: the machine's CPU load before and during it (from Linux's /proc/stat;
// elsewhere the figures read as an idle machine), re-executing the command
// to measure a run in a fresh process, and the medians and number format of
// the reports.
package harness

import (
	"bufio"
	"context"
	"log"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// CPUStat is the machine-wide CPU time from /proc/stat, in clock ticks.
type CPUStat struct{ busy, total float64 }

// Linux reports /proc/stat in USER_HZ, which is 100 on every mainstream
// architecture.
const userHZ = 100

// ReadCPUStat reads the machine's CPU time so far (zero if unknown).
func ReadCPUStat() CPUStat {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return CPUStat{}
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if !sc.Scan() {
		return CPUStat{}
	}
	fields := strings.Fields(sc.Text())
	if len(fields) < 5 || fields[0] != "cpu" {
		return CPUStat{}
	}
	var st CPUStat
	for i, f := range fields[1:] {
		v, _ := strconv.ParseFloat(f, 64)
		st.total += v
		if i != 3 && i != 4 { // idle, iowait
			st.busy += v
		}
	}
	return st
}

func idleFraction(a, b CPUStat) float64 {
	if b.total <= a.total {
		return 1
	}
	return 1 - (b.busy-a.busy)/(b.total-a.total)
}

// AwaitIdle waits until the machine is at least minIdle idle over one
// second (the -wait-idle flag; 0 doesn't wait), or maxWait (-wait-idle-max)
// has passed, and returns the last idle fraction.
func AwaitIdle(ctx context.Context, minIdle float64, maxWait time.Duration) float64 {
	deadline := time.Now().Add(maxWait)
	warned := false
	for {
		a := ReadCPUStat()
		select {
		case <-ctx.Done():
			return 0
		case <-time.After(time.Second):
		}
		idle := idleFraction(a, ReadCPUStat())
		if minIdle <= 0 || idle >= minIdle {
			return idle
		}
		if time.Now().After(deadline) {
			log.Printf("machine still only %.0f%% idle after %v; running anyway", 100*idle, maxWait)
			return idle
		}
		if !warned {
			log.Printf("machine only %.0f%% idle; waiting", 100*idle)
			warned = true
		}
	}
}

// OtherCPU estimates the fraction of all CPUs that processes other than the
// measured one used during a run that took elapsed between the readings a
// and b, given ownCPU, the measured process's CPU seconds.
func OtherCPU(a, b CPUStat, elapsed time.Duration, ownCPU float64) float64 {
	busy := (b.busy - a.busy) / userHZ
	capacity := elapsed.Seconds() * float64(runtime.NumCPU())
	if capacity <= 0 {
		return 0
	}
	return max(0, busy-ownCPU) / capacity
}
