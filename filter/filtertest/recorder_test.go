package filtertest_test

import (
	"io"
	"net/http"
	"testing"

	"github.com/wsapi-go/wsapi/filter/filtertest"
)

func TestRecorder(t *testing.T) {
	tests := []struct {
		name    string
		handler func(w http.ResponseWriter)
		events  string
		code    int
		body    string
		sent    http.Header // nil: none sent
	}{
		{
			name:    "an empty handler sends nothing",
			handler: func(w http.ResponseWriter) {},
		},
		{
			name: "a write without WriteHeader sends 200 first",
			handler: func(w http.ResponseWriter) {
				w.Header().Set("X-A", "1")
				io.WriteString(w, "hello")
			},
			events: "header 200, write 5", code: 200, body: "hello", sent: http.Header{"X-A": {"1"}},
		},
		{
			name: "an explicit status is kept",
			handler: func(w http.ResponseWriter) {
				w.WriteHeader(http.StatusNotFound)
				w.Write([]byte("nope"))
			},
			events: "header 404, write 4", code: 404, body: "nope", sent: http.Header{},
		},
		{
			name: "a flush between writes shows in order",
			handler: func(w http.ResponseWriter) {
				w.Write([]byte("hello"))
				w.(http.Flusher).Flush()
				w.Write([]byte("bye"))
			},
			events: "header 200, write 5, flush, write 3", code: 200, body: "hellobye", sent: http.Header{},
		},
		{
			name: "a flush first sends the headers",
			handler: func(w http.ResponseWriter) {
				w.(http.Flusher).Flush()
			},
			events: "header 200, flush", code: 200, sent: http.Header{},
		},
		{
			name: "informational statuses come before the final one",
			handler: func(w http.ResponseWriter) {
				w.Header().Set("Link", "</a.css>; rel=preload")
				w.WriteHeader(http.StatusEarlyHints)
				w.Header().Set("X-Final", "yes")
				w.WriteHeader(http.StatusCreated)
			},
			events: "header 103, header 201", code: 201,
			sent: http.Header{"Link": {"</a.css>; rel=preload"}, "X-Final": {"yes"}},
		},
		{
			name: "101 is a final status",
			handler: func(w http.ResponseWriter) {
				w.WriteHeader(http.StatusSwitchingProtocols)
			},
			events: "header 101", code: 101, sent: http.Header{},
		},
		{
			name: "a superfluous WriteHeader is ignored",
			handler: func(w http.ResponseWriter) {
				w.WriteHeader(http.StatusOK)
				w.WriteHeader(http.StatusInternalServerError)
				w.WriteHeader(http.StatusContinue)
			},
			events: "header 200", code: 200, sent: http.Header{},
		},
		{
			name: "header changes after sending are not in the sent snapshot",
			handler: func(w http.ResponseWriter) {
				w.Header().Set("X-Early", "1")
				w.WriteHeader(http.StatusOK)
				w.Header().Set("X-Late", "1")
				w.Header().Set("X-Early", "2")
			},
			events: "header 200", code: 200, sent: http.Header{"X-Early": {"1"}},
		},
		{
			name: "WriteString records a write",
			handler: func(w http.ResponseWriter) {
				io.WriteString(w, "abc")
			},
			events: "header 200, write 3", code: 200, body: "abc", sent: http.Header{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := filtertest.NewRecorder()
			tt.handler(rec)
			if got := rec.String(); got != tt.events {
				t.Errorf("events = %q, want %q", got, tt.events)
			}
			if rec.Code != tt.code {
				t.Errorf("Code = %d, want %d", rec.Code, tt.code)
			}
			if got := rec.Body.String(); got != tt.body {
				t.Errorf("Body = %q, want %q", got, tt.body)
			}
			sent := rec.SentHeader()
			if (sent == nil) != (tt.sent == nil) || len(sent) != len(tt.sent) {
				t.Fatalf("SentHeader = %v, want %v", sent, tt.sent)
			}
			for k := range tt.sent {
				if sent.Get(k) != tt.sent.Get(k) {
					t.Errorf("SentHeader[%s] = %q, want %q", k, sent.Get(k), tt.sent.Get(k))
				}
			}
		})
	}
}

func TestZeroRecorderIsReady(t *testing.T) {
	var rec filtertest.Recorder
	rec.Header().Set("X-A", "1")
	rec.Write([]byte("x"))
	if rec.Code != 200 || rec.SentHeader().Get("X-A") != "1" || rec.Body.String() != "x" {
		t.Errorf("zero Recorder: code %d, sent %v, body %q", rec.Code, rec.SentHeader(), rec.Body.String())
	}
}

func TestRecorderPanicsOnAnInvalidStatus(t *testing.T) {
	for _, code := range []int{0, 99, 1000} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("WriteHeader(%d) did not panic", code)
				}
			}()
			filtertest.NewRecorder().WriteHeader(code)
		}()
	}
}

func TestRecorderIsAFlusherOnly(t *testing.T) {
	if got := filtertest.AbilitiesOf(filtertest.NewRecorder()); got != filtertest.Flusher {
		t.Errorf("AbilitiesOf(Recorder) = %v, want Flusher", got)
	}
}
