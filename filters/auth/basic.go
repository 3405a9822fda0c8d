package auth

import (
	"net/http"
	"time"

	"github.com/wsapi-go/wsapi/filter"
)

// authorization returns the request's Authorization header (the first,
// when there are several). The key is already canonical, so the map is
// read directly.
func authorization(r *http.Request) string {
	if v := r.Header["Authorization"]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// requestTime returns the time the request's exchange began, in unix
// nanoseconds (a filter already read the clock), or the time now.
func requestTime(r *http.Request) int64 {
	if x := filter.From(r); x != nil {
		return x.Start().UnixNano()
	}
	return time.Now().UnixNano()
}

// Basic is the HTTP Basic strategy (RFC 7617), on the users of an
// htpasswd file.
//
// A good password is verified with bcrypt once, then remembered for
// Htpasswd.CacheFor; until then the same credentials cost a SHA-256 and a
// map lookup. An unknown user is checked against a dummy bcrypt hash, so
// that it gets the same answer as a wrong password after the same time.
// Before paying for bcrypt, the attempt is counted against the filter's
// brute-force limits for the client and the user name, and refused when
// either is used up; a success takes the client's attempt back and clears
// the user's count.
type Basic struct {
	// Users holds the user names and password hashes.
	Users *Htpasswd
}

// NewBasic returns the Basic strategy on users.
func NewBasic(users *Htpasswd) *Basic {
	if users == nil {
		panic("auth: NewBasic(nil): give it the users, from auth.OpenHtpasswd(path)")
	}
	return &Basic{Users: users}
}

var (
	_ Strategy   = (*Basic)(nil)
	_ Challenger = (*Basic)(nil)
)

// Challenge returns `Basic realm="<realm>", charset="UTF-8"`.
func (b *Basic) Challenge(realm string) string {
	return `Basic realm="` + realm + `", charset="UTF-8"`
}

// Authenticate checks the request's Basic credentials. It returns
// ErrNotMine without a Basic Authorization header, ErrMalformed for one
// that cannot be decoded, ErrInvalid for a wrong user name or password,
// and a *LimitError when the client or the user has failed too often.
func (b *Basic) Authenticate(r *http.Request) (*Identity, error) {
	cred, ok := credentials(authorization(r), "Basic")
	if !ok {
		return nil, ErrNotMine
	}
	var buf basicBuf
	user, pass, err := parseBasic(cred, &buf)
	if err != nil {
		return nil, err
	}
	now := requestTime(r)
	if id, ok := b.Users.cached(now, user, pass, &buf); ok {
		return id, nil
	}
	c := configOf(r)
	name := string(user)
	res, err := c.reserve(r, name)
	if err != nil {
		return nil, err
	}
	id, err := b.Users.verifySlow(now, user, pass)
	if err != nil {
		return nil, err // the attempt stays counted
	}
	c.succeeded(r, res, name, id.Name)
	return id, nil
}
