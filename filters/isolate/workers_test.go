//go:build unix

package isolate_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wsapi-go/wsapi/filter"
	"github.com/wsapi-go/wsapi/filters/isolate"
)

var (
	buildOnce sync.Once
	workerBin string
	buildErr  error
)

// worker builds testdata/worker once, into a directory removed by
// TestMain.
func worker(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "isolate-test-")
		if err != nil {
			buildErr = err
			return
		}
		buildDir = dir
		workerBin = filepath.Join(dir, "worker")
		gobin, err := exec.LookPath("go")
		if err != nil {
			gobin = "/usr/local/go/bin/go"
		}
		out, err := exec.Command(gobin, "build", "-o", workerBin, "./testdata/worker").CombinedOutput()
		if err != nil {
			buildErr = errors.New(string(out))
		}
	})
	if buildErr != nil {
		t.Fatalf("cannot build the worker: %v", buildErr)
	}
	return workerBin
}

var buildDir string

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// startWorkers starts n test workers and waits until they are ready.
func startWorkers(t *testing.T, n int, hub *filter.Hub, env ...string) *isolate.Workers {
	t.Helper()
	starts := listen(t, hub, isolate.EventWorkerStart)
	ws := &isolate.Workers{Command: []string{worker(t)}, N: n, Hub: hub, Env: env, Dir: t.TempDir()}
	if err := ws.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	for range n {
		starts.next(t)
	}
	return ws
}

// busyWorker returns the worker serving a request, once one is.
func busyWorker(t *testing.T, ws *isolate.Workers, n int) int {
	t.Helper()
	w := -1
	until(t, func() bool {
		for i := range n {
			if isolate.InFlight(ws, i) > 0 {
				w = i
				return true
			}
		}
		return false
	})
	return w
}

func TestWorkersServe(t *testing.T) {
	noLeaks(t)
	ws := startWorkers(t, 2, new(filter.Hub))
	srv := server(t, nil, ws)
	client := newClient(t)
	seen := map[string]bool{}
	for range 6 {
		code, body, err := get(t, client, srv.URL+"/hello?name=ana")
		if err != nil || code != 200 || !strings.HasPrefix(body, "hello ana from worker ") {
			t.Fatalf("got %d %q %v", code, body, err)
		}
		seen[body] = true
	}
	if len(seen) != 2 {
		t.Errorf("requests went to %d workers, want 2", len(seen))
	}
	if ws.Ready() != 2 {
		t.Errorf("%d ready", ws.Ready())
	}
}

// TestWorkersFault: a worker that is killed, exits or crashes mid-request
// costs that request a 502; the other worker keeps serving, and the dead
// one comes back.
func TestWorkersFault(t *testing.T) {
	for _, tt := range []struct {
		name, path string
		kill       bool
	}{
		{"SIGKILL", "/block", true},
		{"os.Exit", "/exit", false},
		{"a panic outside the handler", "/crash", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			noLeaks(t)
			hub := new(filter.Hub)
			ws := startWorkers(t, 2, hub)
			exits := listen(t, hub, isolate.EventWorkerExit)
			starts := listen(t, hub, isolate.EventWorkerStart)
			srv := server(t, nil, ws)
			client := newClient(t)
			type result struct {
				code int
				err  error
			}
			done := make(chan result)
			go func() {
				code, _, err := get(t, client, srv.URL+tt.path)
				done <- result{code, err}
			}()
			if tt.kill {
				if err := ws.Kill(busyWorker(t, ws, 2)); err != nil {
					t.Fatal(err)
				}
			}
			if r := <-done; r.err != nil || r.code != 502 {
				t.Errorf("the request on the dead worker got %d %v", r.code, r.err)
			}
			exits.next(t)
			for range 4 { // the other requests keep flowing
				if code, _, err := get(t, client, srv.URL+"/hello"); code != 200 || err != nil {
					t.Errorf("another request got %d %v", code, err)
				}
			}
			if e := starts.next(t); e.Data.(isolate.WorkerEvent).PID == 0 {
				t.Errorf("restart event %+v", e.Data)
			}
		})
	}
}

