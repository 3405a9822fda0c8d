package main

import (
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/alexedwards/scs/v2"

	"github.com/wsapi-go/wsapi"
	"github.com/wsapi-go/wsapi/filters/auth"
	"github.com/wsapi-go/wsapi/filters/isolate"
	"github.com/wsapi-go/wsapi/filters/logging"
	"github.com/wsapi-go/wsapi/filters/session"
	"github.com/wsapi-go/wsapi/filters/upload"
)

// Filters are the filter values every router of the example shares: one
// logging filter, one recoverer, one session filter, one auth filter and
// one upload filter, built once and used by net/http's ServeMux, chi, echo
// and gin alike.
type Filters struct {
	Logs     *logging.Filter
	Recover  *isolate.Recover
	Sessions *session.Filter
	Auth     *auth.Filter
	Upload   *upload.Filter
}

// Config is what NewFilters needs.
type Config struct {
	// AccessLog is where the logging filter writes its JSON lines.
	AccessLog io.Writer
	// Store keeps the sessions.
	Store scs.Store
	// Users are the users who may log in.
	Users *auth.Htpasswd
	// UploadDir is where uploads in progress are written; "" means
	// os.TempDir().
	UploadDir string
	// MaxFileBytes is the largest file an upload may carry; 0 means the
	// upload filter's default.
	MaxFileBytes int64
}

// NewFilters builds the filters from c.
func NewFilters(c Config) *Filters {
	f := &Filters{
		Logs:     logging.New(c.AccessLog),
		Recover:  &isolate.Recover{},
		Sessions: session.New(c.Store),
		Auth:     auth.New(auth.NewSession(c.Users)),
		Upload:   upload.New(),
	}
	// One session for the whole site, whatever the router says about
	// mount points.
	f.Sessions.CookiePath = "/"
	f.Auth.Users = c.Users
	f.Upload.Sink = upload.DirSink{Dir: c.UploadDir}
	f.Upload.MaxFileBytes = c.MaxFileBytes
	return f
}

// Stack is the filters in the order every router runs them: logging
// outermost, so that its access line sees the final status; the recoverer
// inside it, so that a panic is logged as the 500 the client gets; the
// session before auth, whose login lives in the session.
func (f *Filters) Stack() wsapi.Stack {
	return wsapi.New(f.Logs, f.Recover, f.Sessions, f.Auth, f.Upload)
}

// The answers of the routes, the same under every router. The routers'
// files hold only the glue each framework asks for.

const index = `GET  /count    a visit counter in the session
POST /login    username, password (the auth filter's login handler)
POST /logout
GET  /me       who is logged in (401 for anonymous clients)
POST /upload   a multipart form with a "file"
GET  /stream   three lines, each flushed
GET  /teapot   an error answered by the framework's own means
GET  /panic    a panic, recovered by the isolate filter
`

const teapot = "I'm a teapot"

// countVisit adds one to the session's counter and returns the answer.
func countVisit(r *http.Request) (string, error) {
	n := session.GetInt(r, "count") + 1
	if err := session.Put(r, "count", n); err != nil {
		return "", err
	}
	return "count=" + strconv.Itoa(n) + "\n", nil
}

// whoAmI is the answer of /me, behind auth.Require().
func whoAmI(r *http.Request) string {
	return "user=" + auth.IdentityOf(r).Name + "\n"
}

// handleUpload answers the upload form with a description of its file, or
// with the form's error (400, 413 or 415, naming the limit). It is a plain
// net/http handler: every framework can call one.
func handleUpload(w http.ResponseWriter, r *http.Request) {
	form, err := upload.Parse(r)
	if err != nil {
		upload.WriteError(w, err)
		return
	}
	f := form.File("file")
	if f == nil {
		http.Error(w, "no file in the form", http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintf(w, "name=%s size=%d type=%s sha256=%s\n", f.Name, f.Size, f.Sniffed, f.SHA256Hex())
}

// streamLines writes three lines, flushing each.
func streamLines(w http.ResponseWriter) {
	rc := http.NewResponseController(w)
	for i := 1; i <= 3; i++ {
		io.WriteString(w, "line "+strconv.Itoa(i)+"\n")
		if err := rc.Flush(); err != nil {
			return
		}
	}
}
