package auth_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/wsapi-go/wsapi/filter/filtertest"
	"github.com/wsapi-go/wsapi/filters/auth"
)

func TestNewTokenReturnsTheTokenAndItsHash(t *testing.T) {
	tok, hash := auth.NewToken()
	tok2, _ := auth.NewToken()
	if len(tok) != 43 || tok == tok2 || !auth.ValidToken(tok) {
		t.Errorf("tokens %q, %q: want 43 random base64url characters", tok, tok2)
	}
	if hash != auth.HashToken(tok) || len(hash) != 64 || strings.Contains(hash, tok) {
		t.Errorf("hash %q", hash)
	}
}

func TestBearer(t *testing.T) {
	tok, hash := auth.NewToken()
	other, _ := auth.NewToken()
	b := auth.NewBearer()
	if err := b.Add(hash, auth.Identity{Name: "ci", Scopes: []string{"deploy", "read"}}); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"", "abc", strings.Repeat("g", 64), tok} {
		if err := b.Add(bad, auth.Identity{Name: "x"}); err == nil {
			t.Errorf("Add(%q) took a hash that is not one", bad)
		}
	}
	a := auth.New(b)
	h := filtertest.Check(t, a, whoami)
	for _, tc := range []struct {
		name, header string
		status       int
		body         string
	}{
		{"a known token", "Bearer " + tok, 200, "ci ci ci"},
		{"the scheme in any case", "bearer " + tok, 200, "ci ci ci"},
		{"an unknown token", "Bearer " + other, 401, "invalid credentials"},
		{"the hash is not the token", "Bearer " + hash, 401, "invalid credentials"},
		{"not token68", "Bearer a b", 400, "malformed"},
		{"empty", "Bearer ", 400, "malformed"},
		{"100 KB", "Bearer " + strings.Repeat("a", 100<<10), 400, "malformed"},
		{"non-UTF-8", "Bearer \xff\xfe", 400, "malformed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := serve(h, get("/", tc.header))
			if rec.Code != tc.status || !contains(rec.Body.String(), tc.body) {
				t.Errorf("%d %q, want %d %q", rec.Code, rec.Body.String(), tc.status, tc.body)
			}
			if rec.Code == 401 && rec.SentHeader().Get("WWW-Authenticate") != `Bearer realm="restricted"` {
				t.Errorf("WWW-Authenticate %q", rec.SentHeader().Get("WWW-Authenticate"))
			}
		})
	}

	b.Remove(hash)
	if rec := serve(h, get("/", "Bearer "+tok)); rec.Code != 401 {
		t.Errorf("a removed token: %d", rec.Code)
	}
}

func TestRequireScope(t *testing.T) {
	tok, hash := auth.NewToken()
	b := auth.NewBearer()
	b.Add(hash, auth.Identity{Name: "ci", Scopes: []string{"deploy", "read"}})
	a := auth.New(b)
	for _, tc := range []struct {
		scopes []string
		status int
	}{
		{[]string{"deploy"}, 200},
		{[]string{"deploy", "read"}, 200},
		{[]string{"deploy", "admin"}, http.StatusForbidden},
		{[]string{"admin"}, http.StatusForbidden},
	} {
		h := a.Wrap(auth.RequireScope(tc.scopes...).Wrap(whoami))
		if rec := serve(h, get("/", "Bearer "+tok)); rec.Code != tc.status {
			t.Errorf("RequireScope(%v): %d, want %d", tc.scopes, rec.Code, tc.status)
		}
	}
}

func TestTheZeroBearerIsReady(t *testing.T) {
	var b auth.Bearer
	tok, hash := auth.NewToken()
	h := auth.New(&b).Wrap(whoami)
	if rec := serve(h, get("/", "Bearer "+tok)); rec.Code != 401 {
		t.Errorf("an empty zero Bearer: %d", rec.Code)
	}
	if err := b.Add(hash, auth.Identity{Name: "ci"}); err != nil {
		t.Fatal(err)
	}
	if rec := serve(h, get("/", "Bearer "+tok)); rec.Code != 200 {
		t.Errorf("a token added to a zero Bearer: %d", rec.Code)
	}
	var empty auth.Bearer
	empty.Remove(hash)
}
