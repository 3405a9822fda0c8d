package filter_test

import (
	"net/http"
	"testing"

	"github.com/wsapi-go/wsapi/filter"
	"github.com/wsapi-go/wsapi/filter/filtertest"
)

func TestAborted(t *testing.T) {
	var nilX *filter.Exchange
	if nilX.Aborted() != "" {
		t.Error("a nil exchange reports an abort")
	}
	nilX.SetAborted("panic") // must not panic

	var seen string
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		x, w, _, owner := filter.Begin(w, r)
		defer owner.End()
		if x.Aborted() != "" {
			t.Errorf("a new exchange reports abort %q", x.Aborted())
		}
		x.OnFinish(func(x *filter.Exchange) { seen = x.Aborted() })
		x.SetAborted("deadline")
		w.WriteHeader(http.StatusNoContent)
	})
	h.ServeHTTP(filtertest.NewRecorder(), filtertest.Get("/"))
	if seen != "deadline" {
		t.Errorf("finish hook saw %q, want deadline", seen)
	}
	// The pooled exchange comes back without the reason.
	h2 := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		x, _, _, owner := filter.Begin(w, r)
		defer owner.End()
		seen = x.Aborted()
	})
	for range 3 {
		h2.ServeHTTP(filtertest.NewRecorder(), filtertest.Get("/"))
		if seen != "" {
			t.Errorf("a reused exchange kept the abort reason %q", seen)
		}
	}
}
