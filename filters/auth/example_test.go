package auth_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/wsapi-go/wsapi/filters/auth"
)

// API keys: the server keeps only the hash of each token, and a route
// requires a scope.
func Example() {
	token, hash := auth.NewToken() // give token to the client once; store hash
	keys := auth.NewBearer()
	if err := keys.Add(hash, auth.Identity{Name: "ci", Scopes: []string{"deploy"}}); err != nil {
		panic(err)
	}
	a := auth.New(keys)
	deploy := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "deploying for %s", auth.IdentityOf(r).Name)
	})
	h := a.Wrap(auth.RequireScope("deploy").Wrap(deploy))

	for _, authorization := range []string{"", "Bearer " + token} {
		r := httptest.NewRequest("POST", "/deploy", nil)
		if authorization != "" {
			r.Header.Set("Authorization", authorization)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		fmt.Println(rec.Code, rec.Header().Get("WWW-Authenticate"), rec.Body.String())
	}
	// Output:
	// 401 Bearer realm="restricted" 401 Unauthorized: authentication required
	//
	// 200  deploying for ci
}

// LocalPath decides where a browser may be sent after login.
func ExampleLocalPath() {
	for _, p := range []string{"/account?tab=keys", "//evil.example", "/%2F%2Fevil.example", `/\evil.example`} {
		fmt.Println(p, auth.LocalPath(p))
	}
	// Output:
	// /account?tab=keys true
	// //evil.example false
	// /%2F%2Fevil.example false
	// /\evil.example false
}
