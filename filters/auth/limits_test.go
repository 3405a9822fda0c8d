package auth_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wsapi-go/wsapi/filter"
	"github.com/wsapi-go/wsapi/filter/filtertest"
	"github.com/wsapi-go/wsapi/filters/auth"
)

// heldUsers is a Passwords that counts the checks that reach it and holds
// each one until released, as a slow bcrypt would: every attempt of a
// burst arrives while the first ones are still being checked.
type heldUsers struct {
	checks  atomic.Int32
	arrived chan struct{}
	release chan struct{}
}

func newHeldUsers(n int) *heldUsers {
	return &heldUsers{arrived: make(chan struct{}, n), release: make(chan struct{})}
}

func (u *heldUsers) Verify(user, password string) (*auth.Identity, error) {
	u.checks.Add(1)
	u.arrived <- struct{}{}
	<-u.release
	if password == "secret" {
		return &auth.Identity{Name: strings.ToLower(strings.TrimSpace(user))}, nil
	}
	return nil, auth.ErrInvalid
}

// burst sends n requests at once through send, which returns the status.
// A request counts as arrived when it reaches the password check or is
// refused with 429; once all n have arrived, the held checks are released.
// It returns the number of 429s.
func burst(t *testing.T, n int, held *heldUsers, send func(i int) int) int {
	t.Helper()
	var refused atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if send(i) == http.StatusTooManyRequests {
				refused.Add(1)
				held.arrived <- struct{}{}
			}
		}()
	}
	close(start)
	for range n {
		<-held.arrived
	}
	close(held.release)
	wg.Wait()
	return int(refused.Load())
}

// A burst of parallel wrong passwords: each attempt is counted before its
// password is checked, so only as many reach the check as the limits
// allow (3 for the user, 5 for the client), and the rest get 429.
func TestAParallelBurstOfLoginsIsLimited(t *testing.T) {
	const n = 40
	held := newHeldUsers(2 * n)
	a := auth.New(auth.NewSession(nil))
	a.Users = held
	a.UserLimiter = auth.NewMemoryLimiter(3, time.Hour)
	a.ClientLimiter = auth.NewMemoryLimiter(5, time.Hour)
	h := newSessions(t).Wrap(a.LoginHandler())
	refused := burst(t, n, held, func(i int) int {
		r := filtertest.PostForm("/login", url.Values{"username": {"ana"}, "password": {"guess" + strconv.Itoa(i)}})
		return serve(h, r).Code
	})
	if got := held.checks.Load(); got != 3 || refused != n-3 {
		t.Errorf("%d of %d parallel guesses reached the password check and %d got 429; want 3 and %d", got, n, refused, n-3)
	}

	// The client limit holds the same way for guesses on many users.
	held = newHeldUsers(2 * n)
	a = auth.New(auth.NewSession(nil))
	a.Users = held
	a.ClientLimiter = auth.NewMemoryLimiter(5, time.Hour)
	h = newSessions(t).Wrap(a.LoginHandler())
	refused = burst(t, n, held, func(i int) int {
		r := filtertest.PostForm("/login", url.Values{"username": {"user" + strconv.Itoa(i)}, "password": {"guess"}})
		return serve(h, r).Code
	})
	if got := held.checks.Load(); got != 5 || refused != n-5 {
		t.Errorf("guesses on %d users: %d reached the check and %d got 429; want 5 and %d", n, got, refused, n-5)
	}
}

// The same burst on the Basic strategy: its bcrypt checks are counted.
func TestAParallelBurstOfBasicGuessesIsLimited(t *testing.T) {
	const n = 40
	users := testUsers(t)
	held := newHeldUsers(2 * n)
	auth.OnCompareHash(t, func([]byte) {
		held.checks.Add(1)
		held.arrived <- struct{}{}
		<-held.release
	})
	a := auth.New(auth.NewBasic(users))
	a.UserLimiter = auth.NewMemoryLimiter(3, time.Hour)
	a.ClientLimiter = auth.NewMemoryLimiter(5, time.Hour)
	h := a.Wrap(whoami)
	refused := burst(t, n, held, func(i int) int {
		return serve(h, get("/", basicHeader("ana", "guess"+strconv.Itoa(i)))).Code
	})
	if got := held.checks.Load(); got != 3 || refused != n-3 {
		t.Errorf("%d of %d parallel Basic guesses reached bcrypt and %d got 429; want 3 and %d", got, n, refused, n-3)
	}
}

// A good password takes its attempt back from the client's count: a
// client whose users log in successfully is never blocked for it.
func TestSuccessesDoNotCountAgainstTheClient(t *testing.T) {
	users := testUsers(t)
	users.CacheFor = -1 // every request checks the password
	a := auth.New(auth.NewBasic(users))
	a.ClientLimiter = auth.NewMemoryLimiter(3, time.Hour)
	h := a.Wrap(whoami)
	for i := range 10 {
		if rec := serve(h, get("/", basicHeader("bob", bobPass))); rec.Code != 200 {
			t.Fatalf("good password %d: %d", i+1, rec.Code)
		}
	}
	for i := range 3 {
		if rec := serve(h, get("/", basicHeader("bob", "guess"))); rec.Code != 401 {
			t.Errorf("failure %d after 10 successes: %d, want 401", i+1, rec.Code)
		}
	}
	if rec := serve(h, get("/", basicHeader("bob", "guess"))); rec.Code != 429 {
		t.Errorf("failure 4: %d, want 429", rec.Code)
	}
}

