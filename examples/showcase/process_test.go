//go:build unix

package main

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wsapi-go/wsapi"
	"github.com/wsapi-go/wsapi/filter/filtertest"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds the showcase once, into a directory TestMain removes.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		if binDir, buildErr = os.MkdirTemp("", "showcase-test-"); buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "showcase")
		gobin, err := exec.LookPath("go")
		if err != nil {
			gobin = filepath.Join(os.Getenv("GOROOT"), "bin", "go")
		}
		if out, err := exec.Command(gobin, "build", "-o", binPath, ".").CombinedOutput(); err != nil {
			buildErr = errors.New(string(out))
		}
	})
	if buildErr != nil {
		t.Fatalf("cannot build the showcase: %v", buildErr)
	}
	return binPath
}

// The start-up lines, as the contract gives them.
var (
	listeningRE = regexp.MustCompile(`^listening on (http://127\.0\.0\.1:(\d+)/)$`)
	passwordRE  = regexp.MustCompile(`^login as demo with password (\S+)$`)
	tokenRE     = regexp.MustCompile(`^API token: (\S+)$`)
)

// process is the showcase running as a program.
type process struct {
	cmd                  *exec.Cmd
	url, password, token string
	stderr               *filtertest.Buffer
	done                 chan error
}

// startProcess runs the built showcase with args (and env added), and
// reads its start-up lines from stdout.
func startProcess(t *testing.T, env []string, args ...string) *process {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	cmd.Env = append(os.Environ(), env...)
	p := &process{cmd: cmd, stderr: new(filtertest.Buffer), done: make(chan error, 1)}
	cmd.Stderr = p.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		p.done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			go func() {
				for range lines {
				}
			}()
			<-p.done
		}
	})
	timeout := time.After(60 * time.Second)
	for p.url == "" || p.password == "" || p.token == "" {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("the showcase ended before its start-up lines; stderr:\n%s", p.stderr)
			}
			if m := listeningRE.FindStringSubmatch(line); m != nil {
				p.url = strings.TrimSuffix(m[1], "/")
			} else if m := passwordRE.FindStringSubmatch(line); m != nil {
				p.password = m[1]
			} else if m := tokenRE.FindStringSubmatch(line); m != nil {
				p.token = m[1]
			}
		case <-timeout:
			t.Fatalf("no start-up lines after 60s; stderr:\n%s", p.stderr)
		}
	}
	go func() {
		for range lines {
		}
	}()
	return p
}

// stop sends SIGTERM and returns the exit error (nil for status 0).
func (p *process) stop(t *testing.T) error {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.done:
		return err
	case <-time.After(60 * time.Second):
		t.Fatalf("the showcase did not stop after SIGTERM; stderr:\n%s", p.stderr)
		return nil
	}
}

func TestProcessStartsPrintsAndStops(t *testing.T) {
	data := t.TempDir()
	p := startProcess(t, []string{"SHOWCASE_DATA=" + data}, "-addr", "127.0.0.1:0", "-workers", "0", "-lua", "off")
	port, _ := strconv.Atoi(p.url[strings.LastIndexByte(p.url, ':')+1:])
	if port == 0 || port == 8080 {
		t.Errorf("port %d: -addr 127.0.0.1:0 should pick a free port", port)
	}
	if len(p.password) < 12 || len(p.token) < 40 {
		t.Errorf("generated password %q or token %q too short", p.password, p.token)
	}
	c := newClient(t, p.url)
	c.mustLogin(demoUser, p.password)
	if resp, body := c.page("/"); resp.StatusCode != 200 || !strings.Contains(body, `<span id="user">demo</span>`) {
		t.Errorf("GET /: %d", resp.StatusCode)
	}
	if resp, _ := c.do("GET", "/api/files", nil, "Authorization", "Bearer "+p.token); resp.StatusCode != 200 {
		t.Errorf("GET /api/files with the printed token: %d", resp.StatusCode)
	}
	if _, err := os.Stat(filepath.Join(data, "htpasswd")); err != nil {
		t.Errorf("SHOWCASE_DATA was not used: %v", err)
	}
	if err := p.stop(t); err != nil {
		t.Errorf("exit after SIGTERM: %v; stderr:\n%s", err, p.stderr)
	}
	if !strings.Contains(p.stderr.String(), `"path":"/api/files"`) {
		t.Errorf("no access log line on stderr:\n%s", p.stderr)
	}
}

