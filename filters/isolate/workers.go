//go:build unix

package isolate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/wsapi-go/wsapi/filter"
)

// Workers runs an app in N separate worker processes and proxies requests
// to them, each over its own unix socket, to the least busy ready worker.
// A supervisor restarts a worker that exits, with exponential backoff. A
// worker that panics, calls os.Exit or is killed costs only its own
// requests in flight: they get 502 (or an aborted connection when the
// headers were out), the other requests keep flowing, and the server
// lives on.
//
// The worker is Command, or, when Command is empty, this same program
// started again: it then sees IsWorker true and calls ServeWorker. See
// WorkerEnv for the protocol a worker follows.
//
// Set the fields, call Start, serve, and call Close when done.
type Workers struct {
	// Command is the worker's program and arguments; empty means this
	// program (os.Executable) with os.Args[1:].
	Command []string

	// Env is added to the workers' environment, which is otherwise this
	// process's.
	Env []string

	// N is the number of workers; the default is runtime.GOMAXPROCS(0).
	N int

	// Dir is the directory for the sockets; the default is a new
	// temporary directory, removed by Close.
	Dir string

	// Limits are the resource limits of each worker.
	Limits Limits

	// Backoff is the wait before restarting a worker that exited; it
	// doubles at each exit in a row, up to MaxBackoff, and starts over once
	// a worker served for a minute. The defaults are 100ms and 10s.
	Backoff, MaxBackoff time.Duration

	// StartTimeout is how long a worker has to say it is ready before it
	// is killed and started again; the default is 10s.
	StartTimeout time.Duration

	// MaxWait is how long a request waits for a ready worker when none is
	// before it gets 503; the default is 5s.
	MaxWait time.Duration

	// Stdout and Stderr receive the workers' output; nil means this
	// process's.
	Stdout, Stderr io.Writer

	// Hub receives the worker events and EventRejected; nil means
	// filter.DefaultHub.
	Hub *filter.Hub

	mu       sync.Mutex
	started  bool
	closing  chan struct{}
	slots    []*slot
	wg       sync.WaitGroup
	tmpDir   string
	proxy    *httputil.ReverseProxy
	tr       *http.Transport
	next     atomic.Uint32
	readyCh  chan struct{} // closed and replaced when a worker becomes ready
	readyMu  sync.Mutex
	hub      *filter.Hub
	closeErr error
}

// Limits are resource limits for a worker process, set with setrlimit.
// Zero means no limit.
type Limits struct {
	// AS is the most virtual memory, in bytes (RLIMIT_AS). A Go worker
	// needs several hundred megabytes of address space to start.
	AS uint64
	// CPU is the most CPU time, in seconds (RLIMIT_CPU).
	CPU uint64
}

// slot is one worker, through its restarts.
type slot struct {
	i        int
	inflight atomic.Int64
	ready    atomic.Bool
	host     atomic.Value // string: the host name its requests use
	sock     atomic.Value // string: the socket path of the current process
	mu       sync.Mutex
	proc     *os.Process
	gen      int
}

type slotKey struct{}

