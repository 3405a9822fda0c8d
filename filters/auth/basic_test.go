package auth_test

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/wsapi-go/wsapi/filter/filtertest"
	"github.com/wsapi-go/wsapi/filters/auth"
)

func TestBasic(t *testing.T) {
	users := testUsers(t)
	a := auth.New(auth.NewBasic(users))
	h := filtertest.Check(t, a, whoami)
	for _, tc := range []struct {
		name, header string
		status       int
		body         string
	}{
		{"no header: anonymous", "", 200, "-  "},
		{"a good password", basicHeader("ana", anaPass), 200, "ana ana ana"},
		{"the scheme in any case", "bAsIc " + base64.StdEncoding.EncodeToString([]byte("bob:"+bobPass)), 200, "bob bob bob"},
		{"another scheme is not Basic's", "Digest username=ana", 200, "-  "},
		{"a wrong password", basicHeader("ana", "nope"), 401, "invalid credentials"},
		{"an unknown user", basicHeader("eve", anaPass), 401, "invalid credentials"},
		{"no colon", "Basic " + base64.StdEncoding.EncodeToString([]byte("ana")), 400, "malformed"},
		{"an empty user", basicHeader("", anaPass), 400, "malformed"},
		{"bad base64", "Basic !!!!", 400, "malformed"},
		{"no credentials", "Basic ", 400, "malformed"},
		{"100 KB", "Basic " + strings.Repeat("QUFB", 25<<10), 400, "malformed"},
		{"a non-UTF-8 user", "Basic " + base64.StdEncoding.EncodeToString([]byte("\xff\xfe:x")), 400, "malformed"},
		{"a control character", basicHeader("ana\n", anaPass), 400, "malformed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := serve(h, get("/", tc.header))
			if rec.Code != tc.status || !contains(rec.Body.String(), tc.body) {
				t.Errorf("%d %q, want %d %q", rec.Code, rec.Body.String(), tc.status, tc.body)
			}
			if rec.Code == 401 {
				if c := rec.SentHeader().Get("WWW-Authenticate"); c != `Basic realm="restricted", charset="UTF-8"` {
					t.Errorf("WWW-Authenticate %q", c)
				}
			}
		})
	}
}

// An unknown user and a wrong password get the very same answer; both are
// checked against a bcrypt hash (a dummy one for the unknown user).
func TestBasicUnknownUserAndWrongPasswordLookAlike(t *testing.T) {
	a := auth.New(auth.NewBasic(testUsers(t)))
	h := a.Wrap(whoami)
	wrong := serve(h, get("/", basicHeader("ana", "guess")))
	unknown := serve(h, get("/", basicHeader("nobody", "guess")))
	if wrong.Code != 401 || unknown.Code != wrong.Code || unknown.Body.String() != wrong.Body.String() {
		t.Errorf("wrong password: %d %q; unknown user: %d %q", wrong.Code, wrong.Body.String(), unknown.Code, unknown.Body.String())
	}
	for k, v := range wrong.SentHeader() {
		if got := unknown.SentHeader()[k]; strings.Join(got, ",") != strings.Join(v, ",") {
			t.Errorf("header %s: %q vs %q", k, v, got)
		}
	}
	// The same holds for Verify, which the login handler uses.
	users := testUsers(t)
	_, e1 := users.Verify("ana", "guess")
	_, e2 := users.Verify("nobody", "guess")
	if e1 != auth.ErrInvalid || e2 != auth.ErrInvalid {
		t.Errorf("Verify: %v, %v; want ErrInvalid twice", e1, e2)
	}
}

func TestBasicRemembersAGoodPasswordByItsHash(t *testing.T) {
	users := testUsers(t)
	h := auth.New(auth.NewBasic(users)).Wrap(whoami)
	serve(h, get("/", basicHeader("ana", "wrong")))
	if n := auth.CacheLen(users); n != 0 {
		t.Fatalf("a failure was remembered: %d entries", n)
	}
	for range 3 {
		if rec := serve(h, get("/", basicHeader("ana", anaPass))); rec.Code != 200 {
			t.Fatalf("%d", rec.Code)
		}
	}
	if n := auth.CacheLen(users); n != 1 || !auth.CacheHas(users, "ana", anaPass) {
		t.Errorf("%d entries, want one, keyed by the SHA-256 of ana's user, password and hash", n)
	}
	// A wrong password is not served from the cache.
	if rec := serve(h, get("/", basicHeader("ana", anaPass+"x"))); rec.Code != 401 {
		t.Errorf("a wrong password after a cached good one: %d", rec.Code)
	}
	// Without the cache, nothing is kept.
	users2 := testUsers(t)
	users2.CacheFor = -1
	auth.New(auth.NewBasic(users2)).Wrap(whoami).ServeHTTP(filtertest.NewRecorder(), get("/", basicHeader("ana", anaPass)))
	if n := auth.CacheLen(users2); n != 0 {
		t.Errorf("CacheFor -1: %d entries", n)
	}
}

func TestBasicIdentityHasTheRoles(t *testing.T) {
	a := auth.New(auth.NewBasic(testUsers(t)))
	h := a.Wrap(auth.RequireRole("admin").Wrap(whoami))
	if rec := serve(h, get("/", basicHeader("ana", anaPass))); rec.Code != 200 {
		t.Errorf("ana, an admin: %d", rec.Code)
	}
	if rec := serve(h, get("/", basicHeader("bob", bobPass))); rec.Code != http.StatusForbidden {
		t.Errorf("bob, no admin: %d", rec.Code)
	}
}
