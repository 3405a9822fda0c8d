package session

// Integration tests: the filter over each store, with real servers
// (internal/testservice), several app instances, restarts, expiry, and a
// store that goes down and comes back.

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wsapi-go/wsapi"
	"github.com/wsapi-go/wsapi/filter"
	"github.com/wsapi-go/wsapi/filter/filtertest"
	"github.com/wsapi-go/wsapi/internal/testservice"
)

// visits increments "n" in the session and answers its new value.
var visits = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	n := GetInt(r, "n") + 1
	if err := Put(r, "n", n); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	_, _ = io.WriteString(w, strconv.Itoa(n))
})

// storeUnavailable matches the body of the filter's 503 for a store that
// is down.
var storeUnavailable = regexp.MustCompile(`session store (is )?unavailable`)

// instance is one instance of an app: its own store, opened from a URL
// that other instances may share, a session filter on it, and a TLS test
// server.
type instance struct {
	srv    *httptest.Server
	store  *Store
	logs   *filtertest.Buffer // the requests' log
	events atomic.Int32       // "session:store:error" events
	once   sync.Once
}

// startInstance opens a store from storeURL and serves visits behind a
// session filter on it (set up by configure, when not nil), linted by
// filtertest. It stops when the test ends, or at close.
func startInstance(t *testing.T, storeURL string, configure func(*Filter)) *instance {
	t.Helper()
	in := &instance{store: openStoreT(t, storeURL), logs: &filtertest.Buffer{}}
	hub := &filter.Hub{}
	hub.Subscribe("session:store:error", func(filter.Event) { in.events.Add(1) })
	f := New(in.store)
	f.Events = hub
	if configure != nil {
		configure(f)
	}
	stack := wsapi.New(f).WithLogger(slog.New(slog.NewTextHandler(in.logs, nil)))
	in.srv = httptest.NewTLSServer(filtertest.Check(t, stack, visits))
	t.Cleanup(in.close) // before the store's Close, registered earlier
	return in
}

// close stops serving and closes the store (a process that stops).
func (in *instance) close() {
	in.once.Do(func() {
		in.srv.Close()
		_ = in.store.Close()
	})
}

// newBrowser returns a client with a cookie jar that trusts the test
// servers' certificate (all httptest TLS servers share one). The jar keys
// cookies by host, not port, so it sends the session cookie to every
// instance on 127.0.0.1, as a browser would to instances behind one
// domain.
func newBrowser(t *testing.T, in *instance) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	tr := in.srv.Client().Transport.(*http.Transport).Clone()
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Jar: jar, Timeout: 30 * time.Second}
}

// visit gets in's page and returns the status and body.
func visit(t *testing.T, c *http.Client, in *instance) (int, string) {
	t.Helper()
	res, err := c.Get(in.srv.URL + "/")
	if err != nil {
		t.Fatalf("GET %s: %v", in.srv.URL, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("GET %s: read the body: %v", in.srv.URL, err)
	}
	return res.StatusCode, string(body)
}

// mustCount visits in and fails unless the counter answers want.
func mustCount(t *testing.T, c *http.Client, in *instance, want int, what string) {
	t.Helper()
	status, body := visit(t, c, in)
	if status != http.StatusOK || body != strconv.Itoa(want) {
		t.Fatalf("%s: %d %q, want 200 %q", what, status, body, strconv.Itoa(want))
	}
}

// TestInstancesShareOneSession: two instances of an app, each with its own
// filter and store opened from the same URL, serve one client's session in
// turn, and the counter goes on from one to the other. A memory store
// lives in one process, so there a second instance starts its own session.
func TestInstancesShareOneSession(t *testing.T) {
	verifyNoLeaks(t)
	t.Run("memory", func(t *testing.T) {
		t.Parallel()
		a := startInstance(t, "memory:", nil)
		c := newBrowser(t, a)
		for want := 1; want <= 3; want++ {
			mustCount(t, c, a, want, "instance A, visit "+strconv.Itoa(want))
		}
		b := startInstance(t, "memory:", nil)
		mustCount(t, c, b, 1, "a second instance with a memory store of its own")
	})
	for _, kind := range []string{"sqlite", "redis", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			u := storeURL(t, kind)
			a := startInstance(t, u, nil)
			b := startInstance(t, u, nil)
			c := newBrowser(t, a)
			mustCount(t, c, a, 1, "instance A")
			mustCount(t, c, b, 2, "then instance B")
			mustCount(t, c, a, 3, "then instance A again")
		})
	}
}

