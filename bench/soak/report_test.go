package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

const s = time.Second

func TestPercentile(t *testing.T) {
	var sorted []time.Duration
	for i := 1; i <= 100; i++ {
		sorted = append(sorted, time.Duration(i)*time.Millisecond)
	}
	for _, tc := range []struct {
		values []time.Duration
		p      float64
		want   time.Duration
	}{
		{nil, 50, 0},
		{[]time.Duration{7}, 50, 7},
		{[]time.Duration{7}, 99, 7},
		{[]time.Duration{1, 2}, 50, 1},
		{[]time.Duration{1, 2}, 51, 2},
		{[]time.Duration{1, 2, 3, 4}, 100, 4},
		{sorted, 50, 50 * time.Millisecond},
		{sorted, 99, 99 * time.Millisecond},
		{sorted, 99.5, 100 * time.Millisecond},
		{sorted, 1, time.Millisecond},
		{sorted, 0.1, time.Millisecond},
	} {
		if got := Percentile(tc.values, tc.p); got != tc.want {
			t.Errorf("Percentile(%d values, %v) = %v, want %v", len(tc.values), tc.p, got, tc.want)
		}
	}
}

func TestMedian(t *testing.T) {
	if _, ok := Median(nil); ok {
		t.Error("Median(nil) reported a value")
	}
	in := []float64{5, 1, 3}
	if m, _ := Median(in); m != 3 {
		t.Errorf("Median(5 1 3) = %v, want 3", m)
	}
	if in[0] != 5 {
		t.Error("Median sorted its argument in place")
	}
	if m, _ := Median([]float64{4, 1, 3, 2}); m != 2.5 {
		t.Errorf("Median(4 1 3 2) = %v, want 2.5", m)
	}
}

func TestWindowCovers(t *testing.T) {
	w := Window{Start: 10 * s, End: 20 * s, Grace: 3 * s}
	for _, tc := range []struct {
		name       string
		start, end time.Duration
		want       bool
	}{
		{"ends before the fault", 1 * s, 9 * s, false},
		{"ends at the fault", 1 * s, 10 * s, true},
		{"runs across the fault", 5 * s, 12 * s, true},
		{"inside", 12 * s, 13 * s, true},
		{"starts in the grace period", 22 * s, 30 * s, true},
		{"starts at the end of the grace", 23 * s, 24 * s, true},
		{"starts after the grace", 23*s + 1, 24 * s, false},
		{"spans the whole window", 0, 40 * s, true},
	} {
		if got := w.Covers(tc.start, tc.end); got != tc.want {
			t.Errorf("%s: Covers(%v, %v) = %v, want %v", tc.name, tc.start, tc.end, got, tc.want)
		}
	}
}

