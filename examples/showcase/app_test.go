package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/wsapi-go/wsapi/filter/filtertest"
)

func TestHealthz(t *testing.T) {
	a := start(t)
	resp, body := a.client().do("GET", "/healthz", nil)
	if resp.StatusCode != 200 || body != "ok" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Errorf("GET /healthz: %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	if resp, body := a.client().do("HEAD", "/healthz", nil); resp.StatusCode != 200 || body != "" {
		t.Errorf("HEAD /healthz: %d %q", resp.StatusCode, body)
	}
}

func TestAnonymousIsSentToTheLoginPage(t *testing.T) {
	a := start(t)
	c := a.client()
	resp, _ := c.page("/")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login?next=%2F" {
		t.Fatalf("GET / anonymous: %d, Location %q; want 303 to /login?next=%%2F", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, body := c.page("/login?next=%2F")
	if resp.StatusCode != 200 {
		t.Fatalf("GET /login: %d", resp.StatusCode)
	}
	contains(t, "the login page", body,
		`<form id="login-form" method="post" action="/login"`, `id="username" name="username"`,
		`id="password" name="password" type="password"`, `id="login-submit"`, `name="next" value="/"`)
	if strings.Contains(body, `id="error"`) || strings.Contains(body, `id="user"`) {
		t.Errorf("a fresh login page shows an error or a user:\n%s", body)
	}
	// JSON clients get 401, as JSON.
	resp, body = c.do("GET", "/", nil, "Accept", "application/json")
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, `"error"`) {
		t.Errorf("GET / as JSON: %d %q", resp.StatusCode, body)
	}
}

func TestLogin(t *testing.T) {
	a := start(t)
	t.Run("a wrong password shows the login page with an error", func(t *testing.T) {
		c := a.client()
		resp := c.login(demoUser, "wrong")
		loc := resp.Header.Get("Location")
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/login?") || !strings.Contains(loc, "error=invalid") {
			t.Fatalf("bad password: %d, Location %q", resp.StatusCode, loc)
		}
		resp, body := c.page(loc)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d", loc, resp.StatusCode)
		}
		contains(t, "the login page after a wrong password", body, `id="error"`, "Wrong user name or password.")
		if resp, _ := c.page("/"); resp.StatusCode != http.StatusSeeOther {
			t.Errorf("GET / after a failed login: %d, want 303", resp.StatusCode)
		}
	})
	t.Run("the right password opens the files page", func(t *testing.T) {
		c := a.client()
		c.mustLogin(demoUser, testPassword)
		resp, body := c.page("/")
		if resp.StatusCode != 200 {
			t.Fatalf("GET / after login: %d", resp.StatusCode)
		}
		contains(t, "the files page", body,
			`<span id="user">demo</span>`, `<button id="logout"`, `<form method="post" action="/logout">`,
			`<form id="upload-form" method="post" action="/files" enctype="multipart/form-data"`,
			`<input id="file" type="file" name="file" multiple`, `id="upload-submit"`,
			`<progress id="upload-progress" max="100" value="0">`, `id="upload-percent"`, `id="upload-error"`,
			`<table id="files">`)
		if h := resp.Header.Get("Content-Security-Policy"); !strings.Contains(h, "script-src 'self'") {
			t.Errorf("Content-Security-Policy %q", h)
		}
		// The login page sends a logged-in user on.
		if resp, _ := c.page("/login?next=%2Fadmin"); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin" {
			t.Errorf("GET /login logged in: %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
		}
	})
}

func TestLoginLimitShowsA429Page(t *testing.T) {
	a := start(t)
	c := a.client()
	for i := range userAttempts {
		if resp := c.login(demoUser, "wrong"); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("attempt %d: %d, want 303", i+1, resp.StatusCode)
		}
	}
	form := "username=demo&password=" + testPassword + "&next=%2Fadmin"
	resp, body := c.do("POST", "/login", strings.NewReader(form),
		"Content-Type", "application/x-www-form-urlencoded", "Accept", "text/html")
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("attempt %d: %d, want 429", userAttempts+1, resp.StatusCode)
	}
	if resp.Header.Get("Retry-After") == "" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Errorf("429 headers: %v", resp.Header)
	}
	contains(t, "the 429 page", body, `id="login-form"`, `id="error"`, "Too many failed attempts", `name="next" value="/admin"`)
}