// Start starts the workers and returns; they become ready in the
// background. It returns an error when the socket directory cannot be
// made.
func (ws *Workers) Start() error {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if ws.started {
		return errors.New("isolate: Workers started twice")
	}
	if ws.N == 0 {
		ws.N = runtime.GOMAXPROCS(0)
	}
	if ws.N < 0 || ws.Backoff < 0 || ws.MaxBackoff < 0 || ws.StartTimeout < 0 || ws.MaxWait < 0 {
		return errors.New("isolate: Workers: N and the durations must not be negative")
	}
	ws.Backoff = orDuration(ws.Backoff, 100*time.Millisecond)
	ws.MaxBackoff = orDuration(ws.MaxBackoff, 10*time.Second)
	ws.StartTimeout = orDuration(ws.StartTimeout, 10*time.Second)
	ws.MaxWait = orDuration(ws.MaxWait, 5*time.Second)
	ws.hub = hubOr(ws.Hub)
	if ws.Dir == "" {
		d, err := os.MkdirTemp("", "isolate-workers-")
		if err != nil {
			return fmt.Errorf("isolate: Workers: %w", err)
		}
		ws.Dir, ws.tmpDir = d, d
	}
	ws.closing = make(chan struct{})
	ws.readyCh = make(chan struct{})
	ws.tr = &http.Transport{
		DialContext: func(ctx context.Context, _, addr string) (net.Conn, error) {
			s, _ := ctx.Value(slotKey{}).(*slot)
			if s == nil {
				return nil, errors.New("isolate: no worker for " + addr)
			}
			var d net.Dialer
			return d.DialContext(ctx, "unix", s.sock.Load().(string))
		},
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
	}
	ws.proxy = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			s := pr.In.Context().Value(slotKey{}).(*slot)
			pr.Out.URL.Scheme = "http"
			pr.Out.URL.Host = s.host.Load().(string)
			pr.Out.Host = pr.In.Host
			pr.SetXForwarded()
		},
		Transport:    ws.tr,
		ErrorHandler: ws.proxyError,
		ErrorLog:     nil,
	}
	ws.slots = make([]*slot, ws.N)
	for i := range ws.slots {
		s := &slot{i: i}
		s.host.Store("worker" + strconv.Itoa(i) + ".invalid")
		s.sock.Store("")
		ws.slots[i] = s
		ws.wg.Add(1)
		go ws.supervise(s)
	}
	ws.started = true
	return nil
}

func orDuration(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// Ready returns the number of workers ready to serve.
func (ws *Workers) Ready() int {
	n := 0
	for _, s := range ws.slots {
		if s.ready.Load() {
			n++
		}
	}
	return n
}

// ServeHTTP proxies r to a worker.
func (ws *Workers) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s := ws.pick(r.Context())
	if s == nil {
		if ws.hub.Enabled(EventRejected) {
			ws.hub.Publish(EventRejected, r, RejectedEvent{Reason: "no worker"})
		}
		const body = "Service Unavailable\n"
		writeError(w, r, http.StatusServiceUnavailable, body, strconv.Itoa(len(body)), "1")
		return
	}
	s.inflight.Add(1)
	defer s.inflight.Add(-1)
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				filter.From(r).SetAborted("worker")
			}
			panic(p)
		}
	}()
	ws.proxy.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), slotKey{}, s)))
}

// pick returns the least busy ready worker, waiting up to MaxWait for one.
func (ws *Workers) pick(ctx context.Context) *slot {
	var t *time.Timer
	for {
		ws.readyMu.Lock()
		ch := ws.readyCh
		ws.readyMu.Unlock()
		if s := ws.leastBusy(); s != nil {
			return s
		}
		if t == nil {
			t = time.NewTimer(ws.MaxWait)
			defer t.Stop()
		}
		select {
		case <-ch:
		case <-t.C:
			return nil
		case <-ctx.Done():
			return nil
		case <-ws.closing:
			return nil
		}
	}
}

func (ws *Workers) leastBusy() *slot {
	n := len(ws.slots)
	start := int(ws.next.Add(1))
	var best *slot
	var least int64
	for k := range n {
		s := ws.slots[(start+k)%n]
		if !s.ready.Load() {
			continue
		}
		if f := s.inflight.Load(); best == nil || f < least {
			best, least = s, f
		}
	}
	return best
}

func (ws *Workers) proxyError(w http.ResponseWriter, r *http.Request, err error) {
	s, _ := r.Context().Value(slotKey{}).(*slot)
	if r.Context().Err() != nil {
		// The client went away.
		w.WriteHeader(http.StatusBadGateway)
		return
	}
	ev := WorkerEvent{Err: err}
	if s != nil {
		ev.Worker = s.i
		s.mu.Lock()
		if s.proc != nil {
			ev.PID = s.proc.Pid
		}
		s.mu.Unlock()
	}
	filter.From(r).Logger().Error("isolate: worker failed a request", "worker", ev.Worker, "error", err.Error())
	ws.hub.Publish(EventWorkerError, r, ev)
	const body = "Bad Gateway\n"
	writeError(w, r, http.StatusBadGateway, body, strconv.Itoa(len(body)), "")
}

