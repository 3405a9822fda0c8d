package main

import (
	"time"
)

// Kind is a type of request the generator sends.
type Kind int

// The request types. Each has its own expected answer (see load.go).
const (
	KindLogin      Kind = iota // POST /login, good password: 303 to next
	KindLoginBad               // POST /login, unknown user: 303 to /login?error=invalid, or 429
	KindLoginPage              // GET /login?error=invalid: the login page with #error
	KindLogout                 // POST /logout: 303 to /login
	KindLoggedOut              // GET / after the logout: 303 to /login?next=%2F
	KindHome                   // GET /: the files page
	KindAdmin                  // GET /admin: the admin page
	KindStream                 // GET /stream: the chunked page, served by the isolate workers
	KindUpload                 // POST /files, Accept JSON: 201 and the file's JSON
	KindDownload               // GET /files/{id}: the same bytes
	KindDelete                 // POST /files/{id}/delete: 303 to /
	KindFormUpload             // POST /files, no-JS form: 303 to /, a flash in the session
	KindFlash                  // GET / after a form upload: the flash and the new row
	KindTooLarge               // POST /files, Accept JSON, max-upload+1 bytes: 413 "too large"
	KindAPIList                // GET /api/files with the bearer token: 200 JSON
	KindAPIUpload              // POST /api/files with the bearer token: 201 JSON
	KindAPINoToken             // GET /api/files without a token: 401 JSON
	KindAPIDelete              // DELETE /api/files/{id} of a file left by a fault: 204 (404: gone already)
	KindHealth                 // GET /healthz: 200 "ok"
	KindDrop                   // POST of an upload whose client hangs up mid-body (raw socket)
	numKinds
)

var kindNames = [numKinds]string{
	KindLogin:      "login",
	KindLoginBad:   "login (bad)",
	KindLoginPage:  "page /login (error)",
	KindLogout:     "logout",
	KindLoggedOut:  "page / (logged out)",
	KindHome:       "page /",
	KindAdmin:      "page /admin",
	KindStream:     "stream",
	KindUpload:     "upload (JSON)",
	KindDownload:   "download",
	KindDelete:     "delete",
	KindFormUpload: "upload (form, flash)",
	KindFlash:      "page / (flash)",
	KindTooLarge:   "upload too large",
	KindAPIList:    "api list",
	KindAPIUpload:  "api upload",
	KindAPINoToken: "api no token",
	KindAPIDelete:  "api delete (clean-up)",
	KindHealth:     "healthz",
	KindDrop:       "dropped upload",
}

// String returns the kind's name as the report prints it.
func (k Kind) String() string {
	if k < 0 || k >= numKinds {
		return "unknown"
	}
	return kindNames[k]
}

// Reach tells whether a request's line and headers reached the server.
type Reach uint8

const (
	// ReachYes: an answer came back, or (a dropped upload) the client
	// wrote the whole header block before hanging up.
	ReachYes Reach = iota
	// ReachMaybe: the client got no answer (a transport error); the
	// request may or may not have reached the server.
	ReachMaybe
)

// Record is one request the generator sent, and what came of it.
type Record struct {
	ID     string        // the X-Request-ID it carried
	Kind   Kind          // its type
	Path   string        // its path
	Start  time.Duration // since the start of the run
	End    time.Duration // when the answer was read to its end (or failed)
	Status int           // the status, 0 when none came
	// Broken: the connection failed (no answer, or the body was cut).
	Broken bool
	// Problem says why the answer is wrong; "" when it is right.
	Problem string
	// Excuse says why an answer other than the usual one is right (the
	// session was lost with Redis, the brute-force limit answered 429).
	Excuse string
	// Reached tells whether the request reached the server.
	Reached Reach
}

// Outcome is the judgement of a record.
type Outcome uint8

const (
	// OK: the usual answer, checked.
	OK Outcome = iota
	// Expected: another answer the situation explains (Excuse).
	Expected
	// Fault: a failure (5xx, a broken connection) during a fault window.
	Fault
	// Failed: a wrong answer that nothing explains.
	Failed
)

var outcomeNames = [...]string{OK: "ok", Expected: "expected", Fault: "in fault window", Failed: "FAILED"}

// String returns the outcome's name.
func (o Outcome) String() string {
	if int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return "unknown"
}

// Window is a time when a fault was in effect, from Start to End (the
// recovery) plus Grace.
type Window struct {
	Name  string        // e.g. "redis stopped #1"
	Start time.Duration // when the fault was injected
	End   time.Duration // when the system had recovered
	Grace time.Duration // added after End
	Note  string        // what happened
}

// Covers reports whether a request that ran from start to end overlaps
// the window (grace included).
func (w Window) Covers(start, end time.Duration) bool {
	return start <= w.End+w.Grace && end >= w.Start
}

// windowOf returns the first window that covers [start, end], or nil.
func windowOf(windows []Window, start, end time.Duration) *Window {
	for i := range windows {
		if windows[i].Covers(start, end) {
			return &windows[i]
		}
	}
	return nil
}

// faultLike reports whether a record failed the way a fault makes
// requests fail: a 5xx, or a broken connection. Only those are excused in
// a fault window; a wrong body or an unexpected 4xx never is.
func (r *Record) faultLike() bool {
	return r.Status >= 500 || r.Broken
}

// Classify judges a record against the fault windows.
func Classify(r *Record, windows []Window) Outcome {
	if r.Problem == "" && !r.Broken && r.Status < 500 {
		if r.Excuse != "" {
			return Expected
		}
		return OK
	}
	if r.faultLike() && windowOf(windows, r.Start, r.End) != nil {
		return Fault
	}
	return Failed
}