func TestUploadListDownload(t *testing.T) {
	a := start(t)
	c := a.client()
	c.mustLogin(demoUser, testPassword)
	content := "hello, file drop\n"
	resp, ans := c.uploadJSON(textFile(`../dir/notes "1".txt`, content))
	if resp.StatusCode != http.StatusCreated || len(ans.Files) != 1 {
		t.Fatalf("upload: %d %+v", resp.StatusCode, ans)
	}
	f := ans.Files[0]
	sum := sha256.Sum256([]byte(content))
	if !validID(f.ID) || f.Name != `notes 1.txt` || f.Size != int64(len(content)) ||
		f.Type != "text/plain; charset=utf-8" || f.SHA256 != hex.EncodeToString(sum[:]) {
		t.Errorf("uploaded file: %+v", f)
	}
	waitEmpty(t, a.cfg.Tmp)

	// On disk: the content and its metadata, and no temporary file.
	dir := filepath.Join(a.cfg.Data, "files", demoUser)
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if len(names) != 2 || names[0] != f.ID+".data" || names[1] != f.ID+".json" {
		t.Errorf("files on disk: %v", names)
	}

	// The list: the page and the API.
	_, body := c.page("/")
	contains(t, "the files page", body,
		`<tr class="file" data-id="`+f.ID+`">`, `<td class="file-name">notes 1.txt</td>`,
		`<td class="file-size num" data-bytes="17">`, `<a class="download" href="/files/`+f.ID+`">`)
	resp, body = c.do("GET", "/api/files", nil, "Authorization", "Bearer "+testToken)
	var list uploadAnswer
	if err := json.Unmarshal([]byte(body), &list); err != nil || resp.StatusCode != 200 || len(list.Files) != 1 || list.Files[0] != f {
		t.Errorf("GET /api/files: %d %s (%v)", resp.StatusCode, body, err)
	}

	// The download: the same bytes, as an attachment.
	resp, body = c.do("GET", "/files/"+f.ID, nil)
	if resp.StatusCode != 200 || body != content {
		t.Fatalf("download: %d %q", resp.StatusCode, body)
	}
	got := sha256.Sum256([]byte(body))
	if hex.EncodeToString(got[:]) != f.SHA256 {
		t.Errorf("download sha256 %x, want %s", got, f.SHA256)
	}
	disp, params, err := mime.ParseMediaType(resp.Header.Get("Content-Disposition"))
	if err != nil || disp != "attachment" || params["filename"] != "notes 1.txt" {
		t.Errorf("Content-Disposition %q", resp.Header.Get("Content-Disposition"))
	}
	if resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("Content-Type") != "text/plain; charset=utf-8" {
		t.Errorf("download headers: %v", resp.Header)
	}

	// Delete: back to the list, which no longer has it.
	resp, _ = c.do("POST", "/files/"+f.ID+"/delete", nil, "Accept", "text/html")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("delete: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, body = c.page("/")
	contains(t, "the files page after a delete", body, "Deleted notes 1.txt.", `class="empty"`)
	if strings.Contains(body, f.ID) {
		t.Errorf("the deleted file is still listed")
	}
	if resp, _ := c.do("GET", "/files/"+f.ID, nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("download after delete: %d", resp.StatusCode)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("files left after delete: %v", entries)
	}
}

func TestUploadManyFilesAndBinary(t *testing.T) {
	a := start(t)
	c := a.client()
	c.mustLogin(demoUser, testPassword)
	png := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{0}, 100)...)
	resp, ans := c.uploadJSON(textFile("a.txt", "a"), filtertest.File{Name: "pic.png", Content: png},
		filtertest.File{Name: "blob.bin", Content: []byte{0, 1, 2, 3, 0xff}})
	if resp.StatusCode != http.StatusCreated || len(ans.Files) != 3 {
		t.Fatalf("upload: %d %+v", resp.StatusCode, ans)
	}
	for i, want := range []string{"text/plain; charset=utf-8", "image/png", "application/octet-stream"} {
		if ans.Files[i].Type != want {
			t.Errorf("file %d: type %q, want %q", i, ans.Files[i].Type, want)
		}
	}
	waitEmpty(t, a.cfg.Tmp)
}

