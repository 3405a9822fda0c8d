package wsapi_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/wsapi-go/wsapi"
	"github.com/wsapi-go/wsapi/filter"
	"github.com/wsapi-go/wsapi/filters/mux"
)

// A FastCGI responder, here a WSAPI-style app served by a Launcher in
// FastCGI mode, hosted behind a mux by FastCGIApp: the responder sees the
// mount point as SCRIPT_NAME.
func ExampleFastCGIApp() {
	responder := filter.AppFunc(func(env *filter.Env) (int, http.Header, filter.Body) {
		return http.StatusOK, http.Header{"Content-Type": {"text/plain"}},
			filter.Text("SCRIPT_NAME=" + env.ScriptName() + " PATH_INFO=" + env.PathInfo() + "\n")
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- (&wsapi.Launcher{}).ServeFastCGI(ctx, ln, responder) }()

	app := wsapi.NewFastCGIApp("tcp", ln.Addr().String())
	defer app.Close()
	m := mux.New()
	m.Mount("/lua", app)

	w := httptest.NewRecorder()
	m.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/lua/hello", nil))
	body, _ := io.ReadAll(w.Result().Body)
	fmt.Print(w.Code, " ", string(body))

	stop()
	<-done
	// Output:
	// 200 SCRIPT_NAME=/lua PATH_INFO=/hello
}

// A Launcher serves natively on a listener until its context ends; Main
// picks native, CGI or FastCGI from the environment instead.
func ExampleLauncher_Serve() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	l := &wsapi.Launcher{}
	go func() {
		done <- l.Serve(ctx, ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintln(w, "hello from", r.URL.Path)
		}))
	}()
	res, err := http.Get("http://" + ln.Addr().String() + "/x")
	if err != nil {
		stop()
		fmt.Println(err)
		return
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	fmt.Print(strings.TrimSpace(string(body)), "\n")
	stop()
	fmt.Println("stopped:", <-done)
	// Output:
	// hello from /x
	// stopped: <nil>
}
