package peers

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Result is one variant's figures: medians over the benchmark runs and
// the wrk rounds.
type Result struct {
	Name     string
	Serial   Bench // one request at a time
	Parallel Bench // b.RunParallel
	Runs     int   // benchmark runs (-count) behind the medians

	RPS          float64       // median req/s over the rounds
	P99          time.Duration // median p99 latency over the rounds
	ServerCPU    time.Duration // median server CPU time per request, 0 when not measured
	Rounds       int           // wrk rounds
	Non2xx       int64         // summed over the rounds
	SocketErrors int64         // summed over the rounds
}

// Title returns the variant's title (Titles), or its name.
func (r Result) Title() string {
	if t, ok := Titles[r.Name]; ok {
		return t
	}
	return r.Name
}

// Median returns the median of xs (the mean of the middle two for an even
// count), or NaN for none.
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func medianBench(bs []Bench) Bench {
	pick := func(f func(Bench) float64) float64 {
		xs := make([]float64, len(bs))
		for i, b := range bs {
			xs[i] = f(b)
		}
		return Median(xs)
	}
	return Bench{
		NsOp:     pick(func(b Bench) float64 { return b.NsOp }),
		CPUNsOp:  pick(func(b Bench) float64 { return b.CPUNsOp }),
		BOp:      pick(func(b Bench) float64 { return b.BOp }),
		AllocsOp: pick(func(b Bench) float64 { return b.AllocsOp }),
	}
}

// Collect builds the results of the variants in names from the benchmark
// figures (by ParseBench's names: "Peers/serial/<name>" and
// "Peers/parallel/<name>") and the wrk runs of each variant, one per round.
// It returns an error naming what is missing.
func Collect(names []string, bench map[string][]Bench, wrk map[string][]Wrk) ([]Result, error) {
	var missing []string
	out := make([]Result, 0, len(names))
	for _, name := range names {
		r := Result{Name: name}
		s, p := bench["Peers/serial/"+name], bench["Peers/parallel/"+name]
		if len(s) == 0 || len(p) == 0 {
			missing = append(missing, "benchmarks of "+name)
		} else {
			r.Serial, r.Parallel, r.Runs = medianBench(s), medianBench(p), len(s)
		}
		runs := wrk[name]
		if len(runs) == 0 {
			missing = append(missing, "wrk runs of "+name)
		}
		rps := make([]float64, len(runs))
		p99 := make([]float64, len(runs))
		var cpu []float64
		for i, w := range runs {
			rps[i], p99[i] = w.RPS, float64(w.P99)
			r.Non2xx += w.Non2xx
			r.SocketErrors += w.SocketErrors
			if w.ServerCPU > 0 && w.Requests > 0 {
				cpu = append(cpu, float64(w.ServerCPU)/float64(w.Requests))
			}
		}
		if len(runs) > 0 {
			r.RPS, r.P99, r.Rounds = Median(rps), time.Duration(Median(p99)), len(runs)
		}
		if len(cpu) > 0 {
			r.ServerCPU = time.Duration(Median(cpu))
		}
		out = append(out, r)
	}
	if len(missing) > 0 {
		return out, fmt.Errorf("peers: missing %s", strings.Join(missing, ", "))
	}
	return out, nil
}

// Problems lists what went wrong in the runs: wrk errors and responses
// that were not 2xx, or a variant that served nothing.
func Problems(rs []Result) []string {
	var out []string
	for _, r := range rs {
		if r.Non2xx > 0 {
			out = append(out, fmt.Sprintf("%s: %d responses were not 2xx or 3xx", r.Name, r.Non2xx))
		}
		if r.SocketErrors > 0 {
			out = append(out, fmt.Sprintf("%s: %d socket errors", r.Name, r.SocketErrors))
		}
		if r.Rounds > 0 && r.RPS <= 0 {
			out = append(out, fmt.Sprintf("%s: no requests served", r.Name))
		}
	}
	return out
}

func find(rs []Result, name string) (Result, bool) {
	for _, r := range rs {
		if r.Name == name {
			return r, true
		}
	}
	return Result{}, false
}

