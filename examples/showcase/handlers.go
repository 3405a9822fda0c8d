package main

import (
	"errors"
	"fmt"
	"mime"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/wsapi-go/wsapi/filter"
	"github.com/wsapi-go/wsapi/filters/auth"
	"github.com/wsapi-go/wsapi/filters/upload"
)

// loginPage is the Page of the login template.
type loginPage struct {
	Next  string // where to go after login: a local path
	Error string
}

// loginPage shows the login form (GET /login). The form posts to the
// auth filter's login handler, which sends a wrong password back here
// with ?error=invalid.
func (s *server) loginPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	next := q.Get("next")
	if !auth.LocalPath(next) {
		next = "/"
	}
	if auth.IdentityOf(r) != nil {
		redirect(w, next)
		return
	}
	p := loginPage{Next: next}
	if q.Get("error") == "invalid" {
		p.Error = "Wrong user name or password."
	}
	s.render(w, r, http.StatusOK, "login", s.viewFor(r, "Log in", p))
}

// filesPage is the Page of the files template.
type filesPage struct {
	Files        []fileMeta
	MaxUpload    int64
	MaxText      string
	MaxFiles     int   // files in one upload
	MaxTotal     int64 // bytes of one upload's body
	MaxTotalText string
	Accept       string // the file input's accept attribute
	UploadError  string // an error of the last no-JavaScript upload
}

// filesPage lists the user's files, with the upload form (GET /).
func (s *server) filesPage(w http.ResponseWriter, r *http.Request) {
	user := auth.IdentityOf(r).Name
	files, err := s.files.list(user)
	if err != nil {
		s.logFor(r).Error("showcase: listing files", "error", err.Error())
		s.fail(w, r, http.StatusInternalServerError, "Your files cannot be listed right now. The error was logged; try again.")
		return
	}
	v := s.viewFor(r, "Your files", nil)
	p := filesPage{Files: files, MaxUpload: s.cfg.MaxUpload, MaxText: formatSize(s.cfg.MaxUpload),
		MaxFiles: maxFilesPerUpload, MaxTotal: s.maxBody, MaxTotalText: formatSize(s.maxBody),
		Accept: "text/plain,image/png,image/jpeg,image/gif,image/webp,application/pdf,application/zip,*/*"}
	// Upload errors go beside the form; the other messages above it.
	kept := v.Flashes[:0]
	for _, f := range v.Flashes {
		if f.Kind == "upload-error" {
			p.UploadError = strings.TrimSpace(p.UploadError + " " + f.Text)
			continue
		}
		kept = append(kept, f)
	}
	v.Flashes, v.Page = kept, p
	s.render(w, r, http.StatusOK, "files", v)
}

// uploadPage takes an upload from the page (POST /files): JSON for the
// page's JavaScript (Accept: application/json), otherwise a 303 back to
// the list with the outcome as a message.
func (s *server) uploadPage(w http.ResponseWriter, r *http.Request) {
	files, status, msg := s.saveUpload(w, r)
	if wantsJSON(r) {
		if status != 0 {
			writeJSON(w, status, map[string]string{"error": msg})
			return
		}
		writeJSON(w, http.StatusCreated, map[string]any{"files": files})
		return
	}
	switch {
	case r.Context().Err() != nil:
		// The client is gone (an upload dropped mid-body): a message would
		// never be seen, and saving it could overwrite what a newer request
		// of the same session saved meanwhile.
	case status != 0:
		addFlash(r, "upload-error", msg)
	default:
		names := make([]string, len(files))
		for i, f := range files {
			names[i] = f.Name + " (" + formatSize(f.Size) + ")"
		}
		addFlash(r, "ok", "Uploaded "+strings.Join(names, ", ")+".")
	}
	redirect(w, "/")
}

// saveUpload reads the upload through the upload filter and stores its
// files (the parts named "file"): all of them, or, on an error, none. It
// returns the stored files, or a status and a message for people.
func (s *server) saveUpload(w http.ResponseWriter, r *http.Request) ([]fileMeta, int, string) {
	user := auth.IdentityOf(r).Name
	form, err := upload.Parse(r)
	if err != nil {
		status, msg := uploadError(err, s.cfg.MaxUpload)
		if status != http.StatusInternalServerError {
			// As upload.WriteError does: the body may not have been read
			// to its end, so the connection must not be reused.
			w.Header().Set("Connection", "close")
		}
		if status >= 500 {
			s.logFor(r).Error("showcase: upload", "error", err.Error())
		}
		return nil, status, msg
	}
	parts := form.Files["file"]
	if len(parts) == 0 {
		return nil, http.StatusBadRequest, "Choose a file to upload (the form field is named \"file\")."
	}
	now := time.Now()
	stored := make([]fileMeta, 0, len(parts))
	for _, f := range parts {
		m, err := s.files.add(user, f, now)
		if err != nil {
			s.logFor(r).Error("showcase: storing an upload", "error", err.Error())
			for _, done := range stored {
				_, _ = s.files.remove(user, done.ID)
			}
			return nil, http.StatusInternalServerError, "The file could not be stored. The error was logged; try again later."
		}
		stored = append(stored, m)
	}
	return stored, 0, ""
}

