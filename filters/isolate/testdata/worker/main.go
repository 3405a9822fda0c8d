// Command worker is the worker process of the isolate tests: a small app
// served through isolate.ServeWorker.
package main

import (
	"fmt"
	"log"
	"net/http"
	"os"
	"syscall"

	"github.com/wsapi-go/wsapi/filters/isolate"
)

func main() {
	if os.Getenv("WORKER_NEVER_READY") != "" {
		select {} // never serves, never says it is ready
	}
	id := os.Getenv(isolate.WorkerEnv) // ServeWorker removes it
	mux := http.NewServeMux()
	mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello %s from worker %s", r.URL.Query().Get("name"), id)
	})
	mux.HandleFunc("/env", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%q %q", os.Getenv(isolate.WorkerEnv), os.Getenv("WSAPI_ISOLATE_RLIMIT_CPU"))
	})
	mux.HandleFunc("/pid", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, os.Getpid())
	})
	mux.HandleFunc("/block", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("headers") != "" {
			w.Write([]byte("started\n"))
			w.(http.Flusher).Flush()
		}
		<-r.Context().Done()
	})
	mux.HandleFunc("/exit", func(w http.ResponseWriter, r *http.Request) { os.Exit(3) })
	mux.HandleFunc("/crash", func(w http.ResponseWriter, r *http.Request) {
		done := make(chan struct{})
		go func() { panic("worker crash") }()
		<-done
	})
	mux.HandleFunc("/limits", func(w http.ResponseWriter, r *http.Request) {
		var as, cpu syscall.Rlimit
		syscall.Getrlimit(syscall.RLIMIT_AS, &as)
		syscall.Getrlimit(syscall.RLIMIT_CPU, &cpu)
		fmt.Fprintf(w, "as=%d cpu=%d", as.Cur, cpu.Cur)
	})
	if err := isolate.ServeWorker(mux); err != nil {
		log.Fatal(err)
	}
}
