//go:build unix

package main

import (
	"io"
	"net/http"
	"os"

	"github.com/wsapi-go/wsapi/filters/isolate"
)

// isWorker reports whether this process is a worker that a Workers
// supervisor started (this same program, started again).
func isWorker() bool { return isolate.IsWorker() }

// workerSlot is the worker's slot, "0" to "N-1"; read it before
// serveWorker, which clears the variable.
func workerSlot() string { return os.Getenv(isolate.WorkerEnv) }

// serveWorker serves h in a worker process until the supervisor stops it.
func serveWorker(h http.Handler) error { return isolate.ServeWorker(h) }

// startWorkers starts n worker processes, each this program again, and
// returns the handler that proxies to them, a count of the ready ones, and
// what stops them.
func startWorkers(n int) (http.Handler, func() int, io.Closer, error) {
	// The workers' output goes to stderr: stdout is for the start-up lines.
	ws := &isolate.Workers{N: n, Stdout: os.Stderr}
	if err := ws.Start(); err != nil {
		return nil, nil, nil, err
	}
	return ws, ws.Ready, ws, nil
}
