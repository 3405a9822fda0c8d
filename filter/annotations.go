package filter

import (
	"context"
	"io"
	"log/slog"
	"net/netip"
	"reflect"
)

// Annotations: what filters leave on the exchange for each other and for
// the app, and the context values the exchange answers for them.

// RequestID returns the request id annotation ("" when none).
func (x *Exchange) RequestID() string {
	if x == nil {
		return ""
	}
	return x.requestID
}

// SetRequestID sets the request id annotation (the logging filter does).
func (x *Exchange) SetRequestID(id string) { x.requestID = id }

// User returns the authenticated user annotation ("" when none); WSAPI-style
// apps see it as REMOTE_USER.
func (x *Exchange) User() string {
	if x == nil {
		return ""
	}
	return x.user
}

// SetUser sets the authenticated user annotation (the auth filter does).
func (x *Exchange) SetUser(name string) { x.user = name }

// SessionID returns a loggable session identifier annotation ("" when none).
// It is never the session token itself.
func (x *Exchange) SessionID() string {
	if x == nil {
		return ""
	}
	return x.sessionID
}

// SetSessionID sets the session identifier annotation (the session filter
// does, with an id that is safe to log).
func (x *Exchange) SetSessionID(id string) { x.sessionID = id }

// ClientIP returns the client IP chosen by a filter that knows the trusted
// proxies (the logging filter), or the zero Addr when none chose one.
func (x *Exchange) ClientIP() netip.Addr {
	if x == nil {
		return netip.Addr{}
	}
	return x.clientIP
}

// SetClientIP sets the client IP annotation.
func (x *Exchange) SetClientIP(ip netip.Addr) { x.clientIP = ip }

// Logger returns the logger for this request: the one set with SetLogger,
// or slog.Default (standard error) when none was set, with the request id
// as an attribute when there is one. The filters' own reports (a hook that
// panicked, a session store that failed) go there.
func (x *Exchange) Logger() *slog.Logger {
	if x == nil {
		return slog.Default()
	}
	l := x.logger
	if l == nil {
		l = slog.Default()
	}
	if x.requestID == "" {
		return l
	}
	// Made on first use, on error paths only, and kept for the request.
	if x.reqLogger == nil || x.reqLoggerID != x.requestID || x.reqLoggerBase != l {
		x.reqLogger, x.reqLoggerID, x.reqLoggerBase = l.With("request_id", x.requestID), x.requestID, l
	}
	return x.reqLogger
}

// HasLogger reports whether a logger was set with SetLogger.
func (x *Exchange) HasLogger() bool { return x != nil && x.logger != nil }

// SetLogger sets the logger for this request (a logging filter sets one on
// its own output). nil restores the default.
func (x *Exchange) SetLogger(l *slog.Logger) { x.logger = l }

// SetErrorWriter sets where [Env.Errors] writes for this request. nil
// restores the default, which logs each line at error level through
// [Exchange.Logger].
func (x *Exchange) SetErrorWriter(w io.Writer) { x.errw = w }

// SetContextValue makes the request's context answer key with val from now
// on, without a new context or request: ctx.Value(key) returns val for the
// context of every request derived from the one the exchange was attached
// to. It is how a filter offers a value that code reads with a library's
// own accessor (the logging filter makes zerolog.Ctx(r.Context()) return
// the request's logger) at no per-request allocation.
//
// A context.WithValue for the same key, made between the filter that
// attached the exchange and this call, shadows the value for the requests
// derived from it. Set values before the context reaches other goroutines.
// key must be comparable, as for context.WithValue; SetContextValue panics
// otherwise.
func (x *Exchange) SetContextValue(key, val any) {
	checkContextKey(key)
	x.h.setValue(ctxValue{key: key, val: val})
}

// SetContextProvider is [Exchange.SetContextValue] for a value made on
// demand: ctx.Value(key) returns p.ContextValue(key). A filter uses it for a
// value that costs something to make and is seldom asked for, such as a
// per-request logger. p may be called from any goroutine that holds the
// request's context, also after the request finished, and must be safe for
// that.
func (x *Exchange) SetContextProvider(key any, p ContextProvider) {
	checkContextKey(key)
	if p == nil {
		panic("filter: SetContextProvider with a nil provider")
	}
	x.h.setValue(ctxValue{key: key, p: p})
}

func checkContextKey(key any) {
	if key == nil || !reflect.TypeOf(key).Comparable() {
		panic("filter: a context key must be comparable and not nil")
	}
}

// Key is a typed annotation key for values that filters leave on an
// exchange for other filters or the app, beyond the built-in annotations.
// Keys are compared by identity: create each once, at package level.
// Storing a pointer (or another pointer-shaped value) does not allocate.
type Key[T any] struct{ name string }

// NewKey returns a new key; name is for debugging only.
func NewKey[T any](name string) *Key[T] { return &Key[T]{name: name} }

// String returns the key's name.
func (k *Key[T]) String() string { return k.name }

// Get returns the value stored under k in x and whether there is one.
func (k *Key[T]) Get(x *Exchange) (T, bool) {
	if x != nil {
		for _, kv := range x.values {
			if kv.key == any(k) {
				v, ok := kv.val.(T)
				return v, ok
			}
		}
	}
	var zero T
	return zero, false
}

// Set stores v under k in x, replacing any earlier value.
func (k *Key[T]) Set(x *Exchange, v T) {
	for i := range x.values {
		if x.values[i].key == any(k) {
			x.values[i].val = v
			return
		}
	}
	x.values = append(x.values, keyValue{key: k, val: v})
}

// Delete removes the value stored under k in x.
func (k *Key[T]) Delete(x *Exchange) {
	for i := range x.values {
		if x.values[i].key == any(k) {
			last := len(x.values) - 1
			x.values[i] = x.values[last]
			x.values[last] = keyValue{}
			x.values = x.values[:last]
			return
		}
	}
}

// LookupKey returns the key that lookup asks its context for. Give it a
// function that reads a library's context value (zerolog.Ctx, an scs
// manager's Status) and it returns the library's private key, so that
// [Exchange.SetContextValue] can answer the library's own accessor. A panic
// in lookup (a library that finds nothing) is recovered. LookupKey returns
// the first key asked for, or nil when lookup asks for none. Call it once,
// at setup.
func LookupKey(lookup func(ctx context.Context)) any {
	p := &keyProbe{Context: context.Background()}
	func() {
		defer func() { _ = recover() }()
		lookup(p)
	}()
	return p.key
}

// keyProbe is a context that records the first key it is asked for.
type keyProbe struct {
	context.Context
	key any
}

func (p *keyProbe) Value(key any) any {
	if p.key == nil {
		p.key = key
	}
	return nil
}
