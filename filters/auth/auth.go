package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wsapi-go/wsapi/filter"
)

// Filter is the auth filter: it runs its strategies on each request, puts
// the identity they establish on the exchange, and guards unsafe methods
// against cross-origin requests. New returns one with defaults; set its
// fields before Wrap (or LoginHandler), never after.
type Filter struct {
	// Strategies are tried in order; the first that recognizes the
	// request's credentials decides. A request none of them recognizes
	// goes on anonymous: the Require rules decide what it may reach.
	Strategies []Strategy

	// Users checks the passwords of the login handler. nil means the
	// users of the first Basic or Session strategy that has an Htpasswd
	// (or another Passwords).
	Users Passwords

	// Realm is the realm of the WWW-Authenticate challenges. New sets
	// "restricted".
	Realm string

	// LoginPath is the path of the login page (the one that shows the form
	// posting to LoginHandler). When set, a browser (a request whose
	// Accept header prefers text/html) that must log in is redirected
	// there with 303 See Other, with the page it asked for in the "next"
	// query parameter; API clients get 401. "" (the default) means 401
	// for everyone.
	LoginPath string

	// AfterLogin is where a browser goes after logging in when the form
	// gives no valid "next" path; AfterLogout, after logging out. New sets
	// "/" for both. They must be local paths (see LocalPath).
	AfterLogin, AfterLogout string

	// TrustedOrigins are origins ("https://app.example.com") allowed to
	// send unsafe requests (POST, PUT, DELETE, ...) across origins; see
	// http.CrossOriginProtection.AddTrustedOrigin.
	TrustedOrigins []string

	// NoCrossOriginProtection turns off the cross-origin (CSRF) check of
	// unsafe methods. It is on by default, and also guards the login and
	// logout handlers.
	NoCrossOriginProtection bool

	// ClientLimiter counts failed attempts per client IP, UserLimiter per
	// user name. New sets memory limiters: 50 failures per client and 10
	// per user in 15 minutes. nil turns that limit off.
	ClientLimiter, UserLimiter Limiter

	// MaxLoginBody caps the body of a login request, in bytes. New sets 4
	// KiB.
	MaxLoginBody int64

	// FailureHandler answers every refused request (400, 401, 403, 429):
	// Warden's failure app. The default answers as DefaultFailure does.
	FailureHandler func(w http.ResponseWriter, r *http.Request, d Denial)

	// Events is where the filter publishes "auth:login",
	// "auth:login:failed", "auth:logout", "auth:denied", "auth:limited"
	// and "auth:limiter:error"; nil means filter.DefaultHub.
	Events *filter.Hub

	once sync.Once
	cfg  *config
}

// Passwords checks user names and passwords; *Htpasswd is one. Verify
// returns ErrInvalid for an unknown user and for a wrong password alike.
type Passwords interface {
	Verify(user, password string) (*Identity, error)
}

// New returns an auth filter that tries strategies in order, with the
// defaults its fields describe.
func New(strategies ...Strategy) *Filter {
	return &Filter{
		Strategies:    strategies,
		Realm:         "restricted",
		AfterLogin:    "/",
		AfterLogout:   "/",
		ClientLimiter: NewMemoryLimiter(50, 15*time.Minute),
		UserLimiter:   NewMemoryLimiter(10, 15*time.Minute),
		MaxLoginBody:  4 << 10,
	}
}

var (
	_ filter.Filter   = (*Filter)(nil)
	_ filter.Namer    = (*Filter)(nil)
	_ filter.Needer   = (*Filter)(nil)
	_ filter.Provider = (*Filter)(nil)
)

// Service is the name the auth filter provides and the Require rules need.
const Service = "auth"

// Name returns "auth".
func (f *Filter) Name() string { return "auth" }

// Provides returns "auth": the Require rules inside it find the identity.
func (f *Filter) Provides() []string { return []string{Service} }

// Needs returns what its strategies need: a session filter outside it when
// a Session strategy is among them.
func (f *Filter) Needs() []filter.Need {
	var out []filter.Need
	for _, s := range f.Strategies {
		if n, ok := s.(filter.Needer); ok {
			out = append(out, n.Needs()...)
		}
	}
	return out
}

