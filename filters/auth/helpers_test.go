package auth_test

import (
	"encoding/base64"
	"io"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/wsapi-go/wsapi/filter"
	"github.com/wsapi-go/wsapi/filter/filtertest"
	"github.com/wsapi-go/wsapi/filters/auth"
)

// Test users: ana (admin) and bob, with fast bcrypt hashes.
const (
	anaPass = "correct horse"
	bobPass = "battery staple"
)

var (
	hashesOnce sync.Once
	anaHash    string
	bobHash    string
)

func hashes() (string, string) {
	hashesOnce.Do(func() {
		a, _ := bcrypt.GenerateFromPassword([]byte(anaPass), bcrypt.MinCost)
		b, _ := bcrypt.GenerateFromPassword([]byte(bobPass), bcrypt.MinCost)
		anaHash, bobHash = string(a), string(b)
	})
	return anaHash, bobHash
}

// writeFile writes content to a new file in a temporary directory.
func writeFile(t testing.TB, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "htpasswd")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// testUsers returns an Htpasswd with ana (role admin) and bob.
func testUsers(t testing.TB) *auth.Htpasswd {
	t.Helper()
	a, b := hashes()
	h := &auth.Htpasswd{
		File:  writeFile(t, "# users\nana:"+a+"\n\nbob:"+b+"\n"),
		Roles: map[string][]string{"ana": {"admin"}},
	}
	if err := h.Load(); err != nil {
		t.Fatal(err)
	}
	return h
}

func basicHeader(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

// whoami answers the identity's name, the exchange's user and REMOTE_USER.
var whoami = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	name := "-"
	if id := auth.IdentityOf(r); id != nil {
		name = id.Name
	}
	io.WriteString(w, name+" "+filter.From(r).User()+" "+filter.NewEnv(r).Get("REMOTE_USER"))
})

// serve runs h on r and returns the recorder.
func serve(h http.Handler, r *http.Request) *filtertest.Recorder {
	rec := filtertest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}

// get returns a GET request with the Authorization header set (when not "").
func get(target, authorization string) *http.Request {
	r := filtertest.Get(target)
	if authorization != "" {
		r.Header.Set("Authorization", authorization)
	}
	return r
}

// noBody is a request body that fails the test when read.
type noBody struct{ t testing.TB }

func (b noBody) Read([]byte) (int, error) {
	b.t.Error("the request body was read")
	return 0, io.EOF
}

func (b noBody) Close() error { return nil }

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }
