package wsgin_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/wsapi-go/wsapi"
	"github.com/wsapi-go/wsapi/adapters/wsgin"
	"github.com/wsapi-go/wsapi/filter"
	"github.com/wsapi-go/wsapi/filters/isolate"
	"github.com/wsapi-go/wsapi/filters/logging"
)

// A stack of filters in front of every route of a gin app. A status set
// without a body (c.Status) goes out through the filters, so the access
// line has the status the client got.
func Example() {
	defer gin.SetMode(gin.Mode()) // put the mode back after the example
	gin.SetMode(gin.ReleaseMode)  // no debug lines on standard output
	logs := logging.New(os.Stdout)
	logs.Now = func() time.Time { return time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC) }

	r := gin.New()
	r.Use(wsgin.Stack(wsapi.New(logs, &isolate.Recover{})))
	r.GET("/hello", func(c *gin.Context) {
		c.String(http.StatusOK, "hello\n")
	})
	r.DELETE("/items/:id", func(c *gin.Context) {
		c.Status(http.StatusNoContent)
	})

	for _, req := range []struct{ method, path string }{{"GET", "/hello"}, {"DELETE", "/items/7"}} {
		r2 := httptest.NewRequest(req.method, req.path, nil)
		r2.Header.Set("X-Request-ID", "req-1")
		w := httptest.NewRecorder()
		r.ServeHTTP(w, r2)
		fmt.Printf("%d %q\n", w.Code, w.Body)
	}
	// Output:
	// {"level":"info","time":"2026-11-21T12:00:00Z","method":"GET","path":"/hello","status":200,"bytes":6,"duration_ms":0,"ip":"192.0.2.1","proto":"HTTP/1.1","request_id":"req-1","message":"request"}
	// 200 "hello\n"
	// {"level":"info","time":"2026-11-21T12:00:00Z","method":"DELETE","path":"/items/7","status":204,"bytes":0,"duration_ms":0,"ip":"192.0.2.1","proto":"HTTP/1.1","request_id":"req-1","message":"request"}
	// 204 ""
}

// One filter on one route, as gin takes per-route handlers. Any
// func(http.Handler) http.Handler middleware becomes a filter with
// filter.Func: here chi's NoCache.
func ExampleMiddleware() {
	defer gin.SetMode(gin.Mode()) // put the mode back after the example
	gin.SetMode(gin.ReleaseMode)  // no debug lines on standard output
	r := gin.New()
	noCache := wsgin.Middleware(filter.Func(middleware.NoCache))
	r.GET("/live", noCache, func(c *gin.Context) { c.Status(http.StatusNoContent) })
	r.GET("/static", func(c *gin.Context) { c.Status(http.StatusNoContent) })

	for _, path := range []string{"/live", "/static"} {
		w := httptest.NewRecorder()
		r.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		fmt.Printf("%s %d Cache-Control: %q\n", path, w.Code, w.Header().Get("Cache-Control"))
	}
	// Output:
	// /live 204 Cache-Control: "no-cache, no-store, no-transform, must-revalidate, private, max-age=0"
	// /static 204 Cache-Control: ""
}
