// Package auth is the auth filter: authentication by strategies tried in
// order (HTTP Basic on an htpasswd file, bearer tokens, session login),
// authorization rules per route, cross-origin (CSRF) protection, and
// brute-force limits.
//
// # Use
//
//	users, err := auth.OpenHtpasswd("/etc/app/htpasswd") // bcrypt hashes (htpasswd -B)
//	...
//	tokens := auth.NewBearer()
//	tokens.Add(storedHash, auth.Identity{Name: "ci", Scopes: []string{"deploy"}})
//
//	a := auth.New(auth.NewSession(users), auth.NewBasic(users), tokens)
//	a.LoginPath = "/login"
//	stack := wsapi.New(logs, sessions, a) // the session filter outside auth
//
//	r := chi.NewRouter()
//	r.Use(stack.Wrap)
//	r.Get("/login", loginPage)                // the app's own form
//	r.Post("/login", a.LoginHandler().ServeHTTP)
//	r.Post("/logout", a.LogoutHandler().ServeHTTP)
//	r.With(auth.Require().Wrap).Get("/me", me)
//	r.With(auth.RequireRole("admin").Wrap).Get("/admin", admin)
//	r.With(auth.RequireScope("deploy").Wrap).Post("/deploy", deploy)
//
// In any handler, auth.IdentityOf(r) is the identity (nil when anonymous).
// The user name is also on the exchange (filter.Exchange.User): the
// logging filter's access line prints it, and WSAPI-style apps see it as
// REMOTE_USER.
//
// # Strategies
//
// A Strategy returns an identity, ErrNotMine (no credentials of its kind:
// the next strategy is tried), or an error that ends the request:
// ErrMalformed (400), ErrInvalid (401), a *LimitError (429). A request
// that no strategy claims goes on anonymous; the filter itself refuses
// nothing else, the rules do. Built in:
//
//   - Basic: HTTP Basic on an Htpasswd. bcrypt only, unless AllowWeak
//     admits "{SHA}". The file is read again when its content changes (it
//     is read and hashed at most once a second, since a change need not
//     show in its modification time or size); the good lines of a file
//     take effect even when another line is bad (a "$apr1$" hash of
//     htpasswd without -B), so removing a user always works, and the bad
//     lines are logged. An unknown user is checked against a dummy bcrypt
//     hash of the file's highest cost, and a {SHA} user is checked against
//     it too, so they get the same answer as a wrong password in about the
//     same time. Hashes of different costs would still tell apart the users
//     with cheaper ones: loading such a file logs a warning (rehash with
//     one cost). A good password is remembered for 30 seconds under a
//     SHA-256 of the user, the password and the stored hash (never the
//     password), so a client that sends it on every request does not pay
//     for bcrypt each time.
//   - Bearer: tokens checked by their SHA-256 hash; the tokens themselves
//     are never stored. NewToken makes one and returns its hash. The zero
//     Bearer is ready to use.
//   - Session: the login the login handler stored in the session. It
//     reaches the session through the request (filter.SessionsOf), so the
//     auth filter needs a session filter outside it; the filter says so
//     (Needs), and a wsapi.Stack refuses to build without one. A login
//     ended by a logout, or made before the user's password changed in the
//     Htpasswd, is anonymous (see LoginKey).
//
// Strategy errors are compared with errors.Is, so a strategy may wrap
// ErrNotMine and the others.
//
// # Authorization
//
// Require, RequireRole (any of the roles), RequireScope (all of the
// scopes) and RequireFunc are filters, usable in a Stack after the auth
// filter or per route. A request without an identity gets 401 with a
// WWW-Authenticate challenge for each strategy (or "Session" when none has
// a standard one); a browser (Accept prefers text/html) is redirected with
// 303 to LoginPath with the page it asked for in "next", when LoginPath is
// set. An identity that is not allowed gets 403. FailureHandler replaces
// all these answers. RequireRole and RequireScope panic when given no role
// or scope: an empty list (a setting left blank) would otherwise let no one
// in, or everyone.
//
// # Login and logout
//
// LoginHandler takes a POST of an HTML form or JSON (username, password,
// next), with its body capped at MaxLoginBody (4 KiB). On success it
// starts a new session: a new token, and none of the data the session held
// before, so that another user's data, or data an attacker planted in a
// session they fixed, does not carry over (LoginKeepsData keeps an anonymous
// visitor's data, such as a cart, under the new token; another user's is
// dropped either way). It stores the user name under SessionKey and the
// login under LoginKey, and sends the browser to "next" when it is a local
// path (LocalPath refuses "//evil.example", "https://evil.example",
// "/\evil.example" and their percent-encoded forms), else to AfterLogin.
//
// LogoutHandler destroys the session and revokes its login. Revoking
// matters because a request still in flight at logout saves the session it
// loaded when it ends, under the old token: without it, that save would log
// the user back in. Revoked logins are kept in the process's memory for
// SessionLifetime (24 hours), at most 131072 of them. With several
// instances of an app, a logout revokes the login on the instance that
// served it only: a request in flight on another instance can still save
// the old session there. Both handlers answer 500 without a session filter
// in front of them.
//
// When the Session strategy's Users is a Stamper (an Htpasswd is), the
// login records a stamp of the user's password hash, and a session whose
// stamp no longer matches is anonymous: changing a password in the file
// logs out every session of that user.
//
// # Cross-origin requests
//
// The filter, and the login and logout handlers, check unsafe methods with
// net/http's CrossOriginProtection (Sec-Fetch-Site, then Origin against
// Host): a browser cannot be made to post a login form or a change from
// another site. TrustedOrigins admits other origins; requests without
// those headers (API clients, curl) pass. NoCrossOriginProtection turns it
// off.
//
// # Brute-force limits
//
// Password and token checks count per client (ClientLimiter: 50 in 15
// minutes by default) and per user name (UserLimiter: 10 in 15 minutes),
// in a sliding window. Each attempt is counted before its password is
// checked, in one atomic step with the check of the limit (Limiter.Reserve:
// one lock section in MemoryLimiter, one script in RedisLimiter), so a
// burst of guesses sent in parallel gets no more checks than the limit
// allows; past the limit, the next attempt gets 429 with Retry-After,
// before any password is checked. A good password takes the client's
// attempt back and clears the user name's count. nil limiters get these
// defaults, also in a Filter literal; NoClientLimit and NoUserLimit turn a
// limit off.
//
// User names count trimmed and lower-cased, so that "Ana" and "ana " do
// not get budgets of their own with a user store that ignores case. The
// client is the IP address a logging filter chose behind trusted proxies
// (filter.Exchange.ClientIP), or the peer's address; an IPv6 client counts
// by its /64 (ClientPrefix6), since one subscriber holds the whole block. A
// request without a client address (a Unix socket) is not counted per
// client, and the first one logs a warning: sharing one count would let
// anyone lock everyone out. For the same reason, behind a reverse proxy a
// logging filter with TrustedProxies must set the client IP, or every
// client counts as the proxy.
//
// The per-user limit is a trade-off, kept on purpose: it bounds guessing
// spread over many clients, and so lets anyone who knows a user name block
// that user's password checks for the window, from anywhere. Sessions
// already logged in, and a Basic password remembered in the cache, keep
// working meanwhile. Where such a lockout costs more than the guessing it
// stops, raise the limit or set NoUserLimit and rely on the client limit.
//
// MemoryLimiter keeps counts in the process, at most MaxKeys keys; when
// full, it drops the tenth of its keys whose last attempt is oldest.
// RedisLimiter shares them between instances. A limiter that fails (Redis
// down) is logged and lets the attempt through: the password check still
// stands.
//
// Limits cost nothing for good credentials: a cached Basic password or a
// known token never consults the limiter.
//
// # Events
//
// The filter publishes on Events (filter.DefaultHub by default), with an
// Attempt as data: "auth:login" and "auth:logout" (the handlers),
// "auth:login:failed" (a wrong password or token, or a malformed header),
// "auth:denied" (401 and 403 of the rules, cross-origin requests),
// "auth:limited" (429); and "auth:limiter:error" with the error.
//
// # Request bodies
//
// Only the login handler reads a request body. Strategies, rules and the
// cross-origin check look at headers alone, so a streamed upload passes
// through untouched.
package auth
