package filter

import "net/http"

// SetAborted records that the connection of this request was, or is about
// to be, aborted, and why: "panic" when the app panicked after the headers
// went out, "deadline" when a response was cut at its deadline, "worker"
// when the process serving it died mid-response. A filter that aborts a
// connection (by panicking with http.ErrAbortHandler) sets it first, so the
// access log can say why; an empty reason clears it.
func (x *Exchange) SetAborted(reason string) {
	if x != nil {
		x.aborted = reason
	}
}

// Aborted returns the reason set with [Exchange.SetAborted], or "" when
// the connection was not aborted by a filter.
func (x *Exchange) Aborted() string {
	if x == nil {
		return ""
	}
	return x.aborted
}

// Underlying returns the writer below the exchange: the ResponseWriter
// that [Begin] wrapped. It is for a filter that answers from another
// goroutine than the one serving the request (a deadline that passed),
// once something else (a [Gate] it dropped) ensures that nothing else
// writes: that goroutine must not touch the exchange, so it writes below
// it, where no before-headers hook runs. The goroutine serving the request
// then records the answer with [Exchange.MarkSent]. It returns nil for a
// nil exchange.
func (x *Exchange) Underlying() http.ResponseWriter {
	if x == nil {
		return nil
	}
	return x.under
}

// MarkSent records that a response with status code and n body bytes was
// sent below the exchange (through [Exchange.Underlying]) by a filter that
// answered from another goroutine: the headers count as out, Status
// returns code and Written grows by n. The before-headers hooks that did
// not run are dropped, since the headers went out without them. Call it on
// the goroutine serving the request, after the other goroutine is done
// with the writer. It does nothing when the headers were out already or
// the connection was hijacked.
func (x *Exchange) MarkSent(code int, n int64) {
	if x == nil || x.headersSent || x.hijacked || x.committing {
		return
	}
	clear(x.before)
	x.before = x.before[:0]
	x.status = code
	x.headersSent = true
	x.written += n
}
