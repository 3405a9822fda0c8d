package filtertest

import "strconv"

// EventKind says what happened to a [Recorder].
type EventKind uint8

// The kinds of events a Recorder records.
const (
	// EventHeader: a status line and the headers went out; Event.N is the
	// status. An informational 1xx response is an event of its own before
	// the final one.
	EventHeader EventKind = iota + 1
	// EventWrite: Event.N body bytes were written with Write or
	// WriteString.
	EventWrite
	// EventReadFrom: Event.N body bytes were written with ReadFrom.
	EventReadFrom
	// EventFlush: the handler flushed.
	EventFlush
	// EventHijack: the handler took over the connection.
	EventHijack
	// EventPush: the handler pushed Event.Target.
	EventPush
)

// Event is one thing a handler did with a [Recorder].
type Event struct {
	// Kind says what happened.
	Kind EventKind
	// N is the status of an EventHeader and the byte count of an
	// EventWrite or EventReadFrom; it is 0 for the others.
	N int64
	// Target is the target of an EventPush; it is "" for the others.
	Target string
}

// String returns the event as [Recorder.String] lists it: "header 200",
// "write 5", "readfrom 5", "flush", "hijack" or "push /app.css".
func (e Event) String() string {
	switch e.Kind {
	case EventHeader:
		return "header " + strconv.FormatInt(e.N, 10)
	case EventWrite:
		return "write " + strconv.FormatInt(e.N, 10)
	case EventReadFrom:
		return "readfrom " + strconv.FormatInt(e.N, 10)
	case EventFlush:
		return "flush"
	case EventHijack:
		return "hijack"
	case EventPush:
		return "push " + e.Target
	}
	return "event(" + strconv.Itoa(int(e.Kind)) + ")"
}
