package auth

import (
	"context"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/wsapi-go/wsapi/filter"
	"github.com/wsapi-go/wsapi/internal/trust"
)

// Limiter counts failed attempts per key (a client address, a user name)
// in a sliding window, against brute-force guessing. A key is blocked
// while it has Limit or more attempts counted in the last Window: the
// Limit-th attempt is still checked, the next one is refused.
//
//   - Reserve checks key and, when it may try, counts the attempt at
//     once, in the same atomic step, before the password is checked: of
//     any number of attempts arriving together, at most the ones the
//     limit leaves room for get through. It returns how long key must
//     still wait (and counts nothing) when it is blocked, 0 otherwise.
//   - Release takes back the most recent attempt counted for key: the
//     filter calls it when a reserved attempt turns out good, so that
//     successes do not count against a client.
//   - Reset forgets all of key's attempts: a successful login clears the
//     user's.
//
// An error means the limiter could not answer (a Redis server down); the
// filter then logs it, publishes "auth:limiter:error" and lets the attempt
// through: the password check itself still stands.
type Limiter interface {
	Reserve(ctx context.Context, key string) (time.Duration, error)
	Release(ctx context.Context, key string) error
	Reset(ctx context.Context, key string) error
}

// MemoryLimiter is a Limiter in the process's memory: each key keeps the
// times of its last Limit attempts. Memory is bounded by MaxKeys; keys
// whose attempts all left the window are swept once per window, and when
// MaxKeys is reached the keys whose last attempt is oldest are dropped, a
// tenth of MaxKeys at a time (so a full limiter scans its keys once per
// that many new keys, not on every new key). It is not shared between
// instances: use RedisLimiter for that.
type MemoryLimiter struct {
	// Limit is the number of attempts in Window after which a key is
	// blocked.
	Limit int
	// Window is the length of the sliding window.
	Window time.Duration
	// MaxKeys bounds the number of keys kept. NewMemoryLimiter sets
	// 100000; 0 means no bound.
	MaxKeys int
	// Now returns the current time; nil means time.Now. Tests set it.
	Now func() time.Time

	mu        sync.Mutex
	keys      map[string]*failures
	lastSweep time.Time
	scans     int // full scans of keys, for tests
}

// failures holds the times of a key's last attempts, oldest first, at
// most Limit of them.
type failures struct {
	at []time.Time
}

// NewMemoryLimiter returns a MemoryLimiter that blocks a key after limit
// attempts within window. It panics when limit < 1 or window <= 0.
func NewMemoryLimiter(limit int, window time.Duration) *MemoryLimiter {
	if limit < 1 || window <= 0 {
		panic("auth: NewMemoryLimiter needs a limit of at least 1 and a positive window")
	}
	return &MemoryLimiter{Limit: limit, Window: window, MaxKeys: 100000}
}

var _ Limiter = (*MemoryLimiter)(nil)

func (l *MemoryLimiter) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

// prune drops f's attempts that left the window; l.mu is held.
func (l *MemoryLimiter) prune(f *failures, now time.Time) {
	i := 0
	for i < len(f.at) && now.Sub(f.at[i]) >= l.Window {
		i++
	}
	if i > 0 {
		f.at = slices.Delete(f.at, 0, i)
	}
}

// wait is how long f's key must wait at now; f is pruned and l.mu held.
func (l *MemoryLimiter) wait(f *failures, now time.Time) time.Duration {
	if len(f.at) < l.Limit {
		return 0
	}
	oldest := f.at[len(f.at)-l.Limit] // the Limit-th most recent attempt
	if d := oldest.Add(l.Window).Sub(now); d > 0 {
		return d
	}
	return 0
}

// Check returns how long key must wait before its next attempt, and
// counts nothing.
func (l *MemoryLimiter) Check(_ context.Context, key string) (time.Duration, error) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.keys[key]
	if f == nil {
		return 0, nil
	}
	l.prune(f, now)
	return l.wait(f, now), nil
}

// Reserve counts an attempt for key unless key is blocked, in which case
// it returns how long key must wait.
func (l *MemoryLimiter) Reserve(_ context.Context, key string) (time.Duration, error) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if f := l.keys[key]; f != nil {
		l.prune(f, now)
		if d := l.wait(f, now); d > 0 {
			return d, nil
		}
	}
	l.add(key, now)
	return 0, nil
}

