package isolate_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/wsapi-go/wsapi/filter"
	"github.com/wsapi-go/wsapi/filter/filtertest"
)

// noLeaks checks, when the test and its cleanups are done, that it left
// no goroutine behind. Call it first, so its check runs last.
func noLeaks(t *testing.T) {
	t.Helper()
	opts := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, opts) })
}

// events records the events published on a hub under a topic.
type events struct {
	mu  sync.Mutex
	got []filter.Event
	ch  chan filter.Event
}

func listen(t *testing.T, hub *filter.Hub, topic string) *events {
	e := &events{ch: make(chan filter.Event, 100)}
	cancel := hub.Subscribe(topic, func(ev filter.Event) {
		e.mu.Lock()
		e.got = append(e.got, ev)
		e.mu.Unlock()
		select {
		case e.ch <- ev:
		default:
		}
	})
	t.Cleanup(cancel)
	return e
}

func (e *events) all() []filter.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]filter.Event(nil), e.got...)
}

// next waits for the next event; a test that gets none fails after a
// minute, as a hang would.
func (e *events) next(t *testing.T) filter.Event {
	t.Helper()
	select {
	case ev := <-e.ch:
		return ev
	case <-time.After(time.Minute):
		t.Fatal("no event")
		return filter.Event{}
	}
}

// server serves h under Lint on 127.0.0.1.
func server(t *testing.T, f filter.Filter, app http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(filtertest.Check(t, f, app))
	t.Cleanup(srv.Close)
	return srv
}

// get fetches url and returns the status and body; a cut connection is
// an error.
func get(t *testing.T, client *http.Client, url string) (int, string, error) {
	t.Helper()
	resp, err := client.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// newClient returns a client whose connections are closed when the test
// ends.
func newClient(t *testing.T) *http.Client {
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}
