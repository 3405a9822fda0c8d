// Package hostile replays a corpus of hostile HTTP/1 requests against a
// running server over raw TCP, and judges each answer: a refusal (a 4xx or
// 5xx status, or a closed connection) that comes in time, no smuggled
// second answer, and a server that still answers its health check after.
//
// The corpus lives in testdata/hostile at the root of the repository, one
// file per case; its README describes the format. Load reads it, a Target
// replays a case with Replay, and Judge turns what came back into a
// Verdict. The checks that run once the whole corpus has been replayed
// (goroutines and open files back near their baseline, no upload left in
// the temporary directory, no forged access-log line) are here too, so
// that the tests against the showcase and against a stand-in server share
// them.
package hostile

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Ext is the file name extension of a case in the corpus.
const Ext = ".http"

// SlowAfterHead is the Case.SlowAfter of "slow-after: head".
const SlowAfterHead = -1

// Deadline kinds of a case: how long the server has to answer.
const (
	// DeadlineLastByte gives the server Window after the last byte the
	// replayer sent (or after it stopped sending because the server had
	// already answered or closed). The default.
	DeadlineLastByte = "last-byte"
	// DeadlineHeaderTimeout gives the server its header timeout plus
	// Window from the moment the connection was opened: the right
	// deadline for clients that send their headers too slowly, or not at
	// all.
	DeadlineHeaderTimeout = "header-timeout"
)

// Placeholders a case may hold. Repeat tokens are the case's own.
const (
	// HostToken, in the head of a request, is replaced at replay time with
	// the server's host:port.
	HostToken = "@HOST@"
	// LenToken, in the head of a request, is replaced at replay time
	// (after HostToken) with the length in bytes of the body: every byte
	// after the first CRLF CRLF.
	LenToken = "@LEN@"
)

// Case is one hostile request of the corpus.
type Case struct {
	// Name is the file name without its extension.
	Name string
	// File is the path the case was loaded from.
	File string

	// Area groups the cases: rack, upload, logging, auth, mux or protocol.
	Area string
	// Attacks says, in a sentence, what the request attacks.
	Attacks string
	// CVE names the advisory whose shape the case replays, if any.
	CVE string

	// Expect is the set of statuses that pass; by default any 4xx or 5xx.
	// A closed connection always passes the status check.
	Expect StatusSet
	// Why says why a 2xx or 3xx status in Expect is acceptable; a case
	// that accepts one must give its reason.
	Why string
	// Forbid lists strings that must not occur in anything the server
	// sends back (status line, headers and bodies).
	Forbid []string
	// MaxBytes, when positive, caps the size of the response body.
	MaxBytes int64

	// Smuggle makes the replayer wait, after the first answer, for a
	// second one on the same connection: a second answer means the
	// server served a request hidden in the first one's body.
	Smuggle bool
	// Slow is the delay between bytes when the request is trickled; zero
	// sends it at once.
	Slow time.Duration
	// SlowAfter is the number of bytes sent at once before the trickle
	// starts; SlowAfterHead sends the head (up to the first CRLF CRLF) at
	// once and trickles the body.
	SlowAfter int
	// Deadline is DeadlineLastByte or DeadlineHeaderTimeout.
	Deadline string
	// CloseWrite half-closes the connection after the last byte, so the
	// server reads end of file where the request is short of its
	// Content-Length.
	CloseWrite bool
	// Login asks for the session cookie of a logged-in user to be added
	// to the request, with a same-origin Origin header unless the request
	// has an Origin or Sec-Fetch-Site header of its own.
	Login bool
	// Known, when set, marks a known failure still to be decided: the
	// tests report it without failing.
	Known string

	// Raw is the request with its repeats expanded; HostToken, LenToken
	// and the login headers are filled in by Target.Render.
	Raw []byte
}

// fields lists the header keys of a case file.
var fields = []string{
	"area", "attacks", "cve", "expect", "why", "forbid", "max-bytes",
	"smuggle", "slow", "slow-after", "deadline", "close-write", "login",
	"repeat", "known",
}

