package logging_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"time"

	"github.com/rs/zerolog"

	"github.com/wsapi-go/wsapi/filters/logging"
)

func Example() {
	logs := logging.New(os.Stdout)
	logs.Now = func() time.Time { return time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC) }
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The request's logger, in any framework: it carries the request id.
		zerolog.Ctx(r.Context()).Info().Msg("hello from the app")
		io.WriteString(w, "hi")
	})

	r := httptest.NewRequest("GET", "/hello", nil)
	r.Header.Set("X-Request-ID", "req-1")
	logs.Wrap(app).ServeHTTP(httptest.NewRecorder(), r)
	// Output:
	// {"level":"info","request_id":"req-1","time":"2026-11-21T12:00:00Z","message":"hello from the app"}
	// {"level":"info","time":"2026-11-21T12:00:00Z","method":"GET","path":"/hello","status":200,"bytes":2,"duration_ms":0,"ip":"192.0.2.1","proto":"HTTP/1.1","request_id":"req-1","message":"request"}
}

// The Combined Log Format, for tools that read Apache's logs.
func Example_combined() {
	logs := logging.New(os.Stdout)
	logs.Format = logging.Combined
	logs.Now = func() time.Time { return time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC) }
	r := httptest.NewRequest("GET", "/a?b=1", nil)
	r.Header.Set("User-Agent", "curl/8")
	logs.Wrap(http.NotFoundHandler()).ServeHTTP(httptest.NewRecorder(), r)
	// Output:
	// 192.0.2.1 - - [21/Nov/2026:12:00:00 +0000] "GET /a?b=1 HTTP/1.1" 404 19 "-" "curl/8"
}
