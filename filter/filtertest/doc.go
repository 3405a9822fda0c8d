// Package filtertest is a test kit for filters and apps built on package
// [filter], as net/http/httptest is for handlers. It brings WSAPI's mock
// environments (make_env_get, make_env_post) and Rack's MockRequest and
// Rack::Lint to Go, and uses the standard library only.
//
// # Mock requests
//
// [NewRequest], [Get], [PostForm] and [PostMultipart] return an
// *http.Request as a server hands it to a handler: RemoteAddr is
// "192.0.2.1:1234", Host is the target's host or "example.com", and a body
// of known length comes with its Content-Length. There are no options: set
// headers and cookies on the request itself.
//
//	r := filtertest.PostForm("/login", url.Values{"user": {"ana"}})
//	r.Header.Set("Accept", "application/json")
//	r.AddCookie(&http.Cookie{Name: "session", Value: "s1"})
//
// Multipart bodies are deterministic (fields in sorted order, a fixed
// boundary), so a test may compare them byte for byte; [MultipartBody]
// returns the raw bytes.
//
// # Recording responses
//
// A [Recorder] is an http.ResponseWriter that keeps the final status, the
// header map as it was when the headers went out, the body, and the order of
// events, so a test can assert that a filter streams:
//
//	rec := filtertest.NewRecorder()
//	h.ServeHTTP(rec, filtertest.Get("/events"))
//	// rec.String() == "header 200, write 5, flush, write 3"
//
// A filter's writer wrapper must keep exactly the optional interfaces
// ([http.Flusher], [http.Hijacker], [io.ReaderFrom], [http.Pusher]) of the
// writer it wraps. [NewWriter] returns a writer with any of the 16 sets of
// them ([Abilities]), recording into a Recorder, and [AbilitiesOf] says
// which a writer has:
//
//	for ab := range filtertest.AllAbilities + 1 {
//		rec, w := filtertest.NewWriter(ab)
//		...
//	}
//
// # Lint
//
// A [Lint] sits around a filter or an app and reports every rule of
// net/http and of package filter that it breaks: a filter calling its app
// twice, headers changed after they were sent, a second final status, a
// Content-Length that does not match the body, a body for HEAD or 204,
// writes after a hijack or after the handler returned, a writer wrapper
// that lost or invented an optional interface, a request whose
// [filter.Env] breaks its invariants. The Lint type lists the checks.
//
//	func TestTimer(t *testing.T) {
//		h := filtertest.Check(t, &Timer{}, app) // reports with t.Errorf
//		h.ServeHTTP(filtertest.NewRecorder(), filtertest.Get("/"))
//	}
//
// Use [NewLint] with a nil testing.TB and [Lint.Problems] to assert on the
// problems themselves. Lint works under a real server too: hand
// Check(t, f, app) to httptest.NewServer.
package filtertest
