package auth

import (
	"errors"
	"net/http"
	"strconv"
	"time"
)

// Strategy looks at a request and tells who it comes from, as Warden's
// strategies do. Authenticate returns:
//
//   - an identity, when the request carries valid credentials for the
//     strategy;
//   - ErrNotMine, when the request carries no credentials of its kind: the
//     filter tries the next strategy;
//   - another error, when it carries credentials of its kind that are wrong
//     (ErrInvalid), malformed (ErrMalformed) or refused for too many
//     failures (a *LimitError): the filter stops and answers.
//
// Authenticate must not read the request body. It is called on the
// request's goroutine, for every request that reaches the filter, so it
// should be quick when the credentials are good.
type Strategy interface {
	Authenticate(r *http.Request) (*Identity, error)
}

// StrategyFunc adapts a function into a Strategy.
type StrategyFunc func(r *http.Request) (*Identity, error)

// Authenticate returns f(r).
func (f StrategyFunc) Authenticate(r *http.Request) (*Identity, error) { return f(r) }

// Errors that strategies return and the filter answers.
var (
	// ErrNotMine: the request has no credentials for this strategy.
	ErrNotMine = errors.New("auth: no credentials for this strategy")
	// ErrInvalid: the credentials are wrong (an unknown user and a wrong
	// password give this same error). The filter answers 401.
	ErrInvalid = errors.New("auth: invalid credentials")
	// ErrMalformed: the Authorization header cannot be parsed. The filter
	// answers 400.
	ErrMalformed = errors.New("auth: malformed Authorization header")
	// ErrLimited: too many failed attempts; it is wrapped in a *LimitError
	// that says when to try again. The filter answers 429.
	ErrLimited = errors.New("auth: too many failed attempts")
)

// LimitError is the error of an attempt refused by a brute-force limit.
type LimitError struct {
	// RetryAfter is how long the client must wait before its next attempt.
	RetryAfter time.Duration
}

// Error says when the client may try again.
func (e *LimitError) Error() string {
	return ErrLimited.Error() + ": try again in " + strconv.Itoa(retrySeconds(e.RetryAfter)) + "s"
}

// Unwrap returns ErrLimited.
func (e *LimitError) Unwrap() error { return ErrLimited }

// retrySeconds rounds d up to whole seconds, at least 1, for Retry-After.
func retrySeconds(d time.Duration) int {
	s := int((d + time.Second - 1) / time.Second)
	return max(s, 1)
}

// Challenger is implemented by strategies that tell a client how to
// authenticate: Challenge returns a challenge for the WWW-Authenticate
// header of a 401, such as `Basic realm="app", charset="UTF-8"`.
type Challenger interface {
	Challenge(realm string) string
}
