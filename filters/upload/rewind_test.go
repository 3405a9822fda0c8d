package upload_test

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/wsapi-go/wsapi/filter"
	"github.com/wsapi-go/wsapi/filter/filtertest"
	"github.com/wsapi-go/wsapi/filters/upload"
)

// readTwice reads the body, rewinds it and reads it again.
var readTwice = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	a, err := io.ReadAll(r.Body)
	if err != nil {
		upload.WriteError(w, err)
		return
	}
	if err := upload.Rewind(r); err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	b, _ := io.ReadAll(r.Body)
	if string(a) != string(b) {
		http.Error(w, "the second read differs", 500)
		return
	}
	io.WriteString(w, "read twice: "+string(a[:min(len(a), 10)]))
})

func newRewindable(t *testing.T) (*upload.Rewindable, string) {
	dir := t.TempDir()
	rw := upload.NewRewindable()
	rw.Dir = dir
	rw.MemoryBytes = 100
	rw.MaxBytes = 1000
	t.Cleanup(func() { assertEmpty(t, dir) })
	return rw, dir
}

func TestRewindable(t *testing.T) {
	for _, n := range []int{0, 1, 100, 101, 1000} { // in memory, then in a file
		rw, _ := newRewindable(t)
		body := repeat("r", n)
		r := filtertest.NewRequest("PUT", "/", strings.NewReader(body))
		rec := filtertest.NewRecorder()
		filtertest.Check(t, rw, readTwice).ServeHTTP(rec, r)
		wantStatus(t, rec, 200, "read twice: "+body[:min(n, 10)])
	}
}

func TestRewindableLimit(t *testing.T) {
	rw, _ := newRewindable(t)
	pr, done := pipe("", repeat("r", 100))
	rec := filtertest.NewRecorder()
	filtertest.Check(t, rw, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := io.ReadAll(r.Body)
		pr.Close()
		upload.WriteError(w, err)
	})).ServeHTTP(rec, filtertest.NewRequest("PUT", "/", pr))
	wantStatus(t, rec, 413, "Rewindable.MaxBytes")
	wantClosedEarly(t, done, 100<<10)
}

func TestRewindableSpoolIsRemovedOnPanic(t *testing.T) {
	rw, _ := newRewindable(t)
	h := filtertest.Check(t, rw, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body)
		panic("boom")
	}))
	func() {
		defer func() { recover() }()
		h.ServeHTTP(filtertest.NewRecorder(), filtertest.NewRequest("PUT", "/", strings.NewReader(repeat("r", 500))))
	}()
}

func TestRewindBeforeTheEnd(t *testing.T) {
	rw, _ := newRewindable(t)
	rec := filtertest.NewRecorder()
	filtertest.Check(t, rw, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		head := make([]byte, 150)
		if _, err := io.ReadFull(r.Body, head); err != nil {
			t.Fatal(err)
		}
		upload.Rewind(r)
		all, _ := io.ReadAll(r.Body) // the spool, then the rest of the source
		s := r.Body.(io.Seeker)
		if pos, err := s.Seek(-10, io.SeekEnd); err != nil || pos != 290 {
			t.Errorf("Seek = %d, %v", pos, err)
		}
		if _, err := s.Seek(1, io.SeekEnd); err == nil {
			t.Error("a seek past the end succeeded")
		}
		w.Write(all)
	})).ServeHTTP(rec, filtertest.NewRequest("PUT", "/", strings.NewReader(repeat("a", 150)+repeat("b", 150))))
	wantStatus(t, rec, 200, repeat("a", 150)+repeat("b", 150))
}

func TestRewindWithoutTheFilter(t *testing.T) {
	if err := upload.Rewind(filtertest.Get("/")); !errors.Is(err, upload.ErrNotRewindable) {
		t.Errorf("Rewind = %v", err)
	}
}

// TestRewindableUnderTheUploadFilter reads the form, then the raw body.
func TestRewindableUnderTheUploadFilter(t *testing.T) {
	rw, _ := newRewindable(t)
	rw.MaxBytes = 1 << 20
	up, _ := newFilter(t)
	body := mpBody(fieldPart("a", "1"), filePart("f", "f", "", repeat("z", 5000)))
	rec := filtertest.NewRecorder()
	h := rw.Wrap(up.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		form, err := upload.Parse(r)
		if err != nil || form.Value("a") != "1" {
			t.Fatalf("Parse: %v %v", form, err)
		}
		if err := upload.Rewind(r); err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(r.Body)
		if string(raw) != body {
			t.Errorf("the raw body has %d bytes, want %d", len(raw), len(body))
		}
	})))
	filtertest.NewLint(t).Wrap(h).ServeHTTP(rec, post(body))
	wantStatus(t, rec, 200)
	if rw.Name() != "rewindable" {
		t.Error(rw.Name())
	}
}

func TestRewindablePassesBodilessRequests(t *testing.T) {
	rw, _ := newRewindable(t)
	filtertest.Check(t, rw, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if filter.From(r) != nil {
			t.Error("an exchange for a request without a body")
		}
	})).ServeHTTP(filtertest.NewRecorder(), filtertest.Get("/"))
}
