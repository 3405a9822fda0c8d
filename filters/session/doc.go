// Package session is the session filter, on github.com/alexedwards/scs/v2.
//
// # Use
//
//	store, err := session.OpenStore("sqlite:///var/lib/app/sessions.db")
//	...
//	sessions := session.New(store)
//	stack := wsapi.New(logs, sessions, auth)
//
// and in any handler, in any framework, or in a WSAPI-style app through
// env.Request():
//
//	n := session.GetInt(r, "visits")
//	if err := session.Put(r, "visits", n+1); err != nil { ... }
//
// # How it saves
//
// The filter loads the session when the request comes in and saves it in a
// before-headers hook of the exchange: just before the status line goes
// out, on the first Write, WriteHeader or Flush, or at the end of an empty
// response. So a change made before the first byte of the response is
// never lost, also when the app flushes first (server-sent events, a
// streamed WSAPI body), and Hijack (WebSockets) goes through untouched. A
// change made after the headers are out is reported (a log line and a
// "session:write:late" event) and saved when the client already holds the
// session's cookie; RenewToken and Destroy then return ErrHeadersSent.
//
// A request that comes without a session cookie gets its new session only
// when something first asks for it; a request that never does (an API
// call, a static file) makes no session at all.
//
// When the client went away before the answer (a dropped upload), a change
// the app made through this package is saved all the same, with a context
// that is not cancelled (for up to 10 seconds). A session the app did not
// change is then not saved: with an IdleTimeout scs re-saves every session
// it loads, and a request that loaded it before a newer one changed it
// would write the old data over the change.
//
// The filter adds no context of its own: the exchange answers scs's context
// lookup, so the Manager's own methods work on r.Context() as well (but
// their changes are not seen as the app's when the client went away).
//
// # Defaults
//
// The cookie is "session", HttpOnly, SameSite=Lax, Secure over TLS (or
// behind a trusted proxy that says https), with the request's mount point
// as its path, so that apps mounted at /a and /b keep separate sessions.
// Tokens are hashed in the store. Sessions expire after 2 hours idle and 24
// hours in all. A cookie that cannot be a token (too long, or not
// base64url) is ignored without asking the store; a token the store does
// not know, or one of a destroyed session, starts a new, empty session.
//
// Login must renew the token (RenewToken) so that a token planted before
// login is worthless after it.
//
// # Errors
//
// When the store fails while loading, the request gets 503 with a short
// body and Retry-After, and the error is logged and published as
// "session:store:error" (ErrorHandler replaces that). When it fails while
// saving, the error is logged and published, and the status becomes 503.
package session
