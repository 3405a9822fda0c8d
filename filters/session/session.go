package session

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/alexedwards/scs/v2"

	"github.com/wsapi-go/wsapi/filter"
	"github.com/wsapi-go/wsapi/internal/trust"
)

// SecureMode says when the session cookie gets the Secure attribute.
type SecureMode uint8

const (
	// SecureAuto marks the cookie Secure when the request came over TLS,
	// or through a trusted proxy that says so with X-Forwarded-Proto:
	// https. It is the default.
	SecureAuto SecureMode = iota
	// SecureAlways always marks the cookie Secure.
	SecureAlways
	// SecureNever never does (plain-HTTP development only).
	SecureNever
)

// Filter is the session filter. New returns one with secure defaults; set
// its fields before Wrap, never after.
type Filter struct {
	// Manager is the scs session manager: its Store, IdleTimeout,
	// Lifetime, Codec and Cookie (Name, Domain, Persist, SameSite,
	// HttpOnly, Partitioned) apply. Its Cookie.Path and Cookie.Secure are
	// replaced by CookiePath and Secure, and its ErrorFunc by ErrorHandler.
	Manager *scs.SessionManager

	// CookiePath is the session cookie's path. "" (the default) means the
	// request's mount point (filter.PrefixMountPoint: set by a mux or
	// implied by a prefix route such as chi's Mount, never by an exact
	// route such as "POST /login"), or "/" when there is none; so apps
	// mounted at /a and /b keep separate sessions. Set "/" to share one
	// session everywhere.
	CookiePath string

	// Secure says when the cookie is marked Secure (SecureAuto by default).
	Secure SecureMode

	// TrustedProxies are the networks of proxies whose X-Forwarded-Proto
	// is believed by SecureAuto.
	TrustedProxies []netip.Prefix

	// MaxSize caps the encoded size of one session's data, in bytes: a Put
	// that would pass it returns ErrTooLarge and changes nothing. New sets
	// 16 KiB; 0 means no cap (a cookie-free store has no hard limit, but a
	// store row or key should stay small).
	MaxSize int

	// ErrorHandler answers a request whose session could not be loaded
	// (the store is down). The default logs the error on the request's
	// logger, publishes "session:store:error" and answers 503 with
	// Retry-After.
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)

	// Events is where the filter publishes "session:store:error" and
	// "session:write:late"; nil means filter.DefaultHub.
	Events *filter.Hub

	keysOnce sync.Once
	mine     *filter.Key[*config] // this filter's work on an exchange
	late     *filter.Key[bool]    // its session changed after the headers
	fresh    *filter.Key[*fresh]  // its session, when made on demand
	changed  *filter.Key[bool]    // the app changed its session
}

// New returns a session filter on store with secure defaults: cookie
// "session", HttpOnly, SameSite=Lax, Secure over TLS, tokens hashed in the
// store (a stolen store does not hand out live tokens), an idle timeout of
// 2 hours and an absolute lifetime of 24 hours. Login must renew the token
// (RenewToken) so that a token planted before login is worthless after it;
// the auth filter does this.
//
// scs.New, which New calls, starts a cleanup goroutine for a default memory
// store that New then replaces; scs offers no safe way to stop it, so each
// New leaves one idle goroutine behind (once, at setup, never per request).
func New(store scs.Store) *Filter {
	m := scs.New()
	m.Store = store
	m.IdleTimeout = 2 * time.Hour
	m.Lifetime = 24 * time.Hour
	m.HashTokenInStore = true
	m.Cookie.Name = "session"
	m.Cookie.HttpOnly = true
	m.Cookie.SameSite = http.SameSiteLaxMode
	return &Filter{Manager: m, MaxSize: 16 << 10}
}

var (
	_ filter.Filter   = (*Filter)(nil)
	_ filter.Namer    = (*Filter)(nil)
	_ filter.Provider = (*Filter)(nil)
)

// Name returns "session".
func (f *Filter) Name() string { return "session" }

