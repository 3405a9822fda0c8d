// Package logging is the logging filter: access and application logs on
// github.com/rs/zerolog, request ids, and the client IP behind trusted
// proxies.
//
// # Use
//
//	logs := logging.New(os.Stderr)
//	logs.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
//	stack := wsapi.New(logs, sessions, auth)
//
// Put it outermost: the access line then sees the status the client got,
// including the 500 of a panic that no filter recovered, and the filters
// inside it read the request id and the client IP it chose.
//
// # What it does for each request
//
//   - Request id: the incoming X-Request-ID (RequestIDHeader) is kept when
//     it is 1 to 64 characters of [A-Za-z0-9._-]; otherwise a new,
//     time-sortable id is made. It is sent back in the same response
//     header, and set on the exchange (filter.Exchange.RequestID). A valid
//     W3C traceparent header adds trace_id and span_id to the log fields.
//   - Client IP: the peer's address, or, only when the peer is one of
//     TrustedProxies, the right-most address that is not a trusted proxy
//     in the one header those proxies set (ClientIPHeader:
//     X-Forwarded-For by default, Forwarded, or X-Real-IP; at most 32 hops
//     are examined). It is set on the exchange (filter.Exchange.ClientIP),
//     where auth's brute-force limits read it.
//   - Per-request logger: zerolog.Ctx(r.Context()) (and hlog.FromRequest)
//     returns a logger that carries request_id (and the trace ids), in any
//     framework, without a context of its own: it is made only when first
//     asked for. The error stream of WSAPI-style apps (filter.Env.Errors)
//     writes error records to it.
//   - Access line: one per request, written when the response is finished
//     (so streaming time counts, and a request that panicked is logged
//     too), with method, path, query (when Query is set), status, bytes,
//     duration_ms, ip, user_agent, referer, proto, request_id, and the
//     user and session other filters left on the exchange. Its level
//     follows the status (Level). Skip and Sample leave lines out.
//
// # Panics
//
// When the app panics and no filter inside recovers, the access line
// records status 500, or "aborted": true when the headers were already out,
// and the panic value and stack are logged once, at error level. The panic
// then goes on to net/http (or to an outer recoverer), which handles the
// connection: logging does not swallow it.
//
// # Hostile input
//
// Nothing a client sends can forge a log line or reach a terminal raw: the
// JSON format escapes control characters, the Console format quotes them,
// and the Common and Combined formats escape quotes, backslashes and every
// byte outside printable ASCII as \xhh, as Apache does.
package logging
