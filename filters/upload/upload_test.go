package upload_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wsapi-go/wsapi/filter"
	"github.com/wsapi-go/wsapi/filter/filtertest"
	"github.com/wsapi-go/wsapi/filters/upload"
)

func TestFieldsAndFiles(t *testing.T) {
	f, dir := newFilter(t)
	keepDir := t.TempDir()
	photo := pngHead + strings.Repeat("p", 3000)
	r := filtertest.PostMultipart("/upload",
		url.Values{"title": {"Holiday"}, "tags": {"sea", "sun"}},
		filtertest.File{Field: "photo", Name: "../../etc/holiday.png", ContentType: "text/plain", Content: []byte(photo)},
		filtertest.File{Field: "notes", Name: "n.txt", Content: []byte("plain notes")},
	)
	var paths []string
	rec := serve(t, f, formApp(func(form *upload.Form) {
		if got := form.Values["tags"]; len(got) != 2 || got[0] != "sea" || got[1] != "sun" {
			t.Errorf("tags = %q", got)
		}
		if got := form.Value("title"); got != "Holiday" {
			t.Errorf("title = %q", got)
		}
		p := form.File("photo")
		if p == nil {
			t.Fatal("no photo")
		}
		if p.Field != "photo" || p.Name != "holiday.png" || p.Size != int64(len(photo)) ||
			p.ContentType != "text/plain" || p.Sniffed != "image/png" || p.SHA256 != sha256.Sum256([]byte(photo)) {
			t.Errorf("photo = %+v", p)
		}
		rc, err := p.Open()
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(rc)
		rc.Close()
		if string(got) != photo {
			t.Errorf("the stored photo has %d bytes, not what was sent", len(got))
		}
		if filepath.Dir(p.Path()) != dir || !strings.HasPrefix(filepath.Base(p.Path()), "upload-") {
			t.Errorf("stored at %s: want a temporary name in %s", p.Path(), dir)
		}
		n := form.File("notes")
		if n == nil || n.Name != "n.txt" || n.Sniffed != "text/plain; charset=utf-8" || n.ContentType != "application/octet-stream" {
			t.Errorf("notes = %+v", n)
		}
		paths = append(paths, p.Path(), n.Path())
		if err := p.MoveTo(filepath.Join(keepDir, "kept.png")); err != nil {
			t.Fatal(err)
		}
		if form.File("none") != nil || form.Value("none") != "" {
			t.Error("a missing field is found")
		}
	}), r)
	wantStatus(t, rec, 200, "ok")
	for _, p := range paths {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: %v, want it gone", p, err)
		}
	}
	if b, err := os.ReadFile(filepath.Join(keepDir, "kept.png")); err != nil || string(b) != photo {
		t.Errorf("the moved file: %d bytes, %v", len(b), err)
	}
}

func TestKeepLeavesTheFile(t *testing.T) {
	dir := t.TempDir()
	f := upload.New()
	f.Sink = upload.DirSink{Dir: dir}
	var path string
	rec := serve(t, f, formApp(func(form *upload.Form) {
		file := form.File("a")
		file.Keep()
		path = file.Path()
	}), post(mpBody(filePart("a", "a.txt", "", "hello"))))
	wantStatus(t, rec, 200)
	if b, err := os.ReadFile(path); err != nil || string(b) != "hello" {
		t.Errorf("kept file: %q, %v", b, err)
	}
}

func TestDeferredParsingReadsNothing(t *testing.T) {
	f, _ := newFilter(t)
	pr, done := pipe(mpBody(fieldPart("a", "1")), "x")
	r := postChunked(pr)
	rec := serve(t, f, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusForbidden)
	}), r)
	wantStatus(t, rec, 403)
	pr.CloseWithError(errors.New("test over"))
	if res := <-done; res.written != 0 {
		t.Errorf("%d bytes of the body were read; the app never asked for the form", res.written)
	}
}

func TestParseTwiceGivesTheSameForm(t *testing.T) {
	f, _ := newFilter(t)
	rec := serve(t, f, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, err1 := upload.Parse(r)
		b, err2 := upload.Parse(r)
		if err1 != nil || err2 != nil || a != b || a.Value("a") != "1" {
			t.Errorf("Parse: %p %v, then %p %v", a, err1, b, err2)
		}
	}), post(mpBody(fieldPart("a", "1"))))
	wantStatus(t, rec, 200)
}

func TestErrorIsSticky(t *testing.T) {
	f, _ := newFilter(t)
	rec := serve(t, f, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err1 := upload.Parse(r)
		form, err2 := upload.Parse(r)
		if err1 == nil || err1 != err2 || form != nil {
			t.Errorf("Parse: %v, then %v, %v", err1, form, err2)
		}
		upload.WriteError(w, err2)
	}), post("garbage"))
	wantStatus(t, rec, 400, "closing boundary")
	if rec.SentHeader().Get("Connection") != "close" {
		t.Error("an error answer without Connection: close")
	}
}

