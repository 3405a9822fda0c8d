//go:build unix

package isolate

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"
)

// The worker protocol, between a Workers supervisor and each process it
// starts:
//
//   - the environment has WorkerEnv set to the worker's slot ("0" to
//     "N-1"), and the limits in WSAPI_ISOLATE_RLIMIT_AS (bytes) and
//     WSAPI_ISOLATE_RLIMIT_CPU (seconds) when they are set;
//   - file descriptor 3 is a listening unix socket: serve HTTP on it;
//   - file descriptor 4 is the write end of a pipe: write a line to it and
//     close it once ready to serve;
//   - SIGTERM asks the worker to finish its requests and exit.
//
// ServeWorker does all that for a Go handler; any other program may too.
const (
	// WorkerEnv is the environment variable that marks a worker process.
	WorkerEnv = "WSAPI_ISOLATE_WORKER"

	envLimitAS  = "WSAPI_ISOLATE_RLIMIT_AS"
	envLimitCPU = "WSAPI_ISOLATE_RLIMIT_CPU"
)

// IsWorker reports whether this process was started by a Workers
// supervisor, so a program that is both can pick its part:
//
//	if isolate.IsWorker() {
//		if err := isolate.ServeWorker(app); err != nil {
//			log.Fatal(err)
//		}
//		return
//	}
func IsWorker() bool { return os.Getenv(WorkerEnv) != "" }

// ServeWorker serves h in a worker process: it applies the resource limits
// the supervisor passed, serves HTTP on the socket it was handed, tells the
// supervisor it is ready, and returns nil after a SIGTERM once the
// requests in flight are done (at most 10 seconds). It returns an error at
// once when the process is not a worker. It removes the protocol's
// variables from the environment, so that a program the worker starts
// (this same one, say, for a migration) does not take itself for a worker;
// read WorkerEnv before calling it when the app needs its slot.
func ServeWorker(h http.Handler) error {
	if !IsWorker() {
		return errors.New("isolate: ServeWorker outside a worker: start the program through isolate.Workers")
	}
	if err := applyLimits(); err != nil {
		return err
	}
	for _, k := range []string{WorkerEnv, envLimitAS, envLimitCPU} {
		_ = os.Unsetenv(k)
	}
	lf := os.NewFile(3, "listener")
	ln, err := net.FileListener(lf)
	lf.Close()
	if err != nil {
		return fmt.Errorf("isolate: worker: no listening socket on fd 3: %w", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: time.Minute}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	if ready := os.NewFile(4, "ready"); ready != nil {
		_, _ = ready.WriteString("ready\n")
		ready.Close()
	}
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}

// applyLimits sets the resource limits the supervisor passed on this
// process, before it serves.
func applyLimits() error {
	for _, l := range []struct {
		env      string
		resource int
	}{{envLimitAS, syscall.RLIMIT_AS}, {envLimitCPU, syscall.RLIMIT_CPU}} {
		v := os.Getenv(l.env)
		if v == "" {
			continue
		}
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return fmt.Errorf("isolate: worker: %s is %q: %w", l.env, v, err)
		}
		lim := hardAbove(l.resource, n)
		if err := syscall.Setrlimit(l.resource, &lim); err != nil {
			return fmt.Errorf("isolate: worker: setrlimit %s: %w", l.env, err)
		}
	}
	return nil
}

// hardAbove returns the limit n for resource: for CPU time the hard limit
// is a second above, so the worker gets SIGXCPU before SIGKILL.
func hardAbove(resource int, n uint64) syscall.Rlimit {
	if resource == syscall.RLIMIT_CPU {
		return syscall.Rlimit{Cur: n, Max: n + 1}
	}
	return syscall.Rlimit{Cur: n, Max: n}
}
