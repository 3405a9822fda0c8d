package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
)

// Percentile returns the p-th percentile (0 < p <= 100) of sorted by the
// nearest-rank method: the smallest value with at least p% of the values
// at or below it. It returns 0 for no values.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(n)))
	rank = min(max(rank, 1), n)
	return sorted[rank-1]
}

// Median returns the median of values (the mean of the two middle ones
// for an even count), and false when there are none.
func Median(values []float64) (float64, bool) {
	n := len(values)
	if n == 0 {
		return 0, false
	}
	s := slices.Clone(values)
	slices.Sort(s)
	if n%2 == 1 {
		return s[n/2], true
	}
	return (s[n/2-1] + s[n/2]) / 2, true
}

// KindStats are the figures of one request type.
type KindStats struct {
	Kind     Kind
	Total    int
	ByStatus map[int]int // status 0: no answer
	Outcomes [Failed + 1]int
	P50, P99 time.Duration // of the requests that got an answer
}

// Summary is what the records add up to.
type Summary struct {
	Kinds    []KindStats // one per kind that was sent, in kind order
	Total    int
	Outcomes [Failed + 1]int
	// FiveXXOutside are the 5xx answers outside every fault window.
	FiveXXOutside []Record
	// FailedOutside are the other failures (wrong status or body, broken
	// connections) outside the windows.
	FailedOutside []Record
	// ByWindow counts the records excused by each window, by name;
	// ByWindowStatus by status too (a negative status: the body was cut,
	// 0: no answer).
	ByWindow       map[string]int
	ByWindowStatus map[string]map[int]int
}

// Summarize adds up records, judged against windows.
func Summarize(records []Record, windows []Window) Summary {
	var s Summary
	s.ByWindow = map[string]int{}
	s.ByWindowStatus = map[string]map[int]int{}
	per := make([]KindStats, numKinds)
	lat := make([][]time.Duration, numKinds)
	for i := range per {
		per[i].Kind = Kind(i)
		per[i].ByStatus = map[int]int{}
	}
	for i := range records {
		r := &records[i]
		if r.Kind < 0 || r.Kind >= numKinds {
			continue
		}
		o := Classify(r, windows)
		k := &per[r.Kind]
		k.Total++
		k.ByStatus[r.Status]++
		k.Outcomes[o]++
		s.Total++
		s.Outcomes[o]++
		if r.Status > 0 {
			lat[r.Kind] = append(lat[r.Kind], r.End-r.Start)
		}
		switch o {
		case Fault:
			name := windowOf(windows, r.Start, r.End).Name
			s.ByWindow[name]++
			if s.ByWindowStatus[name] == nil {
				s.ByWindowStatus[name] = map[int]int{}
			}
			st := r.Status
			if r.Broken && st > 0 {
				st = -st
			}
			s.ByWindowStatus[name][st]++
		case Failed:
			if r.Status >= 500 {
				s.FiveXXOutside = append(s.FiveXXOutside, *r)
			} else {
				s.FailedOutside = append(s.FailedOutside, *r)
			}
		}
	}
	for i := range per {
		if per[i].Total == 0 {
			continue
		}
		slices.Sort(lat[i])
		per[i].P50 = Percentile(lat[i], 50)
		per[i].P99 = Percentile(lat[i], 99)
		s.Kinds = append(s.Kinds, per[i])
	}
	return s
}

// Check is one pass/fail line of the report.
type Check struct {
	Name   string
	Pass   bool
	Detail string
}

// SettleCheck compares a count (goroutines, open fds) after the load
// with its value before: it passes when after <= before+slack.
func SettleCheck(name string, before, after, slack int, why string) Check {
	return Check{
		Name: name,
		Pass: after <= before+slack,
		Detail: fmt.Sprintf("before %d, after %d (growth %+d, slack %d: %s)",
			before, after, after-before, slack, why),
	}
}