// caseless is a user store that ignores case and surrounding spaces, as a
// directory or a database with a case-insensitive collation does.
type caseless struct{}

func (caseless) Verify(user, password string) (*auth.Identity, error) {
	if strings.EqualFold(strings.TrimSpace(user), "ana") && password == "secret" {
		return &auth.Identity{Name: "ana"}, nil
	}
	return nil, auth.ErrInvalid
}

// The user limit counts every spelling of a name as the same user.
func TestTheUserLimitIgnoresCaseAndSpaces(t *testing.T) {
	s := newSite(t, func(a *auth.Filter) {
		a.Users = caseless{}
		a.UserLimiter = auth.NewMemoryLimiter(3, time.Hour)
		a.NoClientLimit = true
	})
	const js = "application/json"
	login := func(user, pass string) int {
		res, _ := s.do(t, "POST", "/login", js, `{"username":"`+user+`","password":"`+pass+`"}`)
		return res.StatusCode
	}
	for _, u := range []string{"ana", "Ana", "ANA "} {
		if code := login(u, "x"); code != 401 {
			t.Errorf("a wrong password for %q: %d, want 401", u, code)
		}
	}
	for _, u := range []string{"ana", "aNa", " ANA", "ana\u00a0"} {
		if code := login(u, "secret"); code != 429 {
			t.Errorf("%q after 3 failures on other spellings: %d, want 429", u, code)
		}
	}

	// A success under one spelling clears the count of the name the
	// identity holds.
	s = newSite(t, func(a *auth.Filter) {
		a.Users = caseless{}
		a.UserLimiter = auth.NewMemoryLimiter(3, time.Hour)
		a.NoClientLimit = true
	})
	login("ana", "x")
	login("ana", "x")
	if code := login(" Ana", "secret"); code != 200 {
		t.Fatalf("a good password: %d", code)
	}
	for i := range 3 {
		if code := login("ana", "x"); code != 401 {
			t.Errorf("failure %d after the success: %d, want 401", i+1, code)
		}
	}
}

// The client limit counts an IPv6 /64 as one client (ClientPrefix6
// changes the length); IPv4 addresses and IPv4-mapped ones one by one.
func TestTheClientLimitCountsIPv6Prefixes(t *testing.T) {
	for _, tc := range []struct {
		name    string
		prefix  int
		addrs   func(i int) string
		limited int
	}{
		{"one /64", 0, func(i int) string { return "[2001:db8:0:1::" + strconv.FormatInt(int64(i+1), 16) + "]:1" }, 17},
		{"one /64 with the zone", 0, func(i int) string { return "[fe80::" + strconv.Itoa(i+1) + "%eth0]:1" }, 17},
		{"different /64s", 0, func(i int) string { return "[2001:db8:0:" + strconv.Itoa(i+1) + "::1]:1" }, 0},
		{"one /48 with ClientPrefix6 48", 48, func(i int) string { return "[2001:db8:0:" + strconv.Itoa(i+1) + "::1]:1" }, 17},
		{"one /64 with ClientPrefix6 128", 128, func(i int) string { return "[2001:db8::" + strconv.Itoa(i+1) + "]:1" }, 0},
		{"IPv4 addresses", 0, func(i int) string { return "192.0.2." + strconv.Itoa(i+1) + ":1" }, 0},
		{"one IPv4 address, mapped or not", 0, func(i int) string {
			if i%2 == 0 {
				return "[::ffff:192.0.2.7]:1"
			}
			return "192.0.2.7:1"
		}, 17},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := auth.New(auth.NewBearer())
			a.ClientLimiter = auth.NewMemoryLimiter(3, time.Hour)
			a.ClientPrefix6 = tc.prefix
			h := a.Wrap(whoami)
			limited := 0
			for i := range 20 {
				r := get("/", "Bearer nope")
				r.RemoteAddr = tc.addrs(i)
				if serve(h, r).Code == 429 {
					limited++
				}
			}
			if limited != tc.limited {
				t.Errorf("20 bad tokens, limit 3: %d refused, want %d", limited, tc.limited)
			}
		})
	}
}

// withLogger runs next with a logger on the exchange that writes to buf.
func withLogger(buf *bytes.Buffer, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		x, w, r, owner := filter.Begin(w, r)
		defer owner.End()
		x.SetLogger(slog.New(slog.NewTextHandler(buf, nil)))
		next.ServeHTTP(w, r)
	})
}

