package auth

import (
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/wsapi-go/wsapi/filter"
)

// loginRequest is the body of a JSON login.
type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
	Next     string `json:"next"`
}

// LoginHandler returns the handler of the login form's POST: an HTML form
// (application/x-www-form-urlencoded) or JSON (application/json) with the
// fields "username", "password" and, optionally, "next" (where to go
// after). It needs a session filter outside it.
//
// In order, it:
//
//   - answers 405 to anything but POST;
//   - refuses a cross-origin request with 403 (unless the filter's
//     NoCrossOriginProtection is set);
//   - reads at most MaxLoginBody bytes of body (413 past that; 415 for
//     another Content-Type; 400 for a body it cannot parse);
//   - answers 500 when no session filter runs before it;
//   - counts the attempt against the client and the user name, and
//     answers 429 with Retry-After instead when either has used up its
//     limit ("auth:limited");
//   - checks the password with the filter's Users; a failure stays counted
//     ("auth:login:failed"), and is answered 401, or, for a form when the
//     filter has a LoginPath, with a 303 back to the login page with
//     "error=invalid" and the "next" path;
//   - on success, takes the client's attempt back, clears the user name's
//     failures, and starts a new session with a new token (a token
//     planted before login is worthless after it) and no data from before
//     (see LoginKeepsData; another user's login is always dropped); it
//     stores the user name under SessionKey and the login under
//     LoginKey ("auth:login"), and sends a form to the "next" path when it
//     is a local path (LocalPath), else to AfterLogin; JSON gets 200 and
//     {"user": ..., "next": ...}.
//
// It panics when the filter has no Users and no strategy to take them from.
func (f *Filter) LoginHandler() http.Handler {
	c := f.compile()
	if c.users == nil {
		panic("auth: LoginHandler needs the filter's Users (an *auth.Htpasswd) to check passwords")
	}
	return http.HandlerFunc(c.login)
}

// LogoutHandler returns the handler of the logout POST: it destroys the
// session and revokes its login in this process for SessionLifetime, so
// that a request in flight that saves the old session does not log the
// user back in ("auth:logout"); then it sends a browser to AfterLogout
// with 303, and a client that does not prefer HTML gets 204. Anything but
// POST gets 405, a cross-origin request 403, and a request without a
// session filter before the handler 500.
func (f *Filter) LogoutHandler() http.Handler {
	return http.HandlerFunc(f.compile().logout)
}

// form is a parsed login request.
type form struct {
	user, pass, next string
	json             bool
}

func (c *config) login(w http.ResponseWriter, r *http.Request) {
	if !c.unsafeOK(w, r) {
		return
	}
	in, status, msg := c.readLogin(w, r)
	if status != 0 {
		reply(w, in.json, status, msg)
		return
	}
	sess := filter.SessionsOf(r)
	if sess == nil {
		noSessions(w, r, in.json, "login")
		return
	}
	res, err := c.reserve(r, in.user)
	if err != nil {
		var le *LimitError
		errors.As(err, &le)
		c.deny(w, r, Denial{Status: http.StatusTooManyRequests, Err: err, RetryAfter: le.RetryAfter})
		return
	}
	id, err := c.users.Verify(in.user, in.pass)
	if err != nil || id == nil {
		// The attempt stays counted.
		c.publish("auth:login:failed", r, in.user, "invalid")
		if !in.json && c.loginPath != "" {
			target := c.loginPath + sepFor(c.loginPath) + "error=invalid"
			if LocalPath(in.next) {
				target += "&next=" + url.QueryEscape(in.next)
			}
			redirect(w, target)
			return
		}
		reply(w, in.json, http.StatusUnauthorized, "invalid user name or password")
		return
	}
	c.succeeded(r, res, in.user, id.Name)
	if err := c.startSession(r, sess, id); err != nil {
		c.sessionError(w, r, in.json, err)
		return
	}
	if x := filter.From(r); x != nil {
		identityKey.Set(x, id)
		x.SetUser(id.Name)
	}
	c.publish("auth:login", r, id.Name, "")
	next := c.afterLogin
	if LocalPath(in.next) {
		next = in.next
	}
	if in.json {
		w.Header().Set("Cache-Control", "no-store")
		writeJSON(w, http.StatusOK, map[string]string{"user": id.Name, "next": next})
		return
	}
	redirect(w, next)
}

