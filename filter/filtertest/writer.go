package filtertest

import (
	"bufio"
	"io"
	"net"
	"net/http"
)

// NewWriter returns a new [Recorder] and a writer that records into it and
// implements exactly the optional interfaces in ab, so a filter can be
// tested against each of the 16 kinds of writer a server may hand it.
// [AbilitiesOf] of the writer is ab.
//
// The optional methods record into the Recorder too:
//
//   - Flush records an [EventFlush], as [Recorder.Flush] does;
//   - Hijack records an [EventHijack] and returns one end of a [net.Pipe]
//     with a bufio.ReadWriter on it; [Recorder.ClientConn] returns the other
//     end. The pipe is synchronous: a handler that writes to the connection
//     waits until the test reads from the other end. A second Hijack
//     returns [http.ErrHijacked];
//   - ReadFrom copies into Body and records an [EventReadFrom];
//   - Push records an [EventPush] and returns nil.
func NewWriter(ab Abilities) (*Recorder, http.ResponseWriter) {
	rec := NewRecorder()
	return rec, compose(recorderWriter{rec}, ab)
}

// ClientConn returns the client's end of the connection after a hijack
// through a writer from [NewWriter], and nil before. Close it when done.
func (r *Recorder) ClientConn() net.Conn { return r.peer }

// recorderWriter gives a Recorder all four abilities; compose shows the
// chosen ones.
type recorderWriter struct{ *Recorder }

var _ fullWriter = recorderWriter{}

// Hijack records the hijack and returns the server's end of a pipe.
func (w recorderWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	r := w.Recorder
	if r.hijacked {
		return nil, nil, http.ErrHijacked
	}
	server, client := net.Pipe()
	r.hijacked = true
	r.peer = client
	r.record(Event{Kind: EventHijack})
	return server, bufio.NewReadWriter(bufio.NewReader(server), bufio.NewWriter(server)), nil
}

// ReadFrom copies src into the body.
func (w recorderWriter) ReadFrom(src io.Reader) (int64, error) { return w.readFrom(src) }

// Push records the push of target.
func (w recorderWriter) Push(target string, _ *http.PushOptions) error {
	w.record(Event{Kind: EventPush, Target: target})
	return nil
}
