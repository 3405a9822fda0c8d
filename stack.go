package wsapi

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/wsapi-go/wsapi/filter"
)

// Stack is an immutable list of filters, layered between the server and an
// app. The first filter listed is the outermost: it sees the request first
// and the response last, so New(a, b).Then(h) serves as
// a.Wrap(b.Wrap(h)).
//
// Building a new Stack copies: Append never changes the stack it is called
// on, and two stacks appended from one never share storage. Then composes
// the filters once, at build time; nothing is composed per request.
//
// A Stack is itself a [filter.Filter], so stacks nest: a stack listed in
// another is spliced in place, and its needs are checked against the
// filters of the whole. The zero Stack is empty and ready to use.
type Stack struct {
	filters []filter.Filter
	logger  *slog.Logger
}

var (
	_ filter.Filter   = Stack{}
	_ filter.Namer    = Stack{}
	_ filter.Needer   = Stack{}
	_ filter.Provider = Stack{}
)

// New returns a stack of filters, the first one outermost. It panics when a
// filter is nil.
func New(filters ...filter.Filter) Stack {
	return Stack{}.Append(filters...)
}

// Append returns a new stack with filters added inside the existing ones
// (closer to the app). s is not changed.
func (s Stack) Append(filters ...filter.Filter) Stack {
	out := Stack{logger: s.logger, filters: make([]filter.Filter, 0, len(s.filters)+len(filters))}
	out.filters = append(out.filters, s.filters...)
	for i, f := range filters {
		switch f := f.(type) {
		case nil:
			panic(fmt.Sprintf("wsapi: filter %d of %d given to New or Append is nil: remove it or construct the filter first", i+1, len(filters)))
		case Stack:
			out.filters = append(out.filters, f.filters...)
			if out.logger == nil {
				out.logger = f.logger
			}
		case *Stack:
			if f == nil {
				panic(fmt.Sprintf("wsapi: filter %d of %d given to New or Append is a nil *Stack", i+1, len(filters)))
			}
			out.filters = append(out.filters, f.filters...)
			if out.logger == nil {
				out.logger = f.logger
			}
		default:
			out.filters = append(out.filters, f)
		}
	}
	out.filters = slices.Clip(out.filters)
	return out
}

// WithLogger returns a new stack whose requests log through l: the error
// stream of WSAPI-style apps ([filter.Env.Errors]) and the reports of
// filters go there. Without it they go to slog.Default (standard error)
// unless a logging filter sets a logger.
func (s Stack) WithLogger(l *slog.Logger) Stack {
	s.filters = slices.Clip(s.filters)
	s.logger = l
	return s
}

// Then returns app wrapped in the stack's filters. It checks the filters'
// needs first and panics, with a message that says what to add where, when
// one is not met. It panics when app is nil or a filter's Wrap returns nil.
//
// For an empty stack, Then returns app itself.
func (s Stack) Then(app http.Handler) http.Handler {
	if app == nil {
		panic("wsapi: Stack.Then(nil): pass the app the filters wrap, such as http.NotFoundHandler() for a stack that only filters")
	}
	if err := s.Check(); err != nil {
		panic(err.Error())
	}
	h := app
	for i := len(s.filters) - 1; i >= 0; i-- {
		f := s.filters[i]
		h = f.Wrap(h)
		if h == nil {
			panic(fmt.Sprintf("wsapi: filter %s (number %d in the stack) returned a nil handler from Wrap", filter.NameOf(f), i+1))
		}
	}
	if s.logger != nil {
		h = withLogger(s.logger, h)
	}
	if len(s.filters) == 0 && s.logger == nil {
		return app
	}
	return &stackHandler{h: h, app: app}
}

// stackHandler is what Then returns: the composed filters, and the app at
// their heart for Unwrap.
type stackHandler struct {
	h, app http.Handler
}

func (s *stackHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.h.ServeHTTP(w, r) }

