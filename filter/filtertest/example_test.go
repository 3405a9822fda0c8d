package filtertest_test

import (
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/wsapi-go/wsapi/filter/filtertest"
)

func ExampleLint() {
	lint := filtertest.NewLint(nil) // or NewLint(t) to fail the test
	h := lint.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "10")
		io.WriteString(w, "abc")
	}))
	h.ServeHTTP(filtertest.NewRecorder(), filtertest.Get("/short"))
	for _, p := range lint.Problems() {
		fmt.Println(p)
	}
	// Output:
	// GET /short: Content-Length is 10 but 3 body bytes were written
}

func ExampleRecorder() {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello")
		w.(http.Flusher).Flush()
		io.WriteString(w, "bye")
	})
	rec := filtertest.NewRecorder()
	h.ServeHTTP(rec, filtertest.Get("/"))
	fmt.Println(rec)
	fmt.Println(rec.Code, rec.Body.String())
	// Output:
	// header 200, write 5, flush, write 3
	// 200 hellobye
}

func ExampleNewWriter() {
	for _, ab := range []filtertest.Abilities{0, filtertest.Flusher | filtertest.Hijacker, filtertest.AllAbilities} {
		_, w := filtertest.NewWriter(ab)
		_, canFlush := w.(http.Flusher)
		fmt.Println(filtertest.AbilitiesOf(w), canFlush)
	}
	// Output:
	// none false
	// Flusher|Hijacker true
	// Flusher|Hijacker|ReaderFrom|Pusher true
}

func ExamplePostForm() {
	r := filtertest.PostForm("/login?next=/home", url.Values{"user": {"ana"}, "pass": {"x y"}})
	r.AddCookie(&http.Cookie{Name: "csrf", Value: "t0k3n"})
	body, _ := io.ReadAll(r.Body)
	fmt.Println(r.Method, r.Host, r.URL)
	fmt.Println(r.Header.Get("Content-Type"), r.ContentLength)
	fmt.Println(string(body))
	fmt.Println(r.Header.Get("Cookie"))
	// Output:
	// POST example.com /login?next=/home
	// application/x-www-form-urlencoded 17
	// pass=x+y&user=ana
	// csrf=t0k3n
}