// Provides tells a stack the filter offers "session" to the filters inside
// it (auth's session login needs it).
func (f *Filter) Provides() []string { return []string{"session"} }

// config is a Filter compiled by Wrap.
type config struct {
	next      http.Handler
	m         *scs.SessionManager
	key       any // scs's context key for this manager
	path      string
	secure    SecureMode
	proxies   *trust.Proxies
	maxSize   int
	onError   func(w http.ResponseWriter, r *http.Request, err error)
	events    *filter.Hub
	cookieLen int // longest token accepted from a cookie

	// Per filter: several session filters (or one listed twice) on one
	// request each keep their own state and save their own session once.
	mine       *filter.Key[*config]
	late       *filter.Key[bool]   // changed after the headers went out
	fresh      *filter.Key[*fresh] // the new session, made on demand
	changed    *filter.Key[bool]   // changed through this package
	commitHook func(*filter.Exchange)
	finishHook func(*filter.Exchange)
}

// Wrap returns next with sessions loaded before it and saved after it. It
// panics when the filter has no Manager or store.
func (f *Filter) Wrap(next http.Handler) http.Handler {
	if f.Manager == nil || f.Manager.Store == nil {
		panic("session: the filter has no Manager or no Manager.Store: build it with session.New(store)")
	}
	c := &config{
		next:    next,
		m:       f.Manager,
		key:     contextKeyOf(f.Manager),
		path:    f.CookiePath,
		secure:  f.Secure,
		proxies: trust.New(f.TrustedProxies),
		maxSize: f.MaxSize,
		onError: f.ErrorHandler,
		events:  f.Events,
		// scs tokens are 43 characters; anything much longer is not one.
		cookieLen: 128,
	}
	if c.events == nil {
		c.events = filter.DefaultHub
	}
	// The keys belong to the Filter, so a filter wrapped twice into one
	// chain finds its own mark and does its work once.
	f.keysOnce.Do(func() {
		f.mine = filter.NewKey[*config]("session:" + f.Manager.Cookie.Name)
		f.late = filter.NewKey[bool]("session-late:" + f.Manager.Cookie.Name)
		f.fresh = filter.NewKey[*fresh]("session-fresh:" + f.Manager.Cookie.Name)
		f.changed = filter.NewKey[bool]("session-changed:" + f.Manager.Cookie.Name)
	})
	c.mine, c.late, c.fresh, c.changed = f.mine, f.late, f.fresh, f.changed
	c.commitHook, c.finishHook = c.commit, c.finish // method values made once
	if c.onError == nil {
		c.onError = c.defaultError
	}
	return c
}

// cfgKey holds the innermost session filter of a request: the one the
// accessors reach.
var cfgKey = filter.NewKey[*config]("session")

// ServeHTTP loads the session, runs the app, and saves the session just
// before the headers go out.
func (c *config) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	x, w, r, owner := filter.Begin(w, r)
	defer owner.End()
	if _, twice := c.mine.Get(x); twice { // the same filter listed again
		c.next.ServeHTTP(w, r)
		return
	}

	// scs keeps the session in a context value; the exchange answers that
	// lookup for the request's context, so no second request copy is made
	// and scs's own accessors work on r.Context() too.
	if token := c.token(r); token != "" {
		ctx, err := c.m.Load(r.Context(), token)
		if err != nil {
			c.onError(w, r, err)
			return
		}
		x.SetContextValue(c.key, ctx.Value(c.key))
	} else {
		// No cookie: the new session is made when something first asks
		// for it. Requests that never do (API calls, static files,
		// robots) cost no session data at all.
		f := &fresh{c: c}
		c.fresh.Set(x, f)
		x.SetContextProvider(c.key, f)
	}
	c.mine.Set(x, c)
	cfgKey.Set(x, c)
	filter.SetSessions(x, sessions) // for filters that do not import this package
	w.Header().Add("Vary", "Cookie")
	x.OnHeaders(c.commitHook)
	x.OnFinish(c.finishHook)
	c.next.ServeHTTP(w, r)
}

