package wsgin_test

import (
	"bufio"
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wsapi-go/wsapi/filter/filtertest"
	"github.com/wsapi-go/wsapi/filters/auth"
	"github.com/wsapi-go/wsapi/filters/isolate"
	"github.com/wsapi-go/wsapi/filters/logging"
	"github.com/wsapi-go/wsapi/filters/session"
	"github.com/wsapi-go/wsapi/filters/upload"
)

// users is a Passwords and UserLookup for the tests: bcrypt would only make
// them slower.
type users map[string]string

func (u users) Verify(name, password string) (*auth.Identity, error) {
	want, ok := u[name]
	if !ok || subtle.ConstantTimeCompare([]byte(want), []byte(password)) != 1 {
		return nil, auth.ErrInvalid
	}
	return &auth.Identity{Name: name}, nil
}

func (u users) Lookup(name string) (*auth.Identity, bool) {
	if _, ok := u[name]; !ok {
		return nil, false
	}
	return &auth.Identity{Name: name}, true
}

// kit holds one value of each filter, as an application builds them once.
type kit struct {
	out      *filtertest.Buffer
	logs     *logging.Filter
	recover  *isolate.Recover
	sessions *session.Filter
	auth     *auth.Filter
	upload   *upload.Filter
}

var pinned = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

func newKit(t *testing.T) *kit {
	t.Helper()
	store, err := session.OpenStore("memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	k := &kit{out: new(filtertest.Buffer)}
	k.logs = logging.New(k.out)
	k.logs.Now = func() time.Time { return pinned }
	k.recover = &isolate.Recover{}
	k.sessions = session.New(store)
	k.sessions.CookiePath = "/"
	u := users{"ana": "secret"}
	k.auth = auth.New(auth.NewSession(u))
	k.auth.Users = u
	k.upload = upload.New()
	k.upload.Sink = &upload.DirSink{Dir: t.TempDir()}
	return k
}

// accessLine is the part of an access line the tests compare.
type accessLine struct {
	Method    string `json:"method"`
	Path      string `json:"path"`
	Status    int    `json:"status"`
	Bytes     int64  `json:"bytes"`
	User      string `json:"user"`
	RequestID string `json:"request_id"`
	Aborted   bool   `json:"aborted"`
	Message   string `json:"message"`
	Level     string `json:"level"`
}

// lines returns the JSON lines logged so far.
func lines(t *testing.T, out *filtertest.Buffer) []map[string]any {
	t.Helper()
	var ls []map[string]any
	sc := bufio.NewScanner(strings.NewReader(out.String()))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		ls = append(ls, m)
	}
	return ls
}

// accessLines returns the access lines logged so far.
func accessLines(t *testing.T, out *filtertest.Buffer) []accessLine {
	t.Helper()
	var as []accessLine
	sc := bufio.NewScanner(strings.NewReader(out.String()))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var a accessLine
		if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
			t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		if a.Message == "request" {
			as = append(as, a)
		}
	}
	return as
}

// waitAccess waits until an access line for method and path is logged (a
// client may read the answer before the server logs it) and returns the
// last one.
func waitAccess(t *testing.T, out *filtertest.Buffer, method, path string) accessLine {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		as := accessLines(t, out)
		for i := len(as) - 1; i >= 0; i-- {
			if as[i].Method == method && as[i].Path == path {
				return as[i]
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no access line for %s %s in:\n%s", method, path, out.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// discardWriter is a reusable ResponseWriter for benchmarks.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(int)             {}
func (w *discardWriter) reset()                      { clear(w.h) }