// Areas lists the areas a case may belong to.
var Areas = []string{"rack", "upload", "logging", "auth", "mux", "protocol"}

// Load reads every case file (NAME.http) in dir, sorted by name.
func Load(dir string) ([]*Case, error) {
	names, err := filepath.Glob(filepath.Join(dir, "*"+Ext))
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("hostile: no %s files in %s", Ext, dir)
	}
	slices.Sort(names)
	cases := make([]*Case, 0, len(names))
	for _, name := range names {
		data, err := os.ReadFile(name)
		if err != nil {
			return nil, err
		}
		c, err := Parse(strings.TrimSuffix(filepath.Base(name), Ext), data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		c.File = name
		cases = append(cases, c)
	}
	return cases, nil
}

// Parse reads one case: a block of "# key: value" lines, a blank line,
// and the raw request. The block's lines may end in LF or CRLF; the raw
// request is taken byte for byte, then its repeat tokens are expanded.
func Parse(name string, data []byte) (*Case, error) {
	c := &Case{Name: name, Deadline: DeadlineLastByte}
	type repeat struct {
		token string
		unit  []byte
		n     int
	}
	var repeats []repeat
	rest := data
	seen := map[string]bool{}
	for {
		line, after, ok := bytes.Cut(rest, []byte("\n"))
		if !ok {
			return nil, errors.New("no blank line after the header block")
		}
		rest = after
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(line) == 0 {
			break
		}
		if line[0] != '#' {
			return nil, fmt.Errorf("header block line %q does not start with '#'", line)
		}
		key, value, ok := strings.Cut(strings.TrimSpace(string(line[1:])), ":")
		if !ok {
			return nil, fmt.Errorf("header block line %q is not \"# key: value\"", line)
		}
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		if !slices.Contains(fields, key) {
			return nil, fmt.Errorf("unknown key %q", key)
		}
		if seen[key] && key != "repeat" && key != "forbid" {
			return nil, fmt.Errorf("key %q given twice", key)
		}
		seen[key] = true
		var err error
		switch key {
		case "area":
			if !slices.Contains(Areas, value) {
				return nil, fmt.Errorf("area %q is none of %v", value, Areas)
			}
			c.Area = value
		case "attacks":
			c.Attacks = value
		case "cve":
			c.CVE = value
		case "expect":
			c.Expect, err = ParseStatusSet(value)
		case "why":
			c.Why = value
		case "forbid":
			var s string
			s, err = strconv.Unquote(value)
			if err == nil && s == "" {
				err = errors.New("empty")
			}
			c.Forbid = append(c.Forbid, s)
		case "max-bytes":
			c.MaxBytes, err = strconv.ParseInt(value, 10, 64)
		case "smuggle":
			c.Smuggle, err = strconv.ParseBool(value)
		case "slow":
			c.Slow, err = time.ParseDuration(value)
		case "slow-after":
			if value == "head" {
				c.SlowAfter = SlowAfterHead
			} else if c.SlowAfter, err = strconv.Atoi(value); err == nil && c.SlowAfter < 0 {
				err = errors.New("negative")
			}
		case "deadline":
			if value != DeadlineLastByte && value != DeadlineHeaderTimeout {
				err = fmt.Errorf("want %s or %s", DeadlineLastByte, DeadlineHeaderTimeout)
			}
			c.Deadline = value
		case "close-write":
			c.CloseWrite, err = strconv.ParseBool(value)
		case "login":
			c.Login, err = strconv.ParseBool(value)
		case "repeat":
			// @TOKEN@ COUNT "unit"
			parts := strings.SplitN(value, " ", 3)
			if len(parts) != 3 || len(parts[0]) < 3 || parts[0][0] != '@' || parts[0][len(parts[0])-1] != '@' {
				err = errors.New(`want @TOKEN@ COUNT "unit"`)
				break
			}
			var r repeat
			r.token = parts[0]
			if r.n, err = strconv.Atoi(parts[1]); err != nil || r.n < 1 || r.n > 1_000_000 {
				err = fmt.Errorf("count %q is not 1 to 1000000", parts[1])
				break
			}
			var unit string
			if unit, err = strconv.Unquote(parts[2]); err != nil || unit == "" {
				err = fmt.Errorf("unit %s is no non-empty Go string literal", parts[2])
				break
			}
			r.unit = []byte(unit)
			repeats = append(repeats, r)
		case "known":
			c.Known = value
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %v", key, err)
		}
	}
	if c.Area == "" || c.Attacks == "" {
		return nil, errors.New("area and attacks are required")
	}
	if len(c.Expect) == 0 {
		c.Expect = DefaultExpect
	}
	if c.Expect.AcceptsSuccess() && c.Why == "" {
		return nil, errors.New("expect accepts a 2xx or 3xx status: say why")
	}
	if c.SlowAfter != 0 && c.Slow == 0 {
		return nil, errors.New("slow-after without slow")
	}
	raw := slices.Clone(rest)
	for _, r := range repeats {
		if bytes.Count(raw, []byte(r.token)) != 1 {
			return nil, fmt.Errorf("repeat token %s must occur once in the request", r.token)
		}
		raw = bytes.Replace(raw, []byte(r.token), bytes.Repeat(r.unit, r.n), 1)
	}
	if bytes.Contains(raw, []byte(LenToken)) {
		head, body, ok := bytes.Cut(raw, []byte("\r\n\r\n"))
		if !ok || !bytes.Contains(head, []byte(LenToken)) || bytes.Contains(body, []byte(LenToken)) {
			return nil, fmt.Errorf("%s must be in the head, before a CRLF CRLF", LenToken)
		}
	}
	if len(raw) == 0 {
		return nil, errors.New("no request after the header block")
	}
	if c.SlowAfter > len(raw) || c.SlowAfter == SlowAfterHead && !bytes.Contains(raw, []byte("\r\n\r\n")) {
		return nil, errors.New("slow-after is beyond the end of the request")
	}
	c.Raw = raw
	return c, nil
}