// uploadError turns an error of upload.Parse into a status and a message
// for people, from the *upload.Error's status and limit.
func uploadError(err error, maxFile int64) (int, string) {
	var e *upload.Error
	if !errors.As(err, &e) {
		return http.StatusInternalServerError, "The upload could not be read."
	}
	switch e.Status {
	case http.StatusRequestEntityTooLarge:
		switch e.Limit {
		case "MaxFileBytes":
			return e.Status, "The file is too large: the largest file allowed is " + formatSize(maxFile) + "."
		case "MaxFiles":
			return e.Status, "The upload is too large: at most " + strconv.Itoa(maxFilesPerUpload) + " files at once."
		case "MaxBodyBytes", "http.MaxBytesReader":
			return e.Status, "The upload is too large: at most " + formatSize(e.Max) + " in all."
		}
		return e.Status, "The upload is too large (" + e.Reason + ")."
	case http.StatusUnsupportedMediaType:
		kind := "this type"
		if _, after, ok := strings.Cut(e.Reason, "content is "); ok {
			if t, _, ok := strings.Cut(after, ","); ok {
				kind = "type " + t
			}
		}
		return e.Status, "Files of " + kind + " are not allowed: upload text, images (PNG, JPEG, GIF, WebP), PDF, ZIP or other binary files."
	case http.StatusBadRequest:
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return e.Status, "The upload stopped: no data came for " + ioIdleTimeout.String() + ". Try again."
		}
		return e.Status, "The upload could not be read: " + e.Reason + "."
	case http.StatusServiceUnavailable:
		return e.Status, "The upload was cut short; try again."
	}
	return http.StatusInternalServerError, "The file could not be stored. The error was logged; try again later."
}

// download sends one of the user's files (GET /files/{id}, and the API's
// GET /api/files/{id}) as an attachment, with the type stored at upload
// and no sniffing, so that no file is ever shown as a page of this site.
func (s *server) download(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	if !validID(id) {
		s.fail(w, r, http.StatusNotFound, "There is no such file.")
		return
	}
	m, f, err := s.files.open(auth.IdentityOf(r).Name, id)
	if errors.Is(err, errNotFound) {
		s.fail(w, r, http.StatusNotFound, "There is no such file.")
		return
	}
	if errors.Is(err, errDamaged) {
		s.logFor(r).Error("showcase: a file's metadata is damaged", "id", id, "error", err.Error())
		s.fail(w, r, http.StatusNotFound, "This file's record is damaged, so it cannot be sent: delete it and upload it again.")
		return
	}
	if err != nil {
		s.logFor(r).Error("showcase: opening a file", "id", id, "error", err.Error())
		s.fail(w, r, http.StatusInternalServerError, "The file cannot be read right now. The error was logged; try again.")
		return
	}
	defer f.Close()
	h := w.Header()
	ct := m.Type
	if ct == "" {
		ct = "application/octet-stream"
	}
	h.Set("Content-Type", ct)
	disposition := mime.FormatMediaType("attachment", map[string]string{"filename": m.Name})
	if disposition == "" {
		disposition = "attachment"
	}
	h.Set("Content-Disposition", disposition)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Cache-Control", "private, no-cache")
	h.Set("X-File-SHA256", m.SHA256)
	limitRanges(r)
	http.ServeContent(w, r, "", m.Time, f)
}

// maxRanges is the most byte ranges a download serves in one answer; a
// Range header with more is ignored (the whole file is sent, 200), as
// Apache's MaxRanges does: thousands of one-byte ranges would each cost a
// part header, many times the file (CVE-2011-3192, CVE-2024-26141).
const maxRanges = 8

// limitRanges drops a Range header of more than maxRanges ranges.
func limitRanges(r *http.Request) {
	if v := r.Header.Get("Range"); strings.Count(v, ",") >= maxRanges {
		r.Header.Del("Range")
	}
}