// config is a Filter compiled once.
type config struct {
	strategies  []Strategy
	users       Passwords
	challenges  []string
	loginPath   string
	afterLogin  string
	afterLogout string
	csrf        *http.CrossOriginProtection // nil when off
	clients     Limiter
	usersLim    Limiter
	maxBody     int64
	fail        func(w http.ResponseWriter, r *http.Request, d Denial)
	events      *filter.Hub
}

// cfgKey holds the config of the auth filter a request went through.
var cfgKey = filter.NewKey[*config]("auth")

// defaultConfig answers for Require rules used without an auth filter.
var defaultConfig = &config{fail: DefaultFailure, events: filter.DefaultHub, challenges: []string{`Bearer realm="restricted"`}}

func configOf(r *http.Request) *config {
	if c, ok := cfgKey.Get(filter.From(r)); ok {
		return c
	}
	return defaultConfig
}

// compile checks the fields and builds the config, once.
func (f *Filter) compile() *config {
	f.once.Do(func() { f.cfg = f.build() })
	return f.cfg
}

func (f *Filter) build() *config {
	c := &config{
		strategies:  append([]Strategy(nil), f.Strategies...),
		users:       f.Users,
		loginPath:   f.LoginPath,
		afterLogin:  cmp(f.AfterLogin, "/"),
		afterLogout: cmp(f.AfterLogout, "/"),
		clients:     f.ClientLimiter,
		usersLim:    f.UserLimiter,
		maxBody:     f.MaxLoginBody,
		fail:        f.FailureHandler,
		events:      f.Events,
	}
	for i, s := range c.strategies {
		if s == nil {
			panic(fmt.Sprintf("auth: strategy %d is nil", i+1))
		}
	}
	if c.loginPath != "" && !LocalPath(c.loginPath) {
		panic("auth: LoginPath " + strconv.Quote(c.loginPath) + " is not a local path such as \"/login\"")
	}
	if !LocalPath(c.afterLogin) || !LocalPath(c.afterLogout) {
		panic("auth: AfterLogin and AfterLogout must be local paths such as \"/\"")
	}
	if c.maxBody <= 0 {
		c.maxBody = 4 << 10
	}
	if c.fail == nil {
		c.fail = DefaultFailure
	}
	if c.events == nil {
		c.events = filter.DefaultHub
	}
	realm := cmp(f.Realm, "restricted")
	realm = strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(realm)
	for _, s := range c.strategies {
		if ch, ok := s.(Challenger); ok {
			c.challenges = append(c.challenges, ch.Challenge(realm))
		}
		if c.users == nil {
			switch s := s.(type) {
			case *Basic:
				if s.Users != nil {
					c.users = s.Users
				}
			case *Session:
				if p, ok := s.Users.(Passwords); ok {
					c.users = p
				}
			}
		}
	}
	if len(c.challenges) == 0 {
		// A 401 must carry a challenge; a login form has no standard one.
		c.challenges = []string{`Session realm="` + realm + `"`}
	}
	if !f.NoCrossOriginProtection {
		c.csrf = http.NewCrossOriginProtection()
		for _, o := range f.TrustedOrigins {
			if err := c.csrf.AddTrustedOrigin(o); err != nil {
				panic("auth: TrustedOrigins: " + err.Error())
			}
		}
	}
	return c
}

func cmp(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// Wrap returns next behind the filter. It panics when a field is invalid
// (a nil strategy, a LoginPath that is not a local path, a bad trusted
// origin).
func (f *Filter) Wrap(next http.Handler) http.Handler {
	if next == nil {
		panic("auth: Wrap(nil): give the filter an app")
	}
	return &handler{c: f.compile(), next: next}
}

type handler struct {
	c    *config
	next http.Handler
}

// ServeHTTP checks the origin of unsafe requests, runs the strategies and
// calls the app.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	x, w, r, owner := filter.Begin(w, r)
	defer owner.End()
	c := h.c
	cfgKey.Set(x, c)
	if c.csrf != nil {
		if err := c.csrf.Check(r); err != nil {
			c.deny(w, r, Denial{Status: http.StatusForbidden, Err: ErrCrossOrigin})
			return
		}
	}
	for _, s := range c.strategies {
		id, err := s.Authenticate(r)
		if err == ErrNotMine {
			continue
		}
		if err != nil {
			c.refuse(w, r, err)
			return
		}
		if id != nil {
			identityKey.Set(x, id)
			x.SetUser(id.Name)
			break
		}
	}
	h.next.ServeHTTP(w, r)
}

