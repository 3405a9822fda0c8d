package auth

import (
	"net/http"
	"strings"

	"github.com/wsapi-go/wsapi/filter"
)

// Rule is an authorization filter: it lets a request through to its app
// only when the request has an identity and, for the narrower rules, when
// that identity is allowed. Otherwise:
//
//   - no identity: 401 with WWW-Authenticate, or, for a browser when the
//     auth filter has a LoginPath, a 303 redirect to the login page with
//     the page asked for as "next";
//   - an identity that is not allowed: 403.
//
// The auth filter's FailureHandler replaces both answers. A Rule reads the
// identity the auth filter left on the request, so it goes inside an auth
// filter: later in a Stack (which checks that), or per route in a router
// (chi: r.With(auth.RequireRole("admin").Wrap)). Without an auth filter,
// every request is anonymous: a Rule fails closed.
type Rule struct {
	name  string
	allow func(r *http.Request, id *Identity) bool // nil: any identity
}

var (
	_ filter.Filter = (*Rule)(nil)
	_ filter.Namer  = (*Rule)(nil)
	_ filter.Needer = (*Rule)(nil)
)

// Require returns a rule that lets through any request with an identity.
func Require() *Rule { return &Rule{name: "auth.Require"} }

// RequireRole returns a rule that lets through an identity holding at least
// one of roles. It panics when roles is empty: no role would let anyone in,
// which is never what a route means.
func RequireRole(roles ...string) *Rule {
	if len(roles) == 0 {
		panic("auth: RequireRole() needs at least one role; use Require() for any identity")
	}
	roles = append([]string(nil), roles...)
	return &Rule{
		name: "auth.RequireRole(" + strings.Join(roles, ",") + ")",
		allow: func(_ *http.Request, id *Identity) bool {
			for _, role := range roles {
				if id.HasRole(role) {
					return true
				}
			}
			return false
		},
	}
}

// RequireScope returns a rule that lets through an identity granted every
// one of scopes. It panics when scopes is empty: that would let every
// identity through, which an empty list read from a configuration should
// not do quietly; use Require() for that.
func RequireScope(scopes ...string) *Rule {
	if len(scopes) == 0 {
		panic("auth: RequireScope() needs at least one scope; use Require() for any identity")
	}
	scopes = append([]string(nil), scopes...)
	return &Rule{
		name: "auth.RequireScope(" + strings.Join(scopes, ",") + ")",
		allow: func(_ *http.Request, id *Identity) bool {
			for _, s := range scopes {
				if !id.HasScope(s) {
					return false
				}
			}
			return true
		},
	}
}

// RequireFunc returns a rule that lets through an identity for which allow
// returns true. allow is called only for requests with an identity, and
// must not read the request body.
func RequireFunc(allow func(r *http.Request, id *Identity) bool) *Rule {
	if allow == nil {
		panic("auth: RequireFunc(nil): give it a predicate")
	}
	return &Rule{name: "auth.RequireFunc", allow: allow}
}

// Name returns the rule's name, such as "auth.RequireRole(admin)".
func (ru *Rule) Name() string { return ru.name }

// Needs returns the auth filter.
func (ru *Rule) Needs() []filter.Need {
	return []filter.Need{{Service: Service, Hint: "auth.New(...) from filters/auth"}}
}

// Wrap returns next behind the rule.
func (ru *Rule) Wrap(next http.Handler) http.Handler {
	if next == nil {
		panic("auth: " + ru.name + ".Wrap(nil): give the rule an app")
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := IdentityOf(r)
		switch {
		case id == nil:
			configOf(r).deny(w, r, Denial{Status: http.StatusUnauthorized, Err: ErrUnauthenticated})
		case ru.allow != nil && !ru.allow(r, id):
			configOf(r).deny(w, r, Denial{Status: http.StatusForbidden, Err: ErrForbidden})
		default:
			next.ServeHTTP(w, r)
		}
	})
}
