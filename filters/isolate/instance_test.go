package isolate_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wsapi-go/wsapi/filter"
	"github.com/wsapi-go/wsapi/filter/filtertest"
	"github.com/wsapi-go/wsapi/filters/isolate"
)

// counted is an app instance that says which one it is and counts its
// closes.
type counted struct {
	id     int64
	closed *atomic.Int64
	busy   atomic.Int32
}

func (c *counted) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if c.busy.Add(1) != 1 {
		panic("an instance served two requests at once")
	}
	defer c.busy.Add(-1)
	if c.closed.Load() < 0 {
		panic("unreachable")
	}
	fmt.Fprint(w, c.id)
}

func (c *counted) Close() error { c.closed.Add(1); return nil }

type factory struct {
	made, closed atomic.Int64
	fail         atomic.Bool
}

func (f *factory) make() (http.Handler, error) {
	if f.fail.Load() {
		return nil, errors.New("bad config")
	}
	return &counted{id: f.made.Add(1), closed: &f.closed}, nil
}

func body(t *testing.T, h http.Handler) (int, string) {
	t.Helper()
	rec := filtertest.NewRecorder()
	h.ServeHTTP(rec, filtertest.Get("/"))
	return rec.Code, rec.Body.String()
}

func TestFresh(t *testing.T) {
	noLeaks(t)
	f := &factory{}
	h := filtertest.Check(t, nil, isolate.Fresh(f.make))
	for i := 1; i <= 3; i++ {
		if code, b := body(t, h); code != 200 || b != fmt.Sprint(i) {
			t.Errorf("request %d: %d %q", i, code, b)
		}
	}
	if f.closed.Load() != 3 {
		t.Errorf("%d instances closed, want 3", f.closed.Load())
	}
	f.fail.Store(true)
	if code, _ := body(t, h); code != 503 {
		t.Errorf("a failing factory: %d", code)
	}
}

func TestPoolMaxRequests(t *testing.T) {
	noLeaks(t)
	f := &factory{}
	p := &isolate.Pool{Factory: f.make, Max: 1, MaxRequests: 2, Hub: new(filter.Hub)}
	t.Cleanup(func() { p.Close() })
	var got []string
	for range 5 {
		_, b := body(t, p)
		got = append(got, b)
	}
	if fmt.Sprint(got) != "[1 1 2 2 3]" {
		t.Errorf("instances served %v", got)
	}
	if f.closed.Load() != 2 {
		t.Errorf("%d closed, want 2", f.closed.Load())
	}
}

func TestPoolRetiresAfterPanic(t *testing.T) {
	noLeaks(t)
	f := &factory{}
	var n atomic.Int32
	p := &isolate.Pool{Factory: func() (http.Handler, error) {
		h, _ := f.make()
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if n.Add(1) == 1 {
				panic("first")
			}
			h.ServeHTTP(w, r)
		}), nil
	}, Max: 1}
	t.Cleanup(func() { p.Close() })
	h := isolate.New(0, 0).Wrap(p)
	if code, _ := body(t, h); code != 500 {
		t.Errorf("panic: %d", code)
	}
	if _, b := body(t, h); b != "2" {
		t.Errorf("the instance that panicked served again (%q)", b)
	}
}

func TestPoolBusy(t *testing.T) {
	noLeaks(t)
	hold := newHoldApp()
	p := &isolate.Pool{Factory: func() (http.Handler, error) { return hold, nil }, Max: 1, MaxWait: time.Millisecond, Hub: new(filter.Hub)}
	t.Cleanup(func() { p.Close() })
	wait := fill(p, 1)
	<-hold.entered
	if code, _ := body(t, p); code != 503 {
		t.Errorf("a busy pool answered %d", code)
	}
	close(hold.release)
	wait()
}

