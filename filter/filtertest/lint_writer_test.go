package filtertest_test

import (
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/wsapi-go/wsapi/filter/filtertest"
)

// lintCase runs handler under Lint.Wrap on a writer with every ability and
// expects the problems want, each given by a substring, in order.
type lintCase struct {
	name    string
	method  string // "" means GET
	handler http.HandlerFunc
	want    []string
}

func runLintCases(t *testing.T, tests []lintCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lint := filtertest.NewLint(nil)
			_, w := filtertest.NewWriter(filtertest.AllAbilities)
			r := filtertest.NewRequest(tt.method, "/check", nil)
			lint.Wrap(tt.handler).ServeHTTP(w, r)
			assertProblems(t, lint, tt.want...)
		})
	}
}

// assertProblems checks that lint found exactly the problems want, each
// given by a substring, in order.
func assertProblems(t *testing.T, lint *filtertest.Lint, want ...string) {
	t.Helper()
	got := lint.Problems()
	ok := len(got) == len(want)
	for i := 0; ok && i < len(got); i++ {
		ok = strings.Contains(got[i], want[i])
	}
	if !ok {
		t.Errorf("problems:\n\t%s\nwant:\n\t%s", strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
	}
}

func TestLintPassesCorrectResponses(t *testing.T) {
	runLintCases(t, []lintCase{
		{name: "an empty handler", handler: func(w http.ResponseWriter, r *http.Request) {}},
		{name: "a body with the right Content-Length", handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "5")
			w.Write([]byte("hel"))
			w.Write([]byte("lo"))
		}},
		{name: "a streamed body with flushes", handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/event-stream")
			io.WriteString(w, "data: 1\n\n")
			w.(http.Flusher).Flush()
			io.WriteString(w, "data: 2\n\n")
			w.(http.Flusher).Flush()
		}},
		{name: "a body through ReadFrom with its length", handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "4")
			w.(io.ReaderFrom).ReadFrom(strings.NewReader("file"))
		}},
		{name: "early hints before the final status", handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Link", "</a.css>; rel=preload")
			w.WriteHeader(http.StatusEarlyHints)
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(http.StatusOK)
			w.Write([]byte("ok"))
		}},
		{name: "a HEAD answer with the length of the GET body", method: "HEAD", handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "1234")
		}},
		{name: "a 204 without a body", handler: func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusNoContent)
		}},
		{name: "trailers set after the body", handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Trailer", "X-Checksum, X-Count")
			w.Write([]byte("body"))
			w.Header().Set("X-Checksum", "abc")
			w.Header().Set(http.TrailerPrefix+"X-Undeclared", "1")
		}},
		{name: "a hijack after which nothing is written", handler: func(w http.ResponseWriter, r *http.Request) {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
		}},
		{name: "a push, then the page", handler: func(w http.ResponseWriter, r *http.Request) {
			w.(http.Pusher).Push("/a.css", nil)
			w.Write([]byte("page"))
		}},
	})
}

