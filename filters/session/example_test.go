package session_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"

	"github.com/alexedwards/scs/v2/memstore"

	"github.com/wsapi-go/wsapi/filter"
	"github.com/wsapi-go/wsapi/filters/session"
)

// A visit counter in a WSAPI-style app: the session is reached through the
// request, from any framework.
func Example() {
	sessions := session.New(memstore.New())
	app := filter.AppFunc(func(env *filter.Env) (int, http.Header, filter.Body) {
		r := env.Request()
		n := session.GetInt(r, "visits") + 1
		if err := session.Put(r, "visits", n); err != nil {
			return 500, nil, filter.Text(err.Error())
		}
		return 200, http.Header{"Content-Type": {"text/plain"}}, filter.Text("visit " + strconv.Itoa(n))
	})
	h := sessions.Wrap(app)

	var cookie *http.Cookie
	for range 3 {
		r := httptest.NewRequest("GET", "/", nil)
		if cookie != nil {
			r.AddCookie(cookie)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if cs := rec.Result().Cookies(); len(cs) > 0 {
			cookie = cs[0]
		}
		body, _ := io.ReadAll(rec.Body)
		fmt.Println(string(body))
	}
	fmt.Println(cookie.Name, cookie.HttpOnly, cookie.SameSite == http.SameSiteLaxMode)
	// Output:
	// visit 1
	// visit 2
	// visit 3
	// session true true
}