// setReady marks s ready or not, and wakes the requests waiting for one.
func (ws *Workers) setReady(s *slot, ready bool) {
	s.ready.Store(ready)
	if ready {
		ws.readyMu.Lock()
		close(ws.readyCh)
		ws.readyCh = make(chan struct{})
		ws.readyMu.Unlock()
	}
}

// supervise keeps worker s running until Close.
func (ws *Workers) supervise(s *slot) {
	defer ws.wg.Done()
	backoff := ws.Backoff
	for {
		began := time.Now()
		err := ws.run(s)
		if time.Since(began) > time.Minute {
			backoff = ws.Backoff
		}
		select {
		case <-ws.closing:
			return
		default:
		}
		ev := WorkerEvent{Worker: s.i, Err: err, Backoff: backoff}
		s.mu.Lock()
		if s.proc != nil {
			ev.PID = s.proc.Pid
		}
		s.mu.Unlock()
		ws.hub.Publish(EventWorkerExit, nil, ev)
		t := time.NewTimer(backoff)
		select {
		case <-ws.closing:
			t.Stop()
			return
		case <-t.C:
		}
		backoff = min(backoff*2, ws.MaxBackoff)
	}
}

var errStartTimeout = errors.New("isolate: the worker did not get ready in time")

// waitDelay bounds how long the supervisor waits, once a worker exited,
// for the output it copies (Stdout and Stderr that are not files): a
// process the worker left behind may hold the pipes.
const waitDelay = time.Second

// run starts one process for s and waits until it exits.
func (ws *Workers) run(s *slot) error {
	s.gen++
	path := filepath.Join(ws.Dir, "w"+strconv.Itoa(s.i)+"-"+strconv.Itoa(s.gen)+".sock")
	_ = os.Remove(path)
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return err
	}
	// The socket is the worker's alone: once it dies, a dial is refused
	// at once instead of waiting in a queue nobody accepts from.
	ln.SetUnlinkOnClose(false)
	defer os.Remove(path)
	lf, err := ln.File()
	ln.Close()
	if err != nil {
		return err
	}
	defer lf.Close()
	readyR, readyW, err := os.Pipe()
	if err != nil {
		return err
	}
	defer readyR.Close()

	cmd, err := ws.command(s.i)
	if err != nil {
		readyW.Close()
		return err
	}
	cmd.ExtraFiles = []*os.File{lf, readyW}
	cmd.WaitDelay = waitDelay
	err = startWorker(cmd, ws.Limits)
	readyW.Close()
	lf.Close()
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.proc = cmd.Process
	s.mu.Unlock()
	exited := make(chan error, 1)
	go func() {
		err := cmd.Wait()
		// The worker's process group goes with it: a process it started
		// must not go on serving on its socket.
		_ = killGroup(cmd.Process, syscall.SIGKILL)
		exited <- err
	}()

	ready := make(chan bool, 1)
	go func() {
		var b [1]byte
		n, _ := readyR.Read(b[:])
		ready <- n > 0
	}()
	timer := time.NewTimer(ws.StartTimeout)
	defer timer.Stop()
	select {
	case ok := <-ready:
		if !ok {
			// The worker closed the pipe without a word: it is exiting,
			// or it closed its inherited files and goes on. Either way
			// it is not ready; give it its start time to exit.
			select {
			case err := <-exited:
				return fmt.Errorf("isolate: the worker exited before it was ready: %v", err)
			case <-timer.C:
				_ = killGroup(cmd.Process, syscall.SIGKILL)
				<-exited
				return errStartTimeout
			case <-ws.closing:
				ws.stop(cmd.Process, exited)
				return nil
			}
		}
	case <-timer.C:
		_ = killGroup(cmd.Process, syscall.SIGKILL)
		<-exited
		return errStartTimeout
	case <-ws.closing:
		ws.stop(cmd.Process, exited)
		return nil
	}
	s.host.Store("worker" + strconv.Itoa(s.i) + "-" + strconv.Itoa(s.gen) + ".invalid")
	s.sock.Store(path)
	ws.setReady(s, true)
	ws.hub.Publish(EventWorkerStart, nil, WorkerEvent{Worker: s.i, PID: cmd.Process.Pid})
	select {
	case err = <-exited:
		ws.setReady(s, false)
		ws.tr.CloseIdleConnections()
		if err == nil {
			err = errors.New("isolate: the worker exited")
		}
		return err
	case <-ws.closing:
		ws.setReady(s, false)
		ws.stop(cmd.Process, exited)
		return nil
	}
}