// Sample is one measurement taken during the run.
type Sample struct {
	At         time.Duration // since the start of the load
	RSS        int64         // the showcase's VmRSS, bytes
	WorkerRSS  int64         // the sum of its isolate workers' VmRSS, bytes
	Goroutines int           // from /debug/vars; -1 when unreadable
	FDs        int           // open_fds from /debug/vars; -1 when unreadable
	Rate       float64       // requests answered per second since the last sample
	FiveXX     int           // 5xx answers since the last sample
	TmpFiles   int           // files in the upload temp dir
}

// rssSpans returns the spans the RSS check compares, for a run of d: the
// second minute and the last minute. Runs shorter than 5 minutes use
// fifths of the run instead of minutes.
func rssSpans(d time.Duration) (early, late [2]time.Duration) {
	span := min(time.Minute, d/5)
	return [2]time.Duration{span, 2 * span}, [2]time.Duration{d - span, d}
}

// minRSSRun is the shortest run whose RSS is judged.
const minRSSRun = 3 * time.Minute

// RSSCheck passes when the median RSS of the last minute is at most
// (1+limit) times the median of the second minute (see rssSpans). A run
// shorter than minRSSRun is not judged (it passes, and says so).
func RSSCheck(samples []Sample, d time.Duration, limit float64) Check {
	early, late := rssSpans(d)
	var a, b, ra, rb []float64
	for _, s := range samples {
		if s.RSS <= 0 {
			continue
		}
		if s.At >= early[0] && s.At < early[1] {
			a = append(a, float64(s.RSS))
			ra = append(ra, s.Rate)
		}
		if s.At >= late[0] && s.At <= late[1] {
			b = append(b, float64(s.RSS))
			rb = append(rb, s.Rate)
		}
	}
	c := Check{Name: "RSS flat"}
	if d < minRSSRun {
		// The first minutes are the warm-up: heaps, pools and buffers
		// grow to the load. A short run shows that, not a trend.
		c.Pass = true
		c.Detail = fmt.Sprintf("not judged: a run of %v is too short (it takes %v); %d samples", d.Round(time.Second), minRSSRun, len(samples))
		return c
	}
	ma, okA := Median(a)
	mb, okB := Median(b)
	if !okA || !okB {
		c.Detail = fmt.Sprintf("too few samples (%d in %v-%v, %d in %v-%v)", len(a), early[0], early[1], len(b), late[0], late[1])
		return c
	}
	growth := mb/ma - 1
	c.Pass = growth <= limit
	rateA, _ := Median(ra)
	rateB, _ := Median(rb)
	c.Detail = fmt.Sprintf("median %.1f MiB in %v-%v (at %.0f req/s), %.1f MiB in %v-%v (at %.0f req/s): %+.1f%% (limit %+.0f%%)",
		ma/(1<<20), early[0].Round(time.Second), early[1].Round(time.Second), rateA,
		mb/(1<<20), late[0].Round(time.Second), late[1].Round(time.Second), rateB, growth*100, limit*100)
	return c
}

// AccessLog is what an access log file holds.
type AccessLog struct {
	Lines  int            // all lines
	Access int            // access lines (JSON with method and status)
	Other  int            // other JSON lines (app logs)
	Bad    int            // lines that are not JSON
	IDs    map[string]int // request_id of the access lines, with counts
	Status map[string]int // the status of each request_id's (last) line
	NoID   int            // access lines without request_id
	// Messages counts the other lines by message and error.
	Messages map[string]int
}

// portRe finds the port of an address in an error message, so that the
// messages of one kind count together.
var portRe = regexp.MustCompile(`(127\.0\.0\.1:)\d+`)