// readLogin reads the login body; a status other than 0 is an error to
// answer with msg.
func (c *config) readLogin(w http.ResponseWriter, r *http.Request) (in form, status int, msg string) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	in.json = ct == "application/json" || (ct != "application/x-www-form-urlencoded" && !prefersHTML(r.Header.Get("Accept")))
	if r.ContentLength > c.maxBody {
		return in, http.StatusRequestEntityTooLarge, "the login request is too large"
	}
	r.Body = http.MaxBytesReader(w, r.Body, c.maxBody)
	switch ct {
	case "application/x-www-form-urlencoded":
		if err := r.ParseForm(); err != nil {
			return in, bodyStatus(err), "cannot read the login form"
		}
		in.user, in.pass, in.next = r.PostForm.Get("username"), r.PostForm.Get("password"), r.PostForm.Get("next")
	case "application/json":
		var body loginRequest
		dec := json.NewDecoder(r.Body)
		if err := dec.Decode(&body); err != nil {
			return in, bodyStatus(err), "cannot read the login request: want {\"username\": ..., \"password\": ...}"
		}
		in.user, in.pass, in.next = body.Username, body.Password, body.Next
	default:
		return in, http.StatusUnsupportedMediaType, "send the login as application/x-www-form-urlencoded or application/json"
	}
	if in.user == "" || in.pass == "" || len(in.user) > 255 || !utf8.ValidString(in.user) || hasControl([]byte(in.user)) {
		return in, http.StatusBadRequest, "a user name (1 to 255 characters) and a password are required"
	}
	return in, 0, ""
}

// bodyStatus is 413 for a body over the limit, 400 otherwise.
func bodyStatus(err error) int {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusBadRequest
}

// startSession stores the login of id in the session: in a new, empty
// session (or, with LoginKeepsData, the anonymous visitor's data under a
// new token), never in one that holds another login.
func (c *config) startSession(r *http.Request, sess filter.Sessions, id *Identity) error {
	if sess.GetString(r, SessionKey) != "" || !c.keepData {
		c.endLogin(r, sess)
		if err := sess.Destroy(r); err != nil {
			return err
		}
	} else if err := sess.RenewToken(r); err != nil {
		return err
	}
	if err := sess.Put(r, SessionKey, id.Name); err != nil {
		return err
	}
	return sess.Put(r, LoginKey, newLogin(c.users, id.Name))
}

// noSessions answers a login or logout that has no session filter.
func noSessions(w http.ResponseWriter, r *http.Request, asJSON bool, what string) {
	filter.From(r).Logger().Error("auth: the " + what + " handler needs a session filter in front of it (session.New from filters/session)")
	reply(w, asJSON, http.StatusInternalServerError, what+" is not available")
}

func (c *config) logout(w http.ResponseWriter, r *http.Request) {
	if !c.unsafeOK(w, r) {
		return
	}
	html := prefersHTML(r.Header.Get("Accept"))
	sess := filter.SessionsOf(r)
	if sess == nil {
		noSessions(w, r, !html, "logout")
		return
	}
	user := sess.GetString(r, SessionKey)
	c.endLogin(r, sess)
	if err := sess.Destroy(r); err != nil {
		c.sessionError(w, r, !html, err)
		return
	}
	if user != "" {
		c.publish("auth:logout", r, user, "")
	}
	if html {
		redirect(w, c.afterLogout)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}

// unsafeOK answers 405 to anything but POST and 403 to a cross-origin
// request, and reports whether the handler may go on.
func (c *config) unsafeOK(w http.ResponseWriter, r *http.Request) bool {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "405 Method Not Allowed: POST only", http.StatusMethodNotAllowed)
		return false
	}
	if c.csrf != nil {
		if err := c.csrf.Check(r); err != nil {
			c.deny(w, r, Denial{Status: http.StatusForbidden, Err: ErrCrossOrigin})
			return false
		}
	}
	return true
}

func (c *config) sessionError(w http.ResponseWriter, r *http.Request, json bool, err error) {
	filter.From(r).Logger().Error("auth: session error", "error", err.Error())
	reply(w, json, http.StatusServiceUnavailable, "the session is not available; try again shortly")
}

// reply answers status with msg, as JSON ({"error": msg}) or plain text.
func reply(w http.ResponseWriter, asJSON bool, status int, msg string) {
	w.Header().Set("Cache-Control", "no-store")
	if asJSON {
		writeJSON(w, status, map[string]string{"error": msg})
		return
	}
	http.Error(w, http.StatusText(status)+": "+msg, status)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	b = append(b, '\n')
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// redirect sends a 303 to target, a local path checked by the caller.
func redirect(w http.ResponseWriter, target string) {
	w.Header().Set("Location", target)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusSeeOther)
}

func sepFor(path string) string {
	if strings.Contains(path, "?") {
		return "&"
	}
	return "?"
}
