package peers

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/rs/zerolog"
	"github.com/rs/zerolog/hlog"
	"github.com/urfave/negroni/v3"

	"github.com/wsapi-go/wsapi"
	"github.com/wsapi-go/wsapi/filters/auth"
	"github.com/wsapi-go/wsapi/filters/isolate"
	"github.com/wsapi-go/wsapi/filters/logging"
	"github.com/wsapi-go/wsapi/filters/mux"
	"github.com/wsapi-go/wsapi/filters/session"
)

// The variants, in the order they are listed and charted.
const (
	Bare    = "bare"
	Full    = "full"
	Chi     = "chi"
	Negroni = "negroni"
)

// Names lists the variants, bare net/http first.
var Names = []string{Bare, Full, Chi, Negroni}

// Titles are the variants' names in tables and charts.
var Titles = map[string]string{
	Bare:    "net/http alone",
	Full:    "wsapi full stack",
	Chi:     "chi + hlog + scs",
	Negroni: "negroni Classic",
}

// Body is what the hello app answers; Path is the path every variant
// serves it at (the full and chi variants mount the app at /hello).
const (
	Body = "Hello Wsapi!\n"
	Path = "/hello/world"
)

var body = []byte(Body)

// Hello is the app of every variant: 200, text/plain, Body.
var Hello = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write(body)
})

// Settings a user would choose for the isolate filters and the timeouts;
// the chi variant's Timeout is the same as the Deadline.
const (
	Timeout      = 10 * time.Second
	MaxInFlight  = 256
	MaxQueued    = 1024
	MaxQueueWait = time.Second
)

// Basic credentials of the chi variant.
const (
	basicUser = "bench"
	basicPass = "peers-bench-password"
)

// Options configure a variant. The zero Options serve Hello and log to
// io.Discard.
type Options struct {
	// App is the app the variant serves; nil means Hello. Tests put a
	// probe there.
	App http.Handler
	// Log is where the variant's access lines go; nil means io.Discard.
	Log io.Writer
}

// Built is a variant ready to serve.
type Built struct {
	// Name is the variant's name, one of Names.
	Name string
	// Handler serves the variant.
	Handler http.Handler
	// Header and Value are the credentials header the request must carry
	// ("" when the variant needs none).
	Header, Value string

	close    func() error
	sessions *scs.SessionManager // the chi variant's, for the tests
}

// Prepare sets the variant's credentials on r.
func (b *Built) Prepare(r *http.Request) {
	if b.Header != "" {
		r.Header.Set(b.Header, b.Value)
	}
}

// Close releases what the variant holds (the session store). It may be
// called more than once.
func (b *Built) Close() error {
	if b.close == nil {
		return nil
	}
	c := b.close
	b.close = nil
	return c()
}

// NewRequest returns the request the benchmarks send: GET Path from
// 127.0.0.1, with a User-Agent, as wrk sends it, without credentials
// (Built.Prepare adds them).
func NewRequest() *http.Request {
	r := httptest.NewRequest(http.MethodGet, Path, nil)
	r.Host = "127.0.0.1:8080"
	r.RemoteAddr = "127.0.0.1:40000"
	r.Header.Set("User-Agent", "peers-bench")
	return r
}

// ErrUnknownVariant is returned by Build for a name not in Names.
var ErrUnknownVariant = errors.New("peers: unknown variant")

// Build makes the variant name with o.
func Build(name string, o Options) (*Built, error) {
	app := o.App
	if app == nil {
		app = Hello
	}
	out := o.Log
	if out == nil {
		out = io.Discard
	}
	switch name {
	case Bare:
		return &Built{Name: name, Handler: app}, nil
	case Full:
		return buildFull(app, out)
	case Chi:
		return buildChi(app, out), nil
	case Negroni:
		return buildNegroni(app, out), nil
	}
	return nil, fmt.Errorf("%w %q: want one of %v", ErrUnknownVariant, name, Names)
}