func TestUploadTooLarge(t *testing.T) {
	const max = 1000
	a := start(t, func(c *config) { c.MaxUpload = max })
	c := a.client()
	c.mustLogin(demoUser, testPassword)
	n := strings.Repeat("x", max)

	resp, ans := c.uploadJSON(textFile("n.txt", n))
	if resp.StatusCode != http.StatusCreated || len(ans.Files) != 1 || ans.Files[0].Size != max {
		t.Fatalf("a file of exactly -max-upload bytes: %d %+v", resp.StatusCode, ans)
	}
	waitEmpty(t, a.cfg.Tmp)

	resp, ans = c.uploadJSON(textFile("n1.txt", n+"x"))
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(ans.Error, "too large") || len(ans.Files) != 0 {
		t.Fatalf("a file one byte over: %d %+v", resp.StatusCode, ans)
	}
	if resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("Content-Type %q", resp.Header.Get("Content-Type"))
	}
	waitEmpty(t, a.cfg.Tmp)

	// The form without JavaScript: back to the list, with the message.
	resp, _ = c.upload("/files", []filtertest.File{textFile("n1.txt", n+"x")}, "Accept", "text/html")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("form post: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	waitEmpty(t, a.cfg.Tmp)
	_, body := c.page("/")
	if !regexp.MustCompile(`<p id="upload-error"[^>]*>[^<]*too large`).MatchString(body) {
		t.Errorf("the page does not show the error in #upload-error:\n%s", body)
	}
	if strings.Contains(body, `id="upload-error" class="flash error" role="alert" hidden`) {
		t.Errorf("#upload-error is hidden")
	}
	// The message is shown once.
	_, body = c.page("/")
	if strings.Contains(body, "too large:") {
		t.Errorf("the message is shown again")
	}
	// Only the first file was kept.
	if files, _ := a.s.files.list(demoUser); len(files) != 1 {
		t.Errorf("%d files kept, want 1", len(files))
	}
}

func TestUploadWrongType(t *testing.T) {
	a := start(t)
	c := a.client()
	c.mustLogin(demoUser, testPassword)
	resp, ans := c.uploadJSON(textFile("ok.txt", "fine"),
		filtertest.File{Name: "page.txt", ContentType: "text/plain", Content: []byte("<!DOCTYPE html><html><script>alert(1)</script></html>")})
	if resp.StatusCode != http.StatusUnsupportedMediaType || !strings.Contains(ans.Error, "not allowed") || !strings.Contains(ans.Error, "text/html") {
		t.Fatalf("HTML upload: %d %+v", resp.StatusCode, ans)
	}
	waitEmpty(t, a.cfg.Tmp)
	// Nothing of the request was kept, not even the good file before it.
	if files, _ := a.s.files.list(demoUser); len(files) != 0 {
		t.Errorf("files kept: %+v", files)
	}
}

func TestUploadWithoutAFile(t *testing.T) {
	a := start(t)
	c := a.client()
	c.mustLogin(demoUser, testPassword)
	resp, ans := c.uploadJSON(filtertest.File{Field: "other", Name: "x.txt", Content: []byte("x")})
	if resp.StatusCode != http.StatusBadRequest || ans.Error == "" {
		t.Errorf("upload without a file field: %d %+v", resp.StatusCode, ans)
	}
	resp, body := c.do("POST", "/files", strings.NewReader("--x\r\nbroken"), "Content-Type", "multipart/form-data; boundary=x", "Accept", "application/json")
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `"error"`) {
		t.Errorf("malformed upload: %d %s", resp.StatusCode, body)
	}
	waitEmpty(t, a.cfg.Tmp)
}

