package peers

import (
	"net/http"
	"testing"
)

// The allocations per request of each variant, as measured: the full
// stack must not get worse, and must stay at most a third of the chi
// stack's. When a filter saves allocations, lower its budget here.
//
// Of the full stack's 13: the exchange 2, logging 1, session 2 (the new
// session made on demand, which this request never asks for, and the Vary
// header), isolate.Deadline 6 (its state, request copy, gate and the
// gate's header map, the app's header set on it, and its header copy),
// mux 1 (request copy), the app 1 (its Content-Type).
var allocBudget = map[string]float64{
	Bare:    1,
	Full:    13,
	Chi:     41,
	Negroni: 20,
}

func TestVariantAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not stable under -race (sync.Pool drops items); run without -race")
	}
	got := map[string]float64{}
	for _, name := range Names {
		b := build(t, name, Options{})
		r := NewRequest()
		b.Prepare(r)
		w := NewWriter()
		got[name] = testing.AllocsPerRun(500, func() {
			w.Reset()
			b.Handler.ServeHTTP(w, r)
		})
		if w.Status() != http.StatusOK {
			t.Fatalf("%s: answered %d", name, w.Status())
		}
		if got[name] > allocBudget[name] {
			t.Errorf("%s: %v allocs/op, budget %v", name, got[name], allocBudget[name])
		}
	}
	if got[Full] > got[Chi]/3 {
		t.Errorf("full stack %v allocs/op, chi stack %v: want at most a third", got[Full], got[Chi])
	}
	t.Logf("allocs/op: %v", got)
}
