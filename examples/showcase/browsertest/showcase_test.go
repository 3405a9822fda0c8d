package browsertest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// showcasePackage is the import path of the program under test. The go.mod of
// this module replaces the main module with the repository it sits in, so the
// build uses the working tree.
const showcasePackage = "github.com/wsapi-go/wsapi/examples/showcase"

// The start-up lines of the showcase, as its contract states them.
var (
	listeningLine = regexp.MustCompile(`(?m)^listening on (http://127\.0\.0\.1:[0-9]+)/\s*$`)
	passwordLine  = regexp.MustCompile(`(?m)^login as demo with password (\S+)\s*$`)
)

// crashed matches what the Go runtime prints when a program dies.
var crashed = regexp.MustCompile(`(?m)^(panic: |fatal error: )`)

// showcase is a running showcase process.
type showcase struct {
	// URL is the base address, such as http://127.0.0.1:41234, without a
	// trailing slash.
	URL string
	// Password is the demo user's password that the showcase generated.
	Password string
	// DataDir is the showcase's -data directory.
	DataDir string
	// AccessLog is the file of the logging filter's JSON lines.
	AccessLog string

	cmd    *exec.Cmd
	stdout *syncBuffer
	stderr *syncBuffer
	done   chan struct{} // closed when the process has exited
	err    error         // the error of cmd.Wait, valid after done
}

// buildShowcase compiles the showcase into a temporary directory and returns
// the binary's path. When the test runs with the race detector, so does the
// showcase. $SHOWCASE_BIN names a binary built beforehand instead.
func buildShowcase(t *testing.T, ctx context.Context) string {
	t.Helper()
	if bin := os.Getenv("SHOWCASE_BIN"); bin != "" {
		t.Logf("testing the showcase binary %s (SHOWCASE_BIN)", bin)
		return bin
	}
	bin := filepath.Join(t.TempDir(), "showcase")
	args := []string{"build", "-o", bin}
	if raceEnabled {
		args = append(args, "-race")
	}
	args = append(args, showcasePackage)
	cmd := exec.CommandContext(ctx, "go", args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return bin
}

// startShowcase runs the binary on a free port with a fresh data directory and
// the given extra flags, waits for its start-up lines, and stops the whole
// process group when the test ends.
func startShowcase(t *testing.T, ctx context.Context, bin string, extra ...string) *showcase {
	t.Helper()
	dir := t.TempDir()
	s := &showcase{
		DataDir:   filepath.Join(dir, "data"),
		AccessLog: filepath.Join(dir, "access.log"),
		stdout:    new(syncBuffer),
		stderr:    new(syncBuffer),
		done:      make(chan struct{}),
	}
	args := append([]string{
		"-addr", "127.0.0.1:0",
		"-data", s.DataDir,
		"-access-log", s.AccessLog,
	}, extra...)
	s.cmd = exec.Command(bin, args...)
	s.cmd.Env = showcaseEnv()
	s.cmd.Stdout = s.stdout
	s.cmd.Stderr = s.stderr
	ownProcessGroup(s.cmd)
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("starting the showcase: %v", err)
	}
	go func() {
		s.err = s.cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() { s.stop(t) })

	startCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := s.waitStarted(startCtx); err != nil {
		t.Fatalf("the showcase did not start: %v\nstdout:\n%s\nstderr:\n%s", err, s.stdout, s.stderr)
	}
	t.Logf("showcase %s started at %s (data in %s)", strings.Join(args, " "), s.URL, s.DataDir)
	return s
}

// showcaseEnv is the test's environment without the variables that would
// change the showcase's defaults (a Redis or PostgreSQL session store, a
// port), so the run is the same on every machine.
func showcaseEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "SHOWCASE_") || strings.HasPrefix(kv, "PORT=") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// waitStarted waits until the start-up lines are out and /healthz answers.
func (s *showcase) waitStarted(ctx context.Context) error {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		out := s.stdout.String()
		url := listeningLine.FindStringSubmatch(out)
		pw := passwordLine.FindStringSubmatch(out)
		if url != nil && pw != nil {
			s.URL, s.Password = url[1], pw[1]
			break
		}
		select {
		case <-s.done:
			return fmt.Errorf("the process exited: %v", s.err)
		case <-ctx.Done():
			return fmt.Errorf("no %q and %q lines on stdout: %w", "listening on", "login as demo with password", ctx.Err())
		case <-tick.C:
		}
	}
	var lastErr error
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/healthz", nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("GET /healthz: status %d", resp.StatusCode)
		}
		lastErr = err
		select {
		case <-s.done:
			return fmt.Errorf("the process exited: %v", s.err)
		case <-ctx.Done():
			return fmt.Errorf("%w (last error: %v)", ctx.Err(), lastErr)
		case <-tick.C:
		}
	}
}

// stop shuts the showcase down gracefully, kills its process group if that
// takes too long, and fails the test when the race detector reported a race
// or the process crashed.
func (s *showcase) stop(t *testing.T) {
	t.Helper()
	select {
	case <-s.done:
		t.Errorf("the showcase exited before the end of the test: %v\nstderr:\n%s", s.err, s.stderr)
		return
	default:
	}
	if err := interruptGroup(s.cmd); err != nil {
		t.Logf("interrupting the showcase: %v", err)
	}
	select {
	case <-s.done:
	case <-time.After(15 * time.Second):
		t.Errorf("the showcase did not shut down within 15s of SIGTERM; killing it")
		_ = killGroup(s.cmd)
		<-s.done
	}
	// Anything left in the group (workers) goes too; the group is gone
	// when it is empty, and that error does not matter.
	_ = killGroup(s.cmd)
	stderr := s.stderr.String()
	if strings.Contains(stderr, "WARNING: DATA RACE") {
		t.Errorf("the race detector reported a race in the showcase:\n%s", stderr)
	}
	if crashed.MatchString(stderr) {
		t.Errorf("the showcase crashed:\n%s", stderr)
	}
	var exitErr *exec.ExitError
	if s.err != nil && !errors.As(s.err, &exitErr) {
		t.Errorf("waiting for the showcase: %v", s.err)
	} else if s.err != nil && !t.Failed() {
		t.Errorf("the showcase exited with %v after SIGTERM, want 0\nstderr:\n%s", s.err, stderr)
	}
}

// Logs returns the showcase's stderr and access log, for failure messages.
func (s *showcase) Logs() string {
	access, err := os.ReadFile(s.AccessLog)
	if err != nil {
		access = []byte(err.Error())
	}
	return fmt.Sprintf("showcase stderr:\n%s\nshowcase access log:\n%s", tail(s.stderr.String(), 4000), tail(string(access), 4000))
}

// tail returns the last n bytes of s.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}

// syncBuffer is a bytes.Buffer that a process may write while the test reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
