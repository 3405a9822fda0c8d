package hostile_test

import (
	"context"
	"encoding/json"
	"errors"
	"expvar"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"testing/fstest"
	"time"

	"github.com/alexedwards/scs/v2/memstore"
	"github.com/go-chi/chi/v5"
	"golang.org/x/crypto/bcrypt"

	"github.com/wsapi-go/wsapi"
	"github.com/wsapi-go/wsapi/filters/auth"
	"github.com/wsapi-go/wsapi/filters/isolate"
	"github.com/wsapi-go/wsapi/filters/logging"
	"github.com/wsapi-go/wsapi/filters/mux"
	"github.com/wsapi-go/wsapi/filters/session"
	"github.com/wsapi-go/wsapi/filters/upload"
	"github.com/wsapi-go/wsapi/internal/hostile"
)

// startStandIn starts a small file drop built from the project's filters
// the way the showcase is, served by a wsapi.Launcher with its defaults
// (but a header timeout of one second): the corpus runs against it without
// the showcase binary, and so checks the launcher's and the filters'
// defaults. The stand-in and its debug listener stop when the test ends.
func startStandIn(t *testing.T) *server {
	t.Helper()
	dir := t.TempDir()
	tmp := filepath.Join(dir, "tmp")
	files := filepath.Join(dir, "files")
	for _, d := range []string{tmp, files} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	const password = "stand-in-password"
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	htpasswd := filepath.Join(dir, "htpasswd")
	if err := os.WriteFile(htpasswd, []byte("demo:"+string(hash)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	users, err := auth.OpenHtpasswd(htpasswd)
	if err != nil {
		t.Fatal(err)
	}
	users.Roles = map[string][]string{"demo": {"admin"}}
	users.Logger = slog.New(slog.DiscardHandler)

	accessLog := filepath.Join(dir, "access.log")
	logFile, err := os.OpenFile(accessLog, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = logFile.Close() })

	logs := logging.New(logFile)
	iso := isolate.New(0, 64)
	sessions := session.New(memstore.NewWithCleanupInterval(0))
	tokens := auth.NewBearer()
	if err := tokens.Add(auth.HashToken("stand-in-token"), auth.Identity{Name: "api"}); err != nil {
		t.Fatal(err)
	}
	a := auth.New(auth.NewSession(users), auth.NewBasic(users), tokens)
	a.LoginPath = "/login"
	up := upload.New()
	up.Sink = upload.DirSink{Dir: tmp}
	up.MaxFileBytes = 1 << 20
	up.AllowedTypes = []string{"text/plain", "image/*", "application/pdf", "application/zip", "application/octet-stream"}
	deadline := &isolate.Deadline{Timeout: 10 * time.Second}
	stack := wsapi.New(logs, iso, sessions, a, up, deadline)

	r := chi.NewRouter()
	r.Get("/healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "ok\n")
	})
	r.Get("/login", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, `<form id="login-form" method="post" action="/login"></form>`)
	})
	r.Post("/login", a.LoginHandler().ServeHTTP)
	r.Post("/logout", a.LogoutHandler().ServeHTTP)
	r.Group(func(r chi.Router) {
		r.Use(auth.Require().Wrap)
		r.Get("/", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "files\n") })
		r.Post("/files", func(w http.ResponseWriter, r *http.Request) { standInUpload(w, r, files) })
		r.Get("/files/{id}", http.NotFound)
		r.Get("/api/files", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"files":[]}`)
		})
	})
	r.With(auth.RequireRole("admin").Wrap).Get("/admin", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "admin\n") })

	static := fstest.MapFS{"style.css": {Data: standInCSS()}}
	m := mux.New()
	// Static files are served whole, as the showcase serves them: net/http's
	// file server honours any number of ranges, one multipart part each.
	staticFiles := http.StripPrefix("/static", http.FileServerFS(static))
	m.Mount("/static", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Header.Del("Range")
		staticFiles.ServeHTTP(w, r)
	}))
	m.Mount("/", r)
	h := stack.Then(m)

	l := &wsapi.Launcher{ReadHeaderTimeout: time.Second, Logger: slog.New(slog.DiscardHandler)}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 2)
	go func() { done <- l.Serve(ctx, ln, h) }()
	debug := &http.Server{Handler: debugVars(), ReadHeaderTimeout: time.Second}
	go func() {
		err := debug.Serve(dln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		done <- err
	}()
	t.Cleanup(func() {
		cancel()
		_ = debug.Close()
		for range 2 {
			if err := <-done; err != nil {
				t.Errorf("stand-in: %v", err)
			}
		}
	})
	return &server{
		target:    &hostile.Target{Addr: ln.Addr().String(), HeaderTimeout: time.Second},
		debugAddr: dln.Addr().String(),
		tmpDir:    tmp,
		accessLog: accessLog,
		password:  password,
	}
}

// standInUpload stores the files of a multipart upload and answers as
// the showcase does for JSON clients.
func standInUpload(w http.ResponseWriter, r *http.Request, dir string) {
	form, err := upload.Parse(r)
	if err != nil {
		upload.WriteError(w, err)
		return
	}
	var out []map[string]any
	for _, f := range form.Files["file"] {
		if err := f.MoveTo(filepath.Join(dir, f.SHA256Hex())); err != nil {
			http.Error(w, "could not store the file", http.StatusInternalServerError)
			return
		}
		out = append(out, map[string]any{"name": f.Name, "size": f.Size, "type": f.Sniffed})
	}
	if len(out) == 0 {
		http.Error(w, `{"error":"no file"}`, http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(map[string]any{"files": out})
}

// standInCSS is a style sheet of about 8 KB, for the Range cases.
func standInCSS() []byte {
	var b []byte
	for len(b) < 8<<10 {
		b = append(b, "body { font-family: system-ui, sans-serif; margin: 0 auto; max-width: 50rem; }\n"...)
	}
	return b
}

// debugVars serves /debug/vars with the goroutines and open_fds counts,
// as the showcase's debug listener does.
func debugVars() http.Handler {
	vars := map[string]expvar.Var{
		"goroutines": expvar.Func(func() any { return runtime.NumGoroutine() }),
		"open_fds": expvar.Func(func() any {
			entries, err := os.ReadDir("/proc/self/fd")
			if err != nil {
				return -1
			}
			return len(entries)
		}),
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/debug/vars" {
			http.NotFound(w, r)
			return
		}
		out := map[string]any{}
		for k, v := range vars {
			out[k] = json.RawMessage(v.String())
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(out)
	})
}

// TestCorpusAgainstStandIn replays the corpus against the stand-in.
func TestCorpusAgainstStandIn(t *testing.T) {
	if testing.Short() {
		t.Skip("the corpus takes seconds")
	}
	srv := startStandIn(t)
	runCorpus(t, srv)
}
