package filtertest

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
)

// NewRequest returns a request as a server hands it to a handler, for
// target with method and body, like [httptest.NewRequest], which it calls:
// method "" means GET; target is a path with an optional query, or an
// absolute URL whose host becomes r.Host (otherwise "example.com"), and an
// "https://" target gets a TLS connection state; RemoteAddr is
// "192.0.2.1:1234". A body that is a *bytes.Buffer, *bytes.Reader or
// *strings.Reader has a known length, which is set both as r.ContentLength
// and, as a server would pass it on, as the Content-Length header.
//
// NewRequest panics when target cannot be parsed. Set headers and cookies on
// the returned request directly (r.Header.Set, r.AddCookie).
func NewRequest(method, target string, body io.Reader) *http.Request {
	r := httptest.NewRequest(method, target, body)
	if r.ContentLength > 0 {
		r.Header.Set("Content-Length", strconv.FormatInt(r.ContentLength, 10))
	}
	return r
}

// Get returns a GET request for target, which may carry a query:
// Get("/search?q=go"). It is WSAPI's make_env_get.
func Get(target string) *http.Request {
	return NewRequest(http.MethodGet, target, nil)
}

// PostForm returns a POST request for target whose body is form, URL
// encoded, with Content-Type application/x-www-form-urlencoded and
// Content-Length set. It is WSAPI's make_env_post. The keys are encoded in
// sorted order, so the body is the same on every run.
func PostForm(target string, form url.Values) *http.Request {
	r := NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return r
}

// PostMultipart returns a POST request for target whose body is a
// multipart/form-data form with fields and files, as [MultipartBody] builds
// it, with its Content-Type (boundary included) and Content-Length set.
func PostMultipart(target string, fields url.Values, files ...File) *http.Request {
	body, contentType := MultipartBody(fields, files...)
	r := NewRequest(http.MethodPost, target, bytes.NewReader(body))
	r.Header.Set("Content-Type", contentType)
	return r
}
