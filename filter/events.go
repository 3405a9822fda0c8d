package filter

import (
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
)

// Event is something a filter tells whoever listens: a failed login, a
// recovered panic, a session write after the headers were sent.
type Event struct {
	// Topic is the namespaced name, such as "auth:login:failed".
	Topic string
	// Request is the request the event is about; it may be nil.
	Request *http.Request
	// Data is the event's payload; its type is documented with the topic.
	Data any
}

// Hub delivers events to subscribers, after Lusty's channels: topics are
// namespaced with colons, and an event published on "a:b:c" reaches the
// subscribers of "a:b:c", then "a:b", then "a", then "" (everything).
//
// Delivery is synchronous, on the publisher's goroutine, so a subscriber
// should be quick. A subscriber that panics is logged and skipped; the
// others still receive the event. Publishing on a topic that nobody listens
// to costs a map lookup per namespace level and allocates nothing.
//
// The zero Hub is ready to use, and the methods of a nil *Hub do nothing,
// so a filter with an unset Hub field may publish freely. A Hub must not be
// copied after first use.
type Hub struct {
	mu   sync.Mutex // serializes subscription changes
	subs atomic.Pointer[map[string][]*subscriber]

	// Logger receives subscriber panics; nil means slog.Default().
	Logger *slog.Logger
}

type subscriber struct{ fn func(Event) }

// DefaultHub is the hub filters publish on when they are given none.
var DefaultHub = new(Hub)

// Subscribe calls fn for every event published on topic or below it. The
// returned function cancels the subscription; calling it more than once is
// harmless. Subscribing to a nil *Hub does nothing.
func (h *Hub) Subscribe(topic string, fn func(Event)) (cancel func()) {
	if fn == nil {
		panic("filter: Hub.Subscribe with a nil function")
	}
	if h == nil {
		return func() {}
	}
	s := &subscriber{fn: fn}
	h.update(func(m map[string][]*subscriber) {
		m[topic] = append(m[topic][:len(m[topic]):len(m[topic])], s)
	})
	var once sync.Once
	return func() {
		once.Do(func() {
			h.update(func(m map[string][]*subscriber) {
				list := m[topic]
				kept := make([]*subscriber, 0, len(list))
				for _, t := range list {
					if t != s {
						kept = append(kept, t)
					}
				}
				if len(kept) == 0 {
					delete(m, topic)
				} else {
					m[topic] = kept
				}
			})
		})
	}
}

// update copies the subscription map, lets change edit the copy, and
// publishes it: publishers read a map that is never written again.
func (h *Hub) update(change func(map[string][]*subscriber)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	m := make(map[string][]*subscriber)
	if old := h.subs.Load(); old != nil {
		for k, v := range *old {
			m[k] = v
		}
	}
	change(m)
	h.subs.Store(&m)
}

// Enabled reports whether an event on topic would reach any subscriber, so
// a publisher can skip building an expensive payload.
func (h *Hub) Enabled(topic string) bool {
	if h == nil {
		return false
	}
	m := h.subs.Load()
	if m == nil || len(*m) == 0 {
		return false
	}
	for t := topic; ; {
		if len((*m)[t]) > 0 {
			return true
		}
		if t == "" {
			return false
		}
		t = parentTopic(t)
	}
}

// Publish delivers an event on topic about r (which may be nil) with data
// to the subscribers of topic and of each namespace above it.
//
// Converting a non-pointer value to the data interface may allocate at the
// call site; check [Hub.Enabled] first when that matters.
func (h *Hub) Publish(topic string, r *http.Request, data any) {
	if h == nil {
		return
	}
	m := h.subs.Load()
	if m == nil || len(*m) == 0 {
		return
	}
	for t := topic; ; {
		for _, s := range (*m)[t] {
			h.deliver(s, Event{Topic: topic, Request: r, Data: data})
		}
		if t == "" {
			return
		}
		t = parentTopic(t)
	}
}

// parentTopic returns "a:b" for "a:b:c", and "" for "a".
func parentTopic(t string) string {
	if i := strings.LastIndexByte(t, ':'); i >= 0 {
		return t[:i]
	}
	return ""
}

func (h *Hub) deliver(s *subscriber, ev Event) {
	defer func() {
		if p := recover(); p != nil {
			l := h.Logger
			if l == nil {
				l = slog.Default()
			}
			l.Error("filter: event subscriber panicked",
				"topic", ev.Topic, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		}
	}()
	s.fn(ev)
}
