package filtertest

import (
	"iter"
	"maps"
	"slices"
	"strings"
	"testing"
)

// fakeEnv is a CGI environment that can break the invariants filter.Env
// keeps.
type fakeEnv map[string]string

func (e fakeEnv) Lookup(name string) (string, bool) { v, ok := e[name]; return v, ok }

func (e fakeEnv) All() iter.Seq2[string, string] {
	return func(yield func(string, string) bool) {
		for _, k := range slices.Sorted(maps.Keys(e)) {
			if !yield(k, e[k]) {
				return
			}
		}
	}
}

func TestEnvProblems(t *testing.T) {
	good := func(change func(fakeEnv)) fakeEnv {
		e := fakeEnv{"SCRIPT_NAME": "/api", "PATH_INFO": "/users", "QUERY_STRING": "", "CONTENT_TYPE": "text/plain"}
		change(e)
		return e
	}
	tests := []struct {
		name string
		env  fakeEnv
		path string
		want []string
	}{
		{"a mounted request keeps the invariants", good(func(fakeEnv) {}), "/api/users", nil},
		{"the root keeps them with an empty SCRIPT_NAME",
			good(func(e fakeEnv) { e["SCRIPT_NAME"], e["PATH_INFO"] = "", "/" }), "/", nil},
		{"an empty path keeps them", good(func(e fakeEnv) { e["SCRIPT_NAME"], e["PATH_INFO"] = "", "" }), "", nil},
		{"SCRIPT_NAME may not be /",
			good(func(e fakeEnv) { e["SCRIPT_NAME"], e["PATH_INFO"] = "/", "api/users" }), "/api/users",
			[]string{`SCRIPT_NAME is "/"`, `PATH_INFO is "api/users"`}},
		{"SCRIPT_NAME must start with /",
			good(func(e fakeEnv) { e["SCRIPT_NAME"] = "api" }), "api/users", []string{`SCRIPT_NAME is "api"`}},
		{"SCRIPT_NAME and PATH_INFO must add up to the path",
			good(func(e fakeEnv) { e["PATH_INFO"] = "/other" }), "/api/users",
			[]string{`SCRIPT_NAME "/api" + PATH_INFO "/other" is not the request path "/api/users"`}},
		{"missing variables are problems",
			fakeEnv{}, "/", []string{"QUERY_STRING is missing", "SCRIPT_NAME is missing", "PATH_INFO is missing"}},
		{"content headers may not appear as HTTP_*",
			good(func(e fakeEnv) { e["HTTP_CONTENT_TYPE"], e["HTTP_CONTENT_LENGTH"] = "text/plain", "3" }), "/api/users",
			[]string{"HTTP_CONTENT_TYPE is set: want CONTENT_TYPE only", "HTTP_CONTENT_LENGTH is set: want CONTENT_LENGTH only"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := envProblems(tt.env, tt.path)
			ok := len(got) == len(tt.want)
			for i := 0; ok && i < len(got); i++ {
				ok = strings.Contains(got[i], tt.want[i])
			}
			if !ok {
				t.Errorf("problems = %q, want %q", got, tt.want)
			}
		})
	}
}
