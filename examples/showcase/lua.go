package main

import (
	_ "embed"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/wsapi-go/wsapi"
)

// luaScript is a small WSAPI application in Lua. The server writes it to
// DATA/lua/showcase.lua at start and runs it for each request to /lua/
// through Debian's wsapi.cgi (package lua-wsapi): the original Lua WSAPI,
// hosted behind the Go filter stack as a CGI program.
//
//go:embed lua/showcase.lua
var luaScript []byte

// luaApp returns the app mounted at /lua: the Lua WSAPI app through
// wsapi.CGIApp when wsapi.cgi is there, otherwise a page that says
// lua-wsapi is not installed.
func (s *server) luaApp() (http.Handler, error) {
	if s.cfg.Lua == "" {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s.fail(w, r, http.StatusNotFound, "lua-wsapi is not installed, so the Lua WSAPI app is not served here. "+
				"On Debian or Ubuntu: apt-get install lua-wsapi, then start the showcase again (or point -lua at wsapi.cgi).")
		}), nil
	}
	dir := filepath.Join(s.cfg.Data, "lua")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	script := filepath.Join(dir, "showcase.lua")
	if err := writeFileAtomic(script, luaScript, 0o600); err != nil {
		return nil, err
	}
	// The program sees SCRIPT_NAME /lua, and the logged-in user (the
	// exchange's) as REMOTE_USER.
	app := wsapi.NewCGIApp(s.cfg.Lua, script)
	app.InheritEnv = []string{"LUA_PATH", "LUA_CPATH", "LUA_INIT"}
	return app, nil
}

// luaHeaders gives the Lua app's pages the site's content security policy
// (its own style sheet, no script at all), set before the app runs.
func luaHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", luaCSP)
		next.ServeHTTP(w, r)
	})
}

// luaCSP is the policy of the Lua app's pages: they may use this site's
// style sheet and post forms to it, and nothing else.
var luaCSP = strings.Join([]string{"default-src 'none'", "style-src 'self'", "img-src 'self'",
	"form-action 'self'", "base-uri 'none'", "frame-ancestors 'none'"}, "; ")
