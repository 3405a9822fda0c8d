package auth_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wsapi-go/wsapi/filter"
	"github.com/wsapi-go/wsapi/filter/filtertest"
	"github.com/wsapi-go/wsapi/filters/auth"
	"github.com/wsapi-go/wsapi/internal/testservice"
)

// clock is a settable time for limiters.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// fullLimiter is a Limiter with the methods both built-in ones have.
type fullLimiter interface {
	auth.Limiter
	Check(ctx context.Context, key string) (time.Duration, error)
	Fail(ctx context.Context, key string) error
}

// testLimiter runs the Limiter contract on l, whose clock is clk, with a
// limit of 3 in a minute.
func testLimiter(t *testing.T, l fullLimiter, clk *clock) {
	ctx := context.Background()
	wait := func(key string) time.Duration {
		t.Helper()
		d, err := l.Check(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	for i := 1; i <= 3; i++ {
		if d := wait("k"); d != 0 {
			t.Fatalf("before failure %d: wait %v", i, d)
		}
		if err := l.Fail(ctx, "k"); err != nil {
			t.Fatal(err)
		}
		clk.Add(time.Second)
	}
	// 3 failures at 0s, 1s, 2s; now 3s: blocked until the first leaves
	// the window, at 60s.
	if d := wait("k"); d != 57*time.Second {
		t.Errorf("after the limit: wait %v, want 57s", d)
	}
	if d := wait("other"); d != 0 {
		t.Errorf("another key: wait %v", d)
	}
	clk.Add(57 * time.Second) // 60s: the first failure is out of the window
	if d := wait("k"); d != 0 {
		t.Errorf("after the window: wait %v", d)
	}
	l.Fail(ctx, "k") // 3 in the window again: 1s, 2s, 60s
	if d := wait("k"); d != time.Second {
		t.Errorf("a sliding window: wait %v, want 1s", d)
	}
	if err := l.Reset(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if d := wait("k"); d != 0 {
		t.Errorf("after Reset: wait %v", d)
	}

	// Reserve counts as it checks: 3 attempts, then a wait, and the
	// refused attempt is not counted.
	reserve := func(key string) time.Duration {
		t.Helper()
		d, err := l.Reserve(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	for i := 1; i <= 3; i++ {
		if d := reserve("r"); d != 0 {
			t.Fatalf("reservation %d: wait %v", i, d)
		}
		clk.Add(time.Second)
	}
	if d := reserve("r"); d != 57*time.Second {
		t.Errorf("reservation 4: wait %v, want 57s", d)
	}
	if d := wait("r"); d != 57*time.Second {
		t.Errorf("a refused reservation was counted: wait %v, want 57s", d)
	}
	// Release takes back the most recent attempt: room for one more.
	if err := l.Release(ctx, "r"); err != nil {
		t.Fatal(err)
	}
	if d := wait("r"); d != 0 {
		t.Errorf("after Release: wait %v", d)
	}
	if d := reserve("r"); d != 0 {
		t.Errorf("a reservation after Release: wait %v", d)
	}
	if d := reserve("r"); d == 0 {
		t.Error("past the limit again: no wait")
	}
	if err := l.Release(ctx, "never seen"); err != nil {
		t.Errorf("Release of an unknown key: %v", err)
	}
}

func TestMemoryLimiter(t *testing.T) {
	clk := &clock{t: time.Unix(1_700_000_000, 0)}
	l := auth.NewMemoryLimiter(3, time.Minute)
	l.Now = clk.Now
	testLimiter(t, l, clk)
}

func TestMemoryLimiterMemoryIsBounded(t *testing.T) {
	clk := &clock{t: time.Unix(1_700_000_000, 0)}
	l := auth.NewMemoryLimiter(2, time.Minute)
	l.Now = clk.Now
	l.MaxKeys = 100
	ctx := context.Background()
	for i := range 100 {
		l.Fail(ctx, "k"+strconv.Itoa(i))
	}
	if n := l.Len(); n != 100 {
		t.Fatalf("%d keys, want 100", n)
	}
	l.Fail(ctx, "one more")
	if n := l.Len(); n != 91 {
		t.Errorf("past MaxKeys: %d keys, want 91 (a tenth dropped, one added)", n)
	}
	clk.Add(time.Minute)
	l.Fail(ctx, "late") // sweeps the expired keys
	if n := l.Len(); n != 1 {
		t.Errorf("after the window: %d keys, want 1", n)
	}
}

func TestRedisLimiterIsSharedBetweenInstances(t *testing.T) {
	srv := testservice.StartRedis(t)
	clk := &clock{t: time.Now()}
	newLimiter := func() *auth.RedisLimiter {
		c := redis.NewClient(&redis.Options{Addr: srv.Addr(), MaxRetries: -1, DialTimeout: time.Second})
		t.Cleanup(func() { c.Close() })
		l := auth.NewRedisLimiter(c, 3, time.Minute)
		l.Now = clk.Now
		return l
	}
	one, two := newLimiter(), newLimiter()
	testLimiter(t, one, clk)

	// Failures through one instance block the key on the other.
	ctx := context.Background()
	one.Fail(ctx, "shared")
	two.Fail(ctx, "shared")
	if d, _ := two.Check(ctx, "shared"); d != 0 {
		t.Errorf("2 failures of 3: wait %v", d)
	}
	one.Fail(ctx, "shared")
	if d, err := two.Check(ctx, "shared"); d <= 0 || err != nil {
		t.Errorf("3 failures through two instances: wait %v, %v", d, err)
	}
	two.Reset(ctx, "shared")
	if d, _ := one.Check(ctx, "shared"); d != 0 {
		t.Errorf("after a Reset on the other instance: wait %v", d)
	}

	// A Redis that is down is an error, which the filter lets through.
	srv.Stop()
	if _, err := one.Check(ctx, "k"); err == nil {
		t.Error("no error with the server down")
	}
	a := auth.New(auth.NewBasic(testUsers(t)))
	a.ClientLimiter, a.UserLimiter = one, two
	var events []string
	a.Events = new(filter.Hub)
	a.Events.Subscribe("auth:limiter", func(ev filter.Event) { events = append(events, ev.Topic) })
	if rec := serve(a.Wrap(whoami), get("/", basicHeader("ana", anaPass))); rec.Code != 200 || len(events) == 0 {
		t.Errorf("with the limiter down: %d, events %v", rec.Code, events)
	}
}

// The filter with a limit of 3 per user and 5 per client: the fourth
// attempt on a user is refused before its password is checked, a success
// clears the user's count, and the client's count is separate.
func TestTheFilterLimitsFailedLogins(t *testing.T) {
	clk := &clock{t: time.Unix(1_700_000_000, 0)}
	users, clients := auth.NewMemoryLimiter(3, time.Minute), auth.NewMemoryLimiter(5, time.Minute)
	users.Now, clients.Now = clk.Now, clk.Now
	a := auth.New(auth.NewBasic(testUsers(t)))
	a.UserLimiter, a.ClientLimiter = users, clients
	var topics []string
	hub := new(filter.Hub)
	hub.Subscribe("auth", func(ev filter.Event) { topics = append(topics, ev.Topic+":"+ev.Data.(auth.Attempt).User) })
	a.Events = hub
	h := filtertest.Check(t, a, whoami)
	from := func(ip, header string) *filtertest.Recorder {
		r := get("/", header)
		r.RemoteAddr = ip + ":1234"
		return serve(h, r)
	}
	for i := 1; i <= 3; i++ {
		if rec := from("192.0.2.1", basicHeader("ana", "guess")); rec.Code != 401 {
			t.Fatalf("failure %d: %d", i, rec.Code)
		}
	}
	rec := from("192.0.2.2", basicHeader("ana", anaPass)) // the right password, too late
	if rec.Code != 429 || rec.SentHeader().Get("Retry-After") != "60" {
		t.Errorf("attempt 4 on ana: %d, Retry-After %q; want 429, 60", rec.Code, rec.SentHeader().Get("Retry-After"))
	}
	if rec := from("192.0.2.2", basicHeader("bob", bobPass)); rec.Code != 200 {
		t.Errorf("bob from another client: %d", rec.Code)
	}
	clk.Add(time.Minute)
	if rec := from("192.0.2.2", basicHeader("ana", anaPass)); rec.Code != 200 {
		t.Errorf("ana after the window: %d", rec.Code)
	}
	// The success cleared ana's count: 3 more failures before a 429.
	for i := 1; i <= 2; i++ {
		if rec := from("192.0.2.3", basicHeader("ana", "guess")); rec.Code != 401 {
			t.Errorf("failure %d after a success: %d", i, rec.Code)
		}
	}
	// Client 192.0.2.1 failed 3 times a minute ago (out of the window);
	// 192.0.2.3 twice now; 3 more on bob reach its limit of 5.
	for i := 1; i <= 3; i++ {
		if rec := from("192.0.2.3", basicHeader("bob", "guess")); rec.Code != 401 {
			t.Errorf("client failure %d: %d", i+2, rec.Code)
		}
	}
	if rec := from("192.0.2.3", basicHeader("eve", "guess")); rec.Code != 429 {
		t.Errorf("attempt 6 from one client: %d", rec.Code)
	}
	// A good token or a cached password never waits for the limiter.
	if rec := from("192.0.2.3", basicHeader("ana", anaPass)); rec.Code != 200 {
		t.Errorf("a cached good password from a blocked client: %d", rec.Code)
	}
	want := []string{"auth:login:failed:ana", "auth:login:failed:ana", "auth:login:failed:ana", "auth:limited:ana"}
	for i, w := range want {
		if i >= len(topics) || topics[i] != w {
			t.Fatalf("events %v, want them to start with %v", topics, want)
		}
	}
}

func TestLoginLimitsAndEvents(t *testing.T) {
	s := newSite(t, func(a *auth.Filter) {
		a.UserLimiter = auth.NewMemoryLimiter(2, time.Hour)
		a.Events = new(filter.Hub)
	})
	var topics []string
	s.auth.Events.Subscribe("auth", func(ev filter.Event) {
		topics = append(topics, ev.Topic+" "+ev.Data.(auth.Attempt).User+" "+ev.Data.(auth.Attempt).Reason)
	})
	const js = "application/json"
	s.do(t, "POST", "/login", js, `{"username":"bob","password":"x"}`)
	s.do(t, "POST", "/login", js, `{"username":"bob","password":"x"}`)
	res, _ := s.do(t, "POST", "/login", js, `{"username":"bob","password":"`+bobPass+`"}`)
	if res.StatusCode != 429 || res.Header.Get("Retry-After") == "" {
		t.Errorf("attempt 3 with a limit of 2: %d, Retry-After %q", res.StatusCode, res.Header.Get("Retry-After"))
	}
	res, _ = s.do(t, "POST", "/login", js, `{"username":"ana","password":"`+anaPass+`"}`)
	if res.StatusCode != 200 {
		t.Errorf("ana: %d", res.StatusCode)
	}
	s.do(t, "GET", "/admin", "", "")
	s.do(t, "POST", "/logout", "", "")
	s.do(t, "GET", "/admin", "", "")
	s.form(t, "/login", url.Values{"username": {"ana"}, "password": {anaPass}})
	want := []string{
		"auth:login:failed bob invalid", "auth:login:failed bob invalid", "auth:limited bob limited",
		"auth:login ana ", "auth:logout ana ", "auth:denied  unauthenticated", "auth:login ana ",
	}
	if len(topics) != len(want) {
		t.Fatalf("events\n%q\nwant\n%q", topics, want)
	}
	for i := range want {
		if topics[i] != want[i] {
			t.Errorf("event %d: %q, want %q", i, topics[i], want[i])
		}
	}
	_ = http.StatusOK
}