func TestProcessFlagsFromTheEnvironment(t *testing.T) {
	data := t.TempDir()
	logFile := filepath.Join(t.TempDir(), "access.log")
	p := startProcess(t, []string{
		"SHOWCASE_DATA=" + data, "SHOWCASE_PASSWORD=env-password", "SHOWCASE_TOKEN=env-token-0123456789",
		"SHOWCASE_WORKERS=0", "SHOWCASE_ACCESS_LOG=" + logFile, "SHOWCASE_MAX_UPLOAD=1KiB", "SHOWCASE_LUA=off",
	}, "-addr", "127.0.0.1:0")
	if p.password != "env-password" || p.token != "env-token-0123456789" {
		t.Errorf("printed password %q and token %q, want the environment's", p.password, p.token)
	}
	c := newClient(t, p.url)
	c.mustLogin(demoUser, "env-password")
	resp, _ := c.upload("/files", []filtertest.File{textFile("a.txt", strings.Repeat("a", 1025))}, "Accept", "application/json")
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("upload over SHOWCASE_MAX_UPLOAD: %d", resp.StatusCode)
	}
	if err := p.stop(t); err != nil {
		t.Errorf("exit: %v", err)
	}
	b, err := os.ReadFile(logFile)
	if err != nil || !strings.Contains(string(b), `"path":"/files"`) {
		t.Errorf("access log %q: %v", b, err)
	}
}

func TestProcessStreamInWorkers(t *testing.T) {
	p := startProcess(t, nil, "-addr", "127.0.0.1:0", "-data", t.TempDir(), "-workers", "2", "-lua", "off")
	c := newClient(t, p.url)
	c.mustLogin(demoUser, p.password)
	pidRE := regexp.MustCompile(`<strong id="stream-pid">(\d+)</strong> \(worker process (\d)\)`)
	var resp *http.Response
	var body string
	deadline := time.Now().Add(30 * time.Second)
	for { // the workers become ready in the background
		resp, body = c.page("/stream?n=4&ms=10")
		if resp.StatusCode != http.StatusServiceUnavailable || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("GET /stream: %d %s", resp.StatusCode, body)
	}
	m := pidRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("the stream does not say which worker served it:\n%s", body)
	}
	if pid, _ := strconv.Atoi(m[1]); pid == p.cmd.Process.Pid || pid == 0 {
		t.Errorf("the stream ran in process %d, the server's own", pid)
	}
	checkChunks(t, body, 4)
	contains(t, "the stream page", body, `<span id="user">demo</span>`, `id="stream-done"`)
	if err := p.stop(t); err != nil {
		t.Errorf("exit: %v", err)
	}
}

func TestProcessDebugListener(t *testing.T) {
	cmd := exec.Command(binary(t), "-addr", "127.0.0.1:0", "-debug-addr", "127.0.0.1:0", "-data", t.TempDir(), "-workers", "0", "-lua", "off")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}()
	debugRE := regexp.MustCompile(`^pprof and expvar at (http://127\.0\.0\.1:\d+)/debug/pprof/`)
	sc := bufio.NewScanner(out)
	var debugURL, publicURL string
	for debugURL == "" && sc.Scan() {
		if m := debugRE.FindStringSubmatch(sc.Text()); m != nil {
			debugURL = m[1]
		}
		if m := listeningRE.FindStringSubmatch(sc.Text()); m != nil {
			publicURL = strings.TrimSuffix(m[1], "/")
		}
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	if debugURL == "" || publicURL == "" {
		t.Fatalf("no debug or public address printed")
	}
	c := newClient(t, debugURL)
	resp, body := c.do("GET", "/debug/vars", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("/debug/vars: %d", resp.StatusCode)
	}
	contains(t, "/debug/vars", body, `"goroutines":`, `"open_fds":`)
	if resp, _ := newClient(t, publicURL).do("GET", "/debug/vars", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("/debug/vars on the public listener: %d", resp.StatusCode)
	}
}

func TestProcessBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-max-upload", "lots"},
		{"-workers", "-1"},
		{"-token", "short"},
		{"-header-timeout", "soon"},
		{"extra"},
	} {
		cmd := exec.Command(binary(t), args...)
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 2 {
			t.Errorf("%v: %v, want exit status 2", args, err)
		}
		if !strings.Contains(string(out), "showcase") {
			t.Errorf("%v: output %q does not say what is wrong", args, out)
		}
	}
}

func TestProcessUnderCGI(t *testing.T) {
	cmd := exec.Command(binary(t))
	cmd.Env = append(os.Environ(), "GATEWAY_INTERFACE=CGI/1.1", "REQUEST_METHOD=GET", "SCRIPT_NAME=",
		"PATH_INFO=/healthz", "SERVER_PROTOCOL=HTTP/1.1", "SERVER_NAME=localhost", "SERVER_PORT=80",
		"SHOWCASE_DATA="+t.TempDir(), "SHOWCASE_PASSWORD=cgi-password", "SHOWCASE_LUA=off")
	var stderr filtertest.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%v; stderr:\n%s", err, &stderr)
	}
	if !strings.HasSuffix(string(out), "\r\n\r\nok") || strings.Contains(string(out), "listening on") {
		t.Errorf("CGI answer %q", out)
	}
}

func TestProcessUnderFastCGI(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(binary(t), "-fastcgi", addr, "-data", t.TempDir(), "-workers", "0", "-lua", "off")
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}()
	app := wsapi.NewFastCGIApp("tcp", addr)
	defer app.Close()
	srv := httptest.NewServer(app)
	defer srv.Close()
	c := newClient(t, srv.URL)
	var resp *http.Response
	var body string
	deadline := time.Now().Add(30 * time.Second)
	for { // until the responder listens
		resp, body = c.do("GET", "/healthz", nil)
		if resp.StatusCode != http.StatusBadGateway || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if resp.StatusCode != 200 || body != "ok" {
		t.Fatalf("GET /healthz over FastCGI: %d %q", resp.StatusCode, body)
	}
	if resp, body := c.page("/login"); resp.StatusCode != 200 || !strings.Contains(body, `id="login-form"`) {
		t.Errorf("GET /login over FastCGI: %d", resp.StatusCode)
	}
}

func TestProcessShutdownEndsAStream(t *testing.T) {
	p := startProcess(t, nil, "-addr", "127.0.0.1:0", "-data", t.TempDir(), "-workers", "0", "-lua", "off")
	c := newClient(t, p.url)
	c.mustLogin(demoUser, p.password)
	req, _ := http.NewRequest("GET", p.url+"/stream?n=100&ms=1000", nil) // 100 s unless cut short
	resp, err := c.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	for { // wait for the first chunk
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("the stream ended before its first chunk: %v", err)
		}
		if strings.Contains(line, "chunk 1 of 100") {
			break
		}
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	rest, err := io.ReadAll(br)
	if err != nil {
		t.Fatalf("reading the rest of the stream: %v", err)
	}
	if !strings.Contains(string(rest), "shutting down") || strings.Contains(string(rest), "chunk 100 of 100") {
		t.Errorf("the stream's end after SIGTERM:\n%s", rest)
	}
	select {
	case err := <-p.done:
		if err != nil {
			t.Errorf("exit after SIGTERM during a stream: %v; stderr:\n%s", err, p.stderr)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the showcase did not exit")
	}
}
