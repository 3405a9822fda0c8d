package mux

import "net/http"

// CascadeHeader is the response header by which a mounted app passes a
// request on to the next candidate, with the value "pass" and the status
// 404, as in Rack's URLMap. It counts only when Mux.Cascade is set.
const CascadeHeader = "X-Cascade"

// Pass answers r with "404 Not Found" and "X-Cascade: pass": under a mux
// with Cascade set, the next candidate gets the request; elsewhere it is a
// plain 404.
func Pass(w http.ResponseWriter) {
	h := w.Header()
	h.Set(CascadeHeader, "pass")
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusNotFound)
	_, _ = w.Write([]byte("404 page not found\n"))
}

// answers is the cascade's gate decision: every response but a passing 404.
func answers(code int, h http.Header) bool {
	return code != http.StatusNotFound || h.Get(CascadeHeader) != "pass"
}