// refuse answers a request whose credentials a strategy refused.
func (c *config) refuse(w http.ResponseWriter, r *http.Request, err error) {
	var le *LimitError
	switch {
	case errors.As(err, &le):
		c.deny(w, r, Denial{Status: http.StatusTooManyRequests, Err: err, RetryAfter: le.RetryAfter})
	case errors.Is(err, ErrMalformed):
		c.deny(w, r, Denial{Status: http.StatusBadRequest, Err: err})
	default:
		c.deny(w, r, Denial{Status: http.StatusUnauthorized, Err: err})
	}
}

// More reasons for a Denial.
var (
	// ErrUnauthenticated: the request needs an identity and has none.
	ErrUnauthenticated = errors.New("auth: authentication required")
	// ErrForbidden: the identity is not allowed what it asked for.
	ErrForbidden = errors.New("auth: not allowed")
	// ErrCrossOrigin: an unsafe request from another origin.
	ErrCrossOrigin = errors.New("auth: cross-origin request refused")
)

// Denial is a refused request, as a FailureHandler receives it.
type Denial struct {
	// Status is 400 (malformed credentials), 401 (no or wrong
	// credentials), 403 (not allowed, or a cross-origin request) or 429
	// (too many failures).
	Status int
	// Err says why: ErrMalformed, ErrInvalid, ErrUnauthenticated,
	// ErrForbidden, ErrCrossOrigin, or a *LimitError.
	Err error
	// RetryAfter is how long to wait, for a 429.
	RetryAfter time.Duration
	// Challenges are the WWW-Authenticate values of the filter's
	// strategies, for a 401.
	Challenges []string
	// LoginURL is where to send a browser that must log in: the filter's
	// LoginPath with the page it asked for as "next". It is "" for API
	// clients, and when there is no LoginPath.
	LoginURL string
}

// DefaultFailure answers d: a 303 redirect to d.LoginURL when it is set;
// otherwise d.Status with a short plain-text body, WWW-Authenticate
// challenges for a 401, and Retry-After for a 429.
func DefaultFailure(w http.ResponseWriter, r *http.Request, d Denial) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	if d.LoginURL != "" {
		h.Set("Location", d.LoginURL)
		w.WriteHeader(http.StatusSeeOther)
		return
	}
	var msg string
	switch d.Status {
	case http.StatusBadRequest:
		msg = "400 Bad Request: malformed Authorization header"
	case http.StatusUnauthorized:
		for _, c := range d.Challenges {
			h.Add("WWW-Authenticate", c)
		}
		msg = "401 Unauthorized: authentication required"
		if errors.Is(d.Err, ErrInvalid) {
			msg = "401 Unauthorized: invalid credentials"
		}
	case http.StatusForbidden:
		msg = "403 Forbidden: not allowed"
		if errors.Is(d.Err, ErrCrossOrigin) {
			msg = "403 Forbidden: cross-origin request refused"
		}
	case http.StatusTooManyRequests:
		h.Set("Retry-After", strconv.Itoa(retrySeconds(d.RetryAfter)))
		msg = "429 Too Many Requests: too many failed attempts; try again later"
	default:
		msg = strconv.Itoa(d.Status) + " " + http.StatusText(d.Status)
	}
	http.Error(w, msg, d.Status)
}

// deny completes d, publishes it and hands it to the failure handler.
func (c *config) deny(w http.ResponseWriter, r *http.Request, d Denial) {
	if d.Status == http.StatusUnauthorized {
		d.Challenges = c.challenges
		if errors.Is(d.Err, ErrUnauthenticated) {
			d.LoginURL = c.loginURL(r)
		}
	}
	switch {
	case d.Status == http.StatusTooManyRequests:
		c.publish("auth:limited", r, "", "limited")
	case errors.Is(d.Err, ErrInvalid) || errors.Is(d.Err, ErrMalformed):
		c.publish("auth:login:failed", r, "", reasonOf(d.Err))
	default:
		c.publish("auth:denied", r, "", reasonOf(d.Err))
	}
	c.fail(w, r, d)
}

