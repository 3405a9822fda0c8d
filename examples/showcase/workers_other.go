//go:build !unix

package main

import (
	"errors"
	"io"
	"net/http"
)

func isWorker() bool                   { return false }
func workerSlot() string               { return "" }
func serveWorker(h http.Handler) error { return errors.New("worker processes need a Unix system") }

// startWorkers fails: isolate.Workers needs unix sockets and process
// groups; the stream is then served in this process.
func startWorkers(n int) (http.Handler, func() int, io.Closer, error) {
	return nil, nil, nil, errors.New("worker processes need a Unix system")
}
