package isolate

import (
	"net/http"
	"time"

	"github.com/wsapi-go/wsapi/filter"
)

// Filter is Recover, Bulkhead and Deadline together, in that order from
// the outside in: a panic anywhere inside is recovered, a request waits
// for its slot before its deadline starts, and the app's time is measured
// from when it gets the slot. A Bulkhead with Max 0 and a Deadline with
// Timeout 0 are left out, so the zero Filter only recovers panics. Set the
// fields, then call Wrap; they must not change after.
type Filter struct {
	// Recover handles panics; it is always on.
	Recover Recover
	// Bulkhead limits concurrency when Bulkhead.Max is above 0.
	Bulkhead Bulkhead
	// Deadline limits each request's time when Deadline.Timeout is above
	// 0.
	Deadline Deadline
	// Hub, when set, is used by the three parts whose own Hub is nil.
	Hub *filter.Hub
}

// New returns a Filter that recovers panics, gives each request timeout
// (none when 0), and lets at most max requests into the app at once (no
// limit when 0), turning away the others.
func New(timeout time.Duration, max int) *Filter {
	f := &Filter{}
	f.Deadline.Timeout = timeout
	f.Bulkhead.Max = max
	return f
}

var (
	_ filter.Filter = (*Filter)(nil)
	_ filter.Namer  = (*Filter)(nil)
)

// Name returns "isolate".
func (f *Filter) Name() string { return "isolate" }

// Wrap returns next inside the filters that are on: Recover, then
// Bulkhead, then Deadline.
func (f *Filter) Wrap(next http.Handler) http.Handler {
	h := next
	if f.Deadline.Timeout != 0 {
		d := f.Deadline
		if d.Hub == nil {
			d.Hub = f.Hub
		}
		h = d.Wrap(h)
	}
	if f.Bulkhead.Max != 0 {
		b := f.Bulkhead
		if b.Hub == nil {
			b.Hub = f.Hub
		}
		h = b.Wrap(h)
	}
	rc := f.Recover
	if rc.Hub == nil {
		rc.Hub = f.Hub
	}
	return rc.Wrap(h)
}
