// Command sessionload serves a read-modify-write session counter on a
// session store named by a URL, for bench/session-load.sh to put under
// load:
//
//	go run ./bench/sessionload -store redis://127.0.0.1:6379/0 -addr 127.0.0.1:8081
package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"log"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/wsapi-go/wsapi/filters/session"
)

func main() {
	storeURL := flag.String("store", "memory:", "the session store, as session.OpenStore takes it")
	addr := flag.String("addr", "127.0.0.1:8081", "the address to listen on")
	flag.Parse()

	store, err := session.OpenStore(*storeURL)
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	sessions := session.New(store)

	counter := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := session.GetInt(r, "n") + 1
		if err := session.Put(r, "n", n); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		io.WriteString(w, strconv.Itoa(n))
	})
	srv := &http.Server{Addr: *addr, Handler: sessions.Wrap(counter), ReadHeaderTimeout: 5 * time.Second}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shutdown)
	}()
	log.Printf("sessionload: %s store, listening on %s", store.Kind, *addr)
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}
