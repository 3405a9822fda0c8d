package hostile_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wsapi-go/wsapi/internal/hostile"
)

// repoRoot walks up from the package directory to the go.mod of the main
// module.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && regexp.MustCompile(`(?m)^module github\.com/wsapi-go/wsapi\s*$`).Match(data) {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod of github.com/wsapi-go/wsapi above the package directory")
		}
		dir = parent
	}
}

// goTool returns the go command: the one on PATH, or the one of the
// toolchain that runs the tests.
func goTool(t *testing.T) string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	if root := os.Getenv("GOROOT"); root != "" {
		if p := filepath.Join(root, "bin", "go"); hostile.FileExists(p) {
			return p
		}
	}
	t.Skip("service unavailable: no go command to build the showcase")
	return ""
}

// startLines are the showcase's start-up lines on standard output.
var (
	listeningLine = regexp.MustCompile(`^listening on http://(127\.0\.0\.1:\d+)/$`)
	passwordLine  = regexp.MustCompile(`^login as demo with password (\S+)$`)
	debugLine     = regexp.MustCompile(`^pprof and expvar at http://\S+ and http://(127\.0\.0\.1:\d+)/debug/vars$`)
)

// startShowcase builds examples/showcase, starts it on free ports with a
// header timeout of one second and its data, temporary files and access
// log in a directory of the test's, and waits for its start-up lines. It
// stops the showcase with SIGTERM when the test ends, and fails the test
// unless it exits 0.
func startShowcase(t *testing.T) *server {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "showcase")
	build := exec.Command(goTool(t), "build", "-o", bin, "./examples/showcase")
	build.Dir = repoRoot(t)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./examples/showcase: %v\n%s", err, out)
	}
	data := filepath.Join(dir, "data")
	tmp := filepath.Join(data, "tmp")
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		t.Fatal(err)
	}
	accessLog := filepath.Join(dir, "access.log")
	cmd := exec.Command(bin,
		"-addr", "127.0.0.1:0",
		"-data", data,
		"-tmp", tmp,
		"-header-timeout", "1s",
		"-workers", "0",
		"-debug-addr", "127.0.0.1:0",
		"-access-log", accessLog,
	)
	cmd.Env = showcaseEnv()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		exited <- cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		go func() {
			for range lines { // keep reading, so the showcase never blocks on stdout
			}
		}()
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("the showcase did not exit cleanly after SIGTERM: %v\nstderr:\n%s", err, stderr.tail(4000))
			}
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
			t.Errorf("the showcase did not stop within 20 s of SIGTERM\nstderr:\n%s", stderr.tail(4000))
		}
		if t.Failed() {
			t.Logf("showcase stderr (end):\n%s", stderr.tail(4000))
		}
	})

	s := &server{tmpDir: tmp, accessLog: accessLog}
	timeout := time.After(60 * time.Second)
	for s.target == nil || s.password == "" || s.debugAddr == "" {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("the showcase ended before its start-up lines\nstderr:\n%s", stderr.tail(4000))
			}
			if m := listeningLine.FindStringSubmatch(line); m != nil {
				s.target = &hostile.Target{Addr: m[1], HeaderTimeout: time.Second}
			}
			if m := passwordLine.FindStringSubmatch(line); m != nil {
				s.password = m[1]
			}
			if m := debugLine.FindStringSubmatch(line); m != nil {
				s.debugAddr = m[1]
			}
		case <-timeout:
			t.Fatalf("no start-up lines within 60 s\nstderr:\n%s", stderr.tail(4000))
		}
	}
	return s
}

// showcaseEnv is the test's environment without the showcase's own
// variables, so that a developer's settings do not change the run.
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

// lockedBuffer is a bytes.Buffer safe for a writer and a reader on two
// goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// tail returns the last n bytes written.
func (l *lockedBuffer) tail(n int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.b.Bytes()
	if len(b) > n {
		return fmt.Sprintf("... %s", b[len(b)-n:])
	}
	return string(b)
}

// TestCorpusAgainstShowcase builds the showcase, replays the corpus
// against it, and checks it afterwards: health, goroutines, open files,
// temporary files and the access log.
func TestCorpusAgainstShowcase(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the showcase")
	}
	if _, err := os.Stat(filepath.Join(repoRoot(t), "examples", "showcase", "main.go")); errors.Is(err, os.ErrNotExist) {
		t.Fatal("examples/showcase is missing")
	}
	srv := startShowcase(t)
	runCorpus(t, srv)
}