func TestLintFindsBrokenResponses(t *testing.T) {
	runLintCases(t, []lintCase{
		{name: "a header set after the headers were sent", handler: func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte("a"))
			w.Header().Set("X-Late", "1")
			w.Write([]byte("b"))
			w.Header().Set("X-Later", "1")
		}, want: []string{"header changed after the headers were sent: X-Late", "header changed after the headers were sent: X-Later"}},
		{name: "a header removed after WriteHeader and before a flush", handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "no-store")
			w.WriteHeader(http.StatusOK)
			w.Header().Del("Cache-Control")
			w.(http.Flusher).Flush()
		}, want: []string{"header changed after the headers were sent: Cache-Control"}},
		{name: "a second final status", handler: func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte("x"))
			w.WriteHeader(http.StatusInternalServerError)
		}, want: []string{"superfluous WriteHeader(500): the final status 200 was already sent"}},
		{name: "an informational status after the final one", handler: func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusOK)
			w.WriteHeader(http.StatusEarlyHints)
		}, want: []string{"informational status 103 after the final status 200"}},
		{name: "a Content-Length longer than the body", handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "10")
			w.Write([]byte("abc"))
		}, want: []string{"GET /check: Content-Length is 10 but 3 body bytes were written"}},
		{name: "a Content-Length shorter than a ReadFrom body", handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "2")
			w.(io.ReaderFrom).ReadFrom(strings.NewReader("file"))
		}, want: []string{"Content-Length is 2 but 4 body bytes were written"}},
		{name: "a Content-Length with no body at all", handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "7")
		}, want: []string{"Content-Length is 7 but 0 body bytes were written"}},
		{name: "a Content-Length that is not a number", handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "ten")
			w.Write([]byte("0123456789"))
		}, want: []string{`invalid Content-Length "ten"`}},
		{name: "a body for HEAD", method: "HEAD", handler: func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte("a"))
			w.Write([]byte("b"))
		}, want: []string{"HEAD /check: body written for a HEAD request"}},
		{name: "a body with 204", handler: func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusNoContent)
			w.Write([]byte("x"))
		}, want: []string{"body written with status 204, which has none"}},
		{name: "a body with 304 through ReadFrom", handler: func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusNotModified)
			w.(io.ReaderFrom).ReadFrom(strings.NewReader("x"))
		}, want: []string{"body written with status 304, which has none"}},
		{name: "a body after 101", handler: func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusSwitchingProtocols)
			w.Write([]byte("x"))
		}, want: []string{"body written with status 101, which has none"}},
		{name: "writes after a hijack", handler: func(w http.ResponseWriter, r *http.Request) {
			conn, _, _ := w.(http.Hijacker).Hijack()
			defer conn.Close()
			w.Write([]byte("x"))
			w.WriteHeader(http.StatusOK)
			w.(http.Flusher).Flush()
			w.(io.ReaderFrom).ReadFrom(strings.NewReader("y"))
		}, want: []string{"Write after Hijack", "WriteHeader(200) after Hijack", "Flush after Hijack", "ReadFrom after Hijack"}},
	})
}

func TestLintFindsAnInvalidStatusAndLetsNetHTTPPanic(t *testing.T) {
	lint := filtertest.NewLint(nil)
	h := lint.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(42)
	}))
	func() {
		defer func() {
			if recover() == nil {
				t.Error("WriteHeader(42) did not panic")
			}
		}()
		h.ServeHTTP(filtertest.NewRecorder(), filtertest.Get("/"))
	}()
	assertProblems(t, lint, "invalid status 42: want 100..999")
}

func TestLintFindsUseOfTheWriterAfterTheHandlerReturned(t *testing.T) {
	lint := filtertest.NewLint(nil)
	var kept http.ResponseWriter
	h := lint.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		kept = w
		w.Write([]byte("in time"))
	}))
	rec, w := filtertest.NewWriter(filtertest.AllAbilities)
	h.ServeHTTP(w, filtertest.Get("/late"))
	assertProblems(t, lint) // none yet

	if _, err := kept.Write([]byte("late")); err == nil {
		t.Error("a late Write returned no error")
	}
	kept.WriteHeader(http.StatusOK)
	kept.(http.Flusher).Flush()
	kept.(io.ReaderFrom).ReadFrom(strings.NewReader("late"))
	kept.(http.Pusher).Push("/x", nil)
	if _, _, err := kept.(http.Hijacker).Hijack(); err == nil {
		t.Error("a late Hijack returned no error")
	}
	assertProblems(t, lint,
		"GET /late: Write after the handler returned",
		"WriteHeader(200) after the handler returned",
		"Flush after the handler returned",
		"ReadFrom after the handler returned",
		"Push after the handler returned",
		"Hijack after the handler returned")
	if rec.Body.String() != "in time" || rec.String() != "header 200, write 7" {
		t.Errorf("late calls reached the server's writer: %q, %q", rec.Body.String(), rec.String())
	}
}

func TestLintFindsAWriteFromAGoroutineThatOutlivedTheHandler(t *testing.T) {
	lint := filtertest.NewLint(nil)
	start, done := make(chan struct{}), make(chan struct{})
	h := lint.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		go func() {
			defer close(done)
			<-start
			w.Write([]byte("late"))
		}()
	}))
	h.ServeHTTP(filtertest.NewRecorder(), filtertest.Get("/bg"))
	close(start)
	<-done
	assertProblems(t, lint, "Write after the handler returned")
}

func TestLintDoesNotCheckAPanickingHandler(t *testing.T) {
	lint := filtertest.NewLint(nil)
	h := lint.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "10")
		panic("boom")
	}))
	func() {
		defer func() {
			if p := recover(); p != "boom" {
				t.Errorf("recovered %v, want boom", p)
			}
		}()
		h.ServeHTTP(filtertest.NewRecorder(), filtertest.Get("/"))
	}()
	if ps := lint.Problems(); !slices.Equal(ps, nil) {
		t.Errorf("problems after a panic: %q", ps)
	}
}
