package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/redis/go-redis/v9"

	"github.com/wsapi-go/wsapi"
	"github.com/wsapi-go/wsapi/filter"
	"github.com/wsapi-go/wsapi/filters/auth"
	"github.com/wsapi-go/wsapi/filters/isolate"
	"github.com/wsapi-go/wsapi/filters/logging"
	"github.com/wsapi-go/wsapi/filters/mux"
	"github.com/wsapi-go/wsapi/filters/session"
	"github.com/wsapi-go/wsapi/filters/upload"
)

// The types a file's content may have, as the upload filter sniffs it
// (http.DetectContentType); anything else, such as HTML, is refused.
var allowedTypes = []string{
	"text/plain",
	"image/png", "image/jpeg", "image/gif", "image/webp",
	"application/pdf", "application/zip",
	"application/octet-stream",
}

// Settings that have no flag.
const (
	maxFilesPerUpload = 16
	requestDeadline   = 2 * time.Minute  // the longest a request may take in the app (not downloads, uploads, /stream)
	maxInApp          = 256              // requests in the app at once (bulkhead)
	smallBodyTimeout  = 5 * time.Second  // the time a request other than an upload has to send its body
	maxSmallBody      = 64 << 10         // the largest body of a request other than an upload (a login form is a few dozen bytes)
	ioIdleTimeout     = 30 * time.Second // an upload, download or stream that moves no byte for this long is cut
	minUploadRate     = 16 << 10         // bytes per second: an upload gets at most MaxBodyBytes / minUploadRate, and an hour at least
	maxQueued         = 1024             // requests waiting for a slot
	maxQueueWait      = 10 * time.Second
	limitWindow       = 15 * time.Minute
	clientAttempts    = 50 // failed logins or tokens per client in the window
	userAttempts      = 10 // failed logins per user name in the window
)

// server is the whole app: its filter stack, its parts and what they
// hold open.
type server struct {
	cfg     *config
	log     *slog.Logger
	started time.Time

	handler http.Handler // the stack around the mux
	stack   wsapi.Stack
	mux     *mux.Mux
	pages   *pages
	files   *store
	users   *auth.Htpasswd

	sessions     *session.Store
	redis        *redis.Client
	workers      io.Closer // nil when /stream runs in this process
	workersReady func() int
	accessLog    *os.File
	maxBody      int64 // the upload filter's MaxBodyBytes
}

