package filter_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/wsapi-go/wsapi/filter"
)

// evRecorder subscribes to topics on a hub and records, in order, which
// subscription received which event.
type evRecorder struct {
	mu  sync.Mutex
	got []string // "subscribed topic <- event topic"
}

func (rec *evRecorder) on(h *filter.Hub, topic string) (cancel func()) {
	return h.Subscribe(topic, func(ev filter.Event) {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		rec.got = append(rec.got, fmt.Sprintf("%q <- %q", topic, ev.Topic))
	})
}

func (rec *evRecorder) take() []string {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	got := rec.got
	rec.got = nil
	return got
}

func TestHubNamespacedDelivery(t *testing.T) {
	h := new(filter.Hub)
	rec := new(evRecorder)
	for _, topic := range []string{"", "a", "a:b", "a:b:c", "a:b:d", "ab", "a:bc", "b", "a:b:c:d"} {
		rec.on(h, topic)
	}
	tests := []struct {
		name  string
		topic string
		want  []string
	}{
		{"an event reaches its topic and every namespace above it, most specific first",
			"a:b:c", []string{`"a:b:c" <- "a:b:c"`, `"a:b" <- "a:b:c"`, `"a" <- "a:b:c"`, `"" <- "a:b:c"`}},
		{"an event on a namespace does not reach the topics below it",
			"a:b", []string{`"a:b" <- "a:b"`, `"a" <- "a:b"`, `"" <- "a:b"`}},
		{"a topic that only shares a prefix is not a namespace",
			"ab", []string{`"ab" <- "ab"`, `"" <- "ab"`}},
		{"an event on an unknown topic reaches the known namespaces above it",
			"a:b:zzz", []string{`"a:b" <- "a:b:zzz"`, `"a" <- "a:b:zzz"`, `"" <- "a:b:zzz"`}},
		{"an event on the empty topic reaches only the subscribers of everything",
			"", []string{`"" <- ""`}},
		{"an event on an unrelated topic reaches only the subscribers of everything",
			"zzz:y", []string{`"" <- "zzz:y"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h.Publish(tc.topic, nil, nil)
			if got := rec.take(); !slices.Equal(got, tc.want) {
				t.Errorf("Publish(%q) delivered\n%s\nwant\n%s", tc.topic,
					strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestHubDeliversInSubscriptionOrderWithinATopic(t *testing.T) {
	h := new(filter.Hub)
	var got []int
	for i := range 5 {
		h.Subscribe("t", func(filter.Event) { got = append(got, i) })
	}
	h.Publish("t", nil, nil)
	if want := []int{0, 1, 2, 3, 4}; !slices.Equal(got, want) {
		t.Errorf("subscribers of one topic ran in order %v, want %v", got, want)
	}
}

func TestHubEventCarriesRequestAndData(t *testing.T) {
	h := new(filter.Hub)
	r := httptest.NewRequest(http.MethodPost, "/login", nil)
	type failed struct{ user string }
	payload := &failed{user: "mallory"}
	var got filter.Event
	h.Subscribe("auth", func(ev filter.Event) { got = ev })
	h.Publish("auth:login:failed", r, payload)
	if got.Topic != "auth:login:failed" || got.Request != r || got.Data != any(payload) {
		t.Errorf("got event %+v; want the published topic, request and data", got)
	}
}

func TestHubDeliversSynchronously(t *testing.T) {
	h := new(filter.Hub)
	var delivered bool
	h.Subscribe("sync", func(filter.Event) { delivered = true })
	h.Publish("sync", nil, nil)
	// No synchronization: under -race an asynchronous delivery would be a
	// data race, and without it the flag could still be false.
	if !delivered {
		t.Error("Publish returned before the subscriber ran")
	}
}

func TestHubCancel(t *testing.T) {
	h := new(filter.Hub)
	rec := new(evRecorder)
	cancelA := rec.on(h, "a")
	rec.on(h, "a")
	cancelAll := rec.on(h, "")

	cancelA()
	h.Publish("a", nil, nil)
	if got, want := rec.take(), []string{`"a" <- "a"`, `"" <- "a"`}; !slices.Equal(got, want) {
		t.Errorf("after cancelling one of two subscribers, got %q, want %q", got, want)
	}

	cancelA() // a second call is harmless and cancels nothing else
	cancelA()
	h.Publish("a", nil, nil)
	if got, want := rec.take(), []string{`"a" <- "a"`, `"" <- "a"`}; !slices.Equal(got, want) {
		t.Errorf("after cancelling again, got %q, want %q", got, want)
	}

	cancelAll()
	if !h.Enabled("a") {
		t.Error("Enabled(a) is false while one subscriber of a is left")
	}
	if h.Enabled("b") {
		t.Error("Enabled(b) is true after the subscriber of everything was cancelled")
	}
}

func TestHubCancelOnlyItsOwnSubscription(t *testing.T) {
	h := new(filter.Hub)
	var n atomic.Int32
	fn := func(filter.Event) { n.Add(1) }
	c1 := h.Subscribe("x", fn)
	h.Subscribe("x", fn) // the same function subscribed twice
	c1()
	c1()
	h.Publish("x", nil, nil)
	if got := n.Load(); got != 1 {
		t.Errorf("the same function subscribed twice, one cancelled: delivered %d times, want 1", got)
	}
}

func TestHubSubscribeNilPanics(t *testing.T) {
	h := new(filter.Hub)
	defer func() {
		p := recover()
		if p == nil {
			t.Fatal("Subscribe with a nil function did not panic")
		}
		if s, _ := p.(string); !strings.HasPrefix(s, "filter:") {
			t.Errorf("panic %v does not start with the package name", p)
		}
	}()
	h.Subscribe("x", nil)
}

func TestHubSubscriberPanicIsContained(t *testing.T) {
	var buf bytes.Buffer
	h := &filter.Hub{Logger: slog.New(slog.NewJSONHandler(&buf, nil))}
	rec := new(evRecorder)
	rec.on(h, "a:b")
	h.Subscribe("a:b", func(filter.Event) { panic("subscriber broke") })
	rec.on(h, "a:b")
	h.Subscribe("a", func(filter.Event) { panic(fmt.Errorf("parent broke")) })
	rec.on(h, "")

	func() {
		defer func() {
			if p := recover(); p != nil {
				t.Fatalf("Publish let a subscriber's panic through: %v", p)
			}
		}()
		h.Publish("a:b", nil, nil)
	}()

	want := []string{`"a:b" <- "a:b"`, `"a:b" <- "a:b"`, `"" <- "a:b"`}
	if got := rec.take(); !slices.Equal(got, want) {
		t.Errorf("the other subscribers got %q, want %q", got, want)
	}
	var recs []map[string]any
	for line := range strings.Lines(buf.String()) {
		var r map[string]any
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		recs = append(recs, r)
	}
	if len(recs) != 2 {
		t.Fatalf("got %d log records, want 2 (one per panic):\n%s", len(recs), buf.String())
	}
	for i, wantPanic := range []string{"subscriber broke", "parent broke"} {
		r := recs[i]
		if r["level"] != "ERROR" || r["topic"] != "a:b" || r["panic"] != wantPanic {
			t.Errorf("record %d = %v; want ERROR, topic a:b, panic %q", i, r, wantPanic)
		}
		if stack, _ := r["stack"].(string); !strings.Contains(stack, "events_test.go") {
			t.Errorf("record %d has no stack through the subscriber: %q", i, stack)
		}
	}

	// The hub still works afterwards.
	h.Publish("a:b:c", nil, nil)
	if got := rec.take(); len(got) != 3 {
		t.Errorf("after the panics, an event reached %d recording subscribers, want 3", len(got))
	}
}

func TestHubNilIsANoOp(t *testing.T) {
	var h *filter.Hub
	if h.Enabled("") || h.Enabled("a:b") {
		t.Error("a nil hub is enabled")
	}
	h.Publish("a:b", nil, nil)
	h.Publish("", httptest.NewRequest(http.MethodGet, "/", nil), 42)
	if p := mountCatch(func() { h.Publish("a", nil, nil) }); p != nil {
		t.Errorf("Publish on a nil hub panicked: %v", p)
	}
}

func TestHubNilSubscribe(t *testing.T) {
	var h *filter.Hub
	var cancel func()
	if p := mountCatch(func() { cancel = h.Subscribe("a", func(filter.Event) {}) }); p != nil {
		t.Skipf("BUG: Subscribe on a nil *Hub panics (%v); the Hub doc says the methods of a nil *Hub do nothing", p)
	}
	if cancel == nil {
		t.Fatal("Subscribe on a nil hub returned a nil cancel function")
	}
	cancel()
	cancel()
}

func TestHubZeroValueIsReady(t *testing.T) {
	var h filter.Hub
	if h.Enabled("a") {
		t.Error("a new hub is enabled")
	}
	h.Publish("a", nil, nil)
	var n int
	cancel := h.Subscribe("a", func(filter.Event) { n++ })
	h.Publish("a:x", nil, nil)
	cancel()
	h.Publish("a:x", nil, nil)
	if n != 1 {
		t.Errorf("delivered %d times, want 1", n)
	}
}

func TestHubEnabled(t *testing.T) {
	h := new(filter.Hub)
	cancel := h.Subscribe("auth:login", func(filter.Event) {})
	tests := []struct {
		topic string
		want  bool
	}{
		{"auth:login", true},
		{"auth:login:failed", true},
		{"auth:login:failed:twice", true},
		{"auth", false},
		{"auth:logout", false},
		{"auth:loginx", false},
		{"", false},
		{"isolate:panic", false},
	}
	for _, tc := range tests {
		if got := h.Enabled(tc.topic); got != tc.want {
			t.Errorf("with a subscriber of auth:login, Enabled(%q) = %v, want %v", tc.topic, got, tc.want)
		}
	}
	cancel()
	for _, tc := range tests {
		if h.Enabled(tc.topic) {
			t.Errorf("after cancel, Enabled(%q) = true", tc.topic)
		}
	}
	h.Subscribe("", func(filter.Event) {})
	for _, tc := range tests {
		if !h.Enabled(tc.topic) {
			t.Errorf("with a subscriber of everything, Enabled(%q) = false", tc.topic)
		}
	}
}

func TestHubSubscriberMaySubscribeAndCancel(t *testing.T) {
	// Delivery must not hold a lock that Subscribe or cancel takes.
	h := new(filter.Hub)
	var cancelSelf func()
	var inner int
	cancelSelf = h.Subscribe("t", func(filter.Event) {
		h.Subscribe("t:x", func(filter.Event) { inner++ })
		cancelSelf()
	})
	h.Publish("t", nil, nil)
	h.Publish("t:x", nil, nil)
	h.Publish("t", nil, nil)
	if inner != 1 {
		t.Errorf("the subscription made inside a subscriber got %d events, want 1", inner)
	}
}

func TestHubConcurrentUse(t *testing.T) {
	h := new(filter.Hub)
	var delivered atomic.Int64
	var wg sync.WaitGroup
	const workers, rounds = 8, 200
	keep := h.Subscribe("c", func(filter.Event) { delivered.Add(1) })
	defer keep()
	for w := range workers {
		wg.Add(2)
		go func() {
			defer wg.Done()
			topic := fmt.Sprintf("c:%d", w)
			for range rounds {
				cancel := h.Subscribe(topic, func(filter.Event) { delivered.Add(1) })
				h.Publish(topic, nil, nil)
				cancel()
				cancel()
			}
		}()
		go func() {
			defer wg.Done()
			for i := range rounds {
				h.Publish("c:x", nil, i)
				h.Enabled("c:x:y")
			}
		}()
	}
	wg.Wait()
	// Each worker's own subscriber saw its own events, plus the permanent
	// subscriber of "c" saw every event.
	if got, want := delivered.Load(), int64(workers*rounds*3); got != want {
		t.Errorf("delivered %d events, want %d", got, want)
	}
	if !h.Enabled("c:0") || h.Enabled("d") {
		t.Error("after the workers, Enabled does not reflect the one subscriber of c")
	}
}

func TestHubPublishWithoutSubscribersDoesNotAllocate(t *testing.T) {
	type payload struct{ n int }
	p := &payload{n: 1}
	r := httptest.NewRequest(http.MethodGet, "/", nil)

	busy := new(filter.Hub)
	busy.Subscribe("other", func(filter.Event) {})
	busy.Subscribe("auth:logout", func(filter.Event) {})
	var nilHub *filter.Hub

	hubs := []struct {
		name string
		h    *filter.Hub
	}{
		{"a new hub", new(filter.Hub)},
		{"a hub with subscribers on other topics", busy},
		{"a nil hub", nilHub},
	}
	for _, hub := range hubs {
		t.Run(hub.name, func(t *testing.T) {
			if n := testing.AllocsPerRun(100, func() {
				hub.h.Publish("auth:login:failed", nil, nil)
			}); n != 0 {
				t.Errorf("Publish with nil data allocates %v times, want 0", n)
			}
			if n := testing.AllocsPerRun(100, func() {
				hub.h.Publish("auth:login:failed", r, p)
			}); n != 0 {
				t.Errorf("Publish with a pointer payload allocates %v times, want 0", n)
			}
			if n := testing.AllocsPerRun(100, func() {
				hub.h.Enabled("auth:login:failed")
			}); n != 0 {
				t.Errorf("Enabled allocates %v times, want 0", n)
			}
		})
	}
}

func TestDefaultHubIsSet(t *testing.T) {
	if filter.DefaultHub == nil {
		t.Fatal("DefaultHub is nil")
	}
	var got filter.Event
	cancel := filter.DefaultHub.Subscribe("evtest:default", func(ev filter.Event) { got = ev })
	defer cancel()
	filter.DefaultHub.Publish("evtest:default:x", nil, "data")
	if got.Topic != "evtest:default:x" || got.Data != "data" {
		t.Errorf("DefaultHub delivered %+v", got)
	}
}
