package upload

import (
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"

	"github.com/wsapi-go/wsapi/filter"
)

// state is what the filters keep for one form request.
//
// It normally lives on the goroutine serving the request. A handler that
// runs the app on another goroutine and may return before it
// (http.TimeoutHandler) lets the exchange finish, or an outer upload
// filter return, while the app still parses or uses its files: mu guards
// what those goroutines share, and the stored files are removed by
// whichever comes last, the parse or the last filter to return.
type state struct {
	kind formKind
	stop atomic.Bool // the request is over: a parse under way stops reading

	mu       sync.Mutex
	c        *config        // the config in force: the innermost filter's
	inside   int            // upload filters serving the request now
	parsing  bool           // a parse is reading the body
	done     bool           // parsed, or failed
	ended    bool           // the filters returned: files removed, no more stored
	finished bool           // the exchange finished: it must not be used
	form     *Form          // the form, once parsed
	err      error          // the error, once failed
	files    []*File        // every file stored, in order
	prog     *progressEntry // the upload's progress entry, or nil
	progress *Progress      // the tracker of prog

	// What the parsed form held, for an inner filter to check.
	nparts     int
	fieldBytes int64
	bodyBytes  int64
}

// enter registers a filter that serves the request. An inner filter whose
// outer one has not read the form yet takes over: its limits and types
// apply. When the form was read already (an outer Eager filter), the
// inner filter checks it against its own limits and types, and returns
// the error that fails it, if any.
func (st *state) enter(c *config, r *http.Request, nested bool) *Error {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.inside++
	if st.prog == nil && c.prog != nil {
		if id := c.prog.idOf(r); id != "" {
			st.prog, st.progress = c.prog.start(id, r.ContentLength), c.prog
		}
	}
	if !nested {
		return nil
	}
	switch {
	case !st.done && !st.parsing:
		st.c = c
	case st.done && st.err == nil:
		if err := c.check(st); err != nil {
			st.c = c
			st.failLocked(r, err)
			return err
		}
	}
	return nil
}

// exit is deferred by each filter that entered; the last one to return
// removes the files the app neither moved nor kept, or leaves that to a
// parse still under way on another goroutine.
func (st *state) exit(x *filter.Exchange) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.inside--; st.inside > 0 {
		return
	}
	if st.finished {
		x = nil
	}
	st.endLocked(x)
}

// endLocked ends the request's uploads: no more files are stored, and
// those stored are removed unless moved or kept, now or, when a parse is
// under way, when it stops. x, when not nil, is the live exchange, for
// logging. st.mu is held.
func (st *state) endLocked(x *filter.Exchange) {
	if st.ended {
		return
	}
	st.ended = true
	st.stop.Store(true)
	if !st.parsing {
		st.releaseLocked(x, false)
	}
}

// releaseLocked removes the stored files (all of them, or those neither
// moved nor kept) and ends the progress entry. st.mu is held.
func (st *state) releaseLocked(x *filter.Exchange, all bool) {
	left := st.files[:0]
	for _, f := range st.files {
		if f.gone || f.kept && !all {
			continue
		}
		if err := f.stored.Remove(); err != nil {
			// Tried again when the request ends.
			logger(x).Error("upload: cannot remove a stored file", "error", err.Error())
			left = append(left, f)
			continue
		}
		f.gone = true
	}
	if all {
		st.files = left
	}
	if st.ended && st.prog != nil {
		st.progress.finish(st.prog, st.err != nil || !st.done)
		st.prog = nil
	}
}

// liveExchange returns r's exchange while it may be used, or nil. st.mu
// is held.
func (st *state) liveExchange(r *http.Request) *filter.Exchange {
	if st.finished {
		return nil
	}
	return filter.From(r)
}

func logger(x *filter.Exchange) *slog.Logger {
	if x == nil {
		return slog.Default()
	}
	return x.Logger()
}