// newServer builds the app from cfg: it writes the demo user's htpasswd
// line and the Lua app into the data directory, opens the session store
// (and Redis), starts the stream's worker processes, and composes the
// filter stack. cfg.Password and cfg.Token must be set. Close releases it
// all.
func newServer(cfg *config, log *slog.Logger) (_ *server, err error) {
	if cfg.Password == "" || cfg.Token == "" {
		return nil, errors.New("showcase: the demo password and token must be set")
	}
	s := &server{cfg: cfg, log: log, started: time.Now()}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	for _, d := range []struct{ flag, path string }{{"-data", cfg.Data}, {"-tmp", cfg.Tmp}, {"-data", filepath.Join(cfg.Data, "files")}} {
		if err := privateDir(d.path); err != nil {
			return nil, fmt.Errorf("showcase: %s: %w", d.flag, err)
		}
	}
	if s.pages, err = loadPages(); err != nil {
		return nil, fmt.Errorf("showcase: templates: %w", err)
	}
	if s.files, err = newStore(filepath.Join(cfg.Data, "files")); err != nil {
		return nil, fmt.Errorf("showcase: %w", err)
	}
	s.files.log = log
	if n := s.files.sweep(time.Now()) + sweepTmp(cfg.Tmp, time.Now()); n > 0 {
		log.Info("showcase: removed files that a crash left behind", "count", n)
	}

	// Users: an htpasswd file with bcrypt hashes; the demo user is an
	// admin. Users added to the file later (htpasswd -B) can log in
	// without a restart: the filter reads the file again when it changes.
	htpasswd := filepath.Join(cfg.Data, "htpasswd")
	if err := writeHtpasswd(htpasswd, demoUser, cfg.Password); err != nil {
		return nil, fmt.Errorf("showcase: writing %s: %w", htpasswd, err)
	}
	s.users = &auth.Htpasswd{File: htpasswd, Roles: map[string][]string{demoUser: {"admin"}}, Logger: log}
	if err := s.users.Load(); err != nil {
		if _, ok := s.users.Lookup(demoUser); !ok {
			return nil, fmt.Errorf("showcase: %w", err)
		}
		log.Warn("showcase: some lines of the htpasswd file are left out", "error", err.Error())
	}

	// Sessions: in memory by default; in Redis or PostgreSQL to share them
	// between instances.
	storeURL := "memory:"
	switch {
	case cfg.Postgres != "":
		storeURL = cfg.Postgres
	case cfg.Redis != "":
		storeURL = redisURL(cfg.Redis)
	}
	if s.sessions, err = session.OpenStore(storeURL); err != nil {
		return nil, fmt.Errorf("showcase: %w", err)
	}
	sessions := session.New(s.sessions)
	sessions.CookiePath = "/" // one session for every part of the site

	// Brute-force limits on passwords and tokens: in this process, or in
	// Redis so that all instances share the counts.
	var clientLim, userLim auth.Limiter = auth.NewMemoryLimiter(clientAttempts, limitWindow), auth.NewMemoryLimiter(userAttempts, limitWindow)
	if cfg.Redis != "" {
		opts, err := redis.ParseURL(redisURL(cfg.Redis))
		if err != nil {
			return nil, fmt.Errorf("showcase: -redis: %w", err)
		}
		s.redis = redis.NewClient(opts)
		cl := auth.NewRedisLimiter(s.redis, clientAttempts, limitWindow)
		cl.Prefix = "showcase:limit:client:"
		ul := auth.NewRedisLimiter(s.redis, userAttempts, limitWindow)
		ul.Prefix = "showcase:limit:user:"
		clientLim, userLim = cl, ul
	}

	// The site's own login: session strategy, login page, CSRF protection
	// (on by default), limits, and failure pages.
	web := auth.New(siteSession{auth.NewSession(s.users)})
	web.Users = s.users
	web.LoginPath = "/login"
	web.AfterLogout = "/login"
	web.Realm = "showcase"
	web.ClientLimiter, web.UserLimiter = clientLim, userLim
	web.FailureHandler = s.denied

	// The API's bearer token: only its SHA-256 hash is kept.
	bearer := auth.NewBearer()
	if err := bearer.Add(auth.HashToken(cfg.Token), auth.Identity{Name: demoUser, Scopes: []string{"files"}}); err != nil {
		return nil, fmt.Errorf("showcase: %w", err)
	}
	api := auth.New(bearer)
	api.Realm = "showcase API"
	api.ClientLimiter, api.UserLimiter = clientLim, userLim
	api.FailureHandler = s.denied

	logs := logging.New(os.Stderr)
	switch {
	case cfg.logOut != nil:
		logs.Out = cfg.logOut
	case cfg.AccessLog != "":
		if s.accessLog, err = os.OpenFile(cfg.AccessLog, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600); err != nil {
			return nil, fmt.Errorf("showcase: -access-log: %w", err)
		}
		logs.Out = s.accessLog
	}
	logs.Skip = []string{"/healthz"}

	// Isolation: panics recovered, at most maxInApp requests in the app
	// with a queue, and, next to the app, a deadline per request.
	//
	// The bulkhead's place: it comes after frontDoor, which answers
	// /healthz and reads the small bodies (a login form) in full, under
	// smallBodyTimeout and maxSmallBody, before a request may take a
	// slot. A client that trickles its body, logged in or not, thus
	// never holds a slot: it is cut after a few seconds at the door. The
	// requests that do hold a slot for long are uploads (their body is
	// read in the app), downloads and streams, and the auth filter lets
	// those through for logged-in users only, so anonymous clients
	// cannot starve the site; they get at most a bcrypt comparison per
	// login, which the brute-force limits bound. The bulkhead stays in
	// front of session and auth so that it also bounds the session
	// store's and bcrypt's work.
	iso := isolate.New(0, cfg.limit(cfg.maxInApp, maxInApp))
	iso.Bulkhead.Queue = maxQueued
	iso.Bulkhead.MaxWait = maxQueueWait
	deadline := &isolate.Deadline{Timeout: cfg.dur(cfg.requestDeadline, requestDeadline)}

	up := upload.New()
	up.MaxFileBytes = cfg.MaxUpload
	up.MaxFiles = maxFilesPerUpload
	up.MaxBodyBytes = 4*cfg.MaxUpload + 1<<20
	up.AllowedTypes = allowedTypes
	up.Sink = upload.DirSink{Dir: cfg.Tmp}
	s.maxBody = up.MaxBodyBytes

	s.stack = wsapi.New(logs, filter.Named("securityHeaders", securityHeaders), filter.Named("refuseDotSegments", s.refuseDotSegments),
		filter.Named("frontDoor", s.frontDoor), iso, sessions, web, up,
		filter.Named("isolate.Deadline (not for uploads, downloads, /stream)", s.deadlineExceptTransfers(deadline)))

	// The parts, each mounted on the mux with the rules it needs.
	stream, err := s.streamApp()
	if err != nil {
		return nil, err
	}
	lua, err := s.luaApp()
	if err != nil {
		return nil, fmt.Errorf("showcase: the Lua app: %w", err)
	}
	s.mux = mux.New()
	s.mux.Mount("/", s.siteRouter(web))
	s.mux.Mount("/api", wsapi.New(api, auth.RequireScope("files")).Then(s.apiRouter()))
	s.mux.Mount("/stream", auth.Require().Wrap(filter.Func(withStreamUser).Wrap(stream)))
	s.mux.Mount("/admin", auth.RequireRole("admin").Wrap(s.recoverPage(http.HandlerFunc(s.adminPage))))
	s.mux.Mount("/lua", auth.Require().Wrap(luaHeaders(lua)))
	s.handler = s.stack.Then(s.mux)
	return s, nil
}

