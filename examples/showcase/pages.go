package main

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/wsapi-go/wsapi/filter"
	"github.com/wsapi-go/wsapi/filters/auth"
	"github.com/wsapi-go/wsapi/filters/session"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// view is what every page template gets: the layout's fields, and the
// page's own in Page.
type view struct {
	Title   string
	User    string // "" when anonymous
	Admin   bool
	Flashes []flash
	Page    any
}

// flash is a message shown once, on the next page (kept in the session).
type flash struct {
	Kind string // "ok" or "error"
	Text string
}

// pages holds the parsed templates: one set per page, each with the
// layout.
type pages struct {
	sets map[string]*template.Template
	base *template.Template // the layout alone: "head" and "foot"
}

var templateFuncs = template.FuncMap{
	"size": formatSize,
	"when": func(t time.Time) string { return t.Local().Format("2006-01-02 15:04") },
	"iso":  func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
}

// loadPages parses the layout and each page of the embedded templates.
func loadPages() (*pages, error) {
	base, err := template.New("layout.html").Funcs(templateFuncs).ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return nil, err
	}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	p := &pages{sets: map[string]*template.Template{}, base: base}
	for _, n := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if name == "layout" {
			continue
		}
		set, err := template.Must(base.Clone()).ParseFS(templateFS, n)
		if err != nil {
			return nil, err
		}
		p.sets[name] = set
	}
	return p, nil
}

// execute renders page (its "page" template, in the layout) into a buffer.
func (p *pages) execute(page string, v view) ([]byte, error) {
	var b bytes.Buffer
	set := p.sets[page]
	if set == nil {
		return nil, &template.Error{Description: "no page " + strconv.Quote(page)}
	}
	if err := set.ExecuteTemplate(&b, "page", v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// part renders one template of the layout ("head" or "foot"), for a
// page that streams its body.
func (p *pages) part(name string, v view) string {
	var b strings.Builder
	if err := p.base.ExecuteTemplate(&b, name, v); err != nil {
		return ""
	}
	return b.String()
}

// pageHeaders are the headers of every HTML page: no caching (the pages
// show a user's own data), and a content security policy that allows only
// this site's own scripts and styles, never inline ones.
func pageHeaders(h http.Header) {
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
}

// render answers with page, rendered in the layout with v (see viewFor).
// A template that fails gives a plain 500, never half a page.
func (s *server) render(w http.ResponseWriter, r *http.Request, status int, page string, v view) {
	b, err := s.pages.execute(page, v)
	if err != nil {
		s.logFor(r).Error("showcase: rendering a page", "page", page, "error", err.Error())
		http.Error(w, "500 Internal Server Error", http.StatusInternalServerError)
		return
	}
	pageHeaders(w.Header())
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(b)
	}
}

// viewFor fills the layout's fields for r.
func (s *server) viewFor(r *http.Request, title string, data any) view {
	v := view{Title: title, Page: data}
	if id := auth.IdentityOf(r); id != nil {
		v.User = id.Name
		v.Admin = id.HasRole("admin")
		for _, m := range session.Flashes(r) {
			kind, text, ok := strings.Cut(m, ":")
			if !ok {
				kind, text = "ok", m
			}
			v.Flashes = append(v.Flashes, flash{Kind: kind, Text: text})
		}
	}
	return v
}

// addFlash keeps a message for the next page the user sees.
func addFlash(r *http.Request, kind, text string) {
	_ = session.AddFlash(r, kind+":"+text) // without a session, the message is lost
}

// errorPage is the Page of the error template.
type errorPage struct {
	Status  int
	Message string
	Login   bool // offer the login page
}

// wantsJSON reports whether r asks for JSON rather than a page: an API
// request, a JSON body, or an Accept header that names JSON and not HTML
// (the page's own JavaScript sends "Accept: application/json").
func wantsJSON(r *http.Request) bool {
	if filter.MountPoint(r) == "/api" || r.URL.Path == "/api" || strings.HasPrefix(r.URL.Path, "/api/") {
		return true
	}
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct == "application/json" {
		return true
	}
	accept := r.Header.Get("Accept")
	return strings.Contains(accept, "application/json") && !strings.Contains(accept, "text/html")
}

// fail answers an error for people: JSON {"error": msg} for API and
// JavaScript requests, otherwise a page with the layout.
func (s *server) fail(w http.ResponseWriter, r *http.Request, status int, msg string) {
	if wantsJSON(r) {
		writeJSON(w, status, map[string]string{"error": msg})
		return
	}
	title := strconv.Itoa(status) + " " + http.StatusText(status)
	s.render(w, r, status, "error", s.viewFor(r, title, errorPage{Status: status, Message: msg,
		Login: status == http.StatusUnauthorized}))
}

// writeJSON answers v as JSON, not cached.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, `{"error":"internal error"}`, http.StatusInternalServerError)
		return
	}
	b = append(b, '\n')
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// logFor returns the request's logger: the one the logging filter made,
// with the request id.
func (s *server) logFor(r *http.Request) *slog.Logger {
	if x := filter.From(r); x != nil {
		return x.Logger()
	}
	return s.log
}

// denied is the auth filter's FailureHandler: a 303 to the login page for
// a browser that must log in; otherwise the status with a message, as
// JSON or as a page (the login page itself for a login refused by the
// brute-force limit).
func (s *server) denied(w http.ResponseWriter, r *http.Request, d auth.Denial) {
	// The headers every answer to a denial needs: no-store, the challenges
	// of a 401, the Retry-After of a 429, or the redirect to log in.
	if status := d.SetHeaders(w.Header()); status == http.StatusSeeOther {
		w.WriteHeader(status)
		return
	}
	var msg string
	switch d.Status {
	case http.StatusBadRequest:
		msg = "The Authorization header is malformed."
	case http.StatusUnauthorized:
		msg = "You are not logged in: log in first, or send a valid API token."
		if errors.Is(d.Err, auth.ErrInvalid) {
			msg = "The credentials are not valid."
		}
	case http.StatusForbidden:
		msg = "You are not allowed to see this page."
		if errors.Is(d.Err, auth.ErrCrossOrigin) {
			msg = "This request came from another site and was refused."
		}
	case http.StatusTooManyRequests:
		msg = "Too many failed attempts: try again in " + formatWait(time.Duration(d.RetrySeconds())*time.Second) + "."
		if r.URL.Path == "/login" && !wantsJSON(r) {
			next := r.PostFormValue("next") // read already, by the login handler
			if !auth.LocalPath(next) {
				next = "/"
			}
			s.render(w, r, d.Status, "login", s.viewFor(r, "Log in", loginPage{Next: next, Error: msg}))
			return
		}
	default:
		msg = http.StatusText(d.Status)
	}
	s.fail(w, r, d.Status, msg)
}

// formatWait says how long to wait, roughly: "5 seconds", "14 minutes".
func formatWait(d time.Duration) string {
	switch {
	case d < 2*time.Minute:
		return strconv.Itoa(int(d.Seconds())) + " seconds"
	default:
		return strconv.Itoa(int(d.Minutes()+0.5)) + " minutes"
	}
}
