package wsgin_test

import (
	"io"
	"net/http"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/wsapi-go/wsapi/adapters/wsgin"
	"github.com/wsapi-go/wsapi/filter"
	"github.com/wsapi-go/wsapi/filter/filtertest"
	"github.com/wsapi-go/wsapi/filters/logging"
)

// exchangeFilter is the smallest filter that uses the exchange: it attaches
// it (or finds it) and registers a before-headers hook.
type exchangeFilter struct{}

func (exchangeFilter) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		x, w, r, owner := filter.Begin(w, r)
		defer owner.End()
		x.OnHeaders(setServer)
		next.ServeHTTP(w, r)
	})
}

func setServer(x *filter.Exchange) { x.Header().Set("Server", "bench") }

// BenchmarkAdapter serves one request through a filter: in net/http
// directly, in gin through the adapter, and in gin with no filter at all,
// for scale. (gin has no adapter of its own for net/http middleware.)
func BenchmarkAdapter(b *testing.B) {
	logs := logging.New(io.Discard)
	for _, f := range []struct {
		name string
		f    filter.Filter
	}{
		{"exchange", exchangeFilter{}},
		{"logging", logs},
	} {
		b.Run(f.name, func(b *testing.B) {
			app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
			handler := func(c *gin.Context) { c.String(http.StatusOK, "ok") }
			bare := gin.New()
			bare.GET("/", handler)
			adapted := gin.New()
			adapted.Use(wsgin.Middleware(f.f))
			adapted.GET("/", handler)

			for _, v := range []struct {
				name string
				h    http.Handler
			}{
				{"net-http", f.f.Wrap(app)},
				{"gin-wsgin.Middleware", adapted},
				{"gin-no-filter", bare},
			} {
				b.Run(v.name, func(b *testing.B) {
					w := &discardWriter{h: http.Header{}}
					r := filtertest.Get("/")
					b.ReportAllocs()
					for b.Loop() {
						w.reset()
						v.h.ServeHTTP(w, r)
					}
				})
			}
		})
	}
}