// TestASQLiteSessionSurvivesARestart: an instance stops (its filter and
// store closed), a new one starts on the same file, and the session goes
// on.
func TestASQLiteSessionSurvivesARestart(t *testing.T) {
	verifyNoLeaks(t)
	u := "sqlite://" + filepath.Join(t.TempDir(), "sessions.db")
	first := startInstance(t, u, nil)
	c := newBrowser(t, first)
	mustCount(t, c, first, 1, "before the restart")
	mustCount(t, c, first, 2, "before the restart")
	first.close()

	second := startInstance(t, u, nil)
	mustCount(t, c, second, 3, "after the restart")
}

// TestSessionsExpire: with an idle timeout and a lifetime of 3 s, a
// session not used for 4 s is gone from every store, and the counter
// starts over. (The first two visits must fall within the 3 s, also on a
// loaded machine with four stores starting at once.)
func TestSessionsExpire(t *testing.T) {
	verifyNoLeaks(t)
	short := func(f *Filter) {
		f.Manager.Lifetime = 3 * time.Second
		f.Manager.IdleTimeout = 3 * time.Second
	}
	for _, kind := range []string{"memory", "sqlite", "redis", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			in := startInstance(t, storeURL(t, kind), short)
			c := newBrowser(t, in)
			mustCount(t, c, in, 1, "first visit")
			mustCount(t, c, in, 2, "second visit")
			time.Sleep(4 * time.Second)
			mustCount(t, c, in, 1, "a visit 4 s later")
		})
	}
}

// TestAStoreThatGoesDownAndComesBack: while the store's server is down,
// requests get 503 and the filter logs and publishes the error; once it is
// back, requests succeed again without restarting the app. PostgreSQL
// keeps the session; Redis, which saves nothing to disk here, loses it.
func TestAStoreThatGoesDownAndComesBack(t *testing.T) {
	verifyNoLeaks(t)
	t.Run("redis", func(t *testing.T) {
		t.Parallel()
		srv := testservice.StartRedis(t)
		checkStoreDownAndBack(t, srv.URL(), srv.Stop, srv.Start, false)
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		srv := testservice.StartPostgres(t)
		checkStoreDownAndBack(t, srv.URL(), srv.Stop, srv.Start, true)
	})
}

// checkStoreDownAndBack runs an instance on the store at storeURL, stops
// the store's server, checks for a 503, starts the server again and checks
// that the instance recovers. keeps says whether the server keeps its data
// across the restart.
func checkStoreDownAndBack(t *testing.T, storeURL string, stop, start func(), keeps bool) {
	t.Helper()
	in := startInstance(t, storeURL, nil)
	c := newBrowser(t, in)
	mustCount(t, c, in, 1, "first visit")
	mustCount(t, c, in, 2, "second visit")

	stop()
	status, body := visit(t, c, in)
	if status != http.StatusServiceUnavailable || !storeUnavailable.MatchString(body) {
		t.Errorf("with the store down: %d %q, want 503 and a body that matches %q", status, body, storeUnavailable)
	}
	if log := in.logs.String(); !strings.Contains(log, "level=ERROR") || !strings.Contains(log, "session") {
		t.Errorf("with the store down, the filter logged no error; the log:\n%s", log)
	}
	if n := in.events.Load(); n == 0 {
		t.Error("with the store down, no session:store:error event was published")
	}

	start()
	// The store's clients reconnect on their own: a pooled connection may
	// fail once before it is replaced.
	deadline := time.Now().Add(15 * time.Second)
	for {
		status, body = visit(t, c, in)
		if status == http.StatusOK || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if status != http.StatusOK {
		t.Fatalf("15 s after the store came back: %d %q, want 200", status, body)
	}
	n, err := strconv.Atoi(body)
	if err != nil {
		t.Fatalf("after the store came back: body %q, want a count", body)
	}
	if keeps && n != 3 {
		t.Errorf("after the store came back: %d, want the session to go on (3)", n)
	}
	mustCount(t, c, in, n+1, "the visit after")
}