// StatusSet is a set of statuses: exact codes (413) and classes (4 for
// "4xx").
type StatusSet []int

// DefaultExpect is the expectation of a case that names none: any 4xx or
// 5xx status.
var DefaultExpect = StatusSet{4, 5}

// ParseStatusSet parses a list of statuses separated by spaces or commas:
// "400 413", "4xx", "303 4xx".
func ParseStatusSet(s string) (StatusSet, error) {
	var set StatusSet
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' }) {
		if len(f) == 3 && f[1:] == "xx" && f[0] >= '1' && f[0] <= '5' {
			set = append(set, int(f[0]-'0'))
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 100 || n > 599 {
			return nil, fmt.Errorf("%q is no status (want 100 to 599, or 4xx)", f)
		}
		set = append(set, n)
	}
	if len(set) == 0 {
		return nil, errors.New("empty status set")
	}
	return set, nil
}

// Has reports whether status is in the set.
func (s StatusSet) Has(status int) bool {
	for _, v := range s {
		if v == status || v < 10 && status/100 == v {
			return true
		}
	}
	return false
}

// AcceptsSuccess reports whether the set holds a 1xx, 2xx or 3xx status.
func (s StatusSet) AcceptsSuccess() bool {
	for _, v := range s {
		if v < 10 && v < 4 || v >= 10 && v < 400 {
			return true
		}
	}
	return false
}

// String returns the set as ParseStatusSet reads it.
func (s StatusSet) String() string {
	parts := make([]string, len(s))
	for i, v := range s {
		if v < 10 {
			parts[i] = strconv.Itoa(v) + "xx"
		} else {
			parts[i] = strconv.Itoa(v)
		}
	}
	return strings.Join(parts, " ")
}
