package upload_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/wsapi-go/wsapi/filter/filtertest"
	"github.com/wsapi-go/wsapi/filters/upload"
)

// An avatar upload: PNG images only, at most 1 MiB, kept under a name the
// app chooses.
func Example() {
	dir, _ := os.MkdirTemp("", "avatars")
	defer os.RemoveAll(dir)

	up := upload.New()
	up.MaxFileBytes = 1 << 20
	up.AllowedTypes = []string{"image/png"}
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		form, err := upload.Parse(r)
		if err != nil {
			upload.WriteError(w, err)
			return
		}
		f := form.File("avatar")
		if f == nil {
			http.Error(w, "no avatar", http.StatusBadRequest)
			return
		}
		if err := f.MoveTo(filepath.Join(dir, form.Value("user")+".png")); err != nil {
			http.Error(w, "cannot keep the avatar", http.StatusInternalServerError)
			return
		}
		fmt.Fprintf(w, "%s: %s, %d bytes, %s, sha256 %s…", f.Name, f.Sniffed, f.Size, f.ContentType, f.SHA256Hex()[:12])
	})
	h := up.Wrap(app)

	png := "\x89PNG\r\n\x1a\n" + strings.Repeat("\x00", 100)
	for _, content := range []string{png, "MZ\x90\x00 an executable"} {
		r := filtertest.PostMultipart("/avatar", url.Values{"user": {"ana"}},
			filtertest.File{Field: "avatar", Name: "../me.png", ContentType: "image/png", Content: []byte(content)})
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		body, _ := io.ReadAll(rec.Body)
		fmt.Println(rec.Code, strings.TrimSpace(string(body)))
	}
	_, err := os.Stat(filepath.Join(dir, "ana.png"))
	fmt.Println("kept:", err == nil)
	// Output:
	// 200 me.png: image/png, 108 bytes, image/png, sha256 a1f76d954944…
	// 415 415 Unsupported Media Type: upload: a file's content is application/octet-stream, which is not an allowed type
	// kept: true
}

// Progress for a progress bar: the upload carries an id, and the page polls
// the tracker with the same id.
func ExampleProgress() {
	progress := upload.NewProgress()
	up := upload.New()
	up.Progress = progress
	mux := http.NewServeMux()
	mux.Handle("POST /upload", up.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := upload.Parse(r); err != nil {
			upload.WriteError(w, err)
		}
	})))
	mux.Handle("GET /upload/progress", progress)

	r := filtertest.PostMultipart("/upload?X-Progress-ID=f81d4fae", nil,
		filtertest.File{Field: "f", Name: "a.txt", Content: []byte("hello")})
	mux.ServeHTTP(httptest.NewRecorder(), r)

	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("GET", "/upload/progress?X-Progress-ID=f81d4fae", nil))
	fmt.Print(rec.Body.String())
	// Output:
	// {"id":"f81d4fae","received":157,"total":157,"done":true,"failed":false}
}

// A body read twice: once by a filter that checks a signature, once by the
// app.
func ExampleRewind() {
	check := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			fmt.Println("filter read", len(b), "bytes")
			if err := upload.Rewind(r); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		fmt.Println("app read", string(b))
	})
	h := upload.NewRewindable().Wrap(check(app))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("PUT", "/doc", strings.NewReader(`{"title":"notes"}`)))
	// Output:
	// filter read 17 bytes
	// app read {"title":"notes"}
}

func ExampleCleanFileName() {
	for _, name := range []string{"../../etc/passwd", `C:\Users\ann\report.pdf`, ".htaccess", "a\x00b.txt"} {
		fmt.Printf("%q\n", upload.CleanFileName(name, 255))
	}
	// Output:
	// "passwd"
	// "report.pdf"
	// "htaccess"
	// "ab.txt"
}
