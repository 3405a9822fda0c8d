package upload_test

import (
	"net/http"
	"testing"

	"github.com/wsapi-go/wsapi/filter/filtertest"
	"github.com/wsapi-go/wsapi/filters/upload"
)

func TestPassThroughAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocations")
	}
	h := upload.New().Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	r := filtertest.Get("/")
	w := &discard{h: http.Header{}}
	if n := testing.AllocsPerRun(100, func() { h.ServeHTTP(w, r) }); n != 0 {
		t.Errorf("%v allocations for a request without a form, want 0", n)
	}
}

// TestSmallFormAllocations bounds the allocations of a 10 KiB upload with
// two fields and a file stored on disk: the exchange, the form and its
// maps, the strings, the file and its digest, the temporary file.
func TestSmallFormAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocations")
	}
	body, ctype := benchForm()
	f := upload.New()
	f.Sink = upload.DirSink{Dir: t.TempDir()}
	h := f.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if form, err := upload.Parse(r); err != nil || form.File("file") == nil {
			t.Fatal(err)
		}
	}))
	rd := &resettable{}
	r := filtertest.NewRequest("POST", "/", rd)
	r.Header.Set("Content-Type", ctype)
	r.ContentLength = int64(len(body))
	w := &discard{h: http.Header{}}
	n := testing.AllocsPerRun(100, func() {
		rd.Reset(body)
		h.ServeHTTP(w, r)
	})
	if n > 32 {
		t.Errorf("%v allocations for a 10 KiB upload, want at most 32", n)
	}
}