// fresh is the session of a request that came without a session cookie:
// made by scs when the request's context is first asked for it, by the
// app, a filter or the filter's own hooks. Until then there is nothing to
// save, and nothing is made.
type fresh struct {
	c    *config
	once sync.Once
	done atomic.Bool
	sd   any // scs's session data
}

// ContextValue makes the new session on the first call and returns it. It
// is safe for concurrent use, also after the request finished.
func (f *fresh) ContextValue(any) any {
	f.once.Do(func() {
		// Without a token scs makes a new, empty session: no store access,
		// no error.
		ctx, _ := f.c.m.Load(context.Background(), "")
		f.sd = ctx.Value(f.c.key)
		f.done.Store(true)
	})
	return f.sd
}

// hasChanged reports whether the app changed x's session through this
// package (Put, Pop, Remove, RenewToken, flashes).
func (c *config) hasChanged(x *filter.Exchange) bool {
	changed, _ := c.changed.Get(x)
	return changed
}

// made reports whether x's request has a session to save: one loaded from
// the store, or a new one that something asked for.
func (c *config) made(x *filter.Exchange) bool {
	f, ok := c.fresh.Get(x)
	return !ok || f.done.Load()
}

// token returns the session token from the request's cookie, or "" when
// there is none or it cannot be one (too long, or not base64url), so
// garbage never reaches the store.
func (c *config) token(r *http.Request) string {
	ck, err := r.Cookie(c.m.Cookie.Name)
	if err != nil || len(ck.Value) > c.cookieLen {
		return ""
	}
	for i := 0; i < len(ck.Value); i++ {
		b := ck.Value[i]
		if !('a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' || b == '-' || b == '_') {
			return ""
		}
	}
	return ck.Value
}

// commit saves a changed session and writes the cookie, just before the
// headers go out.
func (c *config) commit(x *filter.Exchange) {
	if !c.made(x) {
		return
	}
	ctx := x.Request().Context()
	switch c.m.Status(ctx) {
	case scs.Modified:
		if ctx.Err() != nil && !c.hasChanged(x) {
			return // see storeContext
		}
		saveCtx, cancel := storeContext(ctx)
		token, expiry, err := c.m.Commit(saveCtx)
		cancel()
		if err != nil {
			c.storeError(x, err)
			x.SetStatus(http.StatusServiceUnavailable)
			return
		}
		c.writeCookie(x, ctx, token, expiry)
	case scs.Destroyed:
		c.writeCookie(x, ctx, "", time.Time{})
	}
}

// saveTimeout bounds a save whose request's client went away.
const saveTimeout = 10 * time.Second

// storeContext returns the context to save the session with: the
// request's, or, when the client went away (the request's context is
// cancelled), one with the same values that is not, for up to
// saveTimeout. A change the app made through this package is saved all
// the same (a client that drops an upload must not show as a store
// error), and a store that hangs still cannot hold the request forever.
//
// A session the app did not change is not saved when the client went
// away. scs marks every session it loads as modified when it has an
// IdleTimeout, to push the expiry back; a request that loaded the session
// before a newer one changed it would, saving late, write the old data
// over the new change. The client that would have kept the session alive
// is gone, so nothing is lost. (Changes made with scs's own functions on
// r.Context() are not seen here: when the client went away, they are not
// saved either.)
func storeContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if ctx.Err() == nil {
		return ctx, func() {}
	}
	return context.WithTimeout(context.WithoutCancel(ctx), saveTimeout)
}

// finish saves what the app changed after the headers went out, when the
// client already holds the token; otherwise it reports the lost write. When
// a logging filter set a request id, it also leaves a loggable session id on
// the exchange for the access line.
func (c *config) finish(x *filter.Exchange) {
	if !c.made(x) {
		return
	}
	ctx := x.Request().Context()
	late, _ := c.late.Get(x)
	if !late && x.RequestID() == "" {
		return
	}
	token := c.m.Token(ctx)
	if late && x.Panic() == nil {
		if token != "" && c.m.Status(ctx) == scs.Modified {
			saveCtx, cancel := storeContext(ctx)
			_, _, err := c.m.Commit(saveCtx)
			cancel()
			if err != nil {
				c.storeError(x, err)
			}
		} else {
			x.Logger().Error("session: a change made after the response headers were sent is lost: the client has no session cookie to carry it",
				"method", x.Request().Method, "path", x.Request().URL.Path)
		}
	}
	if token != "" && x.RequestID() != "" {
		x.SetSessionID(loggableID(token))
	}
}

