package filter_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/wsapi-go/wsapi/filter"
)

var evSinkCount int

func BenchmarkHubPublish(b *testing.B) {
	type failed struct{ user string }
	payload := &failed{user: "mallory"}
	r := httptest.NewRequest(http.MethodPost, "/login", nil)
	const topic = "auth:login:failed"
	count := func(filter.Event) { evSinkCount++ }

	var nilHub *filter.Hub
	withOthers := new(filter.Hub)
	withOthers.Subscribe("isolate:panic", count)
	withOthers.Subscribe("session", count)
	exact := new(filter.Hub)
	exact.Subscribe(topic, count)
	parent := new(filter.Hub)
	parent.Subscribe("auth", count)
	everything := new(filter.Hub)
	everything.Subscribe("", count)

	hubs := []struct {
		name string
		h    *filter.Hub
	}{
		{"nil-hub", nilHub},
		{"no-subscribers", new(filter.Hub)},
		{"subscribers-on-other-topics", withOthers},
		{"one-on-the-exact-topic", exact},
		{"one-on-a-parent-namespace", parent},
		{"one-on-everything", everything},
	}
	for _, hub := range hubs {
		b.Run(hub.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				hub.h.Publish(topic, r, payload)
			}
		})
	}
	b.Run("Enabled/no-subscribers", func(b *testing.B) {
		h := new(filter.Hub)
		b.ReportAllocs()
		for b.Loop() {
			if h.Enabled(topic) {
				evSinkCount++
			}
		}
	})
}
