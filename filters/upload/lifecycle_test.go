package upload_test

import (
	"errors"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/wsapi-go/wsapi/filter"
	"github.com/wsapi-go/wsapi/filter/filtertest"
	"github.com/wsapi-go/wsapi/filters/upload"
)

// leaveEarly runs next on a goroutine of its own and returns once leave is
// closed, without waiting for next: what http.TimeoutHandler does when its
// time is up. done is closed when next returns.
func leaveEarly(next http.Handler, leave <-chan struct{}, done chan<- struct{}) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		go func() {
			defer close(done)
			next.ServeHTTP(filtertest.NewRecorder(), r)
		}()
		<-leave
	})
}

// pausedBody yields first, then, on the next read, closes paused and waits
// for resume before it yields rest.
type pausedBody struct {
	first, rest    string
	paused, resume chan struct{}
	once           sync.Once
}

func (b *pausedBody) Read(p []byte) (int, error) {
	if b.first != "" {
		n := copy(p, b.first)
		b.first = b.first[n:]
		return n, nil
	}
	b.once.Do(func() {
		close(b.paused)
		<-b.resume
	})
	if b.rest == "" {
		return 0, io.EOF
	}
	n := copy(p, b.rest)
	b.rest = b.rest[n:]
	return n, nil
}

// owning is a filter that attaches the exchange, as a logging filter
// outermost does.
var owning = filter.Func(func(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, w, r, owner := filter.Begin(w, r)
		defer owner.End()
		next.ServeHTTP(w, r)
	})
})

// TestAppLeftRunningRemovesItsFiles puts a handler that returns before the
// app (as http.TimeoutHandler does) between the exchange's owner and the
// app, and has it return while the app parses: the files stored before and
// after are removed when the parse ends, and Parse says the request
// finished.
func TestAppLeftRunningRemovesItsFiles(t *testing.T) {
	body := mpBody(filePart("a", "a.txt", "", "first"), filePart("b", "b.txt", "", "second"))
	cut := strings.Index(body, "b.txt")
	tests := []struct {
		name  string
		stack func(f *upload.Filter, app http.Handler, leave <-chan struct{}, done chan<- struct{}) http.Handler
	}{
		{"a filter owns the exchange, the upload filter is inside the early handler",
			func(f *upload.Filter, app http.Handler, leave <-chan struct{}, done chan<- struct{}) http.Handler {
				return owning.Wrap(leaveEarly(f.Wrap(app), leave, done))
			}},
		{"the upload filter owns the exchange, outside the early handler",
			func(f *upload.Filter, app http.Handler, leave <-chan struct{}, done chan<- struct{}) http.Handler {
				return f.Wrap(leaveEarly(app, leave, done))
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, dir := newFilter(t)
			rd := &pausedBody{first: body[:cut], rest: body[cut:], paused: make(chan struct{}), resume: make(chan struct{})}
			var parseErr error
			app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, parseErr = upload.Parse(r)
			})
			done := make(chan struct{})
			h := tt.stack(f, app, rd.paused, done)
			r := filtertest.NewRequest("POST", "/upload", rd)
			r.Header.Set("Content-Type", "multipart/form-data; boundary="+bnd)
			h.ServeHTTP(filtertest.NewRecorder(), r) // returns while the app parses
			close(rd.resume)
			<-done
			var e *upload.Error
			if !errors.As(parseErr, &e) || e.Status != http.StatusServiceUnavailable {
				t.Errorf("Parse returned %v, want a 503 *upload.Error", parseErr)
			}
			assertEmpty(t, dir)
		})
	}
}

// TestFilesOfAnAppLeftRunning has the early handler return after the
// parse: the files are removed when the filter returns, and the app, still
// running, can no longer move them.
func TestFilesOfAnAppLeftRunning(t *testing.T) {
	f, dir := newFilter(t)
	leave, later, done := make(chan struct{}), make(chan struct{}), make(chan struct{})
	var moveErr error
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		form, err := upload.Parse(r)
		if err != nil {
			t.Error(err)
			close(leave)
			return
		}
		close(leave)
		<-later
		moveErr = form.File("a").MoveTo(dir + "/kept")
	})
	h := f.Wrap(leaveEarly(app, leave, done))
	h.ServeHTTP(filtertest.NewRecorder(), post(mpBody(filePart("a", "a.txt", "", "content"))))
	close(later)
	<-done
	if !errors.Is(moveErr, os.ErrNotExist) {
		t.Errorf("MoveTo after the filter returned: %v, want an error that is os.ErrNotExist", moveErr)
	}
	assertEmpty(t, dir)
}

