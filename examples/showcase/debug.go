package main

import (
	"expvar"
	"net/http"
	"net/http/pprof"
	"runtime"
	"sync"
)

var publishOnce sync.Once

// publishVars adds "goroutines" and "open_fds" to expvar's /debug/vars,
// once per process.
func publishVars() {
	publishOnce.Do(func() {
		expvar.Publish("goroutines", expvar.Func(func() any { return runtime.NumGoroutine() }))
		expvar.Publish("open_fds", expvar.Func(func() any { return openFDs() }))
	})
}

// debugHandler serves net/http/pprof under /debug/pprof/ and expvar at
// /debug/vars. It goes on its own listener (-debug-addr), never on the
// public one: profiles and variables tell an attacker too much.
func debugHandler() http.Handler {
	publishVars()
	m := http.NewServeMux()
	m.HandleFunc("/debug/pprof/", pprof.Index)
	m.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	m.HandleFunc("/debug/pprof/profile", pprof.Profile)
	m.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	m.HandleFunc("/debug/pprof/trace", pprof.Trace)
	m.Handle("/debug/vars", expvar.Handler())
	m.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(`<!doctype html><title>showcase debug</title><p><a href="/debug/pprof/">pprof</a> · <a href="/debug/vars">expvar</a></p>`))
	})
	return m
}
