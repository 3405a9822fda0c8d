// Command servers is the Go side of bench/servers.sh: it serves a small
// handler natively through wsapi's launcher or a bare http.Server, or
// hosts a FastCGI responder with wsapi.FastCGIApp.
//
//	servers -mode launcher -addr 127.0.0.1:8081
//	servers -mode bare -addr 127.0.0.1:8082
//	servers -mode fcgi-host -addr 127.0.0.1:8083 -responder 127.0.0.1:9000
package main

import (
	"context"
	"flag"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/wsapi-go/wsapi"
)

var hello = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(w, "Hello Wsapi!\n")
})

func main() {
	mode := flag.String("mode", "launcher", "launcher, bare or fcgi-host")
	addr := flag.String("addr", "127.0.0.1:8081", "`address` to listen on")
	responder := flag.String("responder", "", "the FastCGI responder's `address` (fcgi-host): host:port or a unix socket's path")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	l := &wsapi.Launcher{Logger: slog.New(slog.DiscardHandler)}
	switch *mode {
	case "launcher":
		err = l.Serve(ctx, ln, hello)
	case "bare":
		srv := &http.Server{Handler: hello, ReadHeaderTimeout: 10 * time.Second}
		go func() { <-ctx.Done(); _ = srv.Close() }()
		if err = srv.Serve(ln); err == http.ErrServerClosed {
			err = nil
		}
	case "fcgi-host":
		network := "tcp"
		if len(*responder) > 0 && (*responder)[0] == '/' {
			network = "unix"
		}
		app := wsapi.NewFastCGIApp(network, *responder)
		app.MaxIdle = 256
		defer app.Close()
		err = l.Serve(ctx, ln, app)
	default:
		log.Fatalf("unknown mode %q", *mode)
	}
	if err != nil {
		log.Fatal(err)
	}
}
