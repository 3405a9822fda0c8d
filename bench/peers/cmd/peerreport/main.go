// Command peerreport turns the outputs of a peer benchmark run into a
// table, and optionally a markdown report and an SVG chart:
//
//	peerreport -bench bench.txt -wrk wrkdir [-md results.md] [-svg bench.svg]
//
// bench.txt is the output of go test -bench Peers in package peers; wrkdir
// holds one wrk --latency output per run, named ROUND-VARIANT.txt
// ("1-full.txt"), and optionally the server's CPU seconds during that run
// in ROUND-VARIANT.cpu. It prints the table with the goals, and exits with status
// 1 when a variant is missing, a wrk run failed or counted errors or
// responses that were not 2xx, or its files cannot be read; 2 for bad flags.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/wsapi-go/wsapi/bench/peers"
)

type config struct {
	bench, wrk, md, svg string
	variants            []string
	machine             peers.Machine
}

func main() {
	var c config
	var variants string
	flag.StringVar(&c.bench, "bench", "", "`file` with the output of go test -bench Peers")
	flag.StringVar(&c.wrk, "wrk", "", "`dir` with the wrk outputs, ROUND-VARIANT.txt")
	flag.StringVar(&c.md, "md", "", "write the markdown report to `file`")
	flag.StringVar(&c.svg, "svg", "", "write the SVG chart to `file`")
	flag.StringVar(&variants, "variants", strings.Join(peers.Names, ","), "the variants, comma-separated, bare first")
	flag.StringVar(&c.machine.Benchtime, "benchtime", "1s", "the benchmarks' -benchtime, for the report")
	flag.IntVar(&c.machine.Count, "count", 1, "the number of benchmark runs, for the report")
	flag.StringVar(&c.machine.Duration, "duration", "10s", "the duration of a wrk run, for the report")
	flag.IntVar(&c.machine.Connections, "connections", 64, "wrk's connections, for the report")
	flag.IntVar(&c.machine.Threads, "threads", 2, "wrk's threads, for the report")
	flag.IntVar(&c.machine.Rounds, "rounds", 3, "the wrk rounds, for the report")
	flag.StringVar(&c.machine.GoVersion, "go", runtime.Version(), "the Go version, for the report")
	flag.StringVar(&c.machine.Load, "load", "", "the load average when the run began, for the report")
	flag.Parse()
	if c.bench == "" || c.wrk == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "peerreport: -bench and -wrk are required, and nothing else")
		flag.Usage()
		os.Exit(2)
	}
	c.variants = strings.Split(variants, ",")
	c.machine.CPUs = runtime.NumCPU()
	c.machine.CPU = cpuModel("/proc/cpuinfo")
	c.machine.OS = runtime.GOOS + "/" + runtime.GOARCH
	c.machine.Date = time.Now()
	if err := run(c, os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "peerreport: %v\n", err)
		os.Exit(1)
	}
}

// errProblems reports a run whose figures cannot be trusted.
var errProblems = errors.New("the run had problems")

func run(c config, out io.Writer) error {
	f, err := os.Open(c.bench)
	if err != nil {
		return err
	}
	bench, err := peers.ParseBench(f)
	f.Close()
	if err != nil {
		return err
	}
	wrk, err := readWrk(c.wrk)
	if err != nil {
		return err
	}
	rs, collectErr := peers.Collect(c.variants, bench, wrk)
	if err := peers.Table(out, rs); err != nil {
		return err
	}
	if collectErr != nil {
		return collectErr
	}
	if ps := peers.Problems(rs); len(ps) > 0 {
		for _, p := range ps {
			fmt.Fprintln(out, "problem:", p)
		}
		return errProblems
	}
	if c.md != "" {
		if err := writeFile(c.md, func(w io.Writer) error { return peers.Markdown(w, rs, c.machine) }); err != nil {
			return err
		}
	}
	if c.svg != "" {
		caption := fmt.Sprintf("%d CPUs, %s, %s, %s; wrk %s x %d rounds, %d connections; medians",
			c.machine.CPUs, c.machine.CPU, c.machine.GoVersion, c.machine.Date.UTC().Format("2006-01-02"),
			c.machine.Duration, c.machine.Rounds, c.machine.Connections)
		if err := writeFile(c.svg, peers.NewChart(rs, caption).WriteSVG); err != nil {
			return err
		}
	}
	return nil
}

// readWrk reads dir/ROUND-VARIANT.txt files, by variant, in round order.
func readWrk(dir string) (map[string][]peers.Wrk, error) {
	names, err := filepath.Glob(filepath.Join(dir, "*-*.txt"))
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	out := make(map[string][]peers.Wrk)
	for _, name := range names {
		base := strings.TrimSuffix(filepath.Base(name), ".txt")
		_, variant, _ := strings.Cut(base, "-")
		b, err := os.ReadFile(name)
		if err != nil {
			return nil, err
		}
		w, err := peers.ParseWrk(string(b))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		// ROUND-VARIANT.cpu, when there, holds the server's CPU seconds
		// during the run.
		cpuFile := strings.TrimSuffix(name, ".txt") + ".cpu"
		if b, err := os.ReadFile(cpuFile); err == nil {
			sec, err := strconv.ParseFloat(strings.TrimSpace(string(b)), 64)
			if err != nil || sec < 0 {
				return nil, fmt.Errorf("%s: want the CPU seconds, got %q", cpuFile, b)
			}
			w.ServerCPU = time.Duration(sec * float64(time.Second))
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		out[variant] = append(out[variant], w)
	}
	return out, nil
}

// writeFile writes a file through a temporary one, so that a failed run
// leaves the old file in place.
func writeFile(path string, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".peerreport-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	bw := bufio.NewWriter(tmp)
	if err := write(bw); err != nil {
		tmp.Close()
		return err
	}
	if err := bw.Flush(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// cpuModel returns the first "model name" of a /proc/cpuinfo file, or
// "unknown CPU".
func cpuModel(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "unknown CPU"
	}
	for line := range strings.Lines(string(b)) {
		k, v, ok := strings.Cut(line, ":")
		if ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}
