package auth

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/wsapi-go/wsapi/filter"
	"github.com/wsapi-go/wsapi/internal/trust"
)

// Limiter counts failed attempts per key (a client IP, a user name) in a
// sliding window, against brute-force guessing. A key is blocked while it
// has Limit or more failures in the last Window: the Limit-th failure is
// still answered as a failure, the next attempt is refused.
//
//   - Check returns how long key must still wait: 0 when it may try now;
//   - Fail records a failure for key;
//   - Reset forgets key's failures (a successful login clears the user's).
//
// An error means the limiter could not answer (a Redis server down); the
// filter then logs it, publishes "auth:limiter:error" and lets the attempt
// through: the password check itself still stands.
type Limiter interface {
	Check(ctx context.Context, key string) (time.Duration, error)
	Fail(ctx context.Context, key string) error
	Reset(ctx context.Context, key string) error
}

// MemoryLimiter is a Limiter in the process's memory: each key keeps the
// times of its last Limit failures. Memory is bounded by MaxKeys; keys
// whose failures all left the window are swept as new failures come in.
// It is not shared between instances: use RedisLimiter for that.
type MemoryLimiter struct {
	// Limit is the number of failures in Window after which a key is
	// blocked.
	Limit int
	// Window is the length of the sliding window.
	Window time.Duration
	// MaxKeys bounds the number of keys kept; when it is reached and no
	// key has expired, one key is dropped to make room. NewMemoryLimiter
	// sets 100000.
	MaxKeys int
	// Now returns the current time; nil means time.Now. Tests set it.
	Now func() time.Time

	mu        sync.Mutex
	keys      map[string]*failures
	lastSweep time.Time
}

// failures is a ring of the times of a key's last failures.
type failures struct {
	at   []time.Time // at most Limit, oldest at next
	next int
}

// NewMemoryLimiter returns a MemoryLimiter that blocks a key after limit
// failures within window. It panics when limit < 1 or window <= 0.
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

// wait is how long f's key must wait at now; l.mu is held.
func (l *MemoryLimiter) wait(f *failures, now time.Time) time.Duration {
	if len(f.at) < l.Limit {
		return 0
	}
	oldest := f.at[f.next] // the Limit-th most recent failure
	if d := oldest.Add(l.Window).Sub(now); d > 0 {
		return d
	}
	return 0
}

// Check returns how long key must wait before its next attempt.
func (l *MemoryLimiter) Check(_ context.Context, key string) (time.Duration, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.keys[key]
	if f == nil {
		return 0, nil
	}
	return l.wait(f, l.now()), nil
}

// Fail records a failure for key.
func (l *MemoryLimiter) Fail(_ context.Context, key string) error {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.keys == nil {
		l.keys = make(map[string]*failures)
	}
	if now.Sub(l.lastSweep) >= l.Window {
		l.sweep(now)
	}
	f := l.keys[key]
	if f == nil {
		if max := l.MaxKeys; max > 0 && len(l.keys) >= max {
			l.sweep(now)
			for k := range l.keys { // still full: drop one
				if len(l.keys) < max {
					break
				}
				delete(l.keys, k)
			}
		}
		f = &failures{at: make([]time.Time, 0, l.Limit)}
		l.keys[key] = f
	}
	if len(f.at) < l.Limit {
		f.at = append(f.at, now)
		return nil
	}
	f.at[f.next] = now
	f.next = (f.next + 1) % len(f.at)
	return nil
}

// sweep drops the keys whose failures all left the window; l.mu is held.
func (l *MemoryLimiter) sweep(now time.Time) {
	l.lastSweep = now
	for k, f := range l.keys {
		newest := f.at[(f.next+len(f.at)-1)%len(f.at)]
		if now.Sub(newest) >= l.Window {
			delete(l.keys, k)
		}
	}
}

// Reset forgets key's failures.
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

// clientIP returns the client's address: the one a logging filter chose
// behind trusted proxies, or the peer's.
func clientIP(r *http.Request) string {
	if ip := filter.From(r).ClientIP(); ip.IsValid() {
		return ip.String()
	}
	if ip := trust.Peer(r.RemoteAddr); ip.IsValid() {
		return ip.String()
	}
	return "unknown"
}
