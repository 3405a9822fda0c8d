package auth

import (
	"net/http"

	"github.com/wsapi-go/wsapi/filter"
)

// SessionKey is the session key under which the login handler stores the
// user name, and where the Session strategy reads it.
const SessionKey = "auth.user"

// Session is the session-login strategy: the user name the login handler
// stored in the session (under SessionKey) identifies the request. It
// reaches the session through the request (filter.SessionsOf), so it needs
// a session filter outside the auth filter; a Stack checks that.
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
	name := sess.GetString(r, SessionKey)
	if name == "" {
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
