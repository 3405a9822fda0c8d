//go:build linux

package main

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wsapi-go/wsapi/internal/testservice"
)

// sharedPair starts two servers on one data directory and one shared
// session store (set by mod), as two instances behind a load balancer.
func sharedPair(t *testing.T, mod func(*config)) (a, b *testApp) {
	t.Helper()
	a = start(t, mod)
	b = start(t, mod, func(c *config) { c.Data, c.Tmp = a.cfg.Data, a.cfg.Tmp })
	return a, b
}

// checkSharedSessions logs in on a, uses the session on b, logs out on b,
// and checks that a no longer takes the old session cookie.
func checkSharedSessions(t *testing.T, a, b *testApp, store, limits string) {
	t.Helper()
	jar, _ := cookiejar.New(nil) // one browser: both servers are 127.0.0.1
	ca, cb := a.client(), b.client()
	ca.c.Jar, cb.c.Jar = jar, jar
	ca.mustLogin(demoUser, testPassword)
	_, ans := ca.uploadJSON(textFile("shared.txt", "one store"))
	if len(ans.Files) != 1 {
		t.Fatalf("upload on a: %+v", ans)
	}
	resp, body := cb.page("/")
	if resp.StatusCode != 200 || !strings.Contains(body, ans.Files[0].ID) {
		t.Fatalf("GET / on b with a's session: %d", resp.StatusCode)
	}
	_, admin := cb.page("/admin")
	contains(t, "b's admin page", admin, `<td id="store-kind">`+store+`</td>`, `<td id="limits">`+limits+`</td>`)

	u, _ := url.Parse(a.srv.URL)
	old := jar.Cookies(u)
	if len(old) == 0 {
		t.Fatal("no session cookie")
	}
	if resp, _ := cb.do("POST", "/logout", nil, "Accept", "text/html"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout on b: %d", resp.StatusCode)
	}
	replay := newClient(t, a.srv.URL)
	resp, _ = replay.do("GET", "/", nil, "Accept", "text/html", "Cookie", old[0].Name+"="+old[0].Value)
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("the old session cookie on a after logout on b: %d, want 303", resp.StatusCode)
	}
}

func TestRedisSharesSessionsAndLimits(t *testing.T) {
	r := testservice.StartRedis(t)
	a, b := sharedPair(t, func(c *config) { c.Redis = r.Addr() })
	checkSharedSessions(t, a, b, "redis", "redis")

	// Failed logins on a count on b too.
	ca, cb := a.client(), b.client()
	for i := range userAttempts {
		c := ca
		if i%2 == 1 {
			c = cb
		}
		if resp := c.login(demoUser, "wrong"); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("attempt %d: %d", i+1, resp.StatusCode)
		}
	}
	if resp := cb.login(demoUser, testPassword); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("login after %d failures spread over two instances: %d, want 429", userAttempts, resp.StatusCode)
	}
}

func TestPostgresSharesSessions(t *testing.T) {
	pg := testservice.StartPostgres(t)
	a, b := sharedPair(t, func(c *config) { c.Postgres = pg.URL() })
	checkSharedSessions(t, a, b, "postgres", "memory")
}

func TestSharedDataKeepsTheDemoHash(t *testing.T) {
	// A second instance with the same password must not rewrite the
	// demo user's line: a new hash would end the first one's logins.
	a := start(t, withUser(t, alice, alicePass))
	file := filepath.Join(a.cfg.Data, "htpasswd")
	before, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	start(t, func(c *config) { c.Data, c.Tmp = a.cfg.Data, a.cfg.Tmp })
	after, _ := os.ReadFile(file)
	if string(after) != string(before) {
		t.Errorf("the htpasswd file changed:\n%s\n%s", before, after)
	}
	// Another password replaces the demo line and keeps alice's.
	start(t, func(c *config) { c.Data, c.Tmp, c.Password = a.cfg.Data, a.cfg.Tmp, "another-password" })
	after, _ = os.ReadFile(file)
	if string(after) == string(before) || !strings.HasPrefix(string(after), alice+":") || strings.Count(string(after), "\n") != 2 {
		t.Errorf("htpasswd after a new password:\n%s", after)
	}
}
