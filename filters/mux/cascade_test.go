package mux_test

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/wsapi-go/wsapi/filter"
	"github.com/wsapi-go/wsapi/filter/filtertest"
	"github.com/wsapi-go/wsapi/filters/mux"
)

// passer passes every request on, after setting headers that must not
// leak into the answer of the app that takes the request.
func passer(calls *[]string, name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		*calls = append(*calls, name)
		w.Header().Set("X-Passer", name)
		mux.Pass(w)
	})
}

func TestCascade(t *testing.T) {
	var calls []string
	m := &mux.Mux{Cascade: true}
	m.Mount("/a/b", passer(&calls, "ab"))
	m.Mount("/a", passer(&calls, "a"))
	m.Mount("/", reporter("root"))
	m.Mount("example.com/a/b/c", passer(&calls, "host"))

	req := request("example.com", "/a/b/c/d")
	req.Header.Set("X-Keep", "1")
	w := serve(t, m, req)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"app":"root"`) {
		t.Fatalf("cascade ended with %d %q", w.Code, w.Body)
	}
	if got := strings.Join(calls, " "); got != "host ab a" {
		t.Errorf("candidates tried: %q, want the host's, then deepest first", got)
	}
	if h := w.Header(); h.Get("X-Passer") != "" || h.Get(mux.CascadeHeader) != "" {
		t.Errorf("a passing app's headers leaked: %v", h)
	}

	// Every candidate passes: the fallback answers.
	calls = nil
	m2 := &mux.Mux{Cascade: true, Fallback: reporter("fallback")}
	m2.Mount("/a", passer(&calls, "a"))
	if s, _ := report(t, m2, request("", "/a/x")); s.App != "fallback" || len(calls) != 1 {
		t.Errorf("all passed: %+v after %v", s, calls)
	}

	// As a filter, the next handler.
	calls = nil
	h := filtertest.Check(t, m2, reporter("next"))
	if s, _ := report(t, h, request("", "/a/x")); s.App != "next" {
		t.Errorf("all passed, as a filter: %+v", s)
	}

	// Without Cascade, the pass reaches the client.
	calls = nil
	m3 := mux.New()
	m3.Mount("/a", passer(&calls, "a"))
	m3.Mount("/", reporter("root"))
	if w := serve(t, m3, request("", "/a/x")); w.Code != http.StatusNotFound {
		t.Errorf("without Cascade: %d", w.Code)
	}
}

func TestCascadeAnswers(t *testing.T) {
	// A candidate that answers (a plain 404, a 200, an empty response, a
	// flush) is the answer.
	tests := []struct {
		name string
		app  http.HandlerFunc
		code int
	}{
		{"a plain 404", func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) }, http.StatusNotFound},
		{"a 200", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("hi")) }, http.StatusOK},
		{"nothing", func(w http.ResponseWriter, r *http.Request) {}, http.StatusOK},
		{"a flush", func(w http.ResponseWriter, r *http.Request) {
			_ = http.NewResponseController(w).Flush()
		}, http.StatusOK},
		{"pass with a 200", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set(mux.CascadeHeader, "pass")
			w.WriteHeader(http.StatusOK)
		}, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &mux.Mux{Cascade: true}
			m.Mount("/a", tt.app)
			m.Mount("/", reporter("root"))
			w := serve(t, m, request("", "/a/x"))
			if w.Code != tt.code || strings.Contains(w.Body.String(), "root") {
				t.Errorf("got %d %q", w.Code, w.Body)
			}
		})
	}
}

func TestCascadeKeepsAbilities(t *testing.T) {
	for _, ab := range []filtertest.Abilities{0, filtertest.Flusher, filtertest.Flusher | filtertest.Hijacker | filtertest.ReaderFrom} {
		var got filtertest.Abilities
		m := &mux.Mux{Cascade: true}
		m.MountFunc("/", func(w http.ResponseWriter, r *http.Request) { got = filtertest.AbilitiesOf(w) })
		_, w := filtertest.NewWriter(ab)
		m.ServeHTTP(w, request("", "/x"))
		if got != ab {
			t.Errorf("the app's writer has %v, want %v", got, ab)
		}
	}
}

func TestForward(t *testing.T) {
	m := mux.New()
	m.Mount("/new", reporter("new"))
	m.MountFunc("/old", func(w http.ResponseWriter, r *http.Request) {
		target := "/new" + filter.PathInfo(r)
		if err := mux.Forward(w, r, target); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	m.MountFunc("/search", func(w http.ResponseWriter, r *http.Request) {
		if err := mux.Forward(w, r, "/new/results?q=go"); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	outer := mux.New()
	outer.Mount("/site", m)

	s, code := report(t, outer, request("", "/site/old/x?keep=1"))
	if code != http.StatusOK || s.App != "new" || s.Script != "/site/new" || s.Info != "/x" || s.Query != "keep=1" {
		t.Errorf("forward: %d %+v", code, s)
	}
	s, _ = report(t, outer, request("", "/site/search?q=old"))
	if s.App != "new" || s.Info != "/results" || s.Query != "q=go" {
		t.Errorf("forward with a query: %+v", s)
	}
}

func TestForwardErrors(t *testing.T) {
	var errs []error
	record := func(w http.ResponseWriter, r *http.Request, target string) {
		err := mux.Forward(w, r, target)
		errs = append(errs, err)
		if err != nil && !errors.Is(err, mux.ErrHeadersSent) {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	}
	var events []string
	hub := new(filter.Hub)
	hub.Subscribe("mux", func(e filter.Event) { events = append(events, e.Topic) })
	m := &mux.Mux{MaxForwards: 3, Hub: hub}
	m.MountFunc("/loop", func(w http.ResponseWriter, r *http.Request) { record(w, r, "/loop") })
	m.MountFunc("/late", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("begun"))
		record(w, r, "/loop")
	})
	m.MountFunc("/bad", func(w http.ResponseWriter, r *http.Request) { record(w, r, r.URL.Query().Get("to")) })

	serve(t, m, request("", "/loop"))
	// The innermost call fails first; the three forwards before it return
	// nil once the request has been answered.
	if len(errs) != 4 || !errors.Is(errs[0], mux.ErrForwardLoop) || errs[1] != nil || errs[3] != nil {
		t.Errorf("a loop: %v, want ErrForwardLoop after 3 forwards", errs)
	}
	if len(events) != 1 || events[0] != "mux:forward:loop" {
		t.Errorf("events %v", events)
	}

	errs = nil
	serve(t, m, request("", "/late"))
	if len(errs) != 1 || !errors.Is(errs[0], mux.ErrHeadersSent) {
		t.Errorf("after the headers: %v", errs)
	}

	for _, to := range []string{"", "new", "//evil.example/x", "http://evil.example/", "/a#frag", `/\evil`} {
		errs = nil
		serve(t, m, request("", "/bad?to="+url.QueryEscape(to)))
		if len(errs) != 1 || !errors.Is(errs[0], mux.ErrBadTarget) {
			t.Errorf("target %q: %v", to, errs)
		}
	}

	// Outside a mux.
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { record(w, r, "/x") })
	errs = nil
	serve(t, h, request("", "/"))
	if len(errs) != 1 || !errors.Is(errs[0], mux.ErrNotMounted) {
		t.Errorf("outside a mux: %v", errs)
	}
}