// FullStack returns the filters of the full variant, the outermost first,
// as a user would configure them, and the mux mounting app at /hello; the
// caller closes the store.
func FullStack(app http.Handler, out io.Writer) (FullFilters, error) {
	store, err := session.OpenStore("memory:")
	if err != nil {
		return FullFilters{}, err
	}
	token, hash := auth.NewToken()
	bearer := auth.NewBearer()
	if err := bearer.Add(hash, auth.Identity{Name: "bench"}); err != nil {
		_ = store.Close()
		return FullFilters{}, err
	}
	iso := isolate.New(0, MaxInFlight) // Recover and Bulkhead; the Deadline goes next to the app
	iso.Bulkhead.Queue = MaxQueued
	iso.Bulkhead.MaxWait = MaxQueueWait
	m := mux.New()
	m.Mount("/hello", app)
	return FullFilters{
		Logging:  logging.New(out),
		Isolate:  iso,
		Session:  session.New(store),
		Auth:     auth.New(bearer),
		Require:  auth.Require(),
		Deadline: &isolate.Deadline{Timeout: Timeout},
		Mux:      m,
		Store:    store,
		Token:    token,
	}, nil
}

// FullFilters are the parts of the full variant, kept apart so that the
// benchmarks can measure each alone.
type FullFilters struct {
	Logging  *logging.Filter
	Isolate  *isolate.Filter
	Session  *session.Filter
	Auth     *auth.Filter
	Require  *auth.Rule
	Deadline *isolate.Deadline
	Mux      *mux.Mux
	// Store is the session store; close it when done.
	Store *session.Store
	// Token is the bearer token the request must carry.
	Token string
}

// Stack returns the full variant's stack: logging > isolate > session >
// auth > auth.Require > isolate.Deadline; its app is Mux.
func (f FullFilters) Stack() wsapi.Stack {
	return wsapi.New(f.Logging, f.Isolate, f.Session, f.Auth, f.Require, f.Deadline)
}

func buildFull(app http.Handler, out io.Writer) (*Built, error) {
	f, err := FullStack(app, out)
	if err != nil {
		return nil, err
	}
	return &Built{
		Name:    Full,
		Handler: f.Stack().Then(f.Mux),
		Header:  "Authorization",
		Value:   "Bearer " + f.Token,
		close:   f.Store.Close,
	}, nil
}

// ChiMiddleware returns the middleware of the chi variant, the outermost
// first, and its session manager: what a chi user builds by hand for the
// full variant's jobs.
func ChiMiddleware(out io.Writer) ([]func(http.Handler) http.Handler, *scs.SessionManager) {
	sm := scs.New() // memory store
	logger := zerolog.New(out).With().Timestamp().Logger()
	return []func(http.Handler) http.Handler{
		middleware.RequestID,
		// RealIP is deprecated since chi 5.5 (it believes any client's
		// forwarding headers), but it is what most chi stacks have, and
		// the cheapest of chi's client-IP middleware: the comparison
		// stays conservative. The benchmark request sends no such header.
		//lint:ignore SA1019 kept as the common (and cheapest) chi stack; see above
		middleware.RealIP,
		hlog.NewHandler(logger),
		hlog.AccessHandler(func(r *http.Request, status, size int, d time.Duration) {
			hlog.FromRequest(r).Info().
				Str("method", r.Method).
				Stringer("url", r.URL).
				Int("status", status).
				Int("size", size).
				Dur("duration", d).
				Msg("")
		}),
		hlog.RequestIDHandler("req_id", "X-Request-Id"),
		hlog.RemoteAddrHandler("ip"),
		hlog.UserAgentHandler("user_agent"),
		middleware.Recoverer,
		middleware.Timeout(Timeout),
		sm.LoadAndSave,
		middleware.BasicAuth("restricted", map[string]string{basicUser: basicPass}),
	}, sm
}

func buildChi(app http.Handler, out io.Writer) *Built {
	mw, sm := ChiMiddleware(out)
	r := chi.NewRouter()
	r.Use(mw...)
	r.Mount("/hello", app)
	return &Built{
		Name:     Chi,
		Handler:  r,
		Header:   "Authorization",
		Value:    "Basic " + base64.StdEncoding.EncodeToString([]byte(basicUser+":"+basicPass)),
		sessions: sm,
	}
}

// NegroniClassic is negroni.Classic (Recovery, Logger, Static on
// "public") with its loggers writing to out instead of standard output.
func NegroniClassic(out io.Writer) *negroni.Negroni {
	recovery := negroni.NewRecovery()
	recovery.Logger = log.New(out, "[negroni] ", 0)
	logger := negroni.NewLogger()
	logger.ALogger = log.New(out, "[negroni] ", 0)
	return negroni.New(recovery, logger, negroni.NewStatic(http.Dir("public")))
}

func buildNegroni(app http.Handler, out io.Writer) *Built {
	n := NegroniClassic(out)
	n.UseHandler(app)
	return &Built{Name: Negroni, Handler: n}
}
