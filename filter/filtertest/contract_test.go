package filtertest_test

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/wsapi-go/wsapi/filter"
	"github.com/wsapi-go/wsapi/filter/filtertest"
)

// stamp is a filter written as package filter's docs show: it attaches the
// exchange and adds a header just before the headers go out.
type stamp struct{}

func (stamp) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		x, w, r, owner := filter.Begin(w, r)
		defer owner.End()
		x.OnHeaders(func(x *filter.Exchange) {
			x.Header().Set("X-Stamp", strconv.Itoa(x.Status()))
		})
		next.ServeHTTP(w, r)
	})
}

// TestExchangeKeepsAbilitiesUnderLint runs a filter built on filter.Begin
// under Lint on each of the 16 kinds of writer, uses every ability the
// writer has through the exchange's wrapper, and expects no problems.
func TestExchangeKeepsAbilitiesUnderLint(t *testing.T) {
	for ab := range filtertest.AllAbilities + 1 {
		t.Run(ab.String(), func(t *testing.T) {
			var got filtertest.Abilities
			app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got = filtertest.AbilitiesOf(w)
				if p, ok := w.(http.Pusher); ok {
					p.Push("/style.css", nil)
				}
				io.WriteString(w, "ab")
				if f, ok := w.(http.Flusher); ok {
					f.Flush()
				}
				if rf, ok := w.(io.ReaderFrom); ok {
					rf.ReadFrom(strings.NewReader("cd"))
				}
			})
			lint := filtertest.NewLint(t)
			rec, w := filtertest.NewWriter(ab)
			lint.Around(stamp{}, app).ServeHTTP(w, filtertest.Get("/"))

			assertProblems(t, lint)
			if got != ab {
				t.Errorf("the app's writer has %v, want %v", got, ab)
			}
			var want []string
			if ab.Has(filtertest.Pusher) {
				want = append(want, "push /style.css")
			}
			want = append(want, "header 200", "write 2")
			if ab.Has(filtertest.Flusher) {
				want = append(want, "flush")
			}
			if ab.Has(filtertest.ReaderFrom) {
				want = append(want, "readfrom 2")
			}
			if events := rec.String(); events != strings.Join(want, ", ") {
				t.Errorf("events = %q, want %q", events, strings.Join(want, ", "))
			}
			if s := rec.SentHeader().Get("X-Stamp"); s != "200" {
				t.Errorf("X-Stamp = %q, want 200", s)
			}
		})
	}
}

func TestExchangeHijackUnderLint(t *testing.T) {
	for ab := range filtertest.AllAbilities + 1 {
		if !ab.Has(filtertest.Hijacker) {
			continue
		}
		t.Run(ab.String(), func(t *testing.T) {
			app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				conn, _, err := w.(http.Hijacker).Hijack()
				if err != nil {
					t.Errorf("Hijack: %v", err)
					return
				}
				conn.Close()
			})
			lint := filtertest.NewLint(t)
			rec, w := filtertest.NewWriter(ab)
			lint.Around(stamp{}, app).ServeHTTP(w, filtertest.Get("/ws"))
			defer rec.ClientConn().Close()
			assertProblems(t, lint)
			if rec.String() != "hijack" || rec.SentHeader() != nil {
				t.Errorf("events %q, sent header %v; want a hijack and no headers", rec.String(), rec.SentHeader())
			}
		})
	}
}

// TestAppFuncUnderLint streams and sizes WSAPI-style answers through the
// exchange on each kind of writer.
func TestAppFuncUnderLint(t *testing.T) {
	app := filter.AppFunc(func(env *filter.Env) (int, http.Header, filter.Body) {
		if env.PathInfo() == "/sized" {
			return 200, nil, filter.Text("sized")
		}
		return 200, nil, filter.TextChunks(func(yield func(string) bool) {
			_ = yield("ab") && yield("cd")
		})
	})
	for ab := range filtertest.AllAbilities + 1 {
		t.Run(ab.String(), func(t *testing.T) {
			lint := filtertest.NewLint(t)
			h := lint.Around(stamp{}, app)
			rec, w := filtertest.NewWriter(ab)
			h.ServeHTTP(w, filtertest.Get("/stream"))
			want := "header 200, write 2, write 2"
			if ab.Has(filtertest.Flusher) {
				want = "header 200, write 2, flush, write 2, flush"
			}
			if rec.String() != want {
				t.Errorf("streamed events = %q, want %q", rec.String(), want)
			}
			rec, w = filtertest.NewWriter(ab)
			h.ServeHTTP(w, filtertest.Get("/sized"))
			if rec.SentHeader().Get("Content-Length") != "5" || rec.Body.String() != "sized" {
				t.Errorf("sized answer: header %v, body %q", rec.SentHeader(), rec.Body.String())
			}
			rec, w = filtertest.NewWriter(ab)
			h.ServeHTTP(w, filtertest.NewRequest("HEAD", "/sized", nil))
			if rec.SentHeader().Get("Content-Length") != "5" || rec.Body.Len() != 0 {
				t.Errorf("HEAD: header %v, body %q", rec.SentHeader(), rec.Body.String())
			}
			assertProblems(t, lint)
		})
	}
}
