package filter_test

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/wsapi-go/wsapi/filter"
	"github.com/wsapi-go/wsapi/filter/filtertest"
)

// notFoundDropped drops 404s, and lets everything else through.
func notFoundDropped(code int, h http.Header) bool { return code != http.StatusNotFound }

func TestGatePasses(t *testing.T) {
	rec, w := filtertest.NewWriter(filtertest.Flusher)
	w.Header().Set("X-Outer", "1")
	g := filter.NewGate(w, notFoundDropped)
	aw := g.Writer()
	if aw.Header().Get("X-Outer") != "1" {
		t.Error("the app does not see the headers set before it")
	}
	aw.Header().Del("X-Outer")
	aw.Header().Set("X-App", "2")
	if rec.Header().Get("X-App") != "" {
		t.Error("the app's headers went out before its status")
	}
	aw.WriteHeader(http.StatusCreated)
	_, _ = io.WriteString(aw, "made")
	aw.(http.Flusher).Flush()
	if !g.Finish() || !g.Passed() {
		t.Error("a 201 did not pass")
	}
	if g.Drop() {
		t.Error("Drop after the headers went through")
	}
	sent := rec.SentHeader()
	if rec.Code != http.StatusCreated || sent.Get("X-App") != "2" || sent.Get("X-Outer") != "" || rec.Body.String() != "made" {
		t.Errorf("sent %d %v %q", rec.Code, sent, rec.Body.String())
	}
	if got := rec.String(); got != "header 201, write 4, flush" {
		t.Errorf("events %q", got)
	}
}

func TestGateDrops(t *testing.T) {
	rec, w := filtertest.NewWriter(filtertest.Flusher | filtertest.ReaderFrom | filtertest.Hijacker)
	g := filter.NewGate(w, notFoundDropped)
	aw := g.Writer()
	aw.Header().Set("X-App", "1")
	aw.WriteHeader(http.StatusNotFound)
	if n, err := aw.Write([]byte("gone")); n != 4 || err != nil {
		t.Errorf("a dropped write: %d %v", n, err)
	}
	if n, err := aw.(io.ReaderFrom).ReadFrom(strings.NewReader("more")); n != 4 || err != nil {
		t.Errorf("a dropped ReadFrom: %d %v", n, err)
	}
	aw.(http.Flusher).Flush()
	if _, _, err := aw.(http.Hijacker).Hijack(); !errors.Is(err, filter.ErrDropped) {
		t.Errorf("Hijack after a drop: %v", err)
	}
	if g.Finish() || g.Passed() {
		t.Error("a 404 passed")
	}
	if len(rec.Events) != 0 || rec.Header().Get("X-App") != "" {
		t.Errorf("a dropped response reached the writer: %q %v", rec.String(), rec.Header())
	}
	// The caller answers instead.
	http.Error(w, "instead", http.StatusTeapot)
	if rec.Code != http.StatusTeapot {
		t.Errorf("the caller's answer: %d", rec.Code)
	}
}

func TestGateFinishAndInformational(t *testing.T) {
	rec := filtertest.NewRecorder()
	g := filter.NewGate(rec, nil)
	aw := g.Writer()
	aw.Header().Set("Link", "</a.css>; rel=preload")
	aw.WriteHeader(http.StatusEarlyHints)
	if !g.Finish() {
		t.Error("an empty response did not pass")
	}
	if got := rec.String(); got != "header 103, header 200" {
		t.Errorf("events %q", got)
	}
}

func TestGateDropFromOutside(t *testing.T) {
	rec := filtertest.NewRecorder()
	g := filter.NewGate(rec, nil)
	if !g.Drop() {
		t.Error("Drop of an open gate")
	}
	if !g.Drop() {
		t.Error("a second Drop")
	}
	g.Writer().WriteHeader(http.StatusOK)
	_, _ = io.WriteString(g.Writer(), "late")
	if len(rec.Events) != 0 || g.Finish() {
		t.Errorf("a late app reached the writer: %q", rec.String())
	}
}

func TestGateConcurrentDrop(t *testing.T) {
	for i := 0; i < 50; i++ {
		rec := filtertest.NewRecorder()
		g := filter.NewGate(rec, nil)
		var wg sync.WaitGroup
		wg.Add(1)
		var dropped bool
		go func() {
			defer wg.Done()
			dropped = g.Drop()
		}()
		for j := 0; j < 10; j++ {
			_, _ = io.WriteString(g.Writer(), "x")
		}
		wg.Wait()
		passed := g.Finish()
		if dropped == passed {
			t.Fatalf("dropped %v and passed %v", dropped, passed)
		}
		if dropped && len(rec.Events) != 0 || passed && rec.Body.Len() != 10 {
			t.Fatalf("dropped %v, events %q", dropped, rec.String())
		}
	}
}

func TestGateAbilities(t *testing.T) {
	for ab := filtertest.Abilities(0); ab < 16; ab++ {
		_, w := filtertest.NewWriter(ab)
		g := filter.NewGate(w, nil)
		if got := filtertest.AbilitiesOf(g.Writer()); got != ab {
			t.Errorf("a gate over %v has %v", ab, got)
		}
		if http.NewResponseController(g.Writer()) == nil {
			t.Error("no controller")
		}
	}
}

func TestPathInfo(t *testing.T) {
	r := filtertest.Get("/api/users/7")
	r.Pattern = "/api/{rest...}"
	if got := filter.PathInfo(r); got != "/users/7" {
		t.Errorf("PathInfo = %q", got)
	}
	if got := filter.PathInfo(filtertest.Get("/x")); got != "/x" {
		t.Errorf("PathInfo without a mount = %q", got)
	}
}

