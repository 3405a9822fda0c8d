package hostile

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Vars are the counts a server's debug listener publishes at /debug/vars
// (expvar): its goroutines and its open file descriptors.
type Vars struct {
	Goroutines int `json:"goroutines"`
	OpenFDs    int `json:"open_fds"`
}

// ReadVars reads the goroutines and open_fds counts from the expvar page
// of the debug listener at addr (host:port).
func ReadVars(ctx context.Context, addr string) (Vars, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/debug/vars", nil)
	if err != nil {
		return Vars{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return Vars{}, err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return Vars{}, fmt.Errorf("GET /debug/vars: %s", resp.Status)
	}
	var raw map[string]json.RawMessage
	if err := json.NewDecoder(io.LimitReader(resp.Body, 8<<20)).Decode(&raw); err != nil {
		return Vars{}, fmt.Errorf("GET /debug/vars: %w", err)
	}
	var v Vars
	for name, dst := range map[string]*int{"goroutines": &v.Goroutines, "open_fds": &v.OpenFDs} {
		msg, ok := raw[name]
		if !ok {
			return Vars{}, fmt.Errorf("GET /debug/vars: no %q", name)
		}
		if err := json.Unmarshal(msg, dst); err != nil {
			return Vars{}, fmt.Errorf("GET /debug/vars: %q: %w", name, err)
		}
	}
	return v, nil
}

// Settle polls the debug listener at addr until the goroutines and open
// files are back within slack of base, or ctx is done; it returns the
// last counts read, and an error saying which count stayed high.
func Settle(ctx context.Context, addr string, base Vars, slack Vars) (Vars, error) {
	for {
		v, err := ReadVars(ctx, addr)
		if err == nil && v.Goroutines <= base.Goroutines+slack.Goroutines && v.OpenFDs <= base.OpenFDs+slack.OpenFDs {
			return v, nil
		}
		select {
		case <-ctx.Done():
			if err != nil {
				return v, err
			}
			return v, fmt.Errorf("goroutines %d (baseline %d, slack %d), open files %d (baseline %d, slack %d): not back near the baseline",
				v.Goroutines, base.Goroutines, slack.Goroutines, v.OpenFDs, base.OpenFDs, slack.OpenFDs)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Leftovers lists the files (not directories) under dir.
func Leftovers(dir string) ([]string, error) {
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			files = append(files, path)
		}
		return nil
	})
	return files, err
}

// WaitNoLeftovers polls dir until it holds no file, or ctx is done; it
// returns the files still there.
func WaitNoLeftovers(ctx context.Context, dir string) ([]string, error) {
	for {
		files, err := Leftovers(dir)
		if err != nil || len(files) == 0 {
			return files, err
		}
		select {
		case <-ctx.Done():
			return files, nil
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Access-log fields of the logging filter's JSON lines: every request
// line has the required ones, and may have the optional ones, nothing
// else.
var (
	AccessLogRequired = []string{"level", "time", "method", "path", "status", "bytes", "duration_ms", "proto", "request_id", "message"}
	AccessLogOptional = []string{"query", "ip", "user_agent", "referer", "trace_id", "span_id", "user", "session", "hijacked", "aborted", "abort_reason"}
)

var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// CheckAccessLog checks the JSON access log in data line by line, and
// returns its problems: a line that is no JSON object, a key given twice,
// a missing or unknown key, a message other than "request", a method that
// is no HTTP token, a request id that is not one the logging filter would
// keep, or a key or a level or message value holding marker (a string the
// attacker wrote). The user-controlled fields may hold marker: they are
// JSON strings, escaped.
func CheckAccessLog(data []byte, marker string) []string {
	var problems []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Bytes()
		if err := checkLine(line, marker); err != nil {
			problems = append(problems, fmt.Sprintf("line %d: %v: %s", n, err, quoteClip(line, 300)))
		}
	}
	if err := sc.Err(); err != nil {
		problems = append(problems, err.Error())
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		problems = append(problems, "the log does not end with a newline")
	}
	return problems
}

func checkLine(line []byte, marker string) error {
	if len(line) == 0 || line[0] != '{' {
		return fmt.Errorf("does not start with '{'")
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return fmt.Errorf("no JSON object")
	}
	vals := map[string]any{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fmt.Errorf("bad JSON: %v", err)
		}
		key, ok := tok.(string)
		if !ok {
			return fmt.Errorf("bad JSON key %v", tok)
		}
		if _, dup := vals[key]; dup {
			return fmt.Errorf("key %q given twice", key)
		}
		var v any
		if err := dec.Decode(&v); err != nil {
			return fmt.Errorf("bad JSON value of %q: %v", key, err)
		}
		vals[key] = v
		if marker != "" && strings.Contains(key, marker) {
			return fmt.Errorf("a key holds the attacker's %q", marker)
		}
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return fmt.Errorf("the JSON object does not end")
	}
	if rest, _ := io.ReadAll(dec.Buffered()); len(bytes.TrimSpace(rest)) > 0 || dec.More() {
		return fmt.Errorf("more after the JSON object")
	}
	for _, k := range AccessLogRequired {
		if _, ok := vals[k]; !ok {
			return fmt.Errorf("no %q", k)
		}
	}
	for k := range vals {
		if !slices.Contains(AccessLogRequired, k) && !slices.Contains(AccessLogOptional, k) {
			return fmt.Errorf("unknown key %q", k)
		}
	}
	if vals["message"] != "request" {
		return fmt.Errorf("message %v, want \"request\"", vals["message"])
	}
	for _, k := range []string{"level", "message", "time", "proto", "ip", "request_id", "status", "bytes"} {
		if s, ok := vals[k].(string); ok && marker != "" && strings.Contains(s, marker) {
			return fmt.Errorf("%q holds the attacker's %q", k, marker)
		}
	}
	if m, _ := vals["method"].(string); !isToken(m) {
		return fmt.Errorf("method %q is no HTTP token", m)
	}
	if id, _ := vals["request_id"].(string); !requestIDPattern.MatchString(id) {
		return fmt.Errorf("request_id %q is not a clean id", id)
	}
	return nil
}

// isToken reports whether s is an HTTP token (RFC 9110).
func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0 {
			continue
		}
		return false
	}
	return s != ""
}

// FileExists reports whether path exists (for the cases whose file name
// tries to climb out of the upload directory).
func FileExists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}