func TestWorkersKilledAfterHeaders(t *testing.T) {
	noLeaks(t)
	ws := startWorkers(t, 1, new(filter.Hub))
	a := &aborts{}
	srv := server(t, nil, a.Wrap(ws))
	resp, err := newClient(t).Get(srv.URL + "/block?headers=1")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil || line != "started\n" {
		t.Fatalf("first line %q %v", line, err)
	}
	ws.Kill(0)
	if _, err := io.ReadAll(resp.Body); err == nil {
		t.Error("a response cut by a dead worker read as whole")
	}
	srv.Close()
	if a.reason != "worker" {
		t.Errorf("abort reason %q", a.reason)
	}
}

func TestWorkersNeverStart(t *testing.T) {
	for _, tt := range []struct {
		name    string
		command []string
		env     []string
	}{
		{"never ready", nil, []string{"WORKER_NEVER_READY=1"}},
		{"no such program", []string{"/nonexistent/worker"}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			noLeaks(t)
			hub := new(filter.Hub)
			exits := listen(t, hub, isolate.EventWorkerExit)
			rejected := listen(t, hub, isolate.EventRejected)
			cmd := tt.command
			if cmd == nil {
				cmd = []string{worker(t)}
			}
			ws := &isolate.Workers{Command: cmd, Env: tt.env, N: 1, Hub: hub, Dir: t.TempDir(),
				StartTimeout: 1, MaxWait: 1, Backoff: 1}
			if err := ws.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { ws.Close() })
			if e := exits.next(t); e.Data.(isolate.WorkerEvent).Err == nil {
				t.Errorf("exit event without an error: %+v", e.Data)
			}
			srv := server(t, nil, ws)
			code, _, err := get(t, newClient(t), srv.URL+"/hello")
			if code != 503 || err != nil || rejected.next(t).Data.(isolate.RejectedEvent).Reason != "no worker" {
				t.Errorf("got %d %v", code, err)
			}
		})
	}
}

func TestWorkersLimits(t *testing.T) {
	noLeaks(t)
	hub := new(filter.Hub)
	starts := listen(t, hub, isolate.EventWorkerStart)
	ws := &isolate.Workers{Command: []string{worker(t)}, N: 1, Hub: hub, Dir: t.TempDir(),
		Limits: isolate.Limits{AS: 8 << 30, CPU: 3600}}
	if err := ws.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	starts.next(t)
	srv := server(t, nil, ws)
	_, body, err := get(t, newClient(t), srv.URL+"/limits")
	if err != nil || body != "as=8589934592 cpu=3600" {
		t.Errorf("limits %q %v", body, err)
	}
	// The worker's own children do not see the protocol's variables.
	if _, body, err := get(t, newClient(t), srv.URL+"/env"); err != nil || body != `"" ""` {
		t.Errorf("environment %s %v", body, err)
	}
}