func TestInnerFilterTakesOver(t *testing.T) {
	t.Run("its AllowedTypes", func(t *testing.T) {
		outer, _ := newFilter(t)
		inner, _ := newFilter(t)
		inner.AllowedTypes = []string{"image/png"}
		rec := serve(t, outer, inner.Wrap(formApp(nil)), post(mpBody(filePart("a", "evil.png", "image/png", elfHead))))
		wantStatus(t, rec, 415, "not an allowed type")
	})
	t.Run("its smaller limit", func(t *testing.T) {
		outer, _ := newFilter(t)
		inner, _ := newFilter(t)
		inner.MaxFileBytes = 10
		rec := serve(t, outer, inner.Wrap(formApp(nil)), post(mpBody(filePart("a", "a", "", repeat("x", 11)))))
		wantStatus(t, rec, 413, "MaxFileBytes")
	})
	t.Run("its larger limit", func(t *testing.T) {
		outer, _ := newFilter(t)
		outer.MaxFiles = 1
		inner, _ := newFilter(t)
		inner.MaxFiles = 2
		rec := serve(t, outer, inner.Wrap(formApp(nil)), post(mpBody(filePart("a", "a", "", "1"), filePart("b", "b", "", "2"))))
		wantStatus(t, rec, 200)
	})
	t.Run("an eager outer filter's form is checked", func(t *testing.T) {
		outer, dir := newFilter(t)
		outer.Eager = true
		inner, _ := newFilter(t)
		inner.AllowedTypes = []string{"image/png"}
		rec := serve(t, outer, inner.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			assertEmpty(t, dir) // removed as soon as the check failed
			_, err := upload.Parse(r)
			upload.WriteError(w, err)
		})), post(mpBody(filePart("a", "a.png", "", pngHead), filePart("b", "b.png", "", elfHead))))
		wantStatus(t, rec, 415, "not an allowed type")
	})
	t.Run("an eager inner filter answers a failed check", func(t *testing.T) {
		outer, _ := newFilter(t)
		outer.Eager = true
		inner, _ := newFilter(t)
		inner.Eager = true
		inner.MaxFiles = 1
		rec := serve(t, outer, inner.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			t.Error("the app was called")
		})), post(mpBody(filePart("a", "a", "", "1"), filePart("b", "b", "", "2"))))
		wantStatus(t, rec, 413, "MaxFiles")
	})
	t.Run("an eager outer filter's form that passes", func(t *testing.T) {
		outer, _ := newFilter(t)
		outer.Eager = true
		inner, _ := newFilter(t)
		inner.AllowedTypes = []string{"image/*"}
		rec := serve(t, outer, inner.Wrap(formApp(func(form *upload.Form) {
			if form.File("a") == nil {
				t.Error("no file")
			}
		})), post(mpBody(filePart("a", "a.png", "", pngHead))))
		wantStatus(t, rec, 200)
	})
}

// TestParseReadsTheRequestItIsGiven checks that a reader an inner handler
// put around the body, such as http.MaxBytesReader, is honoured.
func TestParseReadsTheRequestItIsGiven(t *testing.T) {
	f, _ := newFilter(t)
	app := http.MaxBytesHandler(formApp(nil), 100)
	rec := serve(t, f, app, post(mpBody(filePart("a", "a.bin", "", repeat("x", 5000)))))
	wantStatus(t, rec, 413, "http.MaxBytesReader")
}

// panicSink stores the first file, then panics.
type panicSink struct {
	upload.DirSink
	n int
}

func (s *panicSink) Create(f *upload.File) (upload.Stored, error) {
	if s.n++; s.n > 1 {
		panic("sink failed")
	}
	return s.DirSink.Create(f)
}

func TestParseAfterASinkPanicked(t *testing.T) {
	f, dir := newFilter(t)
	f.Sink = &panicSink{DirSink: upload.DirSink{Dir: dir}}
	rec := serve(t, f, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		func() {
			defer func() {
				if p := recover(); p != "sink failed" {
					t.Errorf("recovered %v", p)
				}
			}()
			upload.Parse(r)
		}()
		assertEmpty(t, dir)
		form, err := upload.Parse(r)
		var e *upload.Error
		if form != nil || !errors.As(err, &e) || e.Status != http.StatusInternalServerError {
			t.Errorf("Parse after the panic: %v, %v; want a 500 *upload.Error", form, err)
		}
		upload.WriteError(w, err)
	}), post(mpBody(filePart("a", "a", "", "x"), filePart("b", "b", "", "y"))))
	wantStatus(t, rec, 500)
}