// loggableID returns an id for logs that identifies a session without
// revealing its token.
func loggableID(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:6])
}

// writeCookie writes the session cookie as scs's WriteSessionCookie does,
// with the path and the Secure attribute decided per request.
func (c *config) writeCookie(x *filter.Exchange, ctx context.Context, token string, expiry time.Time) {
	r := x.Request()
	ck := &http.Cookie{
		Name:        c.m.Cookie.Name,
		Value:       token,
		Path:        c.cookiePath(r),
		Domain:      c.m.Cookie.Domain,
		HttpOnly:    c.m.Cookie.HttpOnly,
		SameSite:    c.m.Cookie.SameSite,
		Secure:      c.isSecure(r),
		Partitioned: c.m.Cookie.Partitioned,
	}
	if expiry.IsZero() {
		ck.Expires = time.Unix(1, 0)
		ck.MaxAge = -1
	} else if c.m.Cookie.Persist || c.m.GetBool(ctx, "__rememberMe") {
		ck.Expires = time.Unix(expiry.Unix()+1, 0)
		ck.MaxAge = int(time.Until(expiry).Seconds() + 1)
	}
	h := x.Header()
	h.Add("Set-Cookie", ck.String())
	h.Add("Cache-Control", `no-cache="Set-Cookie"`)
}

func (c *config) cookiePath(r *http.Request) string {
	if c.path != "" {
		return c.path
	}
	// A mount, not an exact route: a cookie scoped to "POST /login" would
	// never come back to any other page.
	if mp := filter.PrefixMountPoint(r); mp != "" {
		return mp
	}
	return "/"
}

func (c *config) isSecure(r *http.Request) bool {
	switch c.secure {
	case SecureAlways:
		return true
	case SecureNever:
		return false
	}
	if r.TLS != nil {
		return true
	}
	return !c.proxies.Empty() && r.Header.Get("X-Forwarded-Proto") == "https" &&
		c.proxies.Trusts(trust.Peer(r.RemoteAddr))
}

// storeError logs a store failure and publishes it.
func (c *config) storeError(x *filter.Exchange, err error) {
	r := x.Request()
	x.Logger().Error("session: store error", "error", err.Error(), "method", r.Method, "path", r.URL.Path)
	c.events.Publish("session:store:error", r, err)
}

// defaultError answers 503 when the session cannot be loaded.
func (c *config) defaultError(w http.ResponseWriter, r *http.Request, err error) {
	c.storeError(filter.From(r), err)
	w.Header().Set("Retry-After", "5")
	http.Error(w, "503 Service Unavailable: the session store is unavailable; try again shortly", http.StatusServiceUnavailable)
}

// contextKeyOf finds the context key under which m keeps session data.
func contextKeyOf(m *scs.SessionManager) any {
	key := filter.LookupKey(func(ctx context.Context) { m.Status(ctx) })
	if key == nil {
		panic("session: cannot find the scs context key")
	}
	return key
}

// Errors the accessors return.
var (
	// ErrNoSession: the request has not passed through a session filter.
	ErrNoSession = errors.New("session: no session for this request: put a session filter (session.New) in front of the handler")
	// ErrTooLarge: the session's data would pass the filter's MaxSize.
	ErrTooLarge = errors.New("session: the session data would exceed MaxSize")
	// ErrHeadersSent: the change needs a new cookie, but the response
	// headers are already out.
	ErrHeadersSent = errors.New("session: the response headers are already out: renew or destroy the session before writing the response")
)

func errTooLarge(size, max int) error {
	return fmt.Errorf("%w: %d bytes, the limit is %d", ErrTooLarge, size, max)
}