func TestUploadNeedsLogin(t *testing.T) {
	a := start(t)
	c := a.client()
	resp, ans := c.uploadJSON(textFile("a.txt", "a"))
	if resp.StatusCode != http.StatusUnauthorized || ans.Error == "" {
		t.Errorf("anonymous upload: %d %+v", resp.StatusCode, ans)
	}
	resp, _ = c.upload("/files", []filtertest.File{textFile("a.txt", "a")}, "Accept", "text/html")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		t.Errorf("anonymous form upload: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	waitEmpty(t, a.cfg.Tmp)
}

func TestCrossOriginPostIsRefused(t *testing.T) {
	a := start(t)
	c := a.client()
	c.mustLogin(demoUser, testPassword)
	body, ct := filtertest.MultipartBody(nil, filtertest.File{Field: "file", Name: "a.txt", Content: []byte("a")})
	resp, page := c.do("POST", "/files", bytes.NewReader(body), "Content-Type", ct,
		"Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example", "Accept", "text/html")
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-site upload: %d", resp.StatusCode)
	}
	contains(t, "the 403 page", page, `id="error"`, "another site")
	if files, _ := a.s.files.list(demoUser); len(files) != 0 {
		t.Errorf("the cross-site upload was stored")
	}
}

func TestOtherUsersFilesAreNotFound(t *testing.T) {
	a := start(t, withUser(t, alice, alicePass))
	demo := a.client()
	demo.mustLogin(demoUser, testPassword)
	_, ans := demo.uploadJSON(textFile("secret.txt", "demo's secret"))
	if len(ans.Files) != 1 {
		t.Fatalf("upload: %+v", ans)
	}
	id := ans.Files[0].ID

	ali := a.client()
	ali.mustLogin(alice, alicePass)
	if resp, body := ali.page("/files/" + id); resp.StatusCode != http.StatusNotFound || strings.Contains(body, "secret") {
		t.Errorf("alice downloads demo's file: %d", resp.StatusCode)
	} else {
		contains(t, "the 404 page", body, `id="error"`, `<span id="user">alice</span>`)
	}
	if resp, _ := ali.do("POST", "/files/"+id+"/delete", nil, "Accept", "text/html"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("alice deletes demo's file: %d", resp.StatusCode)
	}
	_, body := ali.page("/")
	if strings.Contains(body, id) {
		t.Errorf("alice's list shows demo's file")
	}
	if resp, body := demo.do("GET", "/files/"+id, nil); resp.StatusCode != 200 || body != "demo's secret" {
		t.Errorf("demo's file after alice's attempts: %d %q", resp.StatusCode, body)
	}
}