// Unwrap returns the app the stack's filters wrap, so that code holding
// the handler can learn what serves in the end (a mux detects a chi router
// this way).
func (s *stackHandler) Unwrap() http.Handler { return s.app }

// ThenFunc is Then(fn) for a handler function.
func (s Stack) ThenFunc(fn http.HandlerFunc) http.Handler {
	if fn == nil {
		return s.Then(nil)
	}
	return s.Then(fn)
}

// Wrap is [Stack.Then]: it makes a Stack a filter, and its method value
// s.Wrap a plain middleware for chi's r.Use or any other chain.
func (s Stack) Wrap(next http.Handler) http.Handler { return s.Then(next) }

// Len returns the number of filters in the stack.
func (s Stack) Len() int { return len(s.filters) }

// Filters returns a copy of the stack's filters, the outermost first.
func (s Stack) Filters() []filter.Filter { return slices.Clone(s.filters) }

// Names lists the filters' names, the outermost first, for a start-up log
// or a debug page.
func (s Stack) Names() []string {
	names := make([]string, len(s.filters))
	for i, f := range s.filters {
		names[i] = filter.NameOf(f)
	}
	return names
}

// String lists the stack as "logging > session > auth".
func (s Stack) String() string {
	if len(s.filters) == 0 {
		return "(empty stack)"
	}
	return strings.Join(s.Names(), " > ")
}

// Name returns the stack's listing, for a stack nested in another chain.
func (s Stack) Name() string { return "stack(" + strings.Join(s.Names(), ", ") + ")" }

// Provides returns the services the stack's filters provide.
func (s Stack) Provides() []string {
	var out []string
	for _, f := range s.filters {
		if p, ok := f.(filter.Provider); ok {
			out = append(out, p.Provides()...)
		}
	}
	return out
}

// Needs returns the needs of the stack's filters that no filter outside
// them in the stack meets: what a chain around the stack must provide.
func (s Stack) Needs() []filter.Need {
	var out []filter.Need
	s.check(func(_ int, _ filter.Filter, n filter.Need, _ int) { out = append(out, n) })
	return out
}

// Check reports the needs that are not met, one line each, or nil.
func (s Stack) Check() error {
	var errs []error
	s.check(func(i int, f filter.Filter, n filter.Need, later int) {
		name := filter.NameOf(f)
		how := n.Hint
		if how == "" {
			how = "a filter that provides " + n.Service
		}
		if later >= 0 {
			errs = append(errs, fmt.Errorf("wsapi: %s (number %d in the stack) needs %s outside it, but %s comes after it: move %s before %s",
				name, i+1, n.Service, filter.NameOf(s.filters[later]), filter.NameOf(s.filters[later]), name))
			return
		}
		errs = append(errs, fmt.Errorf("wsapi: %s (number %d in the stack) needs %s outside it, and no filter provides it: add %s before %s",
			name, i+1, n.Service, how, name))
	})
	return errors.Join(errs...)
}

// check calls unmet for each need that no earlier filter provides, with the
// index of a later filter that provides it, or -1.
func (s Stack) check(unmet func(i int, f filter.Filter, n filter.Need, later int)) {
	provided := map[string]bool{}
	for i, f := range s.filters {
		if nd, ok := f.(filter.Needer); ok {
			for _, n := range nd.Needs() {
				if provided[n.Service] {
					continue
				}
				later := -1
				for j := i + 1; j < len(s.filters) && later < 0; j++ {
					if p, ok := s.filters[j].(filter.Provider); ok && slices.Contains(p.Provides(), n.Service) {
						later = j
					}
				}
				unmet(i, f, n, later)
			}
		}
		if p, ok := f.(filter.Provider); ok {
			for _, svc := range p.Provides() {
				provided[svc] = true
			}
		}
	}
}

// withLogger attaches the exchange outermost and sets its logger.
func withLogger(l *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		x, w, r, owner := filter.Begin(w, r)
		defer owner.End()
		if !x.HasLogger() {
			x.SetLogger(l)
		}
		next.ServeHTTP(w, r)
	})
}
