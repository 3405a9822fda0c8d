package mux

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/wsapi-go/wsapi/filter"
)

// Errors Forward returns. Forward writes nothing when it fails: the app
// answers as it sees fit.
var (
	// ErrNotMounted: the request did not come through a mux.
	ErrNotMounted = errors.New("mux: the request did not come through a mux")
	// ErrForwardLoop: the request was forwarded Mux.MaxForwards times
	// already.
	ErrForwardLoop = errors.New("mux: too many forwards (a forward loop?)")
	// ErrHeadersSent: the response has begun, so another app cannot
	// answer.
	ErrHeadersSent = errors.New("mux: forward after the headers were sent")
	// ErrBadTarget: the target is not a path with an optional query.
	ErrBadTarget = errors.New("mux: a forward target must be a path starting with \"/\", with an optional query")
)

// Forward re-dispatches r, from inside an app, to target in the mux that
// dispatched it (WSAPI's response.forward): target is a path below that
// mux's own mount point, as the mux's patterns are, optionally with a query
// that replaces the request's (without one, the request's query stays).
// The app that was forwarded to answers on w; the app that called Forward
// must then return without writing. Method, headers, body and the
// exchange's annotations stay as they are; the mount point and PATH_INFO
// are those of the new target.
//
// Forward fails with ErrNotMounted outside a mux, ErrHeadersSent once the
// response has begun, ErrBadTarget for a target that is not a local path,
// and ErrForwardLoop after Mux.MaxForwards forwards of one request (the
// event "mux:forward:loop" is published then).
func Forward(w http.ResponseWriter, r *http.Request, target string) error {
	x := filter.From(r)
	d, ok := dispatchKey.Get(x)
	if !ok {
		return ErrNotMounted
	}
	if x.HeadersSent() {
		return ErrHeadersSent
	}
	if target == "" || target[0] != '/' || strings.HasPrefix(target, "//") || strings.ContainsAny(target, "#\\") {
		return ErrBadTarget
	}
	u, err := url.Parse(target)
	if err != nil || u.Scheme != "" || u.Host != "" || u.Opaque != "" {
		return ErrBadTarget
	}
	m := d.rt.m
	n, _ := forwardsKey.Get(x)
	if n >= m.MaxForwards {
		m.Hub.Publish("mux:forward:loop", r, ErrForwardLoop)
		return ErrForwardLoop
	}
	forwardsKey.Set(x, n+1)

	r2 := new(http.Request)
	*r2 = *r
	u2 := *r.URL
	u2.Path = d.base + u.Path
	u2.RawPath = ""
	if u.RawPath != "" {
		u2.RawPath = d.escBaseOrBase() + u.RawPath
	}
	if u.RawQuery != "" || u.ForceQuery {
		u2.RawQuery = u.RawQuery
	}
	r2.URL = &u2
	r2.Pattern = ""
	d.rt.serve(x, w, r2, true, d.base, true)
	return nil
}

// escBaseOrBase returns the base as the escaped path spells it.
func (d *dispatch) escBaseOrBase() string {
	if d.escBase != "" {
		return d.escBase
	}
	return (&url.URL{Path: d.base}).EscapedPath()
}
