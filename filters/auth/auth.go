package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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

	// ClientLimiter counts password and token attempts that were not good
	// per client address, UserLimiter per user name (trimmed and
	// lower-cased); an attempt counts from before its check, so that
	// parallel attempts cannot slip past the limit. nil means the default: a
	// MemoryLimiter of 50 attempts per client and 10 per user in 15
	// minutes. Set NoClientLimit or NoUserLimit to turn a limit off.
	ClientLimiter, UserLimiter Limiter

	// NoClientLimit turns off the limit per client address; NoUserLimit,
	// the limit per user name.
	NoClientLimit, NoUserLimit bool

	// ClientPrefix6 is the length of the IPv6 prefix that the client limit
	// counts as one client: 0 (the default) means 64, the block one
	// subscriber usually holds; 128 counts each address. IPv4 addresses
	// count one by one.
	ClientPrefix6 int

	// SessionLifetime is the longest a session lives: the session
	// manager's Lifetime (24 hours by default in filters/session). A
	// logout remembers the login it ended this long, so that a request in
	// flight at that moment cannot bring the login back by saving the old
	// session. 0 means 24 hours.
	SessionLifetime time.Duration

	// LoginKeepsData keeps, at login, the data of an anonymous visitor's
	// session (a shopping cart) under the new token. Off by default: the
	// login handler starts an empty session, so that nothing put into the
	// session before login (by another user of the browser, or planted by
	// an attacker who fixed the session) carries over. A session that
	// holds another user's login is emptied either way.
	LoginKeepsData bool

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
// defaults its fields describe. A Filter literal gets the same defaults
// for the fields it leaves zero.
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
	prefix6     int
	lifetime    time.Duration
	keepData    bool
	noIPWarned  atomic.Bool
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
		prefix6:     f.ClientPrefix6,
		lifetime:    f.SessionLifetime,
		keepData:    f.LoginKeepsData,
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
	switch {
	case f.NoClientLimit:
		c.clients = nil
	case c.clients == nil:
		c.clients = NewMemoryLimiter(50, 15*time.Minute)
	}
	switch {
	case f.NoUserLimit:
		c.usersLim = nil
	case c.usersLim == nil:
		c.usersLim = NewMemoryLimiter(10, 15*time.Minute)
	}
	if c.prefix6 == 0 {
		c.prefix6 = 64
	}
	if c.prefix6 < 1 || c.prefix6 > 128 {
		panic("auth: ClientPrefix6 must be 1 to 128 (0 means 64)")
	}
	if c.lifetime <= 0 {
		c.lifetime = 24 * time.Hour
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
		if errors.Is(err, ErrNotMine) {
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

// RetrySeconds is d.RetryAfter in whole seconds, rounded up, at least 1:
// the value of a 429's Retry-After header.
func (d Denial) RetrySeconds() int { return retrySeconds(d.RetryAfter) }

// SetHeaders sets on h the headers every answer to d needs, and returns
// the status to answer with. The answer is not to be cached
// (Cache-Control: no-store). When d.LoginURL is set, Location points there
// and the status is 303 See Other; otherwise it is d.Status, with the
// WWW-Authenticate challenges of a 401 and the Retry-After of a 429. A
// FailureHandler that writes a body of its own (a page, JSON) calls it
// first, as DefaultFailure does.
func (d Denial) SetHeaders(h http.Header) int {
	h.Set("Cache-Control", "no-store")
	if d.LoginURL != "" {
		h.Set("Location", d.LoginURL)
		return http.StatusSeeOther
	}
	switch d.Status {
	case http.StatusUnauthorized:
		for _, c := range d.Challenges {
			h.Add("WWW-Authenticate", c)
		}
	case http.StatusTooManyRequests:
		h.Set("Retry-After", strconv.Itoa(d.RetrySeconds()))
	}
	return d.Status
}

// DefaultFailure answers d: a 303 redirect to d.LoginURL when it is set;
// otherwise d.Status with a short plain-text body, WWW-Authenticate
// challenges for a 401, and Retry-After for a 429 (see Denial.SetHeaders).
func DefaultFailure(w http.ResponseWriter, r *http.Request, d Denial) {
	status := d.SetHeaders(w.Header())
	if status == http.StatusSeeOther {
		w.WriteHeader(status)
		return
	}
	var msg string
	switch d.Status {
	case http.StatusBadRequest:
		msg = "400 Bad Request: malformed Authorization header"
	case http.StatusUnauthorized:
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

// reservation is an attempt counted before its credentials are checked.
type reservation struct {
	client string // the client's limiter key, when an attempt was counted
}

// reserve counts an attempt for the client and, when user is not "", for
// the user name, before the credentials are checked: counting first, in
// one atomic step per limiter, is what stops a burst of parallel guesses
// from all passing the check while the first one is still in bcrypt. It
// returns a *LimitError, and counts nothing, when either is blocked.
func (c *config) reserve(r *http.Request, user string) (reservation, error) {
	var res reservation
	if user != "" {
		if x := filter.From(r); x != nil {
			attemptKey.Set(x, user) // for the events
		}
	}
	if c.clients != nil {
		if key, ok := clientKey(r, c.prefix6); ok {
			d, err := c.clients.Reserve(r.Context(), key)
			switch {
			case err != nil:
				c.limiterError(r, err)
			case d > 0:
				return res, &LimitError{RetryAfter: d}
			default:
				res.client = key
			}
		} else if c.noIPWarned.CompareAndSwap(false, true) {
			filter.From(r).Logger().Warn("auth: a request has no client address (a Unix socket, or a proxy without a logging filter that sets it); the per-client limit is skipped for such requests")
		}
	}
	if c.usersLim != nil && user != "" {
		key := userKey(user)
		d, err := c.usersLim.Reserve(r.Context(), key)
		switch {
		case err != nil:
			c.limiterError(r, err)
		case d > 0:
			c.release(r, res.client)
			return reservation{}, &LimitError{RetryAfter: d}
		}
	}
	return res, nil
}

// attemptKey holds the user name of a failed attempt, for the event.
var attemptKey = filter.NewKey[string]("auth:attempt")

// release takes back the client's attempt counted by reserve.
func (c *config) release(r *http.Request, key string) {
	if key != "" {
		c.limiterError(r, c.clients.Release(context.WithoutCancel(r.Context()), key))
	}
}

// succeeded takes back the client's attempt and clears the failures of
// the user names given (the one typed and the one the identity holds).
func (c *config) succeeded(r *http.Request, res reservation, names ...string) {
	c.release(r, res.client)
	if c.usersLim == nil {
		return
	}
	ctx := context.WithoutCancel(r.Context())
	var done []string
	for _, name := range names {
		if name == "" {
			continue
		}
		key := userKey(name)
		if slices.Contains(done, key) {
			continue
		}
		done = append(done, key)
		c.limiterError(r, c.usersLim.Reset(ctx, key))
	}
}

func (c *config) limiterError(r *http.Request, err error) {
	if err == nil {
		return
	}
	filter.From(r).Logger().Error("auth: brute-force limiter error; the attempt is let through", "error", err.Error())
	c.events.Publish("auth:limiter:error", r, err)
}
