package auth

import (
	"crypto/rand"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wsapi-go/wsapi/filter"
)

// LoginKey is the session key under which the login handler stores an
// opaque value that describes the login: a random id, so that a logout
// can revoke it; a stamp of the user's password hash (see Stamper), so
// that a password change ends it; and the user name. The Session strategy
// reads the login from it (one session read per request), and reads
// SessionKey only in a session without LoginKey: a login the app stored
// itself by putting a user name under SessionKey, which is taken as it is.
// An app that changes SessionKey in a logged-in session must remove
// LoginKey too.
const LoginKey = "auth.login"

// Stamper is implemented by user stores that can tell when a user's
// password changed; *Htpasswd is one. Stamp returns a short value that
// changes whenever the user's stored password hash does, and false for an
// unknown user. It is called on every request of a logged-in session, so
// it must be quick and should not allocate.
type Stamper interface {
	Stamp(name string) (string, bool)
}

// newLogin returns the LoginKey value of a new login of user:
// "<random id>.<stamp>.<user>", where the stamp is "" unless users is a
// Stamper.
func newLogin(users any, user string) string {
	stamp := ""
	if s, ok := users.(Stamper); ok {
		stamp, _ = s.Stamp(user)
	}
	return rand.Text() + "." + stamp + "." + user
}

// splitLogin returns the parts of a LoginKey value, and false when v is
// not one.
func splitLogin(v string) (id, stamp, user string, ok bool) {
	id, rest, ok1 := strings.Cut(v, ".")
	stamp, user, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || id == "" || user == "" {
		return "", "", "", false
	}
	return id, stamp, user, true
}

// revoked holds the ids of the logins ended by a logout (or by a login
// over them) in this process, until the sessions they belonged to have
// expired. It is per process: with several instances, a request in flight
// on another instance at logout can still save the old session there.
var revoked revocations

// maxRevoked bounds the number of revoked logins remembered; past it, the
// ones that expire first are forgotten first.
const maxRevoked = 1 << 17

type revocations struct {
	n  atomic.Int64 // len(m), read without the lock
	mu sync.RWMutex
	m  map[string]int64 // login id -> expiry, unix nanoseconds
}

// add revokes the login id until now+d.
func (v *revocations) add(id string, now time.Time, d time.Duration) {
	if id == "" {
		return
	}
	exp := now.Add(d).UnixNano()
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.m == nil {
		v.m = make(map[string]int64)
	}
	if len(v.m) >= maxRevoked {
		v.sweep(now.UnixNano())
	}
	v.m[id] = exp
	v.n.Store(int64(len(v.m)))
}

// sweep forgets expired ids and, when still full, the eighth of the ids
// that expire first; v.mu is held.
func (v *revocations) sweep(now int64) {
	for k, e := range v.m {
		if e <= now {
			delete(v.m, k)
		}
	}
	if len(v.m) < maxRevoked {
		return
	}
	exps := make([]int64, 0, len(v.m))
	for _, e := range v.m {
		exps = append(exps, e)
	}
	slices.Sort(exps)
	cut := exps[len(exps)/8]
	for k, e := range v.m {
		if e <= cut {
			delete(v.m, k)
		}
	}
}

// has reports whether the login id was revoked. It does not allocate, and
// takes no lock while nothing was revoked.
func (v *revocations) has(id string, now int64) bool {
	if id == "" || v.n.Load() == 0 {
		return false
	}
	v.mu.RLock()
	exp, ok := v.m[id]
	v.mu.RUnlock()
	return ok && now < exp
}

// endLogin revokes the login stored in the session of r, if any.
func (c *config) endLogin(r *http.Request, sess filter.Sessions) {
	if id, _, _, ok := splitLogin(sess.GetString(r, LoginKey)); ok {
		revoked.add(id, time.Now(), c.lifetime)
	}
}