func TestClassify(t *testing.T) {
	windows := []Window{{Name: "redis", Start: 10 * s, End: 20 * s, Grace: 3 * s}}
	in, out := [2]time.Duration{15 * s, 16 * s}, [2]time.Duration{40 * s, 41 * s}
	for _, tc := range []struct {
		name string
		rec  Record
		want Outcome
	}{
		{"right answer", Record{Status: 200}, OK},
		{"right answer in a window", Record{Status: 200, Start: in[0], End: in[1]}, OK},
		{"excused answer", Record{Status: 303, Excuse: "session lost"}, Expected},
		{"5xx in a window", Record{Status: 503, Problem: "want 200", Start: in[0], End: in[1]}, Fault},
		{"5xx outside", Record{Status: 500, Problem: "want 200", Start: out[0], End: out[1]}, Failed},
		{"5xx without a problem set, outside", Record{Status: 502, Start: out[0], End: out[1]}, Failed},
		{"broken connection in a window", Record{Broken: true, Problem: "EOF", Start: in[0], End: in[1]}, Fault},
		{"broken connection outside", Record{Broken: true, Problem: "EOF", Start: out[0], End: out[1]}, Failed},
		{"wrong body in a window is never excused", Record{Status: 200, Problem: "page lacks", Start: in[0], End: in[1]}, Failed},
		{"wrong 4xx in a window is never excused", Record{Status: 404, Problem: "want 200", Start: in[0], End: in[1]}, Failed},
	} {
		if got := Classify(&tc.rec, windows); got != tc.want {
			t.Errorf("%s: Classify = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestSummarize(t *testing.T) {
	windows := []Window{{Name: "worker killed #1", Start: 10 * s, End: 11 * s, Grace: 3 * s}}
	recs := []Record{
		{ID: "a", Kind: KindHome, Status: 200, Start: 1 * s, End: 1*s + 10*time.Millisecond},
		{ID: "b", Kind: KindHome, Status: 200, Start: 2 * s, End: 2*s + 30*time.Millisecond},
		{ID: "c", Kind: KindStream, Status: 502, Problem: "want 200", Start: 10 * s, End: 10*s + 5*time.Millisecond},
		{ID: "d", Kind: KindStream, Status: 500, Problem: "want 200", Start: 30 * s, End: 30*s + 5*time.Millisecond},
		{ID: "e", Kind: KindHome, Status: 303, Excuse: "session lost", Start: 3 * s, End: 3*s + 20*time.Millisecond},
		{ID: "f", Kind: KindDownload, Status: 200, Problem: "bytes differ", Start: 4 * s, End: 5 * s},
		{ID: "g", Kind: KindHealth, Broken: true, Reached: ReachMaybe, Problem: "no answer", Start: 5 * s, End: 6 * s},
		{ID: "i", Kind: KindStream, Status: 200, Broken: true, Problem: "body cut", Start: 9 * s, End: 12 * s},
	}
	sum := Summarize(recs, windows)
	if sum.Total != 8 {
		t.Errorf("Total = %d, want 8", sum.Total)
	}
	if sum.Outcomes != [4]int{2, 1, 2, 3} {
		t.Errorf("Outcomes = %v, want [2 1 2 3] (ok, expected, fault, failed)", sum.Outcomes)
	}
	if len(sum.FiveXXOutside) != 1 || sum.FiveXXOutside[0].ID != "d" {
		t.Errorf("FiveXXOutside = %+v, want d", sum.FiveXXOutside)
	}
	if len(sum.FailedOutside) != 2 {
		t.Errorf("FailedOutside = %+v, want f and g", sum.FailedOutside)
	}
	if sum.ByWindow["worker killed #1"] != 2 {
		t.Errorf("ByWindow = %v, want 2 for the worker window", sum.ByWindow)
	}
	if got := statusList(sum.ByWindowStatus["worker killed #1"]); got != "200 cut: 1, 502: 1" {
		t.Errorf("the worker window's statuses = %q, want a cut 200 and a 502", got)
	}
	var home *KindStats
	for i := range sum.Kinds {
		if sum.Kinds[i].Kind == KindHome {
			home = &sum.Kinds[i]
		}
	}
	if home == nil {
		t.Fatal("no stats for the home page")
	}
	if home.Total != 3 || home.ByStatus[200] != 2 || home.ByStatus[303] != 1 {
		t.Errorf("home stats = %+v", home)
	}
	if home.P50 != 20*time.Millisecond || home.P99 != 30*time.Millisecond {
		t.Errorf("home p50, p99 = %v, %v, want 20ms, 30ms", home.P50, home.P99)
	}
	for _, k := range sum.Kinds {
		if k.Kind == KindLogin {
			t.Error("a kind that was never sent is listed")
		}
	}
}

func TestSettleCheck(t *testing.T) {
	if c := SettleCheck("fds", 20, 30, 10, "pool"); !c.Pass {
		t.Errorf("growth equal to the slack failed: %s", c.Detail)
	}
	if c := SettleCheck("fds", 20, 31, 10, "pool"); c.Pass {
		t.Errorf("growth over the slack passed: %s", c.Detail)
	}
	if c := SettleCheck("fds", 20, 15, 0, "none"); !c.Pass || !strings.Contains(c.Detail, "-5") {
		t.Errorf("a shrink failed or was misreported: %s", c.Detail)
	}
}

func TestRSSSpans(t *testing.T) {
	early, late := rssSpans(5 * time.Minute)
	if early != [2]time.Duration{time.Minute, 2 * time.Minute} || late != [2]time.Duration{4 * time.Minute, 5 * time.Minute} {
		t.Errorf("spans of 5m = %v, %v: want the second and the last minute", early, late)
	}
	early, late = rssSpans(50 * s)
	if early != [2]time.Duration{10 * s, 20 * s} || late != [2]time.Duration{40 * s, 50 * s} {
		t.Errorf("spans of 50s = %v, %v: want the second and the last fifth", early, late)
	}
}

func samplesOf(d time.Duration, f func(at time.Duration) int64) []Sample {
	var out []Sample
	for at := time.Duration(0); at <= d; at += 5 * s {
		out = append(out, Sample{At: at, RSS: f(at)})
	}
	return out
}

func TestRSSCheck(t *testing.T) {
	d := 5 * time.Minute
	flat := samplesOf(d, func(at time.Duration) int64 {
		if at < 30*s {
			return 20 << 20 // the warm-up is not compared
		}
		return 40<<20 + int64(at/s)%3<<20
	})
	if c := RSSCheck(flat, d, 0.2); !c.Pass {
		t.Errorf("flat RSS failed: %s", c.Detail)
	}
	growing := samplesOf(d, func(at time.Duration) int64 { return 40<<20 + int64(at/s)<<18 })
	if c := RSSCheck(growing, d, 0.2); c.Pass {
		t.Errorf("RSS growing by 64 MiB a minute passed: %s", c.Detail)
	}
	if c := RSSCheck(nil, d, 0.2); c.Pass || !strings.Contains(c.Detail, "too few samples") {
		t.Errorf("no samples: %+v", c)
	}
	short := samplesOf(time.Minute, func(at time.Duration) int64 { return 40<<20 + int64(at/s)<<20 })
	if c := RSSCheck(short, time.Minute, 0.2); !c.Pass || !strings.Contains(c.Detail, "not judged") {
		t.Errorf("a 1-minute run was judged: %+v", c)
	}
}

func TestParseAccessLog(t *testing.T) {
	log := `{"level":"info","method":"GET","path":"/","status":200,"request_id":"soak-1-1"}
{"level":"info","method":"GET","path":"/","status":200,"request_id":"soak-1-2"}

{"level":"error","message":"session: store error","error":"dial tcp 127.0.0.1:4321: connection refused","request_id":"soak-1-2"}
{"level":"info","method":"POST","path":"/files","status":400,"request_id":"soak-1-2"}
{"level":"info","method":"GET","path":"/","status":200}
not json
`
	l, err := ParseAccessLog(strings.NewReader(log))
	if err != nil {
		t.Fatal(err)
	}
	if l.Lines != 6 || l.Access != 4 || l.Other != 1 || l.Bad != 1 || l.NoID != 1 {
		t.Errorf("counts = %+v, want 6 lines, 4 access, 1 other, 1 bad, 1 without id", l)
	}
	if l.IDs["soak-1-1"] != 1 || l.IDs["soak-1-2"] != 2 {
		t.Errorf("IDs = %v", l.IDs)
	}
	if l.Status["soak-1-2"] != 400 {
		t.Errorf("status of soak-1-2 = %d, want 400 (its last line)", l.Status["soak-1-2"])
	}
	if l.Messages["session: store error: dial tcp 127.0.0.1:PORT: connection refused"] != 1 {
		t.Errorf("messages = %v", l.Messages)
	}
}

func TestAccessCheck(t *testing.T) {
	recs := []Record{
		{ID: "a", Kind: KindHome, Status: 200},
		{ID: "b", Kind: KindDrop, Reached: ReachYes},
		{ID: "c", Kind: KindStream, Reached: ReachMaybe, Broken: true},
		{ID: "d", Kind: KindStream, Reached: ReachMaybe, Broken: true},
		{ID: "h", Kind: KindHealth, Path: "/healthz", Status: 200},
	}
	logOf := func(ids ...string) AccessLog {
		l := AccessLog{IDs: map[string]int{}}
		for _, id := range ids {
			l.IDs[id]++
			l.Access++
			l.Lines++
		}
		return l
	}
	for _, tc := range []struct {
		name string
		log  AccessLog
		pass bool
		want string
	}{
		{"exact, an unanswered request logged and one not", logOf("a", "b", "c"), true, "3 requests reached the server (1 answered, 1 dropped uploads, 1 unanswered but logged)"},
		{"exact, no unanswered request logged", logOf("a", "b"), true, "2 unanswered requests never reached the handler"},
		{"an answered request missing", logOf("b", "c"), false, "1 answered requests missing from the log (a)"},
		{"a dropped upload missing", logOf("a", "c"), false, "missing from the log (b)"},
		{"a request logged twice", logOf("a", "a", "b"), false, "logged more than once (a (2 lines))"},
		{"a line of another client", logOf("a", "b", "zzz"), false, "1 lines of requests not sent"},
		{"a line without id", func() AccessLog { l := logOf("a", "b"); l.Access++; l.NoID++; return l }(), false, "without request_id"},
		{"a skipped path logged all the same", logOf("a", "b", "h"), false, "1 of them logged all the same (h)"},
	} {
		c := AccessCheck(recs, tc.log, []string{"/healthz"})
		if !strings.Contains(c.Detail, "1 requests to /healthz not logged by design") {
			t.Errorf("%s: the skipped request is not reported: %s", tc.name, c.Detail)
		}
		if c.Pass != tc.pass || !strings.Contains(c.Detail, tc.want) {
			t.Errorf("%s: pass %v (want %v), detail %q (want it to hold %q)", tc.name, c.Pass, tc.pass, c.Detail, tc.want)
		}
	}
}

func TestPlanFaults(t *testing.T) {
	d, down := 5*time.Minute, 10*time.Second
	plan := PlanFaults(d, 3, down)
	if len(plan) != 6 {
		t.Fatalf("plan = %v, want 6 faults", plan)
	}
	count := map[string]int{}
	for i, f := range plan {
		count[f.Kind]++
		if f.At < d/10 || f.At > d-down-5*time.Second {
			t.Errorf("fault %d at %v is outside [%v, %v]", i, f.At, d/10, d-down-5*time.Second)
		}
		if i > 0 {
			if f.Kind == plan[i-1].Kind {
				t.Errorf("faults %d and %d are both %s: want them alternating", i-1, i, f.Kind)
			}
			if gap := f.At - plan[i-1].At; gap < 30*time.Second {
				t.Errorf("faults %d and %d are only %v apart", i-1, i, gap)
			}
		}
	}
	if count[faultRedis] != 3 || count[faultWorker] != 3 {
		t.Errorf("counts = %v, want 3 of each", count)
	}
	short := PlanFaults(30*time.Second, 1, 5*time.Second)
	if len(short) != 2 || short[1].At+5*time.Second >= 30*time.Second {
		t.Errorf("plan of a 30s run = %v", short)
	}
	if PlanFaults(d, 0, down) != nil {
		t.Error("no faults asked, some planned")
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"1MiB": 1 << 20, "64KiB": 64 << 10, "2GiB": 2 << 30, "1000": 1000} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v, want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "MiB", "-1", "1MB", "0"} {
		if _, err := parseSize(bad); err == nil {
			t.Errorf("parseSize(%q) gave no error", bad)
		}
	}
}

func TestRowID(t *testing.T) {
	page := []byte(`<table id="files">
<tr class="file" data-id="AAA"><td class="file-name">a.txt</td></tr>
<tr class="file" data-id="BBB">
  <td class="file-name">soak-1-2.txt</td><td class="file-size">3 KiB</td></tr>
</table>`)
	if got := rowID(page, "soak-1-2.txt"); got != "BBB" {
		t.Errorf("rowID = %q, want BBB", got)
	}
	if got := rowID(page, "a.txt"); got != "AAA" {
		t.Errorf("rowID = %q, want AAA", got)
	}
	if got := rowID(page, "missing.txt"); got != "" {
		t.Errorf("rowID of a missing file = %q", got)
	}
}

func TestReportMarkdown(t *testing.T) {
	windows := []Window{{Name: "redis stopped #1", Start: 10 * s, End: 20 * s, Grace: 3 * s, Note: "SIGTERM | restart"}}
	recs := []Record{
		{ID: "soak-1-1", Kind: KindHome, Path: "/", Status: 200, End: time.Millisecond},
		{ID: "soak-1-2", Kind: KindHome, Path: "/", Status: 500, Problem: "want 200", Start: 40 * s, End: 40 * s},
	}
	r := &Report{
		Machine:  Machine{CPUs: 2, CPUModel: "Test CPU", GoVersion: "go1.26", Date: time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC)},
		Duration: time.Minute, Conns: 4,
		Summary: Summarize(recs, windows), Windows: windows,
		Checks: []Check{{Name: "good", Pass: true, Detail: "fine"}, {Name: "bad", Detail: "a|b"}},
	}
	if r.Passed() {
		t.Error("a report with a failed check passed")
	}
	var b bytes.Buffer
	r.WriteMarkdown(&b)
	md := b.String()
	for _, want := range []string{
		"Result: **FAIL**", "| good | PASS | fine |", `| bad | FAIL | a\|b |`,
		"| 40.0 s | soak-1-2 | page / | / | 500 | want 200 |", `SIGTERM \| restart`, "2026-01-02 03:04 UTC",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("the report lacks %q:\n%s", want, md)
		}
	}
	b.Reset()
	r.WriteSummary(&b)
	if !strings.Contains(b.String(), "FAIL  bad: a|b") || !strings.Contains(b.String(), "result: FAIL") {
		t.Errorf("summary:\n%s", b.String())
	}
	r.Checks = r.Checks[:1]
	if !r.Passed() {
		t.Error("a report whose checks all passed failed")
	}
	if (&Report{}).Passed() {
		t.Error("a report without checks passed")
	}
}