// Without a client address (a Unix socket, a proxy whose address no
// filter replaced), requests do not share one "unknown" client: the
// client limit is skipped, with a warning logged once.
func TestNoClientAddressSkipsTheClientLimit(t *testing.T) {
	a := auth.New(auth.NewBearer())
	a.ClientLimiter = auth.NewMemoryLimiter(3, time.Hour)
	var logs bytes.Buffer
	h := withLogger(&logs, a.Wrap(whoami))
	for i, addr := range []string{"@", "", "/run/app.sock", "@", ""} {
		r := get("/", "Bearer nope")
		r.RemoteAddr = addr
		if rec := serve(h, r); rec.Code != 401 {
			t.Errorf("request %d from %q: %d, want 401", i+1, addr, rec.Code)
		}
	}
	if n := strings.Count(logs.String(), "no client address"); n != 1 {
		t.Errorf("warned %d times, want once: %q", n, logs.String())
	}
	// A client IP set by a logging filter is used.
	h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		x, w, r, owner := filter.Begin(w, r)
		defer owner.End()
		x.SetClientIP(mustAddr("198.51.100.9"))
		a.Wrap(whoami).ServeHTTP(w, r)
	})
	limited := 0
	for range 5 {
		r := get("/", "Bearer nope")
		r.RemoteAddr = "@"
		if serve(h, r).Code == 429 {
			limited++
		}
	}
	if limited != 2 {
		t.Errorf("with the client IP set: %d refused, want 2", limited)
	}
}

// A Filter literal gets the default limits; NoClientLimit and NoUserLimit
// turn them off.
func TestAFilterLiteralHasTheDefaultLimits(t *testing.T) {
	users := testUsers(t)
	lit := &auth.Filter{Strategies: []auth.Strategy{auth.NewBasic(users)}}
	h := lit.Wrap(whoami)
	codes := map[int]int{}
	for range 11 {
		codes[serve(h, get("/", basicHeader("ana", "guess"))).Code]++
	}
	if codes[401] != 10 || codes[429] != 1 {
		t.Errorf("11 guesses on a Filter literal: %v, want 10 401s and one 429 (10 per user)", codes)
	}
	codes = map[int]int{}
	for i := range 41 {
		codes[serve(h, get("/", basicHeader("user"+strconv.Itoa(i), "guess"))).Code]++
	}
	if codes[401] != 40 || codes[429] != 1 {
		t.Errorf("41 guesses on other users from the same client: %v, want 40 401s and one 429 (50 per client)", codes)
	}

	off := &auth.Filter{Strategies: []auth.Strategy{auth.NewBasic(users)}, NoClientLimit: true, NoUserLimit: true}
	h = off.Wrap(whoami)
	for i := range 60 {
		if rec := serve(h, get("/", basicHeader("ana", "guess"))); rec.Code != 401 {
			t.Fatalf("guess %d with the limits off: %d", i+1, rec.Code)
		}
	}
}

// A full MemoryLimiter drops the keys whose last attempt is oldest, a
// tenth at a time, and scans its keys once per batch, not per new key.
func TestAFullMemoryLimiterDropsTheOldestKeysInBatches(t *testing.T) {
	clk := &clock{t: time.Unix(1_700_000_000, 0)}
	l := auth.NewMemoryLimiter(1, time.Hour)
	l.Now = clk.Now
	l.MaxKeys = 100
	ctx := context.Background()
	for i := range 100 {
		l.Fail(ctx, "k"+strconv.Itoa(i))
		clk.Add(time.Second)
	}
	scans := auth.Scans(l)
	l.Fail(ctx, "new")
	if n := l.Len(); n != 91 {
		t.Errorf("past MaxKeys: %d keys, want 91", n)
	}
	for _, tc := range []struct {
		key     string
		blocked bool
	}{{"k0", false}, {"k9", false}, {"k10", true}, {"k99", true}, {"new", true}} {
		if d, _ := l.Check(ctx, tc.key); (d > 0) != tc.blocked {
			t.Errorf("%s: wait %v; want it blocked: %v", tc.key, d, tc.blocked)
		}
	}
	for i := range 1000 {
		l.Fail(ctx, "more"+strconv.Itoa(i))
	}
	if n := auth.Scans(l) - scans; n > 1+1000/10 {
		t.Errorf("1001 new keys past MaxKeys scanned the keys %d times, want at most %d", n, 1+1000/10)
	}
	if n := l.Len(); n > 100 {
		t.Errorf("%d keys, more than MaxKeys", n)
	}
}

// Strategy errors are compared with errors.Is: a wrapped ErrNotMine
// passes to the next strategy.
func TestAWrappedErrNotMineTriesTheNextStrategy(t *testing.T) {
	tok, hash := auth.NewToken()
	b := auth.NewBearer()
	b.Add(hash, auth.Identity{Name: "ci"})
	wrapped := auth.StrategyFunc(func(*http.Request) (*auth.Identity, error) {
		return nil, fmt.Errorf("custom: %w", auth.ErrNotMine)
	})
	h := auth.New(wrapped, b).Wrap(whoami)
	if rec := serve(h, get("/", "Bearer "+tok)); rec.Code != 200 || rec.Body.String() != "ci ci ci" {
		t.Errorf("%d %q, want the bearer identity", rec.Code, rec.Body.String())
	}
}
