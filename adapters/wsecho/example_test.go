package wsecho_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"time"

	"github.com/go-chi/chi/v5/middleware"
	"github.com/labstack/echo/v4"

	"github.com/wsapi-go/wsapi"
	"github.com/wsapi-go/wsapi/adapters/wsecho"
	"github.com/wsapi-go/wsapi/filter"
	"github.com/wsapi-go/wsapi/filters/isolate"
	"github.com/wsapi-go/wsapi/filters/logging"
)

// A stack of filters in front of every route of an echo app. The error a
// handler returns is answered inside the filters, so the access line has
// the status the client got.
func Example() {
	logs := logging.New(os.Stdout)
	logs.Now = func() time.Time { return time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC) }

	e := echo.New()
	e.Use(wsecho.Stack(wsapi.New(logs, &isolate.Recover{})))
	e.GET("/hello", func(c echo.Context) error {
		return c.String(http.StatusOK, "hello\n")
	})
	e.GET("/teapot", func(c echo.Context) error {
		return echo.NewHTTPError(http.StatusTeapot, "short and stout")
	})

	for _, path := range []string{"/hello", "/teapot"} {
		r := httptest.NewRequest("GET", path, nil)
		r.Header.Set("X-Request-ID", "req-1")
		w := httptest.NewRecorder()
		e.ServeHTTP(w, r)
		fmt.Printf("%d %s", w.Code, w.Body)
	}
	// Output:
	// {"level":"info","time":"2026-11-21T12:00:00Z","method":"GET","path":"/hello","status":200,"bytes":6,"duration_ms":0,"ip":"192.0.2.1","proto":"HTTP/1.1","request_id":"req-1","message":"request"}
	// 200 hello
	// {"level":"warn","time":"2026-11-21T12:00:00Z","method":"GET","path":"/teapot","status":418,"bytes":30,"duration_ms":0,"ip":"192.0.2.1","proto":"HTTP/1.1","request_id":"req-1","message":"request"}
	// 418 {"message":"short and stout"}
}

// One filter on one route, as echo takes route-level middleware. Any
// func(http.Handler) http.Handler middleware becomes a filter with
// filter.Func: here chi's NoCache.
func ExampleMiddleware() {
	e := echo.New()
	noCache := wsecho.Middleware(filter.Func(middleware.NoCache))
	e.GET("/live", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) }, noCache)
	e.GET("/static", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) })

	for _, path := range []string{"/live", "/static"} {
		w := httptest.NewRecorder()
		e.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		fmt.Printf("%s %d Cache-Control: %q\n", path, w.Code, w.Header().Get("Cache-Control"))
	}
	// Output:
	// /live 204 Cache-Control: "no-cache, no-store, no-transform, must-revalidate, private, max-age=0"
	// /static 204 Cache-Control: ""
}
