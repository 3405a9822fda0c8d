package peers

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/go-chi/chi/v5/middleware"
	"github.com/rs/zerolog/hlog"

	"github.com/wsapi-go/wsapi/filter"
	"github.com/wsapi-go/wsapi/filters/auth"
	"github.com/wsapi-go/wsapi/filters/session"
)

func build(t *testing.T, name string, o Options) *Built {
	t.Helper()
	b, err := Build(name, o)
	if err != nil {
		t.Fatalf("Build(%q): %v", name, err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("%s: Close: %v", name, err)
		}
	})
	return b
}

func serve(b *Built, prepare bool) *Writer {
	r := NewRequest()
	if prepare {
		b.Prepare(r)
	}
	w := NewWriter()
	b.Handler.ServeHTTP(w, r)
	return w
}

// Every variant answers the benchmark request with the same status, type
// and body, through the benchmarks' writer and through a real server.
func TestVariantsAnswerTheSame(t *testing.T) {
	for _, name := range Names {
		t.Run(name, func(t *testing.T) {
			b := build(t, name, Options{})
			for i := range 3 { // and again: pooled state must be reset
				w := serve(b, true)
				if w.Status() != http.StatusOK || w.Head() != Body || w.Written() != len(Body) {
					t.Fatalf("request %d: %d %q (%d bytes), want 200 %q", i, w.Status(), w.Head(), w.Written(), Body)
				}
				if ct := w.Header().Get("Content-Type"); ct != "text/plain; charset=utf-8" {
					t.Fatalf("request %d: Content-Type %q", i, ct)
				}
			}

			srv := httptest.NewServer(b.Handler)
			defer srv.Close()
			req, err := http.NewRequest(http.MethodGet, srv.URL+Path, nil)
			if err != nil {
				t.Fatal(err)
			}
			b.Prepare(req)
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != http.StatusOK || string(got) != Body {
				t.Fatalf("over HTTP: %d %q, want 200 %q", resp.StatusCode, got, Body)
			}
		})
	}
}

// The variants with authentication refuse the request without its
// credentials, or with wrong ones: their auth is really there.
func TestVariantsRefuseWithoutCredentials(t *testing.T) {
	for _, name := range []string{Full, Chi} {
		t.Run(name, func(t *testing.T) {
			b := build(t, name, Options{})
			if b.Header == "" {
				t.Fatal("no credentials header")
			}
			if w := serve(b, false); w.Status() != http.StatusUnauthorized || strings.Contains(w.Head(), Body) {
				t.Errorf("without credentials: %d %q, want 401", w.Status(), w.Head())
			}
			r := NewRequest()
			r.Header.Set(b.Header, b.Value+"x")
			w := NewWriter()
			b.Handler.ServeHTTP(w, r)
			if w.Status() != http.StatusUnauthorized {
				t.Errorf("wrong credentials: %d, want 401", w.Status())
			}
		})
	}
}

// A path that is not mounted gets 404 from the variants with a router, so
// their routers really dispatch.
func TestVariantsRoute(t *testing.T) {
	for _, name := range []string{Full, Chi} {
		t.Run(name, func(t *testing.T) {
			b := build(t, name, Options{})
			r := NewRequest()
			r.URL.Path = "/other"
			b.Prepare(r)
			w := NewWriter()
			b.Handler.ServeHTTP(w, r)
			if w.Status() != http.StatusNotFound {
				t.Errorf("GET /other: %d, want 404", w.Status())
			}
		})
	}
}

// The variants with a recoverer answer 500 to a panicking app.
func TestVariantsRecover(t *testing.T) {
	boom := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") })
	for _, name := range []string{Full, Chi, Negroni} {
		t.Run(name, func(t *testing.T) {
			// The recoverers report the panic on stderr or their own log;
			// only the status matters here.
			b := build(t, name, Options{App: boom})
			w := serve(b, true)
			if w.Status() != http.StatusInternalServerError {
				t.Errorf("panicking app: %d, want 500", w.Status())
			}
		})
	}
}

// Each variant's filters are at work when the app runs: a request id,
// a session, an identity, a deadline; and each writes an access line.
func TestVariantsDoTheirJobs(t *testing.T) {
	type check func(t *testing.T, b *Built, r *http.Request)
	tests := []struct {
		name   string
		checks []check
		log    string // in the access line
	}{
		{Full, []check{
			func(t *testing.T, _ *Built, r *http.Request) {
				if filter.From(r).RequestID() == "" {
					t.Error("no request id on the exchange")
				}
			},
			func(t *testing.T, _ *Built, r *http.Request) {
				if id := auth.IdentityOf(r); id == nil || id.Name != "bench" {
					t.Errorf("identity %v, want bench", id)
				}
			},
			func(t *testing.T, _ *Built, r *http.Request) {
				if err := session.Put(r, "seen", true); err != nil {
					t.Errorf("session.Put: %v", err)
				}
			},
			func(t *testing.T, _ *Built, r *http.Request) {
				if _, ok := r.Context().Deadline(); !ok {
					t.Error("no deadline")
				}
			},
			func(t *testing.T, _ *Built, r *http.Request) {
				if got := filter.MountPoint(r); got != "/hello" {
					t.Errorf("mount point %q, want /hello", got)
				}
			},
		}, `"path":"/hello/world"`},
		{Chi, []check{
			func(t *testing.T, _ *Built, r *http.Request) {
				if middleware.GetReqID(r.Context()) == "" {
					t.Error("no chi request id")
				}
				if _, ok := hlog.IDFromRequest(r); !ok {
					t.Error("no hlog request id")
				}
			},
			func(t *testing.T, b *Built, r *http.Request) {
				defer func() {
					if p := recover(); p != nil {
						t.Errorf("no scs session: %v", p)
					}
				}()
				b.sessions.Put(r.Context(), "seen", true)
			},
			func(t *testing.T, _ *Built, r *http.Request) {
				if _, ok := r.Context().Deadline(); !ok {
					t.Error("no deadline")
				}
			},
		}, `"url":"/hello/world"`},
		{Negroni, nil, "GET /hello/world"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ran bool
			var b *Built
			probe := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				ran = true
				for _, c := range tt.checks {
					c(t, b, r)
				}
				Hello(w, r)
			})
			var logs bytes.Buffer
			b = build(t, tt.name, Options{App: probe, Log: &logs})
			w := serve(b, true)
			if !ran || w.Status() != http.StatusOK || w.Head() != Body {
				t.Fatalf("app ran %v, answer %d %q", ran, w.Status(), w.Head())
			}
			if !strings.Contains(logs.String(), tt.log) {
				t.Errorf("access log %q lacks %q", logs.String(), tt.log)
			}
		})
	}
}

func TestBuildUnknownVariant(t *testing.T) {
	if _, err := Build("gin", Options{}); !errors.Is(err, ErrUnknownVariant) || !strings.Contains(err.Error(), `"gin"`) {
		t.Errorf("Build(gin): %v, want ErrUnknownVariant naming it", err)
	}
}

func TestWriterReset(t *testing.T) {
	w := NewWriter()
	w.Header().Set("X", "1")
	w.WriteHeader(http.StatusTeapot)
	w.WriteHeader(http.StatusOK) // ignored, as net/http does
	_, _ = w.Write([]byte(strings.Repeat("a", 100)))
	if w.Status() != http.StatusTeapot || w.Written() != 100 || w.Head() != strings.Repeat("a", 64) {
		t.Errorf("got %d, %d bytes, head %q", w.Status(), w.Written(), w.Head())
	}
	w.Reset()
	if w.Status() != http.StatusOK || w.Written() != 0 || w.Head() != "" || len(w.Header()) != 0 {
		t.Errorf("after Reset: %d, %d bytes, head %q, header %v", w.Status(), w.Written(), w.Head(), w.Header())
	}
	if n := testing.AllocsPerRun(100, func() {
		_, _ = w.Write(body)
		w.Reset()
	}); n != 0 {
		t.Errorf("Write+Reset: %v allocs, want 0", n)
	}
}

// The variants serve many requests at once, as under wrk.
func TestVariantsConcurrent(t *testing.T) {
	for _, name := range Names {
		t.Run(name, func(t *testing.T) {
			b := build(t, name, Options{})
			var wg sync.WaitGroup
			errs := make(chan string, 8)
			for range 8 {
				wg.Go(func() {
					for range 50 {
						if w := serve(b, true); w.Status() != http.StatusOK || w.Head() != Body {
							errs <- w.Head()
							return
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for e := range errs {
				t.Errorf("a request got %q", e)
			}
		})
	}
}