// Fail counts a failed attempt for key, whether or not it is blocked.
func (l *MemoryLimiter) Fail(_ context.Context, key string) error {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.add(key, now)
	return nil
}

// add counts an attempt for key at now; l.mu is held.
func (l *MemoryLimiter) add(key string, now time.Time) {
	if l.keys == nil {
		l.keys = make(map[string]*failures)
	}
	if now.Sub(l.lastSweep) >= l.Window {
		l.sweep(now, 0)
	}
	f := l.keys[key]
	if f == nil {
		if n := l.MaxKeys; n > 0 && len(l.keys) >= n {
			l.sweep(now, n-max(1, n/10))
		}
		f = &failures{at: make([]time.Time, 0, l.Limit)}
		l.keys[key] = f
	}
	l.prune(f, now)
	if len(f.at) >= l.Limit {
		f.at = slices.Delete(f.at, 0, len(f.at)-l.Limit+1)
	}
	f.at = append(f.at, now)
}

// sweep drops the keys whose attempts all left the window and then, when
// keep > 0 and more than keep keys are left, the keys whose last attempt is
// oldest until keep are left; l.mu is held.
func (l *MemoryLimiter) sweep(now time.Time, keep int) {
	l.scans++
	l.lastSweep = now
	type entry struct {
		key    string
		newest time.Time
	}
	var live []entry
	for k, f := range l.keys {
		if len(f.at) == 0 || now.Sub(f.at[len(f.at)-1]) >= l.Window {
			delete(l.keys, k)
		} else if keep > 0 {
			live = append(live, entry{k, f.at[len(f.at)-1]})
		}
	}
	if keep <= 0 || len(l.keys) <= keep {
		return
	}
	slices.SortFunc(live, func(a, b entry) int { return a.newest.Compare(b.newest) })
	for _, e := range live[:len(live)-keep] {
		delete(l.keys, e.key)
	}
}

// Release takes back key's most recent attempt.
func (l *MemoryLimiter) Release(_ context.Context, key string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.keys[key]
	if f == nil {
		return nil
	}
	if len(f.at) > 0 {
		f.at = f.at[:len(f.at)-1]
	}
	if len(f.at) == 0 {
		delete(l.keys, key)
	}
	return nil
}

// Reset forgets key's attempts.
func (l *MemoryLimiter) Reset(_ context.Context, key string) error {
	l.mu.Lock()
	delete(l.keys, key)
	l.mu.Unlock()
	return nil
}

// Len returns the number of keys kept.
func (l *MemoryLimiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.keys)
}

// clientIP returns the client's address for events: the one a logging
// filter chose behind trusted proxies, or the peer's, or "unknown".
func clientIP(r *http.Request) string {
	if ip := clientAddr(r); ip.IsValid() {
		return ip.String()
	}
	return "unknown"
}

// clientAddr returns the client's address: the one a logging filter chose
// behind trusted proxies, or the peer's; the zero Addr when there is none
// (a Unix socket).
func clientAddr(r *http.Request) netip.Addr {
	if ip := filter.From(r).ClientIP(); ip.IsValid() {
		return ip.Unmap()
	}
	if ip := trust.Peer(r.RemoteAddr); ip.IsValid() {
		return ip.Unmap()
	}
	return netip.Addr{}
}

// clientKey returns the client limiter's key for r: "ip:" and the IPv4
// address, or the IPv6 prefix of length bits6; false when r has no client
// address.
func clientKey(r *http.Request, bits6 int) (string, bool) {
	ip := clientAddr(r)
	if !ip.IsValid() {
		return "", false
	}
	if ip.Is6() && bits6 < 128 {
		p, err := ip.Prefix(bits6)
		if err != nil {
			return "", false
		}
		return "ip:" + p.String(), true
	}
	return "ip:" + ip.String(), true
}

// userKey returns the user limiter's key for a user name: the name
// trimmed and lower-cased, so that "Ana" and "ana " share ana's count.
func userKey(name string) string {
	return "user:" + strings.ToLower(strings.TrimSpace(name))
}
