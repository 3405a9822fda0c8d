package isolate_test

import (
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/wsapi-go/wsapi/filter/filtertest"
	"github.com/wsapi-go/wsapi/filters/isolate"
)

// A panic before the headers becomes a 500 with a short body.
func ExampleNew() {
	f := isolate.New(5*time.Second, 100) // deadline 5s, at most 100 at once
	h := f.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		panic("something broke")
	}))
	rec := filtertest.NewRecorder()
	h.ServeHTTP(rec, filtertest.Get("/"))
	fmt.Print(rec.Code, " ", rec.Body.String())
	// Output: 500 Internal Server Error
}

// A deadline that passes before the app answers: the client gets 504 at
// once, and what the app writes later is dropped.
func ExampleDeadline() {
	d := &isolate.Deadline{Timeout: 10 * time.Millisecond, Status: http.StatusGatewayTimeout}
	h := d.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
		io.WriteString(w, "too late")
	}))
	rec := filtertest.NewRecorder()
	h.ServeHTTP(rec, filtertest.Get("/"))
	fmt.Print(rec.Code, " ", rec.Body.String())
	// Output: 504 Gateway Timeout
}

// A pool of instances: each instance serves one request at a time, and is
// replaced after two.
func ExamplePool() {
	made := 0
	p := &isolate.Pool{
		Factory: func() (http.Handler, error) {
			made++
			id := made
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				fmt.Fprintf(w, "instance %d", id)
			}), nil
		},
		Max:         1,
		MaxRequests: 2,
	}
	defer p.Close()
	for range 3 {
		rec := filtertest.NewRecorder()
		p.ServeHTTP(rec, filtertest.Get("/"))
		fmt.Println(rec.Body.String())
	}
	// Output:
	// instance 1
	// instance 1
	// instance 2
}