func TestBadIDsNeverReachTheDisk(t *testing.T) {
	a := start(t)
	var touched atomic.Int64
	a.s.files.touch = func(string) { touched.Add(1) }
	c := a.client()
	c.mustLogin(demoUser, testPassword)
	// A file outside the user's directory that a traversal would reach.
	if err := os.WriteFile(filepath.Join(a.cfg.Data, "files", "secret.data"), []byte("SECRET"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{
		"/files/..", "/files/%2e%2e", "/files/%2E%2E/secret", "/files/..%2fsecret", "/files/..%2F..%2Fhtpasswd",
		"/files/%2e%2e%2f%2e%2e%2fhtpasswd", "/files/../htpasswd", "/files/secret", "/files/.%2e",
		"/files/0123456789ABCDEF0123456789ABCDEF", "/files/0123456789abcdef0123456789abcde",
		"/files/0123456789abcdef0123456789abcdef0", "/files/%30123456789abcdef0123456789abcde%2f",
		"/files/..%5c..%5chtpasswd", "/files/%00", "/api/files/..%2fsecret",
	} {
		resp, body := c.do("GET", path, nil, "Accept", "text/html")
		if strings.HasPrefix(path, "/api/") {
			resp, body = c.do("GET", path, nil, "Authorization", "Bearer "+testToken)
		}
		if resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusBadRequest {
			t.Errorf("GET %s: %d, want 404 or 400", path, resp.StatusCode)
		}
		if strings.Contains(body, "SECRET") || strings.Contains(body, "$2a$") {
			t.Errorf("GET %s leaked a file: %q", path, body)
		}
		resp, _ = c.do("POST", path+"/delete", nil, "Accept", "text/html")
		if resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusBadRequest && resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("POST %s/delete: %d", path, resp.StatusCode)
		}
	}
	if n := touched.Load(); n != 0 {
		t.Errorf("the store built %d paths from bad ids", n)
	}
	// A good id that does not exist does reach the store (and gets 404).
	if resp, _ := c.do("GET", "/files/"+newID(), nil); resp.StatusCode != http.StatusNotFound || touched.Load() == 0 {
		t.Errorf("a missing file: %d, touched %d", resp.StatusCode, touched.Load())
	}
	if _, err := os.Stat(filepath.Join(a.cfg.Data, "files", "secret.data")); err != nil {
		t.Errorf("the file outside: %v", err)
	}
}

func TestAPI(t *testing.T) {
	a := start(t)
	c := a.client()
	for _, tt := range []struct {
		name, auth string
	}{
		{"no token", ""},
		{"a wrong token", "Bearer wrong-token-0123456789"},
		{"another scheme", "Basic ZGVtbzpkZW1v"},
	} {
		resp, body := c.do("GET", "/api/files", nil, "Authorization", tt.auth)
		if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("Content-Type") != "application/json" ||
			!strings.Contains(body, `"error"`) || !strings.Contains(resp.Header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("%s: %d %q %q", tt.name, resp.StatusCode, resp.Header.Get("WWW-Authenticate"), body)
		}
	}
	// A browser logged in to the site has no say in the API.
	c.mustLogin(demoUser, testPassword)
	if resp, body := c.do("GET", "/api/files", nil); resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, `"error"`) {
		t.Errorf("the API with a session cookie and no token: %d %q", resp.StatusCode, body)
	}
	resp, body := c.do("GET", "/api/files", nil, "Authorization", "Bearer "+testToken)
	if resp.StatusCode != 200 || strings.TrimSpace(body) != `{"files":[]}` {
		t.Errorf("empty list: %d %q", resp.StatusCode, body)
	}
	resp, body = c.upload("/api/files", []filtertest.File{textFile("api.txt", "from the API")}, "Authorization", "Bearer "+testToken)
	var ans uploadAnswer
	if err := json.Unmarshal([]byte(body), &ans); err != nil || resp.StatusCode != http.StatusCreated || len(ans.Files) != 1 || ans.Files[0].Name != "api.txt" {
		t.Fatalf("API upload: %d %s", resp.StatusCode, body)
	}
	resp, _ = c.upload("/api/files", []filtertest.File{textFile("api.txt", "x")})
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("API upload without a token: %d", resp.StatusCode)
	}
	id := ans.Files[0].ID
	if resp, body := c.do("GET", "/api/files/"+id, nil, "Authorization", "Bearer "+testToken); resp.StatusCode != 200 || body != "from the API" {
		t.Errorf("API download: %d %q", resp.StatusCode, body)
	}
	if resp, body := c.do("GET", "/api/nothing", nil, "Authorization", "Bearer "+testToken); resp.StatusCode != 404 || !strings.Contains(body, `"error"`) {
		t.Errorf("API 404: %d %q", resp.StatusCode, body)
	}
	if resp, _ := c.do("DELETE", "/api/files/"+id, nil, "Authorization", "Bearer "+testToken); resp.StatusCode != http.StatusNoContent {
		t.Errorf("API delete: %d", resp.StatusCode)
	}
	if resp, _ := c.do("DELETE", "/api/files/"+id, nil, "Authorization", "Bearer "+testToken); resp.StatusCode != http.StatusNotFound {
		t.Errorf("API delete again: %d", resp.StatusCode)
	}
	waitEmpty(t, a.cfg.Tmp)
}

