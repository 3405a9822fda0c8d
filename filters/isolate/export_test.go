package isolate

import "net/http"

// Queued returns the number of requests waiting in a bulkhead made by
// Bulkhead.Wrap.
func Queued(h http.Handler) int { return int(h.(*bulkhead).queued.Load()) }

// InFlight returns the number of requests in flight on worker i.
func InFlight(ws *Workers, i int) int { return int(ws.slots[i].inflight.Load()) }
