package auth

import (
	"net/http"

	"github.com/wsapi-go/wsapi/filter"
)

// SessionKey is the session key under which the login handler stores the
// user name, for the app to read. The Session strategy reads the login
// from LoginKey, and from SessionKey only in a session without LoginKey.
const SessionKey = "auth.user"

// Session is the session-login strategy: the user name the login handler
// stored in the session (under LoginKey, and under SessionKey for the
// app) identifies the request. It
// reaches the session through the request (filter.SessionsOf), so it needs
// a session filter outside the auth filter; a Stack checks that.
//
// A login that a logout in this process ended stays ended, even when a
// request that was in flight at logout saved the old session again; and
// when Users is a Stamper (an *Htpasswd is), a login made before the
// user's password changed is ended too. Such a session is anonymous.
type Session struct {
	// Users, when set, gives the identity (and roles) of the user name, and
	// a user no longer listed is anonymous again. nil means an identity
	// with the name alone (one allocation per request).
	Users UserLookup
}

// UserLookup finds a user's identity by name; *Htpasswd is one.
type UserLookup interface {
	Lookup(name string) (*Identity, bool)
}

// NewSession returns the Session strategy with users (which may be nil).
func NewSession(users UserLookup) *Session { return &Session{Users: users} }

var (
	_ Strategy      = (*Session)(nil)
	_ filter.Needer = (*Session)(nil)
)

// Needs returns the session service.
func (s *Session) Needs() []filter.Need {
	return []filter.Need{{Service: filter.SessionService, Hint: "session.New(store) from filters/session"}}
}

// Authenticate returns the identity of the user logged in to the
// request's session, or ErrNotMine when there is none (or no session).
func (s *Session) Authenticate(r *http.Request) (*Identity, error) {
	sess := filter.SessionsOf(r)
	if sess == nil {
		return nil, ErrNotMine
	}
	var name string
	if login := sess.GetString(r, LoginKey); login != "" {
		id, stamp, user, ok := splitLogin(login)
		if !ok || revoked.has(id, requestTime(r)) {
			return nil, ErrNotMine
		}
		if st, ok := s.Users.(Stamper); ok && stamp != "" {
			if cur, ok := st.Stamp(user); !ok || cur != stamp {
				return nil, ErrNotMine
			}
		}
		name = user
	} else if name = sess.GetString(r, SessionKey); name == "" {
		return nil, ErrNotMine
	}
	if s.Users == nil {
		return &Identity{Name: name}, nil
	}
	id, ok := s.Users.Lookup(name)
	if !ok {
		return nil, ErrNotMine
	}
	return id, nil
}
