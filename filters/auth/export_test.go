package auth

// CacheLen returns the number of remembered verifications.
func CacheLen(h *Htpasswd) int {
	h.cache.mu.RLock()
	defer h.cache.mu.RUnlock()
	return len(h.cache.m)
}

// CacheHas reports whether the cache holds the key of user and password.
func CacheHas(h *Htpasswd, user, password string) bool {
	u, ok := h.table.Load().users[user]
	if !ok {
		return false
	}
	h.cache.mu.RLock()
	defer h.cache.mu.RUnlock()
	_, ok = h.cache.m[cacheKey([]byte(user), []byte(password), u.hash)]
	return ok
}

// ParseBasic exposes the Basic header parser to the fuzz test.
func ParseBasic(header string) (user, pass string, ok bool, err error) {
	cred, ok := credentials(header, "Basic")
	if !ok {
		return "", "", false, nil
	}
	var buf basicBuf
	u, p, err := parseBasic(cred, &buf)
	return string(u), string(p), true, err
}

// ValidToken exposes the bearer token check.
var ValidToken = validToken

// PrefersHTML exposes the Accept check.
var PrefersHTML = prefersHTML

// Scans returns how many times l went through all its keys.
func Scans(l *MemoryLimiter) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.scans
}

// OnCompareHash makes every bcrypt comparison call f first, until the
// test ends.
func OnCompareHash(t interface{ Cleanup(func()) }, f func(hash []byte)) {
	compareHook = f
	t.Cleanup(func() { compareHook = nil })
}
