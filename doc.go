// Package wsapi brings Lua's WSAPI (the Kepler project's Web Server API,
// modelled on Ruby's Rack and Python's WSGI) to Go: filters, written once,
// stacked in any order around any app, in any framework.
//
// The contract that filters and apps meet lives in package
// [github.com/wsapi-go/wsapi/filter]. This package builds on it:
//
//   - [Stack], an immutable list of filters, composed once with
//     [Stack.Then]; it is itself a filter, so it mounts on chi with
//     r.Mount("/api", stack.Then(app)) or r.Use(stack.Wrap).
//
// # Roles
//
//	application   a framework app, a plain handler, a WSAPI-style AppFunc
//	-----------
//	filter        session, logging, upload, auth, isolate, mux ...
//	filter
//	-----------
//	server        net/http, CGI, FastCGI
//
// "Below" a filter means closer to the server: earlier in a Stack. A filter
// that needs another (auth needs a session) needs it below, and the Stack
// checks that when it is built.
package wsapi
