package main

import (
	"bufio"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
)

// The reasons for the slack of the settle checks.
const (
	goroutineSlackWhy = "goroutines a server starts on first use and keeps, such as timers of its pools"
	fdSlackWhy        = "the showcase's two go-redis clients (sessions, brute-force counts) keep up to PoolSize = 10 per CPU idle connections each for ConnMaxIdleTime (30 min), plus 10"
)

func orOK(s string) string {
	if s == "" {
		return "ok"
	}
	return s
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func exitStatus(err error, inTime bool) string {
	switch {
	case !inTime:
		return "did not exit in 15 s, killed"
	case err == nil:
		return "exit status 0"
	default:
		return err.Error()
	}
}

// excuses counts the records' excuses.
func excuses(records []Record) string {
	n := map[string]int{}
	for i := range records {
		if records[i].Excuse != "" {
			n[records[i].Excuse]++
		}
	}
	if len(n) == 0 {
		return "none"
	}
	var parts []string
	for k, v := range n {
		parts = append(parts, fmt.Sprintf("%s: %d", k, v))
	}
	return strings.Join(parts, ", ")
}

// writeRecords writes every record as a line of tab-separated values, for
// a look at the run beside the access log (KEEP=1 bench/soak.sh keeps it).
func writeRecords(file string, records []Record, windows []Window) error {
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "id\tkind\tpath\tstart_ms\tend_ms\tstatus\tbroken\treached\toutcome\tproblem\texcuse")
	for i := range records {
		r := &records[i]
		fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%d\t%d\t%v\t%v\t%s\t%s\t%s\n", r.ID, r.Kind, r.Path,
			r.Start.Milliseconds(), r.End.Milliseconds(), r.Status, r.Broken, r.Reached == ReachYes,
			Classify(r, windows), tsvField(r.Problem), tsvField(r.Excuse))
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// logNotes explains what the access log shows besides the checks.
func logNotes(records []Record, alog AccessLog, badLogins int) []string {
	drops := map[string]map[int]int{}
	for i := range records {
		r := &records[i]
		if r.Kind != KindDrop {
			continue
		}
		if drops[r.Path] == nil {
			drops[r.Path] = map[int]int{}
		}
		drops[r.Path][alog.Status[r.ID]]++
	}
	var notes []string
	for _, path := range slices.Sorted(maps.Keys(drops)) {
		notes = append(notes, fmt.Sprintf("Dropped uploads to %s, by the status their access lines record (the client never sees it): %s.", path, statusList(drops[path])))
	}
	type kv struct {
		k string
		v int
	}
	var msgs []kv
	for k, v := range alog.Messages {
		msgs = append(msgs, kv{k, v})
	}
	slices.SortFunc(msgs, func(a, b kv) int { return b.v - a.v })
	var parts []string
	for i, m := range msgs {
		if i == 8 {
			parts = append(parts, fmt.Sprintf("and %d more kinds", len(msgs)-8))
			break
		}
		parts = append(parts, fmt.Sprintf("%q: %d", m.k, m.v))
	}
	if len(parts) > 0 {
		notes = append(notes, "Other lines of the access log (app logs with a request id, not access lines): "+strings.Join(parts, ", ")+".")
	}
	notes = append(notes, fmt.Sprintf("Bad logins: at most %d over the run, evenly spaced, each with an unknown user name of its own, so no user name and not the client (127.0.0.1, 50 failures in 15 minutes) reaches its brute-force limit; good logins take their attempt back. A 429 would be counted as expected.", badLogins),
		"Expected otherwise: a user whose session was lost when Redis restarted (no persistence) is sent to /login (303, or 401 for JSON) and logs in again, at most 4 logins at a time (the per-user limit counts attempts in flight).")
	return notes
}

// tsvField keeps a value on one line and in one column.
func tsvField(s string) string {
	return strings.NewReplacer("\t", " ", "\n", " ", "\r", " ").Replace(strings.ToValidUTF8(s, "?"))
}