func reasonOf(err error) string {
	switch {
	case errors.Is(err, ErrInvalid):
		return "invalid"
	case errors.Is(err, ErrMalformed):
		return "malformed"
	case errors.Is(err, ErrLimited):
		return "limited"
	case errors.Is(err, ErrForbidden):
		return "forbidden"
	case errors.Is(err, ErrCrossOrigin):
		return "cross-origin"
	case errors.Is(err, ErrUnauthenticated):
		return "unauthenticated"
	}
	return "error"
}

// loginURL is the login page with r's path as "next", for a browser, or "".
func (c *config) loginURL(r *http.Request) string {
	if c.loginPath == "" || !prefersHTML(r.Header.Get("Accept")) {
		return ""
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return c.loginPath
	}
	next := r.URL.RequestURI()
	if !LocalPath(next) {
		return c.loginPath
	}
	sep := "?"
	if strings.Contains(c.loginPath, "?") {
		sep = "&"
	}
	return c.loginPath + sep + "next=" + url.QueryEscape(next)
}

// Attempt is the Data of the filter's events.
type Attempt struct {
	// User is the user name concerned: given in a login attempt, or
	// established. It comes from the client: escape it before printing.
	User string
	// IP is the client's address.
	IP string
	// Reason says why an attempt failed or was refused: "invalid",
	// "malformed", "limited", "unauthenticated", "forbidden",
	// "cross-origin"; "" for a success.
	Reason string
}

// publish publishes an Attempt on topic when someone listens.
func (c *config) publish(topic string, r *http.Request, user, reason string) {
	if !c.events.Enabled(topic) {
		return
	}
	if user == "" {
		if id := IdentityOf(r); id != nil {
			user = id.Name
		} else {
			user, _ = attemptKey.Get(filter.From(r))
		}
	}
	c.events.Publish(topic, r, Attempt{User: user, IP: clientIP(r), Reason: reason})
}

// checkLimits returns a *LimitError when the client, or user when it is
// not "", has too many recent failures.
func (c *config) checkLimits(r *http.Request, user string) error {
	var wait time.Duration
	if c.clients != nil {
		d, err := c.clients.Check(r.Context(), "ip:"+clientIP(r))
		c.limiterError(r, err)
		wait = max(wait, d)
	}
	if c.usersLim != nil && user != "" {
		d, err := c.usersLim.Check(r.Context(), "user:"+user)
		c.limiterError(r, err)
		wait = max(wait, d)
	}
	if wait > 0 {
		if x := filter.From(r); x != nil && user != "" {
			attemptKey.Set(x, user) // for the event
		}
		return &LimitError{RetryAfter: wait}
	}
	return nil
}

// attemptKey holds the user name of a failed attempt, for the event.
var attemptKey = filter.NewKey[string]("auth:attempt")

// failed records a failed attempt for the client and for user.
func (c *config) failed(r *http.Request, user string) {
	if x := filter.From(r); x != nil && user != "" {
		attemptKey.Set(x, user)
	}
	ctx := context.WithoutCancel(r.Context())
	if c.clients != nil {
		c.limiterError(r, c.clients.Fail(ctx, "ip:"+clientIP(r)))
	}
	if c.usersLim != nil && user != "" {
		c.limiterError(r, c.usersLim.Fail(ctx, "user:"+user))
	}
}

// succeeded clears user's failures.
func (c *config) succeeded(r *http.Request, user string) {
	if c.usersLim != nil && user != "" {
		c.limiterError(r, c.usersLim.Reset(context.WithoutCancel(r.Context()), "user:"+user))
	}
}

func (c *config) limiterError(r *http.Request, err error) {
	if err == nil {
		return
	}
	filter.From(r).Logger().Error("auth: brute-force limiter error; the attempt is let through", "error", err.Error())
	c.events.Publish("auth:limiter:error", r, err)
}