// TestPoolReloadUnderLoad: reloads while requests flow fail none of them;
// old instances are closed once their requests are done.
func TestPoolReloadUnderLoad(t *testing.T) {
	noLeaks(t)
	f := &factory{}
	hub := new(filter.Hub)
	reloads := listen(t, hub, isolate.EventReload)
	p := &isolate.Pool{Factory: f.make, Max: 4, Hub: hub}
	t.Cleanup(func() { p.Close() })
	stop := make(chan struct{})
	var failed, served atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				rec := filtertest.NewRecorder()
				p.ServeHTTP(rec, filtertest.Get("/"))
				served.Add(1)
				if rec.Code != 200 {
					failed.Add(1)
				}
			}
		}()
	}
	for i := range 20 {
		if err := p.Reload(); err != nil {
			t.Fatal(err)
		}
		until(t, func() bool { return served.Load() > int64(i*10) })
	}
	f.fail.Store(true)
	if err := p.Reload(); err == nil {
		t.Error("a reload with a failing factory succeeded")
	}
	close(stop)
	wg.Wait()
	if failed.Load() != 0 {
		t.Errorf("%d of %d requests failed", failed.Load(), served.Load())
	}
	if p.Generation() != 20 {
		t.Errorf("generation %d", p.Generation())
	}
	if e := reloads.all(); len(e) != 21 || e[20].Data.(isolate.ReloadEvent).Err == nil {
		t.Errorf("%d reload events", len(e))
	}
	p.Close()
	if made, closed := f.made.Load(), f.closed.Load(); made != closed || closed < 20 {
		t.Errorf("made %d instances, closed %d", made, closed)
	}
}

func TestPoolIdleCollected(t *testing.T) {
	noLeaks(t)
	f := &factory{}
	p := &isolate.Pool{Factory: f.make, IdleTimeout: time.Millisecond}
	body(t, p)
	// The collector retires the idle instance, then closes it outside the
	// pool's lock: wait for both.
	until(t, func() bool { alive, _ := p.Instances(); return alive == 0 && f.closed.Load() >= 1 })
	p.Close() // stops the collector; noLeaks checks
	if f.closed.Load() != 1 {
		t.Errorf("%d closed", f.closed.Load())
	}
}

func TestWatchFile(t *testing.T) {
	noLeaks(t)
	f := &factory{}
	hub := new(filter.Hub)
	reloads := listen(t, hub, isolate.EventReload)
	p := &isolate.Pool{Factory: f.make, Hub: hub}
	t.Cleanup(func() { p.Close() })
	conf := filepath.Join(t.TempDir(), "app.conf")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- isolate.Watch(ctx, p, time.Millisecond, []string{conf}, nil) }()
	// Watch takes its first look at some point: change the file until
	// it sees a change.
	var e filter.Event
	for i := 1; e.Topic == ""; i++ {
		if err := os.WriteFile(conf, []byte(strings.Repeat("x", i)), 0o600); err != nil {
			t.Fatal(err)
		}
		select {
		case e = <-reloads.ch:
		case <-time.After(10 * time.Millisecond):
			if i > 6000 {
				t.Fatal("no reload")
			}
		}
	}
	if e.Data.(isolate.ReloadEvent).Generation != 1 {
		t.Errorf("event %+v", e.Data)
	}
	cancel()
	if err := <-done; err != context.Canceled {
		t.Errorf("Watch returned %v", err)
	}
}

// TestPoolFactoryPanics: a factory that panics costs its request a 500,
// and neither the request's token nor the count of instances.
func TestPoolFactoryPanics(t *testing.T) {
	noLeaks(t)
	var boom atomic.Bool
	boom.Store(true)
	p := &isolate.Pool{Max: 1, MaxWait: 100 * time.Millisecond, Hub: new(filter.Hub), Factory: func() (http.Handler, error) {
		if boom.Load() {
			panic("bad config")
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}), nil
	}}
	t.Cleanup(func() { p.Close() })
	h := (&isolate.Recover{Hub: new(filter.Hub)}).Wrap(p)
	if code, _ := body(t, h); code != 500 {
		t.Errorf("a factory that panicked: %d", code)
	}
	if alive, idle := p.Instances(); alive != 0 || idle != 0 {
		t.Errorf("after a factory panic: %d alive, %d idle", alive, idle)
	}
	boom.Store(false)
	if code, _ := body(t, h); code != 200 {
		t.Errorf("after a factory panic, the pool answered %d", code)
	}
	if alive, idle := p.Instances(); alive != 1 || idle != 1 {
		t.Errorf("%d alive, %d idle", alive, idle)
	}
}

