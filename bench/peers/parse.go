package peers

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Bench is one benchmark line's figures.
type Bench struct {
	NsOp     float64 // ns/op
	CPUNsOp  float64 // cpu-ns/op: the process's CPU time per operation
	BOp      float64 // B/op
	AllocsOp float64 // allocs/op
}

// benchLine matches "BenchmarkPeers/serial/full-2  1000  2400 ns/op ...".
var benchLine = regexp.MustCompile(`^Benchmark(\S+?)(?:-\d+)?\s+\d+\s+(.*)$`)

// ParseBench reads the output of go test -bench and returns the figures of
// each benchmark, by name without "Benchmark" and without the -GOMAXPROCS
// suffix ("Peers/serial/full"), one entry per run (-count). Lines that are
// not benchmark results are skipped. A result without ns/op is an error.
func ParseBench(r io.Reader) (map[string][]Bench, error) {
	out := make(map[string][]Bench)
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		m := benchLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		var b Bench
		var haveNs bool
		fields := strings.Fields(m[2])
		for i := 0; i+1 < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				return nil, fmt.Errorf("peers: benchmark %s: bad value %q", m[1], fields[i])
			}
			switch fields[i+1] {
			case "ns/op":
				b.NsOp, haveNs = v, true
			case "cpu-ns/op":
				b.CPUNsOp = v
			case "B/op":
				b.BOp = v
			case "allocs/op":
				b.AllocsOp = v
			}
		}
		if !haveNs {
			return nil, fmt.Errorf("peers: benchmark %s: no ns/op in %q", m[1], sc.Text())
		}
		out[m[1]] = append(out[m[1]], b)
	}
	return out, sc.Err()
}

// Wrk is what one wrk run reports.
type Wrk struct {
	Requests     int64         // requests completed
	RPS          float64       // Requests/sec
	P99          time.Duration // the 99% line of --latency
	Non2xx       int64         // "Non-2xx or 3xx responses"
	SocketErrors int64         // connect + read + write + timeout

	// ServerCPU is the CPU time the server used during the run, when
	// it was measured (ParseWrk leaves it 0; see peers.sh).
	ServerCPU time.Duration
}

// ErrWrkOutput is returned for wrk output that lacks a figure.
var ErrWrkOutput = errors.New("peers: unexpected wrk output")

// ParseWrk reads the output of wrk --latency.
func ParseWrk(out string) (Wrk, error) {
	var w Wrk
	var haveRPS, haveP99, haveReq bool
	for line := range strings.Lines(out) {
		f := strings.Fields(line)
		switch {
		case len(f) >= 2 && f[0] == "Requests/sec:":
			v, err := strconv.ParseFloat(f[1], 64)
			if err != nil {
				return w, fmt.Errorf("%w: Requests/sec %q", ErrWrkOutput, f[1])
			}
			w.RPS, haveRPS = v, true
		case len(f) == 2 && f[0] == "99%":
			d, err := ParseWrkDuration(f[1])
			if err != nil {
				return w, err
			}
			w.P99, haveP99 = d, true
		case len(f) >= 3 && f[1] == "requests" && f[2] == "in":
			v, err := strconv.ParseInt(f[0], 10, 64)
			if err != nil {
				return w, fmt.Errorf("%w: request count %q", ErrWrkOutput, f[0])
			}
			w.Requests, haveReq = v, true
		case strings.HasPrefix(strings.TrimSpace(line), "Non-2xx or 3xx responses:"):
			v, err := strconv.ParseInt(f[len(f)-1], 10, 64)
			if err != nil {
				return w, fmt.Errorf("%w: %q", ErrWrkOutput, strings.TrimSpace(line))
			}
			w.Non2xx = v
		case len(f) > 2 && f[0] == "Socket" && f[1] == "errors:":
			// Socket errors: connect 0, read 0, write 0, timeout 0
			for i := 2; i+1 < len(f); i += 2 {
				v, err := strconv.ParseInt(strings.TrimSuffix(f[i+1], ","), 10, 64)
				if err != nil {
					return w, fmt.Errorf("%w: %q", ErrWrkOutput, strings.TrimSpace(line))
				}
				w.SocketErrors += v
			}
		}
	}
	if !haveRPS || !haveP99 || !haveReq {
		return w, fmt.Errorf("%w: want Requests/sec, the request count and the 99%% latency (run wrk with --latency)", ErrWrkOutput)
	}
	return w, nil
}

// ParseWrkDuration parses a latency as wrk prints it: "812.00us",
// "1.23ms", "2.01s", "1.50m".
func ParseWrkDuration(s string) (time.Duration, error) {
	units := []struct {
		suffix string
		unit   time.Duration
	}{{"us", time.Microsecond}, {"ms", time.Millisecond}, {"s", time.Second}, {"m", time.Minute}, {"h", time.Hour}}
	for _, u := range units {
		num, ok := strings.CutSuffix(s, u.suffix)
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(num, 64)
		if err != nil || v < 0 {
			break
		}
		return time.Duration(v * float64(u.unit)), nil
	}
	return 0, fmt.Errorf("%w: latency %q", ErrWrkOutput, s)
}