// BenchmarkProcessMode compares the same app served in-process and by two
// worker processes, over loopback, with parallel clients.
func BenchmarkProcessMode(b *testing.B) {
	hello := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello %s from worker %s", r.URL.Query().Get("name"), "0")
	})
	run := func(b *testing.B, h http.Handler) {
		srv := httptest.NewServer(h)
		defer srv.Close()
		tr := &http.Transport{MaxIdleConnsPerHost: 64}
		defer tr.CloseIdleConnections()
		client := &http.Client{Transport: tr}
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				resp, err := client.Get(srv.URL + "/hello?name=ana")
				if err != nil {
					b.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
	b.Run("in-process", func(b *testing.B) { run(b, hello) })
	b.Run("workers", func(b *testing.B) {
		hub := new(filter.Hub)
		starts := make(chan struct{}, 2)
		defer hub.Subscribe(isolate.EventWorkerStart, func(filter.Event) { starts <- struct{}{} })()
		ws := &isolate.Workers{Command: []string{worker(b)}, N: 2, Hub: hub, Dir: b.TempDir()}
		if err := ws.Start(); err != nil {
			b.Fatal(err)
		}
		defer ws.Close()
		<-starts
		<-starts
		run(b, ws)
	})
}

// TestWorkersReadyPipeClosedWithoutWord: a worker that closes its ready
// pipe without writing and goes on running is killed after StartTimeout,
// and Close does not wait for it.
func TestWorkersReadyPipeClosedWithoutWord(t *testing.T) {
	noLeaks(t)
	hub := new(filter.Hub)
	exits := listen(t, hub, isolate.EventWorkerExit)
	ws := &isolate.Workers{Command: []string{"/bin/sh", "-c", "exec 4>&-; exec sleep 60"},
		N: 1, Dir: t.TempDir(), StartTimeout: 50 * time.Millisecond, Backoff: time.Hour, Hub: hub}
	if err := ws.Start(); err != nil {
		t.Fatal(err)
	}
	if e := exits.next(t); e.Data.(isolate.WorkerEvent).Err == nil {
		t.Errorf("exit event without an error: %+v", e.Data)
	}
	closed := make(chan struct{})
	go func() {
		defer close(closed)
		ws.Close()
	}()
	select {
	case <-closed:
	case <-time.After(time.Minute):
		t.Fatal("Close never returned")
	}
}

// pidsIn returns the process ids written to file, one a line.
func pidsIn(t *testing.T, file string) []int {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, f := range strings.Fields(string(b)) {
		pid, err := strconv.Atoi(f)
		if err != nil {
			t.Fatal(err)
		}
		pids = append(pids, pid)
	}
	return pids
}

// gone reports whether process pid is dead (a zombie counts as dead).
func gone(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return true
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	return err == nil && strings.Contains(string(b), ") Z ")
}

// TestWorkersStopWhatTheyStarted: the processes a worker started go with
// it, when it is killed, stopped, or exits on its own, and they cannot
// hold up the supervisor through the output pipes.
func TestWorkersStopWhatTheyStarted(t *testing.T) {
	for _, tt := range []struct {
		name, script string
		kill         bool
	}{
		{"killed", `"$0" & echo $! >>"$1"; wait`, true},
		{"exits, output to a pipe", `"$0" & echo $! >>"$1"; exit 0`, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			noLeaks(t)
			hub := new(filter.Hub)
			starts := listen(t, hub, isolate.EventWorkerStart)
			exits := listen(t, hub, isolate.EventWorkerExit)
			pidFile := filepath.Join(t.TempDir(), "pids")
			ws := &isolate.Workers{Command: []string{"/bin/sh", "-c", tt.script, worker(t), pidFile},
				N: 1, Dir: t.TempDir(), Hub: hub, Backoff: time.Hour, Stdout: io.Discard, Stderr: io.Discard}
			if err := ws.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				for _, pid := range pidsIn(t, pidFile) {
					syscall.Kill(pid, syscall.SIGKILL)
				}
			})
			if tt.kill {
				starts.next(t)
				if err := ws.Kill(0); err != nil {
					t.Fatal(err)
				}
			}
			exits.next(t)
			until(t, func() bool { return ws.Ready() == 0 })
			for _, pid := range pidsIn(t, pidFile) {
				until(t, func() bool { return gone(pid) })
			}
			closed := make(chan struct{})
			go func() {
				defer close(closed)
				ws.Close()
			}()
			select {
			case <-closed:
			case <-time.After(time.Minute):
				t.Fatal("Close never returned")
			}
		})
	}
}

// TestWorkersSocketIsTheWorkers: the supervisor keeps no copy of a
// worker's listening socket, so a worker that no longer listens costs a
// request a 502 at once instead of a hang.
func TestWorkersSocketIsTheWorkers(t *testing.T) {
	noLeaks(t)
	hub := new(filter.Hub)
	starts := listen(t, hub, isolate.EventWorkerStart)
	ws := &isolate.Workers{Command: []string{"/bin/sh", "-c", "exec 3>&-; echo ready >&4; exec 4>&-; exec sleep 60"},
		N: 1, Dir: t.TempDir(), Hub: hub}
	if err := ws.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	starts.next(t)
	srv := server(t, nil, ws)
	client := newClient(t)
	client.Timeout = time.Minute
	if code, _, err := get(t, client, srv.URL+"/hello"); code != 502 || err != nil {
		t.Errorf("got %d %v", code, err)
	}
}
