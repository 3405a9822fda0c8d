package peers

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

const benchOutput = `goos: linux
goarch: amd64
pkg: github.com/wsapi-go/wsapi/bench/peers
cpu: Intel(R) Xeon(R) CPU @ 2.20GHz
BenchmarkPeers/serial/bare-2         	 5000000	        40.50 ns/op	       0 B/op	       0 allocs/op
BenchmarkPeers/serial/full-2         	  200000	      5100 ns/op	    1500 B/op	      20 allocs/op
BenchmarkPeers/serial/full-2         	  200000	      4900 ns/op	    1400 B/op	      20 allocs/op
BenchmarkPeers/serial/full-2         	  200000	      9000 ns/op	    1450 B/op	      20 allocs/op
BenchmarkPeers/parallel/full         	  400000	      3000 ns/op	      2500 cpu-ns/op	    1500 B/op	      20 allocs/op
BenchmarkOther-2   100   7 ns/op
PASS
ok  	github.com/wsapi-go/wsapi/bench/peers	12.3s
`

func TestParseBench(t *testing.T) {
	got, err := ParseBench(strings.NewReader(benchOutput))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(got["Peers/serial/full"]); n != 3 {
		t.Fatalf("serial/full: %d runs, want 3", n)
	}
	if b := got["Peers/serial/bare"]; len(b) != 1 || b[0] != (Bench{NsOp: 40.5}) {
		t.Errorf("serial/bare: %+v", b)
	}
	if b := got["Peers/parallel/full"]; len(b) != 1 || b[0] != (Bench{NsOp: 3000, CPUNsOp: 2500, BOp: 1500, AllocsOp: 20}) {
		t.Errorf("parallel/full (no -N suffix): %+v", b)
	}
	if b := got["Other"]; len(b) != 1 || b[0].NsOp != 7 {
		t.Errorf("Other (no B/op): %+v", b)
	}
	if _, err := ParseBench(strings.NewReader("BenchmarkX-2  10  7 B/op\n")); err == nil {
		t.Error("a result without ns/op: no error")
	}
}

const wrkOutput = `Running 10s test @ http://127.0.0.1:40123/hello/world
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.52ms    2.10ms  40.11ms   90.12%
    Req/Sec    23.50k     2.01k   30.00k    70.00%
  Latency Distribution
     50%  812.00us
     75%    1.50ms
     90%    3.20ms
     99%   10.25ms
  467890 requests in 10.00s, 60.23MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 5
Requests/sec:  46789.01
Transfer/sec:      6.02MB
`

func TestParseWrk(t *testing.T) {
	w, err := ParseWrk(wrkOutput)
	if err != nil {
		t.Fatal(err)
	}
	want := Wrk{Requests: 467890, RPS: 46789.01, P99: 10250 * time.Microsecond, Non2xx: 5, SocketErrors: 3}
	if w != want {
		t.Errorf("got %+v, want %+v", w, want)
	}
	noLatency := strings.Replace(wrkOutput, "     99%   10.25ms\n", "", 1)
	if _, err := ParseWrk(noLatency); !errors.Is(err, ErrWrkOutput) {
		t.Errorf("without the 99%% line: %v, want ErrWrkOutput", err)
	}
	if _, err := ParseWrk("unable to connect to 127.0.0.1:1 Connection refused\n"); !errors.Is(err, ErrWrkOutput) {
		t.Errorf("wrk failure: %v, want ErrWrkOutput", err)
	}
}

func TestParseWrkDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"812.00us": 812 * time.Microsecond,
		"1.23ms":   1230 * time.Microsecond,
		"2.01s":    2010 * time.Millisecond,
		"1.50m":    90 * time.Second,
	} {
		got, err := ParseWrkDuration(in)
		if err != nil || (got-want).Abs() > time.Microsecond {
			t.Errorf("%s: %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "ms", "12", "-1ms", "1.2xs"} {
		if _, err := ParseWrkDuration(in); err == nil {
			t.Errorf("%q: no error", in)
		}
	}
}

func TestMedian(t *testing.T) {
	if got := Median([]float64{9, 1, 5}); got != 5 {
		t.Errorf("odd: %v", got)
	}
	if got := Median([]float64{4, 1, 3, 2}); got != 2.5 {
		t.Errorf("even: %v", got)
	}
	if !math.IsNaN(Median(nil)) {
		t.Error("empty: not NaN")
	}
}

func TestThousands(t *testing.T) {
	for in, want := range map[float64]string{0: "0", 7.4: "7", 999.5: "1,000", 12345.6: "12,346", 1234567: "1,234,567", -4321: "-4,321"} {
		if got := Thousands(in); got != want {
			t.Errorf("Thousands(%v) = %q, want %q", in, got, want)
		}
	}
}

func sampleResults() []Result {
	return []Result{
		{Name: Bare, Serial: Bench{NsOp: 40, AllocsOp: 0}, Parallel: Bench{NsOp: 25}, RPS: 50000, P99: 3 * time.Millisecond, Rounds: 3},
		{Name: Full, Serial: Bench{NsOp: 4000, CPUNsOp: 3000, BOp: 1400, AllocsOp: 20}, Parallel: Bench{NsOp: 2500}, RPS: 46000, P99: 4 * time.Millisecond, Rounds: 3},
		{Name: Chi, Serial: Bench{NsOp: 9000, CPUNsOp: 6000, BOp: 3000, AllocsOp: 40}, Parallel: Bench{NsOp: 5000}, RPS: 40000, P99: 5 * time.Millisecond, Rounds: 3},
		{Name: Negroni, Serial: Bench{NsOp: 3000, BOp: 900, AllocsOp: 12}, Parallel: Bench{NsOp: 2000}, RPS: 44000, P99: 4 * time.Millisecond, Rounds: 3},
	}
}

func TestCollect(t *testing.T) {
	bench, err := ParseBench(strings.NewReader(benchOutput))
	if err != nil {
		t.Fatal(err)
	}
	wrk := map[string][]Wrk{Full: {
		{RPS: 100, P99: time.Millisecond, Requests: 1000, ServerCPU: 10 * time.Millisecond},
		{RPS: 300, P99: 3 * time.Millisecond, Non2xx: 2, Requests: 3000, ServerCPU: 90 * time.Millisecond},
		{RPS: 200, P99: 2 * time.Millisecond, Requests: 2000}, // CPU not measured
	}}
	rs, err := Collect([]string{Full}, bench, wrk)
	if err != nil {
		t.Fatal(err)
	}
	r := rs[0]
	if r.Serial != (Bench{NsOp: 5100, BOp: 1450, AllocsOp: 20}) || r.Runs != 3 {
		t.Errorf("serial medians: %+v, %d runs", r.Serial, r.Runs)
	}
	if r.RPS != 200 || r.P99 != 2*time.Millisecond || r.Rounds != 3 || r.Non2xx != 2 || r.ServerCPU != 20*time.Microsecond {
		t.Errorf("wrk medians: %+v", r)
	}
	if p := Problems(rs); len(p) != 1 || !strings.Contains(p[0], "2 responses") {
		t.Errorf("problems: %q", p)
	}

	_, err = Collect([]string{Full, Chi}, bench, wrk)
	if err == nil || !strings.Contains(err.Error(), "benchmarks of chi") || !strings.Contains(err.Error(), "wrk runs of chi") {
		t.Errorf("missing chi: %v", err)
	}
}

func TestGoals(t *testing.T) {
	rs := sampleResults()
	gs := Goals(rs)
	if len(gs) != 3 {
		t.Fatalf("%d goals, want 3", len(gs))
	}
	// 46000/50000 = 92 %: met; 4000/9000 = 0.44: missed; 20/40 = 0.5: missed.
	if !gs[0].Met || gs[0].Measured != "92.0 %" {
		t.Errorf("req/s goal: %+v", gs[0])
	}
	if gs[1].Met || !strings.Contains(gs[1].Measured, "0.44x") || !strings.Contains(gs[1].Measured, "CPU time 0.50x") {
		t.Errorf("ns/op goal: %+v", gs[1])
	}
	if gs[2].Met || !strings.Contains(gs[2].Measured, "0.50x") {
		t.Errorf("allocs goal: %+v", gs[2])
	}
	rs[1].Serial = Bench{NsOp: 2900, AllocsOp: 13}
	for _, g := range Goals(rs) {
		if !g.Met {
			t.Errorf("at a third or less: %+v", g)
		}
	}
}

func TestTableAndMarkdown(t *testing.T) {
	rs := sampleResults()
	var tb strings.Builder
	if err := Table(&tb, rs); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"wsapi full stack", "4,000", "100.0x", "92.0 %", "4.00 ms", "goal MISSED: full stack ns/op"} {
		if !strings.Contains(tb.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, tb.String())
		}
	}
	var md strings.Builder
	m := Machine{CPUs: 2, CPU: "Test CPU", GoVersion: "go1.26", OS: "linux/amd64", Date: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC),
		Benchtime: "1s", Count: 5, Duration: "10s", Connections: 64, Threads: 2, Rounds: 3, Load: "1.50 1.20 0.90"}
	if err := Markdown(&md, rs, m); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"2 CPUs, Test CPU", "go1.26", "2026-11-22", "| chi + hlog + scs | 9,000 | 225.0x | 6,000 |", "**met**", "**MISSED**", "64 connections", "1.50 1.20 0.90", "![](../docs/bench.svg)"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("markdown lacks %q:\n%s", want, md.String())
		}
	}
}
