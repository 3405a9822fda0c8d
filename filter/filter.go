package filter

import (
	"net/http"
	"reflect"
	"runtime"
	"strings"
)

// App is an application: anything that answers a request. Every
// [http.Handler] is an App, and so is an [AppFunc], a WSAPI-style function.
type App = http.Handler

// Filter is middleware: an application to the server below it and a server
// to the application above it. Wrap returns the handler that runs the filter
// around next; it is called once, when a stack is built, never per request.
//
// The method value f.Wrap is a plain func(http.Handler) http.Handler, so any
// Filter drops into chi's Router.Use, alice, Go's ServeMux or a
// hand-written chain. Echo and gin pass their own context instead of the
// request and writer, and answer a handler's error after the middleware
// returned: the adapters in the modules
// github.com/wsapi-go/wsapi/adapters/wsecho and .../adapters/wsgin carry
// the filter's request and writer through, and answer inside the filter.
type Filter interface {
	Wrap(next http.Handler) http.Handler
}

// Func adapts an ordinary middleware function (chi's middleware, zerolog's
// hlog handlers, alice constructors, gorilla handlers) into a [Filter]:
// Func(mw).Wrap(h) is mw(h).
type Func func(next http.Handler) http.Handler

// Wrap returns f(next).
func (f Func) Wrap(next http.Handler) http.Handler { return f(next) }

// Name reports the name of the function f adapts, such as
// "middleware.Logger", for listing a stack.
func (f Func) Name() string {
	if f == nil {
		return "<nil>"
	}
	name := runtime.FuncForPC(reflect.ValueOf(f).Pointer()).Name()
	return shortFuncName(name)
}

// shortFuncName turns "github.com/go-chi/chi/v5/middleware.Logger" into
// "middleware.Logger" and drops the ".funcN" suffixes of closures.
func shortFuncName(name string) string {
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	for {
		i := strings.LastIndex(name, ".func")
		if i < 0 || strings.Trim(name[i+len(".func"):], "0123456789.") != "" {
			break
		}
		name = name[:i]
	}
	return name
}

// Named gives mw a name for a stack's listing: Named("chi.Logger", mw) is a
// Filter that behaves exactly as [Func](mw).
func Named(name string, mw func(http.Handler) http.Handler) Filter {
	return named{name: name, mw: mw}
}

type named struct {
	name string
	mw   func(http.Handler) http.Handler
}

func (n named) Wrap(next http.Handler) http.Handler { return n.mw(next) }
func (n named) Name() string                        { return n.name }

// Namer is implemented by filters that tell their name, for listing a stack
// in a start-up log or a debug page. Filters without it are listed by type.
type Namer interface {
	Name() string
}

// A Need is a service that a filter expects a filter outside it (earlier in
// a stack, closer to the server) to provide, such as "session".
type Need struct {
	// Service names what is needed; it matches a name in some other
	// filter's Provides list.
	Service string
	// Hint tells the user how to provide it, for example
	// "session.New(store) from filters/session".
	Hint string
}

// Needer is implemented by filters that need services from filters outside
// them. A stack checks needs once, when it is built, and refuses to build
// when one is not met.
type Needer interface {
	Needs() []Need
}

// Provider is implemented by filters that offer services to the filters
// inside them (after them in a stack).
type Provider interface {
	Provides() []string
}

// NameOf returns the name a stack lists for f: its Name method when it has
// one, otherwise its type without the package path.
func NameOf(f Filter) string {
	switch f := f.(type) {
	case nil:
		return "<nil>"
	case Namer:
		return f.Name()
	}
	t := reflect.TypeOf(f).String()
	t = strings.TrimPrefix(t, "*")
	return t
}