// deletePage deletes one of the user's files (POST /files/{id}/delete)
// and goes back to the list.
func (s *server) deletePage(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	if !validID(id) {
		s.fail(w, r, http.StatusNotFound, "There is no such file.")
		return
	}
	m, err := s.files.remove(auth.IdentityOf(r).Name, id)
	switch {
	case errors.Is(err, errNotFound):
		s.fail(w, r, http.StatusNotFound, "There is no such file.")
		return
	case err != nil:
		s.logFor(r).Error("showcase: deleting a file", "id", id, "error", err.Error())
		s.fail(w, r, http.StatusInternalServerError, "The file could not be deleted. The error was logged; try again.")
		return
	}
	addFlash(r, "ok", "Deleted "+m.Name+".")
	redirect(w, "/")
}

// apiList answers GET /api/files: the token holder's files.
func (s *server) apiList(w http.ResponseWriter, r *http.Request) {
	files, err := s.files.list(auth.IdentityOf(r).Name)
	if err != nil {
		s.logFor(r).Error("showcase: listing files", "error", err.Error())
		s.fail(w, r, http.StatusInternalServerError, "the files cannot be listed")
		return
	}
	if files == nil {
		files = []fileMeta{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"files": files})
}

// apiUpload answers POST /api/files: a multipart upload, field "file".
func (s *server) apiUpload(w http.ResponseWriter, r *http.Request) {
	files, status, msg := s.saveUpload(w, r)
	if status != 0 {
		writeJSON(w, status, map[string]string{"error": msg})
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"files": files})
}

// apiDelete answers DELETE /api/files/{id} with 204.
func (s *server) apiDelete(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	_, err := s.files.remove(auth.IdentityOf(r).Name, id)
	switch {
	case errors.Is(err, errNotFound):
		s.fail(w, r, http.StatusNotFound, "no such file")
	case err != nil:
		s.logFor(r).Error("showcase: deleting a file", "id", id, "error", err.Error())
		s.fail(w, r, http.StatusInternalServerError, "the file could not be deleted")
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

// adminPage is the Page of the admin template.
type adminPage struct {
	Uptime       string
	Started      time.Time
	StoreKind    string
	Limits       string
	Users, Files int
	Stack        []string
	Mounts       []string
	Workers      int
	WorkersReady int
	Goroutines   int
	GoVersion    string
	Lua          string
	MaxUpload    string
}

// adminPage shows how the server is doing (GET /admin, role "admin").
func (s *server) adminPage(w http.ResponseWriter, r *http.Request) {
	if pi := filter.PathInfo(r); pi != "" && pi != "/" {
		s.fail(w, r, http.StatusNotFound, "There is no page at this address.")
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		s.fail(w, r, http.StatusMethodNotAllowed, "This page does not take "+r.Method+" requests.")
		return
	}
	users, files, err := s.files.stats()
	if err != nil {
		s.logFor(r).Error("showcase: counting files", "error", err.Error())
	}
	p := adminPage{
		Uptime:     time.Since(s.started).Round(time.Second).String(),
		Started:    s.started,
		StoreKind:  s.sessions.Kind,
		Limits:     "memory",
		Users:      users,
		Files:      files,
		Stack:      s.stack.Names(),
		Mounts:     s.mux.Mounts(),
		Goroutines: runtime.NumGoroutine(),
		GoVersion:  runtime.Version(),
		Lua:        s.cfg.Lua,
		MaxUpload:  formatSize(s.cfg.MaxUpload),
	}
	if s.redis != nil {
		p.Limits = "redis"
	}
	if s.workersReady != nil {
		p.Workers, p.WorkersReady = s.cfg.Workers, s.workersReady()
	}
	s.render(w, r, http.StatusOK, "admin", s.viewFor(r, "Admin", p))
}

// recoverPage answers a panic of the pages with the 500 page, while the
// headers are not out; after that, it passes the panic on to the isolate
// filter, which aborts the connection.
func (s *server) recoverPage(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			p := recover()
			if p == nil {
				return
			}
			if p == http.ErrAbortHandler || filter.From(r).HeadersSent() {
				panic(p)
			}
			s.logFor(r).Error("showcase: a page panicked", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			for _, k := range []string{"Content-Disposition", "Content-Length", "Content-Type", "Content-Security-Policy"} {
				w.Header().Del(k)
			}
			s.fail(w, r, http.StatusInternalServerError, "Something went wrong on our side. The error was logged; try again.")
		}()
		next.ServeHTTP(w, r)
	})
}

// redirect sends a 303 See Other to target, a local path.
func redirect(w http.ResponseWriter, target string) {
	w.Header().Set("Location", target)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusSeeOther)
}
