package isolate

import (
	"time"

	"github.com/wsapi-go/wsapi/filter"
)

// The events the package publishes, on the Hub of the filter or supervisor
// that publishes them (filter.DefaultHub when none is set). Each carries
// the payload type named beside it as its Data.
const (
	// EventPanic: the app panicked; data PanicEvent.
	EventPanic = "isolate:panic"
	// EventTimeout: a request passed its deadline; data TimeoutEvent.
	EventTimeout = "isolate:timeout"
	// EventRejected: a bulkhead, a pool or a supervisor turned a request
	// away with 503; data RejectedEvent.
	EventRejected = "isolate:rejected"
	// EventInstanceError: a factory failed to make an instance; data
	// error.
	EventInstanceError = "isolate:instance:error"
	// EventReload: a pool was reloaded; data ReloadEvent.
	EventReload = "isolate:reload"
	// EventWorkerStart: a worker process is ready; data WorkerEvent.
	EventWorkerStart = "isolate:worker:start"
	// EventWorkerExit: a worker process exited or failed to start; data
	// WorkerEvent.
	EventWorkerExit = "isolate:worker:exit"
	// EventWorkerError: a request to a worker failed (502); data
	// WorkerEvent.
	EventWorkerError = "isolate:worker:error"
)

// PanicEvent is the data of an EventPanic.
type PanicEvent struct {
	// Value is what the app panicked with.
	Value any
	// Stack is the stack of the goroutine that panicked.
	Stack []byte
	// Aborted is true when the headers were out, so the connection was
	// aborted instead of answered with 500.
	Aborted bool
}

// TimeoutEvent is the data of an EventTimeout.
type TimeoutEvent struct {
	// Timeout is the deadline's duration.
	Timeout time.Duration
	// Answered is true when the client got the deadline's status; false
	// when the headers were out and the response was cut.
	Answered bool
}

// RejectedEvent is the data of an EventRejected.
type RejectedEvent struct {
	// Reason is "queue full", "wait" (the maximum wait passed), "gone"
	// (the client went away while queued) or "no worker".
	Reason string
	// Queued is the number of requests waiting when it happened.
	Queued int
}

// ReloadEvent is the data of an EventReload.
type ReloadEvent struct {
	// Generation is the pool's generation after the reload.
	Generation uint64
	// Err is the factory's error when the reload failed; the pool is
	// then as it was.
	Err error
}

// WorkerEvent is the data of the worker events.
type WorkerEvent struct {
	// Worker is the worker's slot, 0 to N-1.
	Worker int
	// PID is the process id, 0 when the process did not start.
	PID int
	// Err says why the worker exited, failed to start, or failed a
	// request; nil for a start.
	Err error
	// Backoff is the wait before the next start, for an exit.
	Backoff time.Duration
}

// hubOr returns h, or filter.DefaultHub when h is nil.
func hubOr(h *filter.Hub) *filter.Hub {
	if h == nil {
		return filter.DefaultHub
	}
	return h
}
