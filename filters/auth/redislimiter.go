package auth

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisLimiter is a Limiter in Redis, so that several instances of an app
// share the counts. Each key is a sorted set of the times of its recent
// attempts (at most Limit of them), which expires with the window; each
// call is one script run, atomic on the server, so Reserve checks and
// counts in one step for all instances. Times come from the
// instances' clocks, which should agree to well within the window.
type RedisLimiter struct {
	// Client is the Redis client (a *redis.Client, a cluster or a ring).
	Client redis.UniversalClient
	// Prefix starts every Redis key the limiter uses. NewRedisLimiter
	// sets "auth:limit:"; give limiters that must not share counts
	// different prefixes.
	Prefix string
	// Limit is the number of attempts in Window after which a key is
	// blocked.
	Limit int
	// Window is the length of the sliding window.
	Window time.Duration
	// Now returns the current time; nil means time.Now. Tests set it.
	Now func() time.Time
}

// NewRedisLimiter returns a RedisLimiter on client that blocks a key after
// limit attempts within window. It panics when client is nil, limit < 1 or
// window < 1ms.
func NewRedisLimiter(client redis.UniversalClient, limit int, window time.Duration) *RedisLimiter {
	if client == nil || limit < 1 || window < time.Millisecond {
		panic("auth: NewRedisLimiter needs a client, a limit of at least 1 and a window of at least 1ms")
	}
	return &RedisLimiter{Client: client, Prefix: "auth:limit:", Limit: limit, Window: window}
}

var _ Limiter = (*RedisLimiter)(nil)

// Scores are microseconds since the epoch.
var (
	redisCheck = redis.NewScript(`
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[1]) - tonumber(ARGV[2]))
local limit = tonumber(ARGV[3])
if redis.call('ZCARD', KEYS[1]) < limit then return 0 end
local oldest = redis.call('ZRANGE', KEYS[1], -limit, -limit, 'WITHSCORES')
local wait = tonumber(oldest[2]) + tonumber(ARGV[2]) - tonumber(ARGV[1])
if wait < 0 then return 0 end
return math.ceil(wait)
`)
	redisFail = redis.NewScript(`
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[1]) - tonumber(ARGV[2]))
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -(tonumber(ARGV[3]) + 1))
redis.call('PEXPIRE', KEYS[1], math.ceil(tonumber(ARGV[2]) / 1000))
return 0
`)
	redisReserve = redis.NewScript(`
local now, window, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= limit then
  local oldest = redis.call('ZRANGE', KEYS[1], -limit, -limit, 'WITHSCORES')
  local wait = tonumber(oldest[2]) + window - now
  if wait > 0 then return math.ceil(wait) end
end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -(limit + 1))
redis.call('PEXPIRE', KEYS[1], math.ceil(window / 1000))
return 0
`)
	redisRelease = redis.NewScript(`
redis.call('ZREMRANGEBYRANK', KEYS[1], -1, -1)
return 0
`)
)

func (l *RedisLimiter) args() (now, window, limit string) {
	t := time.Now()
	if l.Now != nil {
		t = l.Now()
	}
	return strconv.FormatInt(t.UnixMicro(), 10), strconv.FormatInt(l.Window.Microseconds(), 10), strconv.Itoa(l.Limit)
}

// Check returns how long key must wait before its next attempt, and
// counts nothing.
func (l *RedisLimiter) Check(ctx context.Context, key string) (time.Duration, error) {
	now, window, limit := l.args()
	us, err := redisCheck.Run(ctx, l.Client, []string{l.Prefix + key}, now, window, limit).Int64()
	if err != nil {
		return 0, err
	}
	return time.Duration(us) * time.Microsecond, nil
}

// Reserve counts an attempt for key unless key is blocked, in which case
// it returns how long key must wait.
func (l *RedisLimiter) Reserve(ctx context.Context, key string) (time.Duration, error) {
	now, window, limit := l.args()
	us, err := redisReserve.Run(ctx, l.Client, []string{l.Prefix + key}, now, window, limit, member(now)).Int64()
	if err != nil {
		return 0, err
	}
	return time.Duration(us) * time.Microsecond, nil
}

// Release takes back key's most recent attempt.
func (l *RedisLimiter) Release(ctx context.Context, key string) error {
	return redisRelease.Run(ctx, l.Client, []string{l.Prefix + key}).Err()
}

// Fail counts a failed attempt for key, whether or not it is blocked.
func (l *RedisLimiter) Fail(ctx context.Context, key string) error {
	now, window, limit := l.args()
	return redisFail.Run(ctx, l.Client, []string{l.Prefix + key}, now, window, limit, member(now)).Err()
}

// member returns a unique sorted-set member for an attempt at now.
func member(now string) string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return now + "-" + hex.EncodeToString(b[:])
}

// Reset forgets key's failures.
func (l *RedisLimiter) Reset(ctx context.Context, key string) error {
	return l.Client.Del(ctx, l.Prefix+key).Err()
}
