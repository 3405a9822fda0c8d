package filter

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
