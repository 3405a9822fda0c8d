package main

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Machine describes where the run took place.
type Machine struct {
	CPUs      int
	CPUModel  string
	Kernel    string
	GoVersion string
	Redis     string
	Date      time.Time
}

// Report is everything the report prints.
type Report struct {
	Machine  Machine
	Duration time.Duration // of the load
	Conns    int
	Think    time.Duration
	Settings []string // other settings, one line each
	Summary  Summary
	Windows  []Window
	Samples  []Sample
	Checks   []Check
	Notes    []string // explanations printed under the checks
	SVG      string   // the chart's file name, "" when none
}

// Passed reports whether every check passed.
func (r *Report) Passed() bool {
	for _, c := range r.Checks {
		if !c.Pass {
			return false
		}
	}
	return len(r.Checks) > 0
}

func passWord(ok bool) string {
	if ok {
		return "PASS"
	}
	return "FAIL"
}

// mdEscape keeps a value from breaking a Markdown table.
func mdEscape(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ", "\r", " ", "`", "'").Replace(strings.ToValidUTF8(s, "?"))
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 1, 64)
}

func secs(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + " s"
}

// statusList prints a kind's counts by status, "none" as "no answer".
func statusList(by map[int]int) string {
	keys := make([]int, 0, len(by))
	for k := range by {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		name := strconv.Itoa(k)
		switch {
		case k == 0:
			name = "no answer"
		case k < 0:
			name = strconv.Itoa(-k) + " cut"
		}
		parts = append(parts, fmt.Sprintf("%s: %d", name, by[k]))
	}
	return strings.Join(parts, ", ")
}

// WriteMarkdown writes the report as Markdown.
func (r *Report) WriteMarkdown(w io.Writer) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	s := r.Summary
	p("# Soak test of examples/showcase\n\n")
	p("Written by `bash bench/soak.sh` (bench/soak). Result: **%s**.\n\n", passWord(r.Passed()))
	p("## Run\n\n")
	p("| | |\n|---|---|\n")
	p("| date | %s |\n", r.Machine.Date.UTC().Format("2006-01-02 15:04 MST"))
	p("| machine | %d CPUs, %s, Linux %s |\n", r.Machine.CPUs, mdEscape(r.Machine.CPUModel), mdEscape(r.Machine.Kernel))
	p("| Go | %s |\n", r.Machine.GoVersion)
	p("| Redis | %s |\n", mdEscape(r.Machine.Redis))
	p("| duration | %v of load |\n", r.Duration.Round(100*time.Millisecond))
	p("| connections | %d virtual users, one keep-alive connection each (think time 0 to %v) |\n", r.Conns, r.Think)
	for _, line := range r.Settings {
		p("| %s |\n", line)
	}
	rate := float64(s.Total) / r.Duration.Seconds()
	p("| requests | %d, %.0f req/s |\n", s.Total, rate)
	p("| outcomes | %d ok, %d expected otherwise, %d in fault windows, %d failed |\n\n",
		s.Outcomes[OK], s.Outcomes[Expected], s.Outcomes[Fault], s.Outcomes[Failed])

	p("## Checks\n\n| check | result | detail |\n|---|---|---|\n")
	for _, c := range r.Checks {
		p("| %s | %s | %s |\n", mdEscape(c.Name), passWord(c.Pass), mdEscape(c.Detail))
	}
	p("\n")
	for _, n := range r.Notes {
		p("- %s\n", n)
	}
	if len(r.Notes) > 0 {
		p("\n")
	}

	p("## Requests by type\n\n")
	p("Latencies are of the requests that got an answer, to the end of the body.\n\n")
	p("| type | requests | req/s | by status | ok | expected | fault window | failed | p50 ms | p99 ms |\n")
	p("|---|---:|---:|---|---:|---:|---:|---:|---:|---:|\n")
	for _, k := range s.Kinds {
		p("| %s | %d | %.1f | %s | %d | %d | %d | %d | %s | %s |\n", k.Kind, k.Total,
			float64(k.Total)/r.Duration.Seconds(), statusList(k.ByStatus),
			k.Outcomes[OK], k.Outcomes[Expected], k.Outcomes[Fault], k.Outcomes[Failed], ms(k.P50), ms(k.P99))
	}
	p("\n")

	p("## Fault windows\n\n")
	p("A window runs from the fault to the recovery, plus a grace period; 5xx answers and broken connections of requests that overlap a window are excused.\n\n")
	p("(\"cut\": the headers came, then the connection broke in the body.)\n\n")
	p("| window | start | recovered | grace | requests excused | by status | what happened |\n|---|---:|---:|---:|---:|---|---|\n")
	for _, win := range r.Windows {
		p("| %s | %s | %s | %s | %d | %s | %s |\n", mdEscape(win.Name), secs(win.Start), secs(win.End), secs(win.Grace),
			s.ByWindow[win.Name], statusList(s.ByWindowStatus[win.Name]), mdEscape(win.Note))
	}
	p("\n")

	writeRecords := func(title string, recs []Record) {
		if len(recs) == 0 {
			return
		}
		p("## %s\n\n| time | id | type | path | status | problem |\n|---:|---|---|---|---:|---|\n", title)
		for i, rec := range recs {
			if i == 100 {
				p("\n... and %d more.\n", len(recs)-100)
				break
			}
			p("| %s | %s | %s | %s | %d | %s |\n", secs(rec.Start), rec.ID, rec.Kind, mdEscape(rec.Path), rec.Status, mdEscape(rec.Problem))
		}
		p("\n")
	}
	writeRecords("5xx outside the fault windows", s.FiveXXOutside)
	writeRecords("Other failures outside the fault windows", s.FailedOutside)

	p("## Samples\n\nEvery 5 s: the showcase's RSS (VmRSS), its workers' RSS (sum), goroutines and open fds (debug listener's /debug/vars), answers per second, 5xx answers and files in the upload temp dir.\n\n")
	if r.SVG != "" {
		p("![RSS over time](%s)\n\n", r.SVG)
	}
	p("| time | RSS MiB | workers MiB | goroutines | open fds | req/s | 5xx | tmp files |\n|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, sm := range r.Samples {
		p("| %s | %.1f | %.1f | %d | %d | %.0f | %d | %d |\n", secs(sm.At), float64(sm.RSS)/(1<<20), float64(sm.WorkerRSS)/(1<<20),
			sm.Goroutines, sm.FDs, sm.Rate, sm.FiveXX, sm.TmpFiles)
	}
}

// WriteSummary writes the one-page summary for the terminal.
func (r *Report) WriteSummary(w io.Writer) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	s := r.Summary
	p("\nsoak: %v, %d connections, %d requests (%.0f req/s) on %d CPUs (%s), %s\n",
		r.Duration.Round(100*time.Millisecond), r.Conns, s.Total, float64(s.Total)/r.Duration.Seconds(), r.Machine.CPUs, r.Machine.CPUModel, r.Machine.GoVersion)
	p("outcomes: %d ok, %d expected otherwise, %d in fault windows, %d failed\n\n",
		s.Outcomes[OK], s.Outcomes[Expected], s.Outcomes[Fault], s.Outcomes[Failed])
	p("%-22s %8s %8s %8s %8s  %s\n", "type", "requests", "failed", "p50 ms", "p99 ms", "by status")
	for _, k := range s.Kinds {
		p("%-22s %8d %8d %8s %8s  %s\n", k.Kind, k.Total, k.Outcomes[Failed], ms(k.P50), ms(k.P99), statusList(k.ByStatus))
	}
	p("\nfault windows:\n")
	for _, win := range r.Windows {
		p("  %-22s %8s .. %8s (+%s)  %d excused (%s)  %s\n", win.Name, secs(win.Start), secs(win.End), secs(win.Grace),
			s.ByWindow[win.Name], statusList(s.ByWindowStatus[win.Name]), win.Note)
	}
	p("\nchecks:\n")
	for _, c := range r.Checks {
		p("  %s  %s: %s\n", passWord(c.Pass), c.Name, c.Detail)
	}
	for i, rec := range append(slices.Clone(s.FiveXXOutside), s.FailedOutside...) {
		if i == 0 {
			p("\nfailures outside the fault windows:\n")
		}
		if i == 20 {
			p("  ... see the report\n")
			break
		}
		p("  %8s %s %s %s %d %s\n", secs(rec.Start), rec.ID, rec.Kind, rec.Path, rec.Status, rec.Problem)
	}
	p("\nresult: %s\n", passWord(r.Passed()))
}