// streamApp returns the app mounted at /stream: a proxy to the worker
// processes when -workers is above 0, the stream app itself otherwise.
func (s *server) streamApp() (http.Handler, error) {
	if s.cfg.Workers > 0 {
		h, ready, closer, err := startWorkers(s.cfg.Workers)
		if err == nil {
			s.workers, s.workersReady = closer, ready
			return h, nil
		}
		s.log.Warn("showcase: /stream is served in this process", "error", err.Error())
	}
	return newStreamApp(s.pages, "the server process"), nil
}

// siteRouter is the app at "/": the pages, the login and the files.
func (s *server) siteRouter(web *auth.Filter) http.Handler {
	r := chi.NewRouter()
	r.Use(s.recoverPage, middleware.GetHead)
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, http.StatusNotFound, "There is no page at this address.")
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, http.StatusMethodNotAllowed, "This page does not take "+r.Method+" requests.")
	})
	r.Get("/healthz", healthz)
	r.Handle("/static/*", s.staticFiles())
	r.Get("/login", s.loginPage)
	r.Post("/login", web.LoginHandler().ServeHTTP)
	r.Post("/logout", web.LogoutHandler().ServeHTTP)
	r.Group(func(r chi.Router) {
		r.Use(auth.Require().Wrap)
		r.Get("/", s.filesPage)
		r.Post("/files", s.uploadPage)
		r.Get("/files/{id}", s.download)
		r.Post("/files/{id}/delete", s.deletePage)
	})
	return r
}

// apiRouter is the JSON API at /api, behind the bearer token.
func (s *server) apiRouter() http.Handler {
	r := chi.NewRouter()
	r.Use(s.recoverPage, middleware.GetHead)
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, http.StatusNotFound, "no such API endpoint")
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed here")
	})
	r.Get("/files", s.apiList)
	r.Post("/files", s.apiUpload)
	r.Get("/files/{id}", s.download)
	r.Delete("/files/{id}", s.apiDelete)
	return r
}

// Close stops the workers and releases the session store, Redis and the
// access log. The server must have stopped serving.
func (s *server) Close() error {
	var errs []error
	if s.workers != nil {
		errs = append(errs, s.workers.Close())
	}
	if s.sessions != nil {
		errs = append(errs, s.sessions.Close())
	}
	if s.redis != nil {
		errs = append(errs, s.redis.Close())
	}
	if s.accessLog != nil {
		errs = append(errs, s.accessLog.Close())
	}
	return errors.Join(errs...)
}

// siteSession is the session-login strategy for the site only: under /api
// a request is never logged in by its cookie, so the API knows bearer
// tokens alone (no token is a 401 there, even for a browser that is logged
// in). It keeps the strategy's Needs: the stack still checks that a
// session filter is outside the auth filter.
type siteSession struct{ *auth.Session }

// Authenticate passes API requests on (auth.ErrNotMine) and asks the
// session strategy for the others.
func (s siteSession) Authenticate(r *http.Request) (*auth.Identity, error) {
	if p := path.Clean("/" + r.URL.Path); p == "/api" || strings.HasPrefix(p, "/api/") {
		return nil, auth.ErrNotMine
	}
	return s.Session.Authenticate(r)
}

// redisURL makes a redis:// URL of an address such as 127.0.0.1:6379; a
// URL is kept as it is.
func redisURL(addr string) string {
	if strings.Contains(addr, "://") {
		return addr
	}
	return "redis://" + addr + "/0"
}

// securityHeaders sets the headers every answer carries: no content-type
// sniffing, no framing by other sites, no referrer sent elsewhere.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

// refuseDotSegments answers 400 to a path with a "." or ".." segment,
// also percent-encoded ("/files/%2e%2e", "/files/..%2fhtpasswd"). Browsers
// resolve such segments before they send a request, so only a probe sends
// them; the mux would resolve them too ("/files/.." is "/"), but refusing
// them outright keeps every handler from ever seeing one.
func (s *server) refuseDotSegments(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for seg := range strings.SplitSeq(r.URL.Path, "/") {
			if seg == "." || seg == ".." {
				s.fail(w, r, http.StatusBadRequest, "The address has a \".\" or \"..\" segment, which this site does not take.")
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// healthz answers load balancers: 200 "ok", no login needed.
func healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = io.WriteString(w, "ok")
}

// staticFiles serves the embedded CSS and JavaScript under /static/, with
// no directory listings.
func (s *server) staticFiles() http.Handler {
	files := http.FileServerFS(staticFS)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/")
		if info, err := fs.Stat(staticFS, name); err != nil || info.IsDir() {
			s.fail(w, r, http.StatusNotFound, "There is no file at this address.")
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=300")
		r.Header.Del("Range") // a few KiB: ranges buy nothing, and many small ones amplify
		files.ServeHTTP(w, r)
	})
}