// killGroup sends sig to p's process group: the worker and the processes
// it started (the worker leads its own group).
func killGroup(p *os.Process, sig syscall.Signal) error {
	return syscall.Kill(-p.Pid, sig)
}

// command builds the worker's command line and environment.
func (ws *Workers) command(i int) (*exec.Cmd, error) {
	argv := ws.Command
	if len(argv) == 0 {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("isolate: Workers: cannot find this program: %w", err)
		}
		argv = append([]string{exe}, os.Args[1:]...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), ws.Env...)
	cmd.Env = append(cmd.Env, WorkerEnv+"="+strconv.Itoa(i))
	if ws.Limits.AS > 0 {
		cmd.Env = append(cmd.Env, envLimitAS+"="+strconv.FormatUint(ws.Limits.AS, 10))
	}
	if ws.Limits.CPU > 0 {
		cmd.Env = append(cmd.Env, envLimitCPU+"="+strconv.FormatUint(ws.Limits.CPU, 10))
	}
	cmd.Stdout, cmd.Stderr = ws.Stdout, ws.Stderr
	if cmd.Stdout == nil {
		cmd.Stdout = os.Stdout
	}
	if cmd.Stderr == nil {
		cmd.Stderr = os.Stderr
	}
	return cmd, nil
}

// stop asks a worker and the processes it started to finish (SIGTERM),
// and kills them after 10 seconds.
func (ws *Workers) stop(p *os.Process, exited <-chan error) {
	_ = killGroup(p, syscall.SIGTERM)
	t := time.NewTimer(10 * time.Second)
	defer t.Stop()
	select {
	case <-exited:
	case <-t.C:
		_ = killGroup(p, syscall.SIGKILL)
		<-exited
	}
}

// Close stops the workers (SIGTERM, then SIGKILL after 10 seconds), waits
// for them, and removes the socket directory when Start made it.
func (ws *Workers) Close() error {
	ws.mu.Lock()
	if !ws.started || ws.closing == nil {
		ws.mu.Unlock()
		return nil
	}
	select {
	case <-ws.closing:
		ws.mu.Unlock()
		return ws.closeErr
	default:
	}
	close(ws.closing)
	ws.mu.Unlock()
	ws.wg.Wait()
	ws.tr.CloseIdleConnections()
	if ws.tmpDir != "" {
		ws.closeErr = os.RemoveAll(ws.tmpDir)
	}
	return ws.closeErr
}

// Kill sends SIGKILL to worker i's current process, and to the processes
// it started, as a crash would; the supervisor starts it again. It is for
// tests and drills.
func (ws *Workers) Kill(i int) error {
	if i < 0 || i >= len(ws.slots) {
		return errors.New("isolate: no worker " + strconv.Itoa(i))
	}
	s := ws.slots[i]
	s.mu.Lock()
	p := s.proc
	s.mu.Unlock()
	if p == nil {
		return errors.New("isolate: worker " + strconv.Itoa(i) + " is not running")
	}
	return killGroup(p, syscall.SIGKILL)
}