func TestAdmin(t *testing.T) {
	a := start(t, withUser(t, alice, alicePass))
	demo := a.client()
	demo.mustLogin(demoUser, testPassword)
	resp, body := demo.page("/admin")
	if resp.StatusCode != 200 {
		t.Fatalf("GET /admin as demo: %d", resp.StatusCode)
	}
	contains(t, "the admin page", body, `id="uptime"`, `<td id="store-kind">memory</td>`, `id="file-count">0 `,
		"logging", "isolate.Deadline", `<span id="user">demo</span>`, `href="/admin"`)

	ali := a.client()
	ali.mustLogin(alice, alicePass)
	resp, body = ali.page("/admin")
	if resp.StatusCode != http.StatusForbidden || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /admin as alice: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	contains(t, "the 403 page", body, `id="error"`, `<span id="user">alice</span>`, "not allowed")
	if strings.Contains(body, `href="/admin"`) {
		t.Errorf("alice's pages link to /admin")
	}
	if resp, _ := a.client().page("/admin"); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login?next=%2Fadmin" {
		t.Errorf("GET /admin anonymous: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}

func TestLogout(t *testing.T) {
	a := start(t)
	c := a.client()
	c.mustLogin(demoUser, testPassword)
	if resp, _ := c.page("/"); resp.StatusCode != 200 {
		t.Fatalf("GET / logged in: %d", resp.StatusCode)
	}
	resp, _ := c.do("POST", "/logout", nil, "Accept", "text/html")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
		t.Fatalf("logout: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := c.page("/"); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login?next=%2F" {
		t.Errorf("GET / after logout: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}

func TestErrorPages(t *testing.T) {
	a := start(t)
	c := a.client()
	c.mustLogin(demoUser, testPassword)
	resp, body := c.page("/no/such/page")
	if resp.StatusCode != 404 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Errorf("404: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	contains(t, "the 404 page", body, "<h1>404 Not Found</h1>", `id="error"`, `<link rel="stylesheet" href="/static/style.css">`)
	resp, body = c.do("GET", "/no/such/page", nil, "Accept", "application/json")
	if resp.StatusCode != 404 || !strings.Contains(body, `"error"`) {
		t.Errorf("404 as JSON: %d %q", resp.StatusCode, body)
	}
	if resp, _ := c.do("DELETE", "/", nil, "Accept", "text/html"); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("DELETE /: %d", resp.StatusCode)
	}

	// A storage failure: the user's directory is a file.
	if err := os.WriteFile(filepath.Join(a.cfg.Data, "files", demoUser), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	resp, _ = c.upload("/files", []filtertest.File{textFile("a.txt", "a")}, "Accept", "application/json")
	if resp.StatusCode != http.StatusInternalServerError {
		t.Errorf("upload into a broken store: %d", resp.StatusCode)
	}
	resp, body = c.page("/")
	if resp.StatusCode != http.StatusInternalServerError {
		t.Fatalf("list of a broken store: %d", resp.StatusCode)
	}
	contains(t, "the 500 page", body, "<h1>500 Internal Server Error</h1>", `id="error"`, `<span id="user">demo</span>`)
	waitEmpty(t, a.cfg.Tmp)
}

func TestStaticFiles(t *testing.T) {
	a := start(t)
	c := a.client()
	for path, ct := range map[string]string{"/static/style.css": "text/css", "/static/app.js": "javascript"} {
		resp, body := c.do("GET", path, nil)
		if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Type"), ct) || len(body) < 100 {
			t.Errorf("GET %s: %d %q", path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}
	for _, path := range []string{"/static/", "/static/nope.css", "/static/../templates/layout.html", "/static/%2e%2e/main.go"} {
		if resp, _ := c.do("GET", path, nil); resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusBadRequest {
			t.Errorf("GET %s: %d, want 404 or 400", path, resp.StatusCode)
		}
	}
}

func TestDebugVars(t *testing.T) {
	h := debugHandler(false)
	local := func(path string) *http.Request {
		r := filtertest.Get(path)
		r.Host = "127.0.0.1:6060"
		return r
	}
	rec := filtertest.NewRecorder()
	h.ServeHTTP(rec, local("/debug/vars"))
	var vars map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &vars); err != nil || rec.Code != 200 {
		t.Fatalf("/debug/vars: %d %v", rec.Code, err)
	}
	// The command line may hold -password and -token: never served.
	if _, ok := vars["cmdline"]; ok {
		t.Errorf("/debug/vars serves the command line")
	}
	if _, ok := vars["memstats"]; !ok {
		t.Errorf("/debug/vars has no memstats")
	}
	rec = filtertest.NewRecorder()
	h.ServeHTTP(rec, local("/debug/pprof/cmdline"))
	if rec.Code != http.StatusNotFound {
		t.Errorf("/debug/pprof/cmdline: %d, want 404", rec.Code)
	}
	// A request for another host (DNS rebinding) is refused.
	r := filtertest.Get("/debug/vars")
	r.Host = "evil.example:6060"
	rec = filtertest.NewRecorder()
	h.ServeHTTP(rec, r)
	if rec.Code != http.StatusForbidden {
		t.Errorf("/debug/vars for Host evil.example: %d, want 403", rec.Code)
	}
	for _, host := range []string{"127.0.0.1:6060", "localhost", "[::1]:6060"} {
		r := filtertest.Get("/debug/vars")
		r.Host = host
		rec = filtertest.NewRecorder()
		h.ServeHTTP(rec, r)
		if rec.Code != 200 {
			t.Errorf("/debug/vars for Host %s: %d", host, rec.Code)
		}
	}
	if g, _ := vars["goroutines"].(float64); g < 1 {
		t.Errorf("goroutines = %v", vars["goroutines"])
	}
	fds, ok := vars["open_fds"].(float64)
	if !ok || fds == 0 || (fds < 3 && fds != -1) {
		t.Errorf("open_fds = %v", vars["open_fds"])
	}
	rec = filtertest.NewRecorder()
	h.ServeHTTP(rec, local("/debug/pprof/"))
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "goroutine") {
		t.Errorf("/debug/pprof/: %d", rec.Code)
	}
}

func TestRangesAreLimited(t *testing.T) {
	a := start(t)
	c := a.client()
	c.mustLogin(demoUser, testPassword)
	content := strings.Repeat("0123456789", 100)
	_, ans := c.uploadJSON(textFile("digits.txt", content))
	if len(ans.Files) != 1 {
		t.Fatalf("upload: %+v", ans)
	}
	path := "/files/" + ans.Files[0].ID
	resp, body := c.do("GET", path, nil, "Range", "bytes=10-19")
	if resp.StatusCode != http.StatusPartialContent || body != "0123456789" {
		t.Errorf("one range: %d %q", resp.StatusCode, body)
	}
	var many []string
	for i := range 500 {
		many = append(many, strconv.Itoa(2*i)+"-"+strconv.Itoa(2*i))
	}
	resp, body = c.do("GET", path, nil, "Range", "bytes="+strings.Join(many, ","))
	if resp.StatusCode != 200 || body != content {
		t.Errorf("500 ranges: %d, %d bytes; want the file once, 200", resp.StatusCode, len(body))
	}
	resp, body = c.do("GET", "/static/style.css", nil, "Range", "bytes="+strings.Join(many, ","))
	if resp.StatusCode != 200 || len(body) > 64<<10 {
		t.Errorf("ranges of a static file: %d, %d bytes", resp.StatusCode, len(body))
	}
}
