package filter

import "net/http"

// SessionService is the name a session filter provides (see [Provider])
// and that filters relying on sessions need (see [Need]): auth's session
// login, for one.
const SessionService = "session"

// Sessions is the session service a session filter offers to the filters
// and apps inside it, so that a filter can use the request's session
// without importing the session filter's package. Its methods take the
// request, whose exchange carries the session:
//
//   - GetString returns the string stored under key, or "" when there is
//     none (or the value is not a string);
//   - Put stores val under key;
//   - Remove deletes key (no error when it is missing);
//   - RenewToken gives the session a new token, keeping its data (call it
//     on login and on every change of privilege);
//   - Destroy deletes the session and tells the client to drop its cookie.
//
// The changes return an error when the session cannot be changed, for
// example because the response headers are already out.
type Sessions interface {
	GetString(r *http.Request, key string) string
	Put(r *http.Request, key string, val any) error
	Remove(r *http.Request, key string) error
	RenewToken(r *http.Request) error
	Destroy(r *http.Request) error
}

var sessionsKey = NewKey[Sessions]("sessions")

// SetSessions registers s as the session service of the exchange x.
// A session filter calls it for each request, after loading the session;
// a nil x is ignored. Storing a pointer or a zero-size value does not
// allocate.
func SetSessions(x *Exchange, s Sessions) {
	if x != nil {
		sessionsKey.Set(x, s)
	}
}

// SessionsOf returns the session service of r, or nil when no session
// filter has run for r.
func SessionsOf(r *http.Request) Sessions {
	s, _ := sessionsKey.Get(From(r))
	return s
}
