package upload

import (
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Progress tracks the bytes received of uploads that carry an upload id,
// for a page to show a progress bar. Give it to a Filter's Progress field
// and mount it (it is an http.Handler) where the page can ask:
//
//	progress := upload.NewProgress()
//	up := upload.New()
//	up.Progress = progress
//	mux.Handle("GET /upload/progress", progress)
//
// The client picks the id (1 to 64 characters of [A-Za-z0-9._-]) and sends
// it as the query parameter or the header named Param, both on the upload
// and on the progress request. Ids should be random: anyone who knows one
// can read its byte counts (nothing else). The count is kept with one
// atomic add per read of the body; the shared table is touched only when
// an upload starts and when it ends. An entry is dropped Expire after its
// upload ended, or sooner when the table is full (see MaxEntries).
//
// Set the fields before the first request, never after.
type Progress struct {
	// Param is the name of the query parameter, and of the header, that
	// carries the upload id. NewProgress sets "X-Progress-ID"; "" means
	// the same.
	Param string
	// Expire is how long an ended upload's entry stays. NewProgress sets
	// one minute; 0 means the same.
	Expire time.Duration
	// MaxEntries caps the entries kept at once. When the table is full,
	// the entries of the uploads that ended first are dropped before
	// their time to make room (an eighth of the table at a time); an
	// upload that comes when every entry is an upload in progress is not
	// tracked. NewProgress sets 10000; 0 means the same.
	MaxEntries int
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	mu        sync.Mutex
	entries   map[string]*progressEntry
	lastSweep time.Time
}

// progressEntry is one upload's counts.
type progressEntry struct {
	id       string
	received atomic.Int64
	total    int64 // the Content-Length, or -1
	done     atomic.Bool
	failed   atomic.Bool
	ended    time.Time // under Progress.mu
}

// NewProgress returns a progress tracker with the defaults.
func NewProgress() *Progress {
	return &Progress{Param: "X-Progress-ID", Expire: time.Minute, MaxEntries: 10000}
}

// Info is what Progress knows about one upload.
type Info struct {
	// ID is the upload id.
	ID string `json:"id"`
	// Received is the number of body bytes read so far.
	Received int64 `json:"received"`
	// Total is the body's Content-Length, or -1 when it is not known
	// (a chunked body).
	Total int64 `json:"total"`
	// Done reports whether the upload ended.
	Done bool `json:"done"`
	// Failed reports whether it ended with an error, or before the form
	// was read whole.
	Failed bool `json:"failed"`
}

func (p *Progress) param() string {
	if p.Param == "" {
		return "X-Progress-ID"
	}
	return p.Param
}

func (p *Progress) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

// validID reports whether id may be an upload id.
func validID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// idOf returns the request's upload id, or "" when it has none or an
// invalid one.
func (p *Progress) idOf(r *http.Request) string {
	id := r.Header.Get(p.param())
	if id == "" && r.URL != nil && r.URL.RawQuery != "" {
		id = r.URL.Query().Get(p.param())
	}
	if !validID(id) {
		return ""
	}
	return id
}

// start begins tracking an upload; it returns nil when the id is taken by
// an upload in progress, or the table is full.
func (p *Progress) start(id string, total int64) *progressEntry {
	now := p.now()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sweep(now)
	if old, ok := p.entries[id]; ok && !old.done.Load() {
		return nil
	}
	maxEntries := p.MaxEntries
	if maxEntries <= 0 {
		maxEntries = 10000
	}
	if len(p.entries) >= maxEntries && !p.makeRoom(now, maxEntries) {
		return nil
	}
	if p.entries == nil {
		p.entries = make(map[string]*progressEntry)
	}
	if total < 0 {
		total = -1
	}
	e := &progressEntry{id: id, total: total}
	p.entries[id] = e
	return e
}

// finish ends an upload's entry.
func (p *Progress) finish(e *progressEntry, failed bool) {
	now := p.now()
	p.mu.Lock()
	e.ended = now
	e.failed.Store(failed)
	e.done.Store(true)
	p.mu.Unlock()
}

// sweep drops expired entries, at most once per half of Expire. p.mu is
// held.
func (p *Progress) sweep(now time.Time) {
	if now.Sub(p.lastSweep) < p.expire()/2 {
		return
	}
	p.dropExpired(now)
}

func (p *Progress) expire() time.Duration {
	if p.Expire <= 0 {
		return time.Minute
	}
	return p.Expire
}

// dropExpired drops the entries of uploads that ended Expire ago or more.
// p.mu is held.
func (p *Progress) dropExpired(now time.Time) {
	p.lastSweep = now
	exp := p.expire()
	for id, e := range p.entries {
		if e.done.Load() && now.Sub(e.ended) >= exp {
			delete(p.entries, id)
		}
	}
}

// makeRoom makes room in a full table: it drops the expired entries, then
// the entries of the uploads that ended first, down to seven eighths of
// maxEntries, so that finished uploads never keep a new one out. It
// reports false when every entry is an upload in progress. p.mu is held.
func (p *Progress) makeRoom(now time.Time, maxEntries int) bool {
	p.dropExpired(now)
	if len(p.entries) < maxEntries {
		return true
	}
	var ended []*progressEntry
	for _, e := range p.entries {
		if e.done.Load() {
			ended = append(ended, e)
		}
	}
	if len(ended) == 0 {
		return false
	}
	slices.SortFunc(ended, func(a, b *progressEntry) int { return a.ended.Compare(b.ended) })
	drop := min(len(ended), len(p.entries)-maxEntries*7/8)
	for _, e := range ended[:max(drop, 1)] {
		delete(p.entries, e.id)
	}
	return true
}

// Lookup returns what is known of the upload id, and false when nothing
// is (never seen, or expired).
func (p *Progress) Lookup(id string) (Info, bool) {
	now := p.now()
	p.mu.Lock()
	p.sweep(now)
	e, ok := p.entries[id]
	if ok && e.done.Load() && now.Sub(e.ended) >= p.expire() {
		ok = false
	}
	p.mu.Unlock()
	if !ok {
		return Info{}, false
	}
	return Info{ID: id, Received: e.received.Load(), Total: e.total, Done: e.done.Load(), Failed: e.failed.Load()}, true
}

// ServeHTTP answers a GET for an upload id (in the query parameter or
// header named Param) with its Info as JSON: 200 when known, 404 when
// not, 400 for an invalid id. The answer is not cached.
func (p *Progress) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	id := p.idOf(r)
	if id == "" {
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(`{"error":"missing or invalid upload id"}` + "\n"))
		return
	}
	info, ok := p.Lookup(id)
	if !ok {
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte(`{"id":"` + id + `","error":"unknown upload id"}` + "\n"))
		return
	}
	// The id is [A-Za-z0-9._-]: nothing to escape.
	b := make([]byte, 0, 128)
	b = append(b, `{"id":"`...)
	b = append(b, id...)
	b = append(b, `","received":`...)
	b = strconv.AppendInt(b, info.Received, 10)
	b = append(b, `,"total":`...)
	b = strconv.AppendInt(b, info.Total, 10)
	b = append(b, `,"done":`...)
	b = strconv.AppendBool(b, info.Done)
	b = append(b, `,"failed":`...)
	b = strconv.AppendBool(b, info.Failed)
	b = append(b, "}\n"...)
	w.Write(b)
}