// panicCloser is an instance whose Close panics.
type panicCloser struct{ http.Handler }

func (panicCloser) Close() error { panic("close failed") }

// TestPoolClosePanics: an instance whose Close panics neither breaks its
// request nor leaks its token; the panic is published.
func TestPoolClosePanics(t *testing.T) {
	noLeaks(t)
	hub := new(filter.Hub)
	errs := listen(t, hub, isolate.EventInstanceError)
	p := &isolate.Pool{Max: 1, MaxRequests: 1, MaxWait: time.Minute, Hub: hub, Factory: func() (http.Handler, error) {
		return panicCloser{http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })}, nil
	}}
	t.Cleanup(func() { p.Close() })
	for i := range 3 {
		if code, _ := body(t, p); code != 200 {
			t.Fatalf("request %d: %d", i, code)
		}
		if e := errs.next(t); !strings.Contains(fmt.Sprint(e.Data), "close failed") {
			t.Errorf("event %v", e.Data)
		}
	}
	if alive, _ := p.Instances(); alive != 0 {
		t.Errorf("%d alive", alive)
	}
}

// reentrant is an instance whose Close asks its pool for its state, as a
// metrics hook would.
type reentrant struct {
	p       *isolate.Pool
	closing chan struct{} // when set, Close says so and waits for release
	release chan struct{}
	closed  atomic.Bool
}

func (c *reentrant) ServeHTTP(http.ResponseWriter, *http.Request) {}

func (c *reentrant) Close() error {
	if c.closing != nil {
		close(c.closing)
		<-c.release
	}
	c.p.Instances()
	c.closed.Store(true)
	return nil
}

// TestPoolClosesOutsideLock: an expired idle instance that a request
// finds is closed without the pool's lock held, so its Close may call the
// pool. The collector is kept busy closing another instance, so that the
// request is the one that finds it.
func TestPoolClosesOutsideLock(t *testing.T) {
	noLeaks(t)
	const ttl = 20 * time.Millisecond
	p := &isolate.Pool{TTL: ttl, Hub: new(filter.Hub)}
	first := &reentrant{p: p, closing: make(chan struct{}), release: make(chan struct{})}
	second := &reentrant{p: p}
	var n atomic.Int32
	p.Factory = func() (http.Handler, error) {
		switch n.Add(1) {
		case 1:
			return first, nil
		case 2:
			return second, nil
		}
		return &reentrant{p: p}, nil
	}
	t.Cleanup(func() { p.Close() })
	body(t, p)
	<-first.closing // the collector is stuck in first's Close
	body(t, p)      // makes second
	time.Sleep(3 * ttl)
	done := make(chan struct{})
	go func() {
		defer close(done)
		body(t, p) // finds second expired and closes it
	}()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("a request that closed an expired instance never returned")
	}
	if !second.closed.Load() {
		t.Error("the expired instance was not closed")
	}
	close(first.release)
}

// TestPoolFactoryFailsWaits: when the factory fails while instances are
// alive, a request waits for one of them instead of failing.
func TestPoolFactoryFailsWaits(t *testing.T) {
	noLeaks(t)
	hold := newHoldApp()
	var calls atomic.Int32
	var fail atomic.Bool
	p := &isolate.Pool{Max: 2, Hub: new(filter.Hub), Factory: func() (http.Handler, error) {
		calls.Add(1)
		if fail.Load() {
			return nil, errors.New("bad config")
		}
		return hold, nil
	}}
	t.Cleanup(func() { p.Close() })
	wait := fill(p, 1)
	<-hold.entered
	fail.Store(true)
	waitSecond := fill(p, 1)
	until(t, func() bool { return calls.Load() == 2 })
	close(hold.release)
	if c := append(wait(), waitSecond()...); c[0] != 200 || c[1] != 200 {
		t.Errorf("statuses %v", c)
	}

	// With no instance left to wait for, the answer is 503 at once.
	empty := &isolate.Pool{Hub: new(filter.Hub), Factory: func() (http.Handler, error) { return nil, errors.New("bad config") }}
	t.Cleanup(func() { empty.Close() })
	if code, _ := body(t, empty); code != 503 {
		t.Errorf("a pool whose factory fails answered %d", code)
	}
}
