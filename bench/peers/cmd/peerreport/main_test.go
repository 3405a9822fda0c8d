package main

import (
	"encoding/xml"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wsapi-go/wsapi/bench/peers"
)

const benchTxt = `BenchmarkPeers/serial/bare-2      1000   50 ns/op   16 B/op   1 allocs/op
BenchmarkPeers/serial/full-2      1000   5000 ns/op   2000 B/op   20 allocs/op
BenchmarkPeers/serial/chi-2       1000   9000 ns/op   4000 B/op   41 allocs/op
BenchmarkPeers/serial/negroni-2   1000   8000 ns/op   900 B/op   20 allocs/op
BenchmarkPeers/parallel/bare-2    1000   30 ns/op   16 B/op   1 allocs/op
BenchmarkPeers/parallel/full-2    1000   3000 ns/op   2000 B/op   20 allocs/op
BenchmarkPeers/parallel/chi-2     1000   5000 ns/op   4000 B/op   41 allocs/op
BenchmarkPeers/parallel/negroni-2 1000   4000 ns/op   900 B/op   20 allocs/op
`

func wrkTxt(rps string, extra string) string {
	return `Running 2s test @ http://127.0.0.1:1/hello/world
  Latency Distribution
     50%  1.00ms
     99%   4.50ms
  1000 requests in 2.00s, 1.00MB read
` + extra + `Requests/sec:  ` + rps + "\nTransfer/sec: 1.00MB\n"
}

// fixture writes a run's outputs; broken, when set, replaces the wrk
// output of one variant.
func fixture(t *testing.T, broken map[string]string) config {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "bench.txt"), []byte(benchTxt), 0o644); err != nil {
		t.Fatal(err)
	}
	wrk := filepath.Join(dir, "wrk")
	if err := os.Mkdir(wrk, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, v := range peers.Names {
		for round, rps := range []string{"40000.5", "50000.0", "45000.0"} {
			out := wrkTxt(rps, "")
			if b, ok := broken[v]; ok {
				out = b
			}
			name := filepath.Join(wrk, string(rune('1'+round))+"-"+v+".txt")
			if err := os.WriteFile(name, []byte(out), 0o644); err != nil {
				t.Fatal(err)
			}
			if v == peers.Full { // 0.05 s for 1000 requests: 50 µs each
				if err := os.WriteFile(strings.TrimSuffix(name, ".txt")+".cpu", []byte("0.05\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	m := peers.Machine{CPUs: 2, CPU: "Test CPU", GoVersion: "go1.26", OS: "linux/amd64", Date: time.Now(),
		Benchtime: "1s", Count: 1, Duration: "2s", Connections: 64, Threads: 2, Rounds: 3}
	return config{bench: filepath.Join(dir, "bench.txt"), wrk: wrk, md: filepath.Join(dir, "out.md"),
		svg: filepath.Join(dir, "out.svg"), variants: peers.Names, machine: m}
}

func TestRunWritesReport(t *testing.T) {
	c := fixture(t, nil)
	var out strings.Builder
	if err := run(c, &out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	for _, want := range []string{"wsapi full stack", "45,000", "100.0 %", "4.50 ms", "50.0 µs", "goal "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
	md, err := os.ReadFile(c.md)
	if err != nil || !strings.Contains(string(md), "| wsapi full stack | 5,000 | 100.0x |") {
		t.Errorf("markdown (%v):\n%s", err, md)
	}
	svg, err := os.ReadFile(c.svg)
	if err != nil {
		t.Fatal(err)
	}
	if err := xml.Unmarshal(svg, new(struct{ XMLName xml.Name })); err != nil {
		t.Errorf("svg is not XML: %v", err)
	}
	if !strings.Contains(string(svg), "Test CPU") {
		t.Error("svg caption lacks the CPU")
	}
}

func TestRunFailsOnErrors(t *testing.T) {
	for name, broken := range map[string]map[string]string{
		"non-2xx":       {peers.Chi: wrkTxt("100.0", "  Non-2xx or 3xx responses: 12\n")},
		"socket errors": {peers.Full: wrkTxt("100.0", "  Socket errors: connect 3, read 0, write 0, timeout 0\n")},
	} {
		t.Run(name, func(t *testing.T) {
			c := fixture(t, broken)
			var out strings.Builder
			if err := run(c, &out); !errors.Is(err, errProblems) {
				t.Fatalf("run: %v, want errProblems", err)
			}
			if !strings.Contains(out.String(), "problem:") {
				t.Errorf("no problem printed:\n%s", out.String())
			}
			if _, err := os.Stat(c.md); !os.IsNotExist(err) {
				t.Error("the report was written for a failed run")
			}
		})
	}
	t.Run("wrk failed", func(t *testing.T) {
		c := fixture(t, map[string]string{peers.Negroni: "unable to connect to 127.0.0.1:1 Connection refused\n"})
		if err := run(c, &strings.Builder{}); !errors.Is(err, peers.ErrWrkOutput) {
			t.Errorf("run: %v, want ErrWrkOutput", err)
		}
	})
	t.Run("bad cpu file", func(t *testing.T) {
		c := fixture(t, nil)
		if err := os.WriteFile(filepath.Join(c.wrk, "1-chi.cpu"), []byte("lots"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := run(c, &strings.Builder{}); err == nil || !strings.Contains(err.Error(), "1-chi.cpu") {
			t.Errorf("run: %v, want an error naming 1-chi.cpu", err)
		}
	})
	t.Run("variant missing", func(t *testing.T) {
		c := fixture(t, nil)
		c.variants = append(c.variants, "gin")
		if err := run(c, &strings.Builder{}); err == nil || !strings.Contains(err.Error(), "gin") {
			t.Errorf("run: %v, want an error naming gin", err)
		}
	})
}

func TestCPUModel(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cpuinfo")
	info := "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) Processor\n\nprocessor\t: 1\nmodel name\t: Intel(R) Xeon(R) Processor\n"
	if err := os.WriteFile(path, []byte(info), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := cpuModel(path); got != "Intel(R) Xeon(R) Processor" {
		t.Errorf("cpuModel = %q", got)
	}
	if got := cpuModel(filepath.Join(t.TempDir(), "missing")); got != "unknown CPU" {
		t.Errorf("missing file: %q", got)
	}
}
