package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"sync"
)

// Bearer is the bearer-token strategy (RFC 6750) for API keys: it knows
// only the SHA-256 hashes of the tokens it accepts, never the tokens, so a
// leaked list of hashes lets no one in. Tokens are random (NewToken makes
// them), so a hash lookup is all a check costs, and guessing is hopeless;
// failures still count against the client's brute-force limit.
//
// Tokens may be added and removed while requests are served. The zero
// Bearer accepts no token, and is ready to use.
type Bearer struct {
	mu     sync.RWMutex
	tokens map[[sha256.Size]byte]*Identity
}

// NewBearer returns a Bearer strategy that accepts no token yet.
func NewBearer() *Bearer { return &Bearer{tokens: map[[sha256.Size]byte]*Identity{}} }

var (
	_ Strategy   = (*Bearer)(nil)
	_ Challenger = (*Bearer)(nil)
)

// NewToken returns a new random token (256 bits, base64url: 43
// characters) to give to its holder once, and the hex SHA-256 hash to
// store and to pass to Bearer.Add.
func NewToken() (token, hash string) {
	var b [32]byte
	_, _ = rand.Read(b[:]) // never fails
	token = base64.RawURLEncoding.EncodeToString(b[:])
	return token, HashToken(token)
}

// HashToken returns the hex SHA-256 hash of token, as Bearer.Add takes it.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

var errBadHash = errors.New("auth: a token hash must be 64 hexadecimal digits (see HashToken)")

// Add accepts the token whose hex SHA-256 hash is hash, for id (its holder
// and scopes). It returns an error when hash is not 64 hex digits.
func (b *Bearer) Add(hash string, id Identity) error {
	var key [sha256.Size]byte
	if len(hash) != 2*sha256.Size {
		return errBadHash
	}
	if _, err := hex.Decode(key[:], []byte(hash)); err != nil {
		return errBadHash
	}
	b.mu.Lock()
	if b.tokens == nil {
		b.tokens = make(map[[sha256.Size]byte]*Identity)
	}
	b.tokens[key] = &id
	b.mu.Unlock()
	return nil
}

// Remove stops accepting the token whose hash is hash.
func (b *Bearer) Remove(hash string) {
	var key [sha256.Size]byte
	if len(hash) != 2*sha256.Size {
		return
	}
	if _, err := hex.Decode(key[:], []byte(hash)); err != nil {
		return
	}
	b.mu.Lock()
	delete(b.tokens, key)
	b.mu.Unlock()
}

// Challenge returns `Bearer realm="<realm>"`.
func (b *Bearer) Challenge(realm string) string { return `Bearer realm="` + realm + `"` }

// Authenticate checks the request's bearer token. It returns ErrNotMine
// without a Bearer Authorization header, ErrMalformed when the token is
// not token68 or longer than 1024 characters, ErrInvalid for a token it
// does not know, and a *LimitError when the client failed too often.
func (b *Bearer) Authenticate(r *http.Request) (*Identity, error) {
	tok, ok := credentials(authorization(r), "Bearer")
	if !ok {
		return nil, ErrNotMine
	}
	if !validToken(tok) {
		return nil, ErrMalformed
	}
	var buf [maxCredentials]byte
	sum := sha256.Sum256(buf[:copy(buf[:], tok)])
	b.mu.RLock()
	id := b.tokens[sum]
	b.mu.RUnlock()
	if id != nil {
		return id, nil
	}
	if _, err := configOf(r).reserve(r, ""); err != nil {
		return nil, err
	}
	return nil, ErrInvalid // the attempt stays counted
}
