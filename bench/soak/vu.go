package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// vu is a virtual user: one keep-alive connection, its own cookie jar.
type vu struct {
	g      *gen
	n      int
	seq    int
	rng    *rand.Rand
	tr     *http.Transport
	client *http.Client // with the cookie jar
	anon   *http.Client // same connection, no cookies (bad logins, the API)

	loggedIn   bool
	failed     bool          // an answer since the last action was a 5xx or broken
	loginStart time.Duration // when the current session's login began

	// Files uploaded but not deleted (a fault came in between), by id
	// or, when the id is unknown, by name.
	orphanIDs, orphanNames []string
}

func newVU(g *gen, n int) *vu {
	jar, _ := cookiejar.New(nil)
	tr := &http.Transport{
		MaxIdleConnsPerHost: 1,
		MaxConnsPerHost:     1,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
	}
	return &vu{
		g: g, n: n, tr: tr,
		rng:    rand.New(rand.NewPCG(uint64(n), 0x50a4)),
		client: &http.Client{Transport: tr, Jar: jar, Timeout: 60 * time.Second, CheckRedirect: noRedirect},
		anon:   &http.Client{Transport: tr, Timeout: 60 * time.Second, CheckRedirect: noRedirect},
	}
}

func (v *vu) nextID() string {
	v.seq++
	return "soak-" + strconv.Itoa(v.n) + "-" + strconv.Itoa(v.seq)
}

func (v *vu) newRequest(method, path string, body io.Reader) *http.Request {
	req, err := http.NewRequest(method, v.g.base+path, body)
	if err != nil {
		panic(err)
	}
	return req
}

// ex sends req for the user (see gen.exchange) and notes a failure.
func (v *vu) ex(client *http.Client, kind Kind, req *http.Request, check func(*answer, *Record)) *Record {
	rec := v.g.exchange(client, v.nextID(), kind, req, check)
	if rec.faultLike() {
		v.failed = true
	}
	return rec
}

// page asks for a browser page.
func (v *vu) page(path string) *http.Request {
	req := v.newRequest(http.MethodGet, path, nil)
	req.Header.Set("Accept", "text/html,application/xhtml+xml")
	return req
}

// run is the user's loop, until the generator stops.
func (v *vu) run() {
	actions := []struct {
		weight int
		do     func()
	}{
		{18, v.home},
		{6, v.admin},
		{12, v.stream},
		{10, v.uploadJSON},
		{10, v.uploadForm},
		{2, v.uploadTooLarge},
		{8, v.apiList},
		{3, v.apiUpload},
		{2, v.apiNoToken},
		{8, v.health},
		{1, v.relogin},
		{3, v.drop},
		{1, v.badLogin},
	}
	total := 0
	for _, a := range actions {
		total += a.weight
	}
	for !v.g.stopping.Load() {
		if !v.loggedIn {
			v.login()
			continue
		}
		if len(v.orphanIDs)+len(v.orphanNames) > 0 && v.rng.IntN(4) == 0 {
			v.cleanUp()
		}
		n := v.rng.IntN(total)
		for _, a := range actions {
			if n < a.weight {
				a.do()
				break
			}
			n -= a.weight
		}
		if v.failed {
			// Back off after a 5xx or a broken connection, as a person
			// would, rather than spin on an outage.
			v.failed = false
			v.pause(500 * time.Millisecond)
		}
		if v.g.think > 0 {
			time.Sleep(time.Duration(v.rng.Int64N(int64(v.g.think) + 1)))
		}
	}
}