// parse reads the form of r once; it returns the form or the error of the
// first call.
func (st *state) parse(r *http.Request) (*Form, error) {
	st.mu.Lock()
	switch {
	case st.done:
		form, err := st.form, st.err
		st.mu.Unlock()
		return form, err
	case st.parsing:
		st.mu.Unlock()
		return nil, &Error{Status: http.StatusInternalServerError, Reason: "the form is being read by another call to Parse"}
	}
	st.parsing = true
	c := st.c
	st.mu.Unlock()

	completed := false
	defer func() {
		if !completed { // a Sink panicked: a later Parse must not find a nil form
			st.settle(r, nil, &Error{Status: http.StatusInternalServerError, Reason: "reading the form panicked"})
		}
	}()
	form := &Form{Values: url.Values{}, Files: map[string][]*File{}}
	var err *Error
	if st.kind == kindMultipart {
		err = c.parseMultipart(st, r, form)
	} else {
		err = c.parseURLEncoded(st, r, form)
	}
	completed = true
	return st.settle(r, form, err)
}

// settle records how a parse ended. A form read after the filters returned
// is nobody's: its files are removed, and Parse reports that the request
// finished.
func (st *state) settle(r *http.Request, form *Form, err *Error) (*Form, error) {
	st.mu.Lock()
	st.parsing, st.done = false, true
	if err == nil && st.ended {
		err = &Error{Status: http.StatusServiceUnavailable, Reason: "the request finished before its form was read"}
	}
	if err != nil {
		st.failLocked(r, err)
	} else {
		st.form = form
	}
	if st.ended {
		st.releaseLocked(st.liveExchange(r), false)
	}
	st.mu.Unlock()
	if err != nil {
		st.report(r, err)
		return nil, err
	}
	return form, nil
}

// failLocked records err and removes the files stored so far. st.mu is
// held; report does the rest, without it.
func (st *state) failLocked(r *http.Request, err *Error) {
	st.done, st.err, st.form = true, err, nil
	x := st.liveExchange(r)
	st.releaseLocked(x, true)
	if err.Status == http.StatusInternalServerError && err.Err != nil {
		logger(x).Error("upload: cannot store a file", "error", err.Err.Error())
	}
}

// report stops reading r's body after err, and publishes err.
func (st *state) report(r *http.Request, err *Error) {
	if r.Body != nil {
		r.Body.Close()
	}
	var topic string
	switch {
	case err.Status == http.StatusBadRequest:
		topic = "upload:malformed"
	case err.Status == http.StatusRequestEntityTooLarge:
		topic = "upload:limit"
	case err.Status == http.StatusUnsupportedMediaType:
		topic = "upload:type"
	case err.Status == http.StatusInternalServerError && err.Err != nil:
		topic = "upload:store:error"
	default:
		return
	}
	st.mu.Lock()
	events := st.c.events
	st.mu.Unlock()
	events.Publish(topic, r, err)
}

// check checks a form read under another filter's limits against c's:
// the limits on what the form holds, and AllowedTypes.
func (c *config) check(st *state) *Error {
	if st.kind == kindURLEncoded {
		if st.bodyBytes > c.lim.urlencoded {
			return limitError("MaxURLEncodedBytes", c.lim.urlencoded, "the form body is too large")
		}
		pairs := 0
		for _, vs := range st.form.Values {
			pairs += len(vs)
		}
		if pairs > c.lim.pairs {
			return limitError("MaxPairs", int64(c.lim.pairs), "the form has too many fields")
		}
		return nil
	}
	switch {
	case st.bodyBytes > c.lim.body:
		return limitError("MaxBodyBytes", c.lim.body, "the request body is too large")
	case st.nparts > c.lim.parts:
		return limitError("MaxParts", int64(c.lim.parts), "the form has too many parts")
	case st.fieldBytes > c.lim.fields:
		return limitError("MaxFieldBytes", c.lim.fields, "the form's fields are too large")
	case len(st.files) > c.lim.files:
		return limitError("MaxFiles", int64(c.lim.files), "the form has too many files")
	}
	for _, f := range st.files {
		if f.Size > c.lim.file {
			return limitError("MaxFileBytes", c.lim.file, "a file is too large")
		}
		if err := typeAllowed(c.allowed, f.Sniffed); err != nil {
			return err
		}
	}
	return nil
}