func TestEager(t *testing.T) {
	f, _ := newFilter(t)
	f.Eager = true
	f.MaxFileBytes = 10
	called := false
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		called = true
		form, err := upload.Parse(r)
		if err != nil || form.File("a").Size != 10 {
			t.Errorf("Parse in the app: %v, %v", form, err)
		}
	})
	wantStatus(t, serve(t, f, app, post(mpBody(filePart("a", "a", "", repeat("x", 10))))), 200)
	if !called {
		t.Error("the app was not called")
	}
	called = false
	wantStatus(t, serve(t, f, app, post(mpBody(filePart("a", "a", "", repeat("x", 11))))), 413, "MaxFileBytes")
	if called {
		t.Error("the app was called for a form over a limit")
	}
}

func TestEagerErrorHandler(t *testing.T) {
	f, _ := newFilter(t)
	f.Eager = true
	f.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
		var e *upload.Error
		if !errors.As(err, &e) || e.Limit != "MaxParts" {
			t.Errorf("ErrorHandler got %v", err)
		}
		http.Error(w, "custom", http.StatusTeapot)
	}
	f.MaxParts = 1
	rec := serve(t, f, formApp(nil), post(mpBody(fieldPart("a", "1"), fieldPart("b", "2"))))
	wantStatus(t, rec, 418, "custom")
}

func TestNonFormPassesThrough(t *testing.T) {
	f, _ := newFilter(t)
	r := filtertest.NewRequest("POST", "/", strings.NewReader(`{"a":1}`))
	r.Header.Set("Content-Type", "application/json")
	rec := serve(t, f, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if filter.From(r) != nil {
			t.Error("the filter attached an exchange to a request that has no form")
		}
		form, err := upload.Parse(r)
		if err != nil || len(form.Values) != 0 || len(form.Files) != 0 {
			t.Errorf("Parse = %v, %v; want an empty form", form, err)
		}
		b, _ := io.ReadAll(r.Body)
		w.Write(b)
	}), r)
	wantStatus(t, rec, 200, `{"a":1}`)
}

func TestParseWithoutFilter(t *testing.T) {
	_, err := upload.Parse(post(mpBody(fieldPart("a", "1"))))
	if !errors.Is(err, upload.ErrNoFilter) {
		t.Errorf("Parse = %v, want ErrNoFilter", err)
	}
	form, err := upload.Parse(filtertest.Get("/"))
	if err != nil || form == nil || len(form.Values) != 0 {
		t.Errorf("Parse of a GET = %v, %v", form, err)
	}
}

