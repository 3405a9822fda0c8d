package isolate_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/wsapi-go/wsapi/filters/isolate"
)

func TestIsolateAlloc(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes what allocates")
	}
	for _, tt := range []struct {
		name string
		h    http.Handler
		max  float64
	}{
		// The exchange (a handle and the request's copy) is 2 of them.
		{"Recover and Bulkhead", isolate.New(0, 10).Wrap(okApp), 2},
		{"Recover, Bulkhead and Deadline", isolate.New(time.Hour, 10).Wrap(okApp), 9},
	} {
		w := &discard{h: http.Header{}}
		r := httptest.NewRequest("GET", "/", nil)
		if n := testing.AllocsPerRun(200, func() { tt.h.ServeHTTP(w, r); clear(w.h) }); n > tt.max {
			t.Errorf("%s: %v allocations per request, want at most %v", tt.name, n, tt.max)
		}
	}
}