// ParseAccessLog reads a JSON access log.
func ParseAccessLog(r io.Reader) (AccessLog, error) {
	l := AccessLog{IDs: map[string]int{}, Status: map[string]int{}, Messages: map[string]int{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if len(strings.TrimSpace(string(line))) == 0 {
			continue
		}
		l.Lines++
		var v struct {
			Method    *string `json:"method"`
			Status    *int    `json:"status"`
			RequestID string  `json:"request_id"`
			Message   string  `json:"message"`
			Error     string  `json:"error"`
		}
		if err := json.Unmarshal(line, &v); err != nil {
			l.Bad++
			continue
		}
		if v.Method == nil || v.Status == nil {
			l.Other++
			msg := v.Message
			if v.Error != "" {
				msg += ": " + portRe.ReplaceAllString(v.Error, "${1}PORT")
			}
			l.Messages[msg]++
			continue
		}
		l.Access++
		if v.RequestID == "" {
			l.NoID++
			continue
		}
		l.IDs[v.RequestID]++
		l.Status[v.RequestID] = *v.Status
	}
	return l, sc.Err()
}

// AccessCheck compares the access log with the requests sent. Each request
// that surely reached the server must have exactly one line; a request
// that got no answer may have one (then it reached the server) or none
// (then it never reached the handler); no line may belong to a request the
// generator did not send; and the number of access lines must equal the
// number of requests that reached the server. Requests to the paths in
// skip are left out of the log by design (the logging filter's Skip): they
// must have no line.
func AccessCheck(records []Record, log AccessLog, skip []string) Check {
	sent := make(map[string]*Record, len(records))
	answered, dropped, maybeIn, maybeOut, skipped := 0, 0, 0, 0, 0
	var missing, dup, notReached, skippedLogged []string
	for i := range records {
		r := &records[i]
		sent[r.ID] = r
		n := log.IDs[r.ID]
		if slices.Contains(skip, r.Path) {
			skipped++
			if n > 0 {
				skippedLogged = append(skippedLogged, r.ID)
			}
			continue
		}
		if n > 1 {
			dup = append(dup, fmt.Sprintf("%s (%d lines)", r.ID, n))
		}
		switch {
		case r.Reached == ReachYes && r.Kind == KindDrop:
			dropped++
		case r.Reached == ReachYes:
			answered++
		case n > 0:
			maybeIn++
		default:
			maybeOut++
			notReached = append(notReached, r.ID)
		}
		if r.Reached == ReachYes && n == 0 {
			missing = append(missing, r.ID)
		}
	}
	unknown := 0
	for id := range log.IDs {
		if sent[id] == nil {
			unknown++
		}
	}
	reached := answered + dropped + maybeIn
	c := Check{Name: "access-log lines = requests served"}
	c.Pass = log.Access == reached && len(missing) == 0 && len(dup) == 0 && len(skippedLogged) == 0 &&
		unknown == 0 && log.NoID == 0 && log.Bad == 0
	var b strings.Builder
	fmt.Fprintf(&b, "%d access lines; %d requests reached the server (%d answered, %d dropped uploads, %d unanswered but logged)",
		log.Access, reached, answered, dropped, maybeIn)
	if skipped > 0 {
		fmt.Fprintf(&b, "; %d requests to %s not logged by design (the logging filter's Skip)", skipped, strings.Join(skip, ", "))
	}
	if len(skippedLogged) > 0 {
		fmt.Fprintf(&b, "; %d of them logged all the same (%s)", len(skippedLogged), listIDs(skippedLogged))
	}
	if maybeOut > 0 {
		fmt.Fprintf(&b, "; %d unanswered requests never reached the handler (%s)", maybeOut, listIDs(notReached))
	}
	if len(missing) > 0 {
		fmt.Fprintf(&b, "; %d answered requests missing from the log (%s)", len(missing), listIDs(missing))
	}
	if len(dup) > 0 {
		fmt.Fprintf(&b, "; %d requests logged more than once (%s)", len(dup), listIDs(dup))
	}
	if unknown > 0 {
		fmt.Fprintf(&b, "; %d lines of requests not sent by the generator", unknown)
	}
	if log.NoID > 0 {
		fmt.Fprintf(&b, "; %d access lines without request_id", log.NoID)
	}
	if log.Bad > 0 {
		fmt.Fprintf(&b, "; %d lines that are not JSON", log.Bad)
	}
	if log.Other > 0 {
		fmt.Fprintf(&b, "; %d other JSON lines (not access lines) not counted", log.Other)
	}
	c.Detail = b.String()
	return c
}

// listIDs shortens a list of ids for a report line.
func listIDs(ids []string) string {
	sort.Strings(ids)
	if len(ids) > 5 {
		return strings.Join(ids[:5], ", ") + fmt.Sprintf(" and %d more", len(ids)-5)
	}
	return strings.Join(ids, ", ")
}