// Goal is a target the full stack is held to, and how it fared.
type Goal struct {
	Text     string // what is asked
	Measured string // what was measured
	Met      bool
}

// Goals checks the full stack's targets: at least 90 % of bare net/http's
// req/s, and at most a third of the chi stack's ns/op and allocs/op.
func Goals(rs []Result) []Goal {
	full, ok1 := find(rs, Full)
	bare, ok2 := find(rs, Bare)
	chiR, ok3 := find(rs, Chi)
	if !ok1 || !ok2 || !ok3 {
		return nil
	}
	var gs []Goal
	if bare.RPS > 0 {
		f := full.RPS / bare.RPS
		gs = append(gs, Goal{
			Text:     "full stack req/s >= 90 % of net/http alone",
			Measured: fmt.Sprintf("%s %%", fixed(100*f, 1)),
			Met:      f >= 0.9,
		})
	}
	if chiR.Serial.NsOp > 0 {
		f := full.Serial.NsOp / chiR.Serial.NsOp
		measured := fmt.Sprintf("%s ns vs %s ns: %s of chi", Thousands(full.Serial.NsOp), Thousands(chiR.Serial.NsOp), ratio(f))
		if full.Serial.CPUNsOp > 0 && chiR.Serial.CPUNsOp > 0 {
			measured += fmt.Sprintf("; CPU time %s of chi", ratio(full.Serial.CPUNsOp/chiR.Serial.CPUNsOp))
		}
		gs = append(gs, Goal{
			Text:     "full stack ns/op <= 1/3 of the chi stack's",
			Measured: measured,
			Met:      f <= 1.0/3,
		})
	}
	if chiR.Serial.AllocsOp > 0 {
		f := full.Serial.AllocsOp / chiR.Serial.AllocsOp
		gs = append(gs, Goal{
			Text:     "full stack allocs/op <= 1/3 of the chi stack's",
			Measured: fmt.Sprintf("%s vs %s: %s of chi", Thousands(full.Serial.AllocsOp), Thousands(chiR.Serial.AllocsOp), ratio(f)),
			Met:      f <= 1.0/3,
		})
	}
	return gs
}

func ratio(f float64) string { return fixed(f, 2) + "x" }