func TestGateInformationalThenDrop(t *testing.T) {
	rec := filtertest.NewRecorder()
	rec.Header().Set("X-Outer", "1")
	g := filter.NewGate(rec, notFoundDropped)
	aw := g.Writer()
	aw.Header().Set("Set-Cookie", "app=secret")
	aw.Header().Set("Link", "</a.css>; rel=preload")
	aw.WriteHeader(http.StatusEarlyHints)
	aw.WriteHeader(http.StatusNotFound)
	if g.Finish() {
		t.Fatal("a 404 passed")
	}
	// The caller answers; the app's headers, sent with the 103, are not
	// part of it, and the caller's own are intact.
	h := rec.Header()
	if h.Get("Set-Cookie") != "" || h.Get("Link") != "" || h.Get("X-Outer") != "1" {
		t.Errorf("after a 103 and a drop, the writer's headers are %v", h)
	}
}

func TestGateTrailers(t *testing.T) {
	rec := filtertest.NewRecorder()
	g := filter.NewGate(rec, nil)
	aw := g.Writer()
	h := aw.Header()
	h.Set("Trailer", "X-Sum")
	_, _ = io.WriteString(aw, "body")
	h.Set("X-Sum", "42")
	h.Set(http.TrailerPrefix+"X-Late", "yes")
	g.Finish()
	if got := rec.Header().Get("X-Sum"); got != "42" {
		t.Errorf("declared trailer: %q", got)
	}
	if got := rec.Header().Get(http.TrailerPrefix + "X-Late"); got != "yes" {
		t.Errorf("prefixed trailer: %q", got)
	}
}

func TestGateFlushUnsupported(t *testing.T) {
	rec, w := filtertest.NewWriter(0)
	g := filter.NewGate(w, notFoundDropped)
	aw := g.Writer()
	if err := http.NewResponseController(aw).Flush(); !errors.Is(err, http.ErrNotSupported) {
		t.Errorf("Flush over a writer that cannot: %v", err)
	}
	aw.WriteHeader(http.StatusNotFound) // still undecided: the 404 is dropped
	if g.Finish() || len(rec.Events) != 0 {
		t.Errorf("a failed flush decided the response: %q", rec.String())
	}
}

func TestGateWriterHidesControls(t *testing.T) {
	g := filter.NewGate(filtertest.NewRecorder(), nil)
	if _, ok := g.Writer().(interface{ Drop() bool }); ok {
		t.Error("the app's writer can Drop its own gate")
	}
	if _, ok := g.Writer().(interface{ Finish() bool }); ok {
		t.Error("the app's writer can Finish its own gate")
	}
}

// blockingWriter blocks in Write until release is closed.
type blockingWriter struct {
	*filtertest.Recorder
	entered, release chan struct{}
}

func (b *blockingWriter) Write(p []byte) (int, error) {
	close(b.entered)
	<-b.release
	return b.Recorder.Write(p)
}

func TestGateDropDuringSlowWrite(t *testing.T) {
	bw := &blockingWriter{filtertest.NewRecorder(), make(chan struct{}), make(chan struct{})}
	g := filter.NewGate(bw, nil)
	go func() { _, _ = g.Writer().Write([]byte("slow")) }()
	<-bw.entered
	// The write is blocked in the writer; Drop must not wait for it.
	done := make(chan bool)
	go func() { done <- g.Drop() }()
	if dropped := <-done; dropped {
		t.Error("Drop after the headers went through")
	}
	close(bw.release)
}

func TestCheckpoint(t *testing.T) {
	key := filter.NewKey[string]("test.checkpoint")
	var ran []string
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		x := filter.From(r)
		x.SetUser("outer")
		x.OnHeaders(func(*filter.Exchange) { ran = append(ran, "outer") })
		cp := x.Checkpoint()
		x.SetUser("attempt")
		x.SetSessionID("s1")
		key.Set(x, "attempt")
		x.OnHeaders(func(*filter.Exchange) { ran = append(ran, "attempt") })
		x.OnFinish(func(*filter.Exchange) { ran = append(ran, "attempt-finish") })
		x.Rollback(cp)
		if x.User() != "outer" || x.SessionID() != "" {
			t.Errorf("after Rollback: user %q session %q", x.User(), x.SessionID())
		}
		if _, ok := key.Get(x); ok {
			t.Error("a value set in the attempt survived Rollback")
		}
		w.WriteHeader(http.StatusOK)
	})
	lint(t, mountBeginHandler(h)).ServeHTTP(filtertest.NewRecorder(), filtertest.Get("/"))
	if got := strings.Join(ran, " "); got != "outer attempt-finish" {
		t.Errorf("hooks that ran: %q", got)
	}
}

// mountBeginHandler attaches the exchange and calls h.
func mountBeginHandler(h http.Handler) http.Handler { return mountBegin(h) }

func TestGateHijacked(t *testing.T) {
	_, w := filtertest.NewWriter(filtertest.Hijacker)
	g := filter.NewGate(w, nil)
	if g.Hijacked() {
		t.Fatal("hijacked before Hijack")
	}
	if _, _, err := g.Writer().(http.Hijacker).Hijack(); err != nil {
		t.Fatal(err)
	}
	if !g.Hijacked() || !g.Passed() || g.Drop() {
		t.Errorf("after Hijack: hijacked %v, passed %v", g.Hijacked(), g.Passed())
	}

	// A response that passed with a status was not hijacked.
	_, w = filtertest.NewWriter(0)
	g = filter.NewGate(w, nil)
	g.Writer().WriteHeader(http.StatusOK)
	if g.Hijacked() || !g.Passed() {
		t.Errorf("after WriteHeader: hijacked %v, passed %v", g.Hijacked(), g.Passed())
	}
}