// sessionLost judges an answer that says the user is not logged in: a
// redirect to the login page (browsers) or 401 (JSON). It is expected when
// a Redis outage began after this session's login (Redis keeps the
// sessions, without persistence); the user then logs in again.
func (v *vu) sessionLost(a *answer, r *Record) bool {
	lost := a.status == http.StatusUnauthorized ||
		(a.status == http.StatusSeeOther && strings.HasPrefix(a.location(), "/login"))
	if !lost {
		return false
	}
	v.loggedIn = false
	if out := v.g.lastOutage.Load(); out >= 0 && v.loginStart < time.Duration(out) {
		r.Excuse = "session lost when Redis restarted"
	} else {
		r.Problem = fmt.Sprintf("logged out unexpectedly: %d %s (login at %v, last Redis outage at %v)",
			a.status, a.location(), v.loginStart.Round(time.Millisecond), time.Duration(out).Round(time.Millisecond))
	}
	return true
}

// pause waits a little after a failure, so a user does not spin on an
// outage.
func (v *vu) pause(d time.Duration) {
	time.Sleep(d/2 + time.Duration(v.rng.Int64N(int64(d))))
}

// login logs in as demo, a few users at a time (the per-user brute-force
// limit counts attempts in flight).
func (v *vu) login() {
	g := v.g
	g.loginSem <- struct{}{}
	defer func() { <-g.loginSem }()
	form := url.Values{"username": {"demo"}, "password": {g.password}, "next": {"/"}}
	req := v.newRequest(http.MethodPost, "/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "text/html")
	var retry time.Duration
	rec := v.ex(v.client, KindLogin, req, func(a *answer, r *Record) {
		switch {
		case a.status == http.StatusSeeOther && a.location() == "/":
			v.loggedIn = true
			v.loginStart = r.Start
		case a.status == http.StatusTooManyRequests:
			r.Excuse = "brute-force limit"
			retry, _ = time.ParseDuration(a.header.Get("Retry-After") + "s")
		default:
			r.Problem = fmt.Sprintf("good login: want 303 to /, got %d %s", a.status, a.location())
		}
	})
	v.failed = false // login waits here, not in the loop
	if !v.loggedIn {
		if retry <= 0 || retry > 5*time.Second {
			retry = time.Second
		}
		if rec.Problem != "" {
			retry = 500 * time.Millisecond
		}
		v.pause(retry)
	}
}

// relogin logs out (a session write); the loop then logs in again.
func (v *vu) relogin() {
	req := v.newRequest(http.MethodPost, "/logout", nil)
	req.Header.Set("Accept", "text/html")
	v.ex(v.client, KindLogout, req, func(a *answer, r *Record) {
		if a.status == http.StatusSeeOther {
			// Logged out, wherever the redirect goes.
			v.loggedIn = false
		}
		if a.status != http.StatusSeeOther || a.location() != "/login" {
			r.Problem = fmt.Sprintf("logout: want 303 to /login, got %d %s", a.status, a.location())
		}
	})
	if v.loggedIn {
		return
	}
	// The session is gone: the files page sends the browser to log in.
	v.ex(v.client, KindLoggedOut, v.page("/"), func(a *answer, r *Record) {
		if a.status != http.StatusSeeOther || a.location() != "/login?next=%2F" {
			r.Problem = fmt.Sprintf("after logout: want 303 to /login?next=%%2F, got %d %s", a.status, a.location())
		}
	})
}

// badLogin tries an unknown user, at most once per badEvery over the whole
// run, so the client's brute-force count stays below its limit.
func (v *vu) badLogin() {
	g := v.g
	now := int64(g.since())
	due := g.nextBad.Load()
	if now < due || !g.nextBad.CompareAndSwap(due, now+int64(g.badEvery)) {
		v.health()
		return
	}
	user := fmt.Sprintf("nobody-%d-%d", v.n, v.seq)
	form := url.Values{"username": {user}, "password": {"wrong-password"}, "next": {"/"}}
	req := v.newRequest(http.MethodPost, "/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "text/html")
	var next string
	v.ex(v.anon, KindLoginBad, req, func(a *answer, r *Record) {
		switch {
		case a.status == http.StatusTooManyRequests && bytes.Contains(a.body, []byte(markLoginError)):
			r.Excuse = "brute-force limit"
		case a.status == http.StatusSeeOther && strings.HasPrefix(a.location(), "/login?") && strings.Contains(a.location(), "error=invalid"):
			next = a.location()
		default:
			r.Problem = fmt.Sprintf("bad login: want 303 to /login?error=invalid, got %d %s %s", a.status, a.location(), short(a.body))
		}
	})
	if next == "" {
		return
	}
	v.ex(v.anon, KindLoginPage, v.page(next), func(a *answer, r *Record) {
		if a.status != http.StatusOK || !bytes.Contains(a.body, []byte(markLoginError)) || !bytes.Contains(a.body, []byte(markLoginForm)) {
			r.Problem = fmt.Sprintf("login page after a bad login: want 200 with the form and #error, got %d %s", a.status, short(a.body))
		}
	})
}

func (v *vu) health() {
	v.ex(v.anon, KindHealth, v.newRequest(http.MethodGet, "/healthz", nil), checkHealth)
}

// checkPage checks a page of a logged-in user.
func (v *vu) checkPage(a *answer, r *Record, marks ...string) {
	if v.sessionLost(a, r) {
		return
	}
	if a.status != http.StatusOK {
		r.Problem = fmt.Sprintf("want 200, got %d %s", a.status, short(a.body))
		return
	}
	for _, m := range marks {
		if !bytes.Contains(a.body, []byte(m)) {
			r.Problem = fmt.Sprintf("page lacks %q", m)
			return
		}
	}
}

func (v *vu) home() {
	v.ex(v.client, KindHome, v.page("/"), func(a *answer, r *Record) {
		v.checkPage(a, r, markUser, markFiles, markUploadForm)
	})
}

func (v *vu) admin() {
	v.ex(v.client, KindAdmin, v.page("/admin"), func(a *answer, r *Record) {
		v.checkPage(a, r, markUser, markAdmin, markAdminStore)
	})
}

// stream asks for /stream, with its default 10 chunks 300 ms apart or 20
// chunks 20 ms apart.
func (v *vu) stream() {
	path, n := "/stream", 10
	if v.rng.IntN(2) == 0 {
		path, n = "/stream?n=20&ms=20", 20
	}
	v.ex(v.client, KindStream, v.page(path), func(a *answer, r *Record) {
		if v.sessionLost(a, r) {
			return
		}
		if a.status != http.StatusOK {
			r.Problem = fmt.Sprintf("want 200, got %d %s", a.status, short(a.body))
			return
		}
		r.Problem = checkStream(a.body, n)
	})
}

func (v *vu) bearer(req *http.Request) *http.Request {
	req.Header.Set("Authorization", "Bearer "+v.g.token)
	req.Header.Set("Accept", "application/json")
	return req
}

func (v *vu) apiList() {
	v.ex(v.anon, KindAPIList, v.bearer(v.newRequest(http.MethodGet, "/api/files", nil)), func(a *answer, r *Record) {
		var out struct {
			Files []fileJSON `json:"files"`
		}
		if a.status != http.StatusOK || json.Unmarshal(a.body, &out) != nil || out.Files == nil {
			r.Problem = fmt.Sprintf("api list: want 200 {\"files\":[...]}, got %d %s", a.status, short(a.body))
		}
	})
}

func (v *vu) apiNoToken() {
	req := v.newRequest(http.MethodGet, "/api/files", nil)
	req.Header.Set("Accept", "application/json")
	v.ex(v.anon, KindAPINoToken, req, func(a *answer, r *Record) {
		var e map[string]any
		if a.status != http.StatusUnauthorized || json.Unmarshal(a.body, &e) != nil {
			r.Problem = fmt.Sprintf("api without token: want 401 JSON, got %d %s", a.status, short(a.body))
		}
	})
}

// closeIdle closes the users' idle connections.
func closeIdle(users []*vu) {
	for _, u := range users {
		u.tr.CloseIdleConnections()
	}
}
