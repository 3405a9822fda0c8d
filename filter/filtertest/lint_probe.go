package filtertest

import (
	"iter"
	"net/http"
	"strings"

	"github.com/wsapi-go/wsapi/filter"
)

// probe returns app behind the inner checks of [Lint.Around]: it runs where
// the filter calls the app and checks the request and writer it receives.
func (l *Lint) probe(app http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := r.Context().Value(stateKey{l}).(*lintWriter)
		if s == nil {
			l.report(r, "the app received a request whose context does not come from the request the filter was given")
		} else {
			s.appCalls.Add(1)
			if s.done.Load() {
				l.report(s.r, "the filter called the app after it returned")
			}
			if got := AbilitiesOf(w); got != s.ab {
				l.report(s.r, "the app's writer has abilities %v, the server's has %v: %s",
					got, s.ab, abilityChange(s.ab, got))
			}
		}
		for _, p := range envProblems(filter.NewEnv(r), requestPath(r)) {
			l.report(r, "%s", p)
		}
		app.ServeHTTP(w, r)
	})
}

// abilityChange describes how got differs from want.
func abilityChange(want, got Abilities) string {
	var parts []string
	if lost := want &^ got; lost != 0 {
		parts = append(parts, "lost "+lost.String())
	}
	if invented := got &^ want; invented != 0 {
		parts = append(parts, "invented "+invented.String())
	}
	return strings.Join(parts, ", ")
}

// envView is what envProblems reads of a [filter.Env].
type envView interface {
	Lookup(name string) (string, bool)
	All() iter.Seq2[string, string]
}

// envProblems returns the broken invariants of env, whose request path
// (SCRIPT_NAME + PATH_INFO) should be path.
func envProblems(env envView, path string) []string {
	var ps []string
	script, okScript := env.Lookup("SCRIPT_NAME")
	info, okInfo := env.Lookup("PATH_INFO")
	if _, ok := env.Lookup("QUERY_STRING"); !ok {
		ps = append(ps, "QUERY_STRING is missing")
	}
	switch {
	case !okScript:
		ps = append(ps, "SCRIPT_NAME is missing")
	case script == "/" || script != "" && script[0] != '/':
		ps = append(ps, `SCRIPT_NAME is "`+script+`": want "" or a path that starts with "/" and is not "/"`)
	}
	switch {
	case !okInfo:
		ps = append(ps, "PATH_INFO is missing")
	case info != "" && info[0] != '/':
		ps = append(ps, `PATH_INFO is "`+info+`": want "" or a path that starts with "/"`)
	}
	if okScript && okInfo && script+info != path {
		ps = append(ps, `SCRIPT_NAME "`+script+`" + PATH_INFO "`+info+`" is not the request path "`+path+`"`)
	}
	for _, name := range [...]string{"HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"} {
		seen := false
		if _, ok := env.Lookup(name); ok {
			seen = true
		}
		for k := range env.All() {
			if k == name {
				seen = true
			}
		}
		if seen {
			ps = append(ps, name+" is set: want "+strings.TrimPrefix(name, "HTTP_")+" only")
		}
	}
	return ps
}

// requestPath is the path SCRIPT_NAME and PATH_INFO add up to: r.URL.Path,
// with "/" put in front when it is not empty and lacks one.
func requestPath(r *http.Request) string {
	if r.URL == nil {
		return ""
	}
	p := r.URL.Path
	if p != "" && p[0] != '/' {
		p = "/" + p
	}
	return p
}
