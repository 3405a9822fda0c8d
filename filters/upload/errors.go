package upload

import (
	"errors"
	"net/http"
	"strconv"
)

// Error is what Parse returns when the request's form cannot be read: a
// limit was crossed (Status 413), the input is malformed (400), a file's
// content is not of an allowed type (415), the sink could not store a
// file or panicked (500), or the response finished before the form was
// read, as when http.TimeoutHandler gave up on the app (503). WriteError
// answers it.
type Error struct {
	// Status is the HTTP status that answers the error: 400, 413, 415,
	// 500 or 503.
	Status int
	// Limit names the Filter (or Rewindable) field whose limit was
	// crossed, such as "MaxFileBytes"; it is "" when no limit was.
	Limit string
	// Max is the limit's value, when Limit is set.
	Max int64
	// Reason says what was wrong, in a few words.
	Reason string
	// Err is the underlying error, if any (a read or storage error).
	Err error
}

// Error returns "upload: " and the reason, with the limit when there is
// one, such as "upload: a file is too large (limit MaxFileBytes = 1024)".
func (e *Error) Error() string {
	b := make([]byte, 0, 96)
	b = append(b, "upload: "...)
	b = append(b, e.Reason...)
	if e.Limit != "" {
		b = append(b, " (limit "...)
		b = append(b, e.Limit...)
		b = append(b, " = "...)
		b = strconv.AppendInt(b, e.Max, 10)
		b = append(b, ')')
	}
	return string(b)
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// ErrNoFilter is returned by Parse for a form request that has not passed
// through an upload filter.
var ErrNoFilter = errors.New("upload: no upload filter for this request: put upload.New() in front of the handler")

// ErrNotRewindable is returned by Rewind for a request whose body did not
// pass through a Rewindable filter.
var ErrNotRewindable = errors.New("upload: the request body is not rewindable: put upload.NewRewindable() in front of the handler")

func limitError(limit string, max int64, reason string) *Error {
	return &Error{Status: http.StatusRequestEntityTooLarge, Limit: limit, Max: max, Reason: reason}
}

func malformed(reason string) *Error {
	return &Error{Status: http.StatusBadRequest, Reason: reason}
}

// WriteError answers err: an *Error with its status and a short plain-text
// body that names the limit or the problem; any other error with 500. It
// sets "Connection: close" when the body was not read to its end, so the
// server does not read the rest. It returns the status sent.
//
//	form, err := upload.Parse(r)
//	if err != nil {
//		upload.WriteError(w, err)
//		return
//	}
func WriteError(w http.ResponseWriter, err error) int {
	var e *Error
	if !errors.As(err, &e) {
		http.Error(w, "500 Internal Server Error: upload: the form could not be read", http.StatusInternalServerError)
		return http.StatusInternalServerError
	}
	if e.Status != http.StatusInternalServerError {
		w.Header().Set("Connection", "close")
	}
	body := strconv.Itoa(e.Status) + " " + http.StatusText(e.Status) + ": " + e.Error()
	http.Error(w, body, e.Status)
	return e.Status
}
