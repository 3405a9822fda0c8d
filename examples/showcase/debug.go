package main

import (
	"encoding/json"
	"expvar"
	"net"
	"net/http"
	"net/http/pprof"
	"runtime"
	"strings"
	"sync"
)

var publishOnce sync.Once

// publishVars adds "goroutines" and "open_fds" to expvar's variables, once
// per process.
func publishVars() {
	publishOnce.Do(func() {
		expvar.Publish("goroutines", expvar.Func(func() any { return runtime.NumGoroutine() }))
		expvar.Publish("open_fds", expvar.Func(func() any { return openFDs() }))
	})
}

// hiddenVars are the expvar variables /debug/vars leaves out: "cmdline"
// is the command line, which holds -password and -token when they are
// given as flags.
var hiddenVars = map[string]bool{"cmdline": true}

// debugVars serves expvar's variables as expvar.Handler does, but for
// hiddenVars.
func debugVars(w http.ResponseWriter, r *http.Request) {
	vars := map[string]json.RawMessage{}
	expvar.Do(func(kv expvar.KeyValue) {
		if !hiddenVars[kv.Key] {
			vars[kv.Key] = json.RawMessage(kv.Value.String())
		}
	})
	b, err := json.MarshalIndent(vars, "", "  ")
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(append(b, '\n'))
}

// debugHandler serves net/http/pprof under /debug/pprof/ and expvar at
// /debug/vars. It goes on its own listener (-debug-addr), never on the
// public one: profiles and variables tell an attacker too much. It serves
// neither command line (pprof's cmdline, expvar's "cmdline"): it may hold
// the password and the token. Unless remote is set (-debug-remote), it
// answers only requests whose Host is a loopback address or localhost, so
// that a web page cannot reach it by DNS rebinding.
func debugHandler(remote bool) http.Handler {
	publishVars()
	m := http.NewServeMux()
	m.HandleFunc("/debug/pprof/", pprof.Index)
	m.HandleFunc("/debug/pprof/profile", pprof.Profile)
	m.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	m.HandleFunc("/debug/pprof/trace", pprof.Trace)
	m.HandleFunc("/debug/pprof/cmdline", http.NotFound)
	m.HandleFunc("/debug/vars", debugVars)
	m.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(`<!doctype html><title>showcase debug</title><p><a href="/debug/pprof/">pprof</a> · <a href="/debug/vars">expvar</a></p>`))
	})
	if remote {
		return m
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
		ip := net.ParseIP(host)
		if host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			http.Error(w, "403 Forbidden: the debug listener answers requests to a loopback address only", http.StatusForbidden)
			return
		}
		m.ServeHTTP(w, r)
	})
}
