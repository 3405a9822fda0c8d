package session

import (
	"context"
	"net/http"
	"time"

	"github.com/wsapi-go/wsapi/filter"
)

// The accessors reach the request's session from any framework, and from
// a WSAPI-style app through env.Request(). Getters return the zero value
// when the request has no session or the key is missing (or holds another
// type); changes return ErrNoSession when the request has no session. With
// several session filters on one request, they reach the innermost; reach
// the others with their Manager's methods on r.Context().

// lookup returns the request's session filter, context and exchange.
func lookup(r *http.Request) (*config, context.Context, *filter.Exchange, bool) {
	x := filter.From(r)
	c, ok := cfgKey.Get(x)
	if !ok {
		return nil, nil, nil, false
	}
	return c, r.Context(), x, true
}

// Get returns the value of key in the request's session, or nil.
func Get(r *http.Request, key string) any {
	c, ctx, _, ok := lookup(r)
	if !ok {
		return nil
	}
	return c.m.Get(ctx, key)
}

// GetString returns the string under key, or "".
func GetString(r *http.Request, key string) string {
	s, _ := Get(r, key).(string)
	return s
}

// GetInt returns the int under key, or 0.
func GetInt(r *http.Request, key string) int {
	n, _ := Get(r, key).(int)
	return n
}

// GetInt64 returns the int64 under key, or 0.
func GetInt64(r *http.Request, key string) int64 {
	n, _ := Get(r, key).(int64)
	return n
}

// GetBool returns the bool under key, or false.
func GetBool(r *http.Request, key string) bool {
	b, _ := Get(r, key).(bool)
	return b
}

// GetFloat returns the float64 under key, or 0.
func GetFloat(r *http.Request, key string) float64 {
	f, _ := Get(r, key).(float64)
	return f
}

// GetBytes returns the []byte under key, or nil.
func GetBytes(r *http.Request, key string) []byte {
	b, _ := Get(r, key).([]byte)
	return b
}

// GetTime returns the time.Time under key, or the zero time.
func GetTime(r *http.Request, key string) time.Time {
	t, _ := Get(r, key).(time.Time)
	return t
}

// Exists reports whether key is in the request's session.
func Exists(r *http.Request, key string) bool {
	c, ctx, _, ok := lookup(r)
	return ok && c.m.Exists(ctx, key)
}

// Keys returns the session's keys, sorted.
func Keys(r *http.Request) []string {
	c, ctx, _, ok := lookup(r)
	if !ok {
		return nil
	}
	return c.m.Keys(ctx)
}

// Put stores val under key. Values are encoded with the manager's Codec
// (gob by default: register your own types with gob.Register). Put returns
// ErrTooLarge, and changes nothing, when the session would pass the
// filter's MaxSize. A Put after the response headers are out is saved when
// the client already holds the session's cookie, and reported (log line and
// a "session:write:late" event) either way; make changes before writing.
func Put(r *http.Request, key string, val any) error {
	c, ctx, x, ok := lookup(r)
	if !ok {
		return ErrNoSession
	}
	if c.maxSize > 0 {
		// Measure before changing anything: a rejected Put must leave the
		// session as it was (a new one unsaved, with no cookie).
		size, err := c.sizeWith(ctx, key, val)
		if err != nil {
			return err
		}
		if size > c.maxSize {
			return errTooLarge(size, c.maxSize)
		}
	}
	c.m.Put(ctx, key, val)
	c.noteChange(x, r, key)
	return nil
}

// sizeWith is the encoded size the session's data would have with val
// under key, as the store would see it.
func (c *config) sizeWith(ctx context.Context, key string, val any) (int, error) {
	keys := c.m.Keys(ctx)
	values := make(map[string]any, len(keys)+1)
	for _, k := range keys {
		values[k] = c.m.Get(ctx, k)
	}
	values[key] = val
	b, err := c.m.Codec.Encode(c.m.Deadline(ctx), values)
	return len(b), err
}

// noteChange records that the app changed the session, and reports a
// change made after the headers went out.
func (c *config) noteChange(x *filter.Exchange, r *http.Request, key string) {
	c.changed.Set(x, true)
	if !x.HeadersSent() {
		return
	}
	c.late.Set(x, true)
	x.Logger().Warn("session: changed after the response headers were sent; saved only if the client already has the session cookie",
		"key", key, "method", r.Method, "path", r.URL.Path)
	c.events.Publish("session:write:late", r, key)
}

// Pop returns the value under key and removes it.
func Pop(r *http.Request, key string) any {
	c, ctx, x, ok := lookup(r)
	if !ok {
		return nil
	}
	had := c.m.Exists(ctx, key)
	v := c.m.Pop(ctx, key)
	if had {
		c.noteChange(x, r, key)
	}
	return v
}

// PopString returns the string under key and removes it.
func PopString(r *http.Request, key string) string {
	s, _ := Pop(r, key).(string)
	return s
}

// Remove deletes key from the session.
func Remove(r *http.Request, key string) error {
	c, ctx, x, ok := lookup(r)
	if !ok {
		return ErrNoSession
	}
	if c.m.Exists(ctx, key) {
		c.m.Remove(ctx, key)
		c.noteChange(x, r, key)
	}
	return nil
}

// Destroy deletes the session from the store and tells the client to drop
// its cookie; later accessors in the same request see a new, empty session.
// It returns ErrHeadersSent when the response headers are already out (the
// cookie could not be cleared), after deleting the session from the store.
func Destroy(r *http.Request) error {
	c, ctx, x, ok := lookup(r)
	if !ok {
		return ErrNoSession
	}
	if err := c.m.Destroy(ctx); err != nil {
		return err
	}
	if x.HeadersSent() {
		return ErrHeadersSent
	}
	return nil
}

// RenewToken gives the session a new token, keeping its data, and deletes
// the old one from the store. Call it on login and on any change of
// privilege, so that a token known before is worthless after. It returns
// ErrHeadersSent, and renews nothing, when the response headers are already
// out: the client could not learn the new token.
func RenewToken(r *http.Request) error {
	c, ctx, x, ok := lookup(r)
	if !ok {
		return ErrNoSession
	}
	if x.HeadersSent() {
		return ErrHeadersSent
	}
	if err := c.m.RenewToken(ctx); err != nil {
		return err
	}
	c.changed.Set(x, true)
	return nil
}

// Token returns the session's token ("" for a new session that has not
// been saved). It is a secret: never log it.
func Token(r *http.Request) string {
	c, ctx, _, ok := lookup(r)
	if !ok {
		return ""
	}
	return c.m.Token(ctx)
}

const flashKey = "__flash"

// AddFlash adds a message to show on the next page the client sees
// (a flash message).
func AddFlash(r *http.Request, msg string) error {
	msgs, _ := Get(r, flashKey).([]string)
	return Put(r, flashKey, append(msgs[:len(msgs):len(msgs)], msg))
}

// Flashes returns the pending flash messages and clears them.
func Flashes(r *http.Request) []string {
	msgs, _ := Pop(r, flashKey).([]string)
	return msgs
}