// Thousands formats v rounded to a whole number with commas between
// thousands: 12345.6 is "12,346".
func Thousands(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "?"
	}
	s := strconv.FormatInt(int64(math.Round(math.Abs(v))), 10)
	var b strings.Builder
	if v < 0 && s != "0" {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func fixed(v float64, prec int) string { return strconv.FormatFloat(v, 'f', prec, 64) }

// us formats a duration in microseconds with one decimal, or "-" for 0.
func us(d time.Duration) string {
	if d <= 0 {
		return "-"
	}
	return fixed(float64(d)/float64(time.Microsecond), 1) + " µs"
}

// Ms formats a duration in milliseconds with two decimals: "1.23 ms".
func Ms(d time.Duration) string { return fixed(float64(d)/float64(time.Millisecond), 2) + " ms" }

// row is one table row's cells, shared by Table and Markdown.
func rows(rs []Result) (header []string, cells [][]string) {
	bare, _ := find(rs, Bare)
	header = []string{"variant", "ns/op", "x bare", "cpu-ns/op", "B/op", "allocs/op", "ns/op parallel", "req/s", "% of bare", "p99", "server CPU/req"}
	for _, r := range rs {
		rel := func(v, base float64) string {
			if base <= 0 {
				return "?"
			}
			return fixed(v/base, 1) + "x"
		}
		pct := "?"
		if bare.RPS > 0 {
			pct = fixed(100*r.RPS/bare.RPS, 1) + " %"
		}
		cells = append(cells, []string{
			r.Title(),
			Thousands(r.Serial.NsOp),
			rel(r.Serial.NsOp, bare.Serial.NsOp),
			Thousands(r.Serial.CPUNsOp),
			Thousands(r.Serial.BOp),
			Thousands(r.Serial.AllocsOp),
			Thousands(r.Parallel.NsOp),
			Thousands(r.RPS),
			pct,
			Ms(r.P99),
			us(r.ServerCPU),
		})
	}
	return header, cells
}

// Table writes the results as an aligned text table, then the goals.
func Table(w io.Writer, rs []Result) error {
	header, cells := rows(rs)
	width := make([]int, len(header))
	for i, h := range header {
		width[i] = len(h)
	}
	for _, row := range cells {
		for i, c := range row {
			width[i] = max(width[i], len(c))
		}
	}
	var b strings.Builder
	line := func(row []string) {
		for i, c := range row {
			if i == 0 {
				fmt.Fprintf(&b, "%-*s", width[i], c)
			} else {
				fmt.Fprintf(&b, "  %*s", width[i], c)
			}
		}
		b.WriteByte('\n')
	}
	line(header)
	for _, row := range cells {
		line(row)
	}
	for _, g := range Goals(rs) {
		fmt.Fprintf(&b, "goal %s: %s (%s)\n", metText(g.Met), g.Text, g.Measured)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func metText(met bool) string {
	if met {
		return "met"
	}
	return "MISSED"
}

// Machine describes where and how the figures were measured.
type Machine struct {
	CPUs      int    // nproc
	CPU       string // model name from /proc/cpuinfo
	GoVersion string
	OS        string
	Date      time.Time
	Load      string // /proc/loadavg's three figures when the run began

	Benchtime   string // -benchtime of the benchmarks
	Count       int    // -count of the benchmarks
	Duration    string // of each wrk run
	Connections int
	Threads     int
	Rounds      int
}

// Markdown writes the results as a markdown report: the machine, the
// table, the goals.
func Markdown(w io.Writer, rs []Result, m Machine) error {
	var b strings.Builder
	b.WriteString("# Peer benchmarks\n\n")
	b.WriteString("The same hello app (`Hello Wsapi!`, 200, text/plain) served by net/http alone, ")
	b.WriteString("by a full wsapi stack, by the chi stack that does the same jobs, and by negroni's Classic; ")
	b.WriteString("generated by `bash bench/peers.sh`.\n\n")
	fmt.Fprintf(&b, "- machine: %d CPUs, %s, %s\n", m.CPUs, m.CPU, m.OS)
	fmt.Fprintf(&b, "- Go: %s\n", m.GoVersion)
	fmt.Fprintf(&b, "- date: %s\n", m.Date.UTC().Format("2006-01-02 15:04 MST"))
	if m.Load != "" {
		fmt.Fprintf(&b, "- load average when the run began (1, 5, 15 min): %s\n", m.Load)
	}
	fmt.Fprintf(&b, "- `go test -bench`: -benchtime %s, %d runs with the variants interleaved, medians; the request served through the handler with a reusable writer\n", m.Benchtime, m.Count)
	fmt.Fprintf(&b, "- wrk on loopback: %s per run, %d connections, %d threads, %d rounds with the variants interleaved, medians; client and server share the CPUs, nothing pinned\n\n", m.Duration, m.Connections, m.Threads, m.Rounds)
	header, cells := rows(rs)
	b.WriteString("| " + strings.Join(header, " | ") + " |\n|")
	for i := range header {
		if i == 0 {
			b.WriteString("---|")
		} else {
			b.WriteString("---:|")
		}
	}
	b.WriteByte('\n')
	for _, row := range cells {
		b.WriteString("| " + strings.Join(row, " | ") + " |\n")
	}
	b.WriteString("\nns/op, cpu-ns/op, B/op and allocs/op: one request at a time; ns/op parallel: `b.RunParallel`; ")
	b.WriteString("x bare: ns/op over net/http alone's; cpu-ns/op: the process's CPU time (all threads, the garbage collector's too) per request, ")
	b.WriteString("steadier than ns/op when other work shares the machine; req/s and p99: wrk; ")
	b.WriteString("server CPU/req: the server process's CPU time during the wrk run over the requests served.\n")
	if gs := Goals(rs); len(gs) > 0 {
		b.WriteString("\n## Goals\n\n")
		for _, g := range gs {
			fmt.Fprintf(&b, "- %s: **%s** (%s)\n", g.Text, metText(g.Met), g.Measured)
		}
	}
	b.WriteString("\n![](../docs/bench.svg)\n")
	_, err := io.WriteString(w, b.String())
	return err
}
