package upload_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wsapi-go/wsapi/filter/filtertest"
	"github.com/wsapi-go/wsapi/filters/upload"
)

// clock is a settable clock for Progress.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func poll(t *testing.T, p *upload.Progress, target string) (int, map[string]any) {
	t.Helper()
	rec := filtertest.NewRecorder()
	p.ServeHTTP(rec, filtertest.Get(target))
	var m map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
		t.Fatalf("not JSON: %q", rec.Body.String())
	}
	if ct := rec.SentHeader().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	return rec.Code, m
}

func TestProgress(t *testing.T) {
	f, _ := newFilter(t)
	clk := &clock{now: time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)}
	p := upload.NewProgress()
	p.Now = clk.Now
	f.Progress = p
	body := mpBody(filePart("f", "f", "", repeat("x", 200<<10)))
	var during upload.Info
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		before, ok := p.Lookup("up-1")
		if !ok || before.Received != 0 || before.Total != int64(len(body)) || before.Done {
			t.Errorf("before parsing: %+v, %v", before, ok)
		}
		if _, err := upload.Parse(r); err != nil {
			t.Error(err)
		}
		during, _ = p.Lookup("up-1")
	})
	r := post(body)
	r.URL.RawQuery = "X-Progress-ID=up-1"
	serve(t, f, app, r)
	if during.Received != int64(len(body)) || during.Done {
		t.Errorf("after parsing: %+v", during)
	}
	code, m := poll(t, p, "/progress?X-Progress-ID=up-1")
	if code != 200 || m["id"] != "up-1" || m["received"] != float64(len(body)) || m["total"] != float64(len(body)) ||
		m["done"] != true || m["failed"] != false {
		t.Errorf("%d %v", code, m)
	}

	// A header id, a chunked body, a failed upload.
	f.MaxBodyBytes = 1000
	r = postChunked(strings.NewReader(body))
	r.Header.Set("X-Progress-ID", "up-2")
	wantStatus(t, serve(t, f, formApp(nil), r), 413)
	info, ok := p.Lookup("up-2")
	if !ok || info.Total != -1 || !info.Done || !info.Failed || info.Received != 1001 {
		t.Errorf("failed upload: %+v, %v", info, ok)
	}

	// Entries expire a minute after the upload ended.
	clk.add(59 * time.Second)
	if _, ok := p.Lookup("up-1"); !ok {
		t.Error("up-1 expired early")
	}
	clk.add(time.Second)
	if code, _ := poll(t, p, "/progress?X-Progress-ID=up-1"); code != 404 {
		t.Errorf("expired entry: %d", code)
	}
	if code, _ := poll(t, p, "/progress?X-Progress-ID=bad%20id"); code != 400 {
		t.Errorf("bad id: %d", code)
	}
	if code, _ := poll(t, p, "/progress"); code != 400 {
		t.Errorf("no id: %d", code)
	}
}

func TestProgressIgnoresBadIDs(t *testing.T) {
	f, _ := newFilter(t)
	p := upload.NewProgress()
	f.Progress = p
	for _, id := range []string{"a b", strings.Repeat("x", 65), "ok-1"} {
		r := post(mpBody(fieldPart("a", "1")))
		r.Header.Set("X-Progress-ID", id)
		wantStatus(t, serve(t, f, formApp(nil), r), 200)
	}
	for id, want := range map[string]bool{"a b": false, strings.Repeat("x", 65): false, "ok-1": true} {
		if _, ok := p.Lookup(id); ok != want {
			t.Errorf("Lookup(%q) found %v, want %v", id, ok, want)
		}
	}
}

// TestProgressFullTable fills the table with finished uploads: they make
// room for a new one. Uploads in progress do not.
func TestProgressFullTable(t *testing.T) {
	f, _ := newFilter(t)
	p := upload.NewProgress()
	p.MaxEntries = 100
	f.Progress = p
	send := func(id string, app http.Handler) {
		r := urlencoded("a=b", false)
		r.Header.Set("X-Progress-ID", id)
		wantStatus(t, serve(t, f, app, r), 200)
	}
	for i := range 100 {
		send("done-"+strconv.Itoa(i), formApp(nil))
	}
	send("new", formApp(nil))
	if info, ok := p.Lookup("new"); !ok || !info.Done {
		t.Errorf("a table full of finished uploads left out a new one: %+v, %v", info, ok)
	}
	if _, ok := p.Lookup("done-0"); ok {
		t.Error("the upload that ended first is still there")
	}
	if _, ok := p.Lookup("done-99"); !ok {
		t.Error("the upload that ended last was dropped")
	}

	// 100 uploads in progress, each serving the next one.
	late := false
	var nest func(i int) http.Handler
	nest = func(i int) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if i < 99 {
				send("busy-"+strconv.Itoa(i+1), nest(i+1))
				return
			}
			if _, ok := p.Lookup("done-99"); ok {
				t.Error("finished uploads are kept while the table is full")
			}
			send("late", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, late = p.Lookup("late")
			}))
		})
	}
	send("busy-0", nest(0))
	if late {
		t.Error("an upload was tracked in a table full of uploads in progress")
	}
	if _, ok := p.Lookup("busy-99"); !ok {
		t.Error("busy-99 was not tracked")
	}
}

func TestProgressConcurrentPolls(t *testing.T) {
	f, _ := newFilter(t)
	p := upload.NewProgress()
	f.Progress = p
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
				p.ServeHTTP(filtertest.NewRecorder(), filtertest.Get("/?X-Progress-ID=c"))
			}
		}
	}()
	r := post(mpBody(filePart("f", "f", "", repeat("x", 1<<20))))
	r.Header.Set("X-Progress-ID", "c")
	wantStatus(t, serve(t, f, formApp(nil), r), 200)
	close(stop)
	wg.Wait()
	if info, ok := p.Lookup("c"); !ok || !info.Done || info.Received != r.ContentLength {
		t.Errorf("%+v %v", info, ok)
	}
}
