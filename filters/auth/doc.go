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
//     admits "{SHA}"; the file is read again when its modification time or
//     size changes (checked at most once a second). An unknown user is
//     checked against a dummy bcrypt hash of the file's cost, so it gets
//     the same answer as a wrong password in about the same time. A good
//     password is remembered for 30 seconds under a SHA-256 of the user,
//     the password and the stored hash (never the password), so a client
//     that sends it on every request does not pay for bcrypt each time.
//   - Bearer: tokens checked by their SHA-256 hash; the tokens themselves
//     are never stored. NewToken makes one and returns its hash.
//   - Session: the user name the login handler stored in the session. It
//     reaches the session through the request (filter.SessionsOf), so the
//     auth filter needs a session filter outside it; the filter says so
//     (Needs), and a wsapi.Stack refuses to build without one.
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
// all these answers.
//
// # Login and logout
//
// LoginHandler takes a POST of an HTML form or JSON (username, password,
// next), with its body capped at MaxLoginBody (4 KiB). On success it renews
// the session token, stores the user name under SessionKey and sends the
// browser to "next" when it is a local path (LocalPath refuses
// "//evil.example", "https://evil.example", "/\evil.example" and their
// percent-encoded forms), else to AfterLogin. LogoutHandler destroys the
// session.
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
// Failed password and token checks count per client IP (ClientLimiter:
// 50 in 15 minutes by default) and per user name (UserLimiter: 10 in 15
// minutes), in a sliding window. Past the limit, the next attempt gets 429
// with Retry-After, before any password is checked. A successful login
// clears the user name's count. The client IP is the one a logging filter
// chose behind trusted proxies (filter.Exchange.ClientIP), or the peer's
// address. MemoryLimiter keeps counts in the process; RedisLimiter shares
// them between instances. A limiter that fails (Redis down) is logged and
// lets the attempt through: the password check still stands.
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
