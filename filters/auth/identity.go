package auth

import (
	"net/http"
	"slices"

	"github.com/wsapi-go/wsapi/filter"
)

// Identity is who a request comes from, as a strategy established it.
// Strategies hand out shared values: treat an Identity as read-only.
type Identity struct {
	// Name is the user name (or the name of a token's holder). The filter
	// sets it on the exchange (filter.Exchange.SetUser): the access log
	// prints it and WSAPI-style apps see it as REMOTE_USER.
	Name string
	// Roles are the roles the user holds, for RequireRole.
	Roles []string
	// Scopes are the scopes a token grants, for RequireScope.
	Scopes []string
}

// HasRole reports whether id holds role. A nil id holds none.
func (id *Identity) HasRole(role string) bool {
	return id != nil && slices.Contains(id.Roles, role)
}

// HasScope reports whether id was granted scope. A nil id has none.
func (id *Identity) HasScope(scope string) bool {
	return id != nil && slices.Contains(id.Scopes, scope)
}

// identityKey holds the request's identity on the exchange.
var identityKey = filter.NewKey[*Identity]("auth:identity")

// IdentityOf returns the identity an auth filter established for r, or nil
// when the request is anonymous (or no auth filter ran).
func IdentityOf(r *http.Request) *Identity {
	id, _ := identityKey.Get(filter.From(r))
	return id
}
