package harness

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// Child re-executes this program with args to measure one run in a fresh
// process, its standard error going to ours. It returns the last line of the
// child's standard output that decodes as JSON into a T for which ok holds
// (nil if none; it is returned with the error if the child failed), and the
// child's process state for its resource usage.
func Child[T any](ctx context.Context, args []string, ok func(*T) bool) (*T, *os.ProcessState, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, nil, err
	}
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Stderr = os.Stderr
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	runErr := cmd.Run()
	var res *T
	sc := bufio.NewScanner(&stdout)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var v T
		if json.Unmarshal(sc.Bytes(), &v) == nil && ok(&v) {
			res = &v
		}
	}
	if runErr != nil {
		return res, cmd.ProcessState, fmt.Errorf("child: %w", runErr)
	}
	if res == nil {
		return nil, cmd.ProcessState, errors.New("child printed no result")
	}
	return res, cmd.ProcessState, nil
}

// Concurrencies parses the -concurrency flag: a comma-separated list of
// positive numbers.
func Concurrencies(list string) ([]int, error) {
	var concs []int
	for _, f := range strings.Split(list, ",") {
		c, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || c < 1 {
			return nil, fmt.Errorf("bad -concurrency %q", f)
		}
		concs = append(concs, c)
	}
	return concs, nil
}
