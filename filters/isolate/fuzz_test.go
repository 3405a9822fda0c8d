package isolate_test

import (
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/wsapi-go/wsapi/filter"
	"github.com/wsapi-go/wsapi/filter/filtertest"
	"github.com/wsapi-go/wsapi/filters/isolate"
)

// FuzzIsolate sends requests with any method, target and headers through
// the filters, to an app that acts on them (writes, panics, streams); the
// filters must keep net/http's rules (Lint), answer 500 before the headers
// and abort after, and never let another panic through.
func FuzzIsolate(f *testing.F) {
	f.Add("GET", "/", "w", byte(0))
	f.Add("HEAD", "/x?y=1", "p", byte(1))
	f.Add("POST", "/a/b", "wfp", byte(2))
	f.Add("GET", "/%zz", "hP", byte(3))
	hub := new(filter.Hub)
	f.Fuzz(func(t *testing.T, method, target, script string, abilities byte) {
		r, ok := request(method, target)
		if !ok {
			return
		}
		app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			sent := false // the app keeps the rules; the filters are under test
			for _, c := range []byte(script) {
				switch c {
				case 'w':
					if r.Method != "HEAD" {
						io.WriteString(w, r.URL.Path)
						sent = true
					}
				case 'h':
					if !sent {
						w.Header().Set("X-Path", r.URL.Path)
					}
				case 'f':
					http.NewResponseController(w).Flush()
					sent = true
				case 'p':
					panic(r.URL.RawQuery)
				case 'P':
					panic(http.ErrAbortHandler)
				case 's':
					if !sent {
						w.WriteHeader(204)
						return
					}
				}
			}
		})
		fl := isolate.New(time.Hour, 2)
		fl.Hub = hub
		lint := filtertest.NewLint(nil)
		rec, w := filtertest.NewWriter(filtertest.Abilities(abilities) & filtertest.AllAbilities)
		p := serve(lint.Around(fl, app), w, r)
		if p != nil && p != http.ErrAbortHandler {
			t.Fatalf("a panic went through: %v", p)
		}
		if p == nil && rec.Code == 0 {
			t.Fatal("no answer")
		}
		if err := lint.Err(); err != nil {
			t.Fatal(err)
		}
	})
}

// request makes a request for method and target, or false when net/http
// would not hand such a request to a handler.
func request(method, target string) (r *http.Request, ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	if method == "" || len(target) == 0 || target[0] != '/' {
		return nil, false
	}
	for _, c := range []byte(method) {
		if c <= ' ' || c >= 0x7f || c == '(' || c == ')' || c == ',' || c == '/' || c == ':' || c == ';' || c == '"' || c == '?' || c == '=' || c == '@' || c == '[' || c == ']' || c == '\\' || c == '{' || c == '}' || c == '<' || c == '>' {
			return nil, false
		}
	}
	return filtertest.NewRequest(method, target, nil), true
}