func TestURLEncoded(t *testing.T) {
	f, _ := newFilter(t)
	r := filtertest.PostForm("/", url.Values{"a": {"1", "2"}, "b c": {"d&e=f"}})
	rec := serve(t, f, formApp(func(form *upload.Form) {
		if got := form.Values["a"]; len(got) != 2 || got[1] != "2" || form.Value("b c") != "d&e=f" {
			t.Errorf("form = %v", form.Values)
		}
	}), r)
	wantStatus(t, rec, 200)
	r = filtertest.NewRequest("POST", "/", strings.NewReader("a=%zz"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	wantStatus(t, serve(t, f, formApp(nil), r), 400, "escape")
}

func TestEmptyFileInputIsNoFile(t *testing.T) {
	for _, allowed := range [][]string{nil, {"image/png"}} {
		f, dir := newFilter(t)
		f.AllowedTypes = allowed
		var created []string
		f.Sink = recordingSink{DirSink: upload.DirSink{Dir: dir}, created: &created}
		rec := serve(t, f, formApp(func(form *upload.Form) {
			if len(form.Files) != 0 || form.Value("title") != "hi" {
				t.Errorf("files %v, values %v", form.Files, form.Values)
			}
		}), post(mpBody(fieldPart("title", "hi"), filePart("a", "", "application/octet-stream", ""))))
		wantStatus(t, rec, 200)
		if len(created) != 0 {
			t.Errorf("AllowedTypes %q: the sink created %v for an empty file input", allowed, created)
		}
	}
}

// TestEmptyFileInputsCostNoSinkCalls sends many empty file inputs, far
// over MaxFiles: they are no files, and the sink never hears of them.
func TestEmptyFileInputsCostNoSinkCalls(t *testing.T) {
	f, dir := newFilter(t)
	var created []string
	f.Sink = recordingSink{DirSink: upload.DirSink{Dir: dir}, created: &created}
	parts := make([]string, upload.DefaultMaxParts-1)
	for i := range parts {
		parts[i] = filePart("a", "", "", "")
	}
	parts = append(parts, filePart("b", "b.txt", "", ""))
	rec := serve(t, f, formApp(func(form *upload.Form) {
		if len(form.Files["a"]) != 0 || form.File("b") == nil || form.File("b").Size != 0 {
			t.Errorf("files %v", form.Files)
		}
	}), post(mpBody(parts...)))
	wantStatus(t, rec, 200)
	if len(created) != 1 {
		t.Errorf("the sink created %d files, want 1 (the empty file with a name)", len(created))
	}
}

func TestEvents(t *testing.T) {
	f, _ := newFilter(t)
	f.MaxFileBytes = 4
	var got []filter.Event
	cancel := f.Events.Subscribe("upload", func(ev filter.Event) { got = append(got, ev) })
	defer cancel()
	wantStatus(t, serve(t, f, formApp(nil), post(mpBody(filePart("a", "a", "", "12345")))), 413)
	wantStatus(t, serve(t, f, formApp(nil), post("nonsense")), 400)
	f.AllowedTypes = []string{"image/png"}
	wantStatus(t, serve(t, f, formApp(nil), post(mpBody(filePart("a", "a", "", "1234")))), 415)
	want := []string{"upload:limit", "upload:malformed", "upload:type"}
	if len(got) != len(want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	for i, ev := range got {
		e, ok := ev.Data.(*upload.Error)
		if ev.Topic != want[i] || !ok || ev.Request == nil {
			t.Errorf("event %d: %s %T, want %s with an *upload.Error", i, ev.Topic, ev.Data, want[i])
		}
		if i == 0 && (e.Limit != "MaxFileBytes" || e.Max != 4) {
			t.Errorf("limit event: %+v", e)
		}
	}
}

// failingSink cannot store anything.
type failingSink struct{}

func (failingSink) Create(*upload.File) (upload.Stored, error) { return nil, errors.New("disk full") }

func TestSinkError(t *testing.T) {
	f, _ := newFilter(t)
	f.Sink = failingSink{}
	var got []string
	cancel := f.Events.Subscribe("upload", func(ev filter.Event) { got = append(got, ev.Topic) })
	defer cancel()
	var logs bytes.Buffer
	withLogger := filter.Func(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			x, w, r, owner := filter.Begin(w, r)
			defer owner.End()
			x.SetLogger(slog.New(slog.NewTextHandler(&logs, nil)))
			next.ServeHTTP(w, r)
		})
	})
	rec := filtertest.NewRecorder()
	filtertest.Check(t, withLogger, f.Wrap(formApp(nil))).ServeHTTP(rec, post(mpBody(filePart("a", "a", "", "x"))))
	wantStatus(t, rec, 500, "cannot be stored")
	if len(got) != 1 || got[0] != "upload:store:error" {
		t.Errorf("events %v", got)
	}
	if !strings.Contains(logs.String(), "disk full") {
		t.Errorf("log: %q", logs.String())
	}
}

func TestWriteErrorOfAnotherError(t *testing.T) {
	rec := filtertest.NewRecorder()
	if s := upload.WriteError(rec, errors.New("x")); s != 500 || rec.Code != 500 {
		t.Errorf("status %d, %d", s, rec.Code)
	}
}

func TestErrorText(t *testing.T) {
	e := &upload.Error{Status: 413, Limit: "MaxFiles", Max: 3, Reason: "the form has too many files"}
	if got := e.Error(); got != "upload: the form has too many files (limit MaxFiles = 3)" {
		t.Errorf("Error() = %q", got)
	}
	e = &upload.Error{Status: 400, Reason: "bad", Err: io.ErrUnexpectedEOF}
	if got := e.Error(); got != "upload: bad" || !errors.Is(e, io.ErrUnexpectedEOF) {
		t.Errorf("Error() = %q, Unwrap %v", got, e.Unwrap())
	}
}

func TestWrapPanicsOnImpossibleLimits(t *testing.T) {
	for name, f := range map[string]*upload.Filter{
		"MaxBoundaryLen":     {MaxBoundaryLen: 71},
		"MaxFiles":           {MaxFiles: -1},
		"MaxPartHeaderBytes": {MaxPartHeaderBytes: 2 << 20},
		"AllowedTypes":       {AllowedTypes: []string{"image/png; q=1"}},
	} {
		func() {
			defer func() {
				if p := recover(); p == nil || !strings.Contains(p.(string), name) {
					t.Errorf("%s: panic %v", name, p)
				}
			}()
			f.Wrap(http.NotFoundHandler())
		}()
	}
}

func TestZeroFilterHasDefaults(t *testing.T) {
	dir := t.TempDir()
	f := &upload.Filter{Sink: upload.DirSink{Dir: dir}}
	rec := serve(t, f, formApp(nil), post(mpBody(fieldPart("a", repeat("x", upload.DefaultMaxFieldBytes)))))
	wantStatus(t, rec, 413, "MaxFieldBytes")
	if f.Name() != "upload" {
		t.Errorf("Name() = %q", f.Name())
	}
	assertEmpty(t, dir)
}
