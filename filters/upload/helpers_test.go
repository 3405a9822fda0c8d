package upload_test

import (
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/wsapi-go/wsapi/filter"
	"github.com/wsapi-go/wsapi/filter/filtertest"
	"github.com/wsapi-go/wsapi/filters/upload"
)

// bnd is the boundary of the bodies the tests build by hand.
const bnd = "XyZzy-boundary"

// mpBody returns a multipart body with the parts, each "headers\r\n\r\n"
// plus content, and the closing boundary.
func mpBody(parts ...string) string {
	var b strings.Builder
	for _, p := range parts {
		b.WriteString("--" + bnd + "\r\n" + p + "\r\n")
	}
	b.WriteString("--" + bnd + "--\r\n")
	return b.String()
}

func fieldPart(name, value string) string {
	return `Content-Disposition: form-data; name="` + name + "\"\r\n\r\n" + value
}

func filePart(name, filename, ctype, content string) string {
	h := `Content-Disposition: form-data; name="` + name + `"; filename="` + filename + "\"\r\n"
	if ctype != "" {
		h += "Content-Type: " + ctype + "\r\n"
	}
	return h + "\r\n" + content
}

// post returns a multipart request for body, with its Content-Length.
func post(body string) *http.Request {
	r := filtertest.NewRequest("POST", "/upload", strings.NewReader(body))
	r.Header.Set("Content-Type", "multipart/form-data; boundary="+bnd)
	return r
}

// postChunked returns a multipart request for body, without a
// Content-Length, as a chunked body arrives. A body that is an
// io.ReadCloser (a pipe) is kept as the request's body.
func postChunked(body io.Reader) *http.Request {
	if _, ok := body.(io.ReadCloser); !ok {
		body = io.MultiReader(body) // hide the length
	}
	r := filtertest.NewRequest("POST", "/upload", body)
	r.Header.Set("Content-Type", "multipart/form-data; boundary="+bnd)
	return r
}

// newFilter returns a filter storing files in a new temporary directory,
// and checks that the directory is empty when the test ends.
func newFilter(t *testing.T) (*upload.Filter, string) {
	t.Helper()
	dir := t.TempDir()
	f := upload.New()
	f.Sink = upload.DirSink{Dir: dir}
	f.Events = new(filter.Hub)
	t.Cleanup(func() { assertEmpty(t, dir) })
	return f, dir
}

// assertEmpty fails the test when dir holds any file.
func assertEmpty(t *testing.T, dir string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		t.Errorf("%s is left in the temporary directory", e.Name())
	}
}

// formApp parses the form, answers an error with WriteError, and
// otherwise calls inspect (when not nil) and answers "ok".
func formApp(inspect func(*upload.Form)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		form, err := upload.Parse(r)
		if err != nil {
			upload.WriteError(w, err)
			return
		}
		if inspect != nil {
			inspect(form)
		}
		io.WriteString(w, "ok")
	})
}

// serve runs r through f around app, under Lint.
func serve(t *testing.T, f *upload.Filter, app http.Handler, r *http.Request) *filtertest.Recorder {
	t.Helper()
	rec := filtertest.NewRecorder()
	filtertest.Check(t, f, app).ServeHTTP(rec, r)
	return rec
}

// pipeResult is what the writer of a piped body saw.
type pipeResult struct {
	written int64
	err     error
}

// pipe returns a reader that yields start, then chunk again and again
// (up to 1 GiB), from a goroutine; the channel gets what the writer saw
// once it stopped.
func pipe(start, chunk string) (*io.PipeReader, <-chan pipeResult) {
	pr, pw := io.Pipe()
	done := make(chan pipeResult, 1)
	go func() {
		var res pipeResult
		n, err := io.WriteString(pw, start)
		res.written += int64(n)
		c := []byte(chunk)
		for err == nil && res.written < 1<<30 {
			n, err = pw.Write(c)
			res.written += int64(n)
		}
		pw.Close()
		res.err = err
		done <- res
	}()
	return pr, done
}

// wantClosedEarly checks that the pipe's writer was stopped by the reader
// closing the pipe, after fewer than limit bytes.
func wantClosedEarly(t *testing.T, done <-chan pipeResult, limit int64) {
	t.Helper()
	res := <-done
	if res.err != io.ErrClosedPipe {
		t.Errorf("the writer saw %v, want io.ErrClosedPipe", res.err)
	}
	if res.written >= limit {
		t.Errorf("the writer got %d bytes in, want fewer than %d", res.written, limit)
	}
}

// wantStatus checks a recorded answer's status and that its body has
// each of the strings.
func wantStatus(t *testing.T, rec *filtertest.Recorder, status int, has ...string) {
	t.Helper()
	if rec.Code != status {
		t.Errorf("status %d, want %d; body %q", rec.Code, status, rec.Body.String())
	}
	for _, s := range has {
		if !strings.Contains(rec.Body.String(), s) {
			t.Errorf("body %q does not say %q", rec.Body.String(), s)
		}
	}
}

func repeat(s string, n int) string {
	if n < 0 {
		panic("repeat " + strconv.Itoa(n))
	}
	return strings.Repeat(s, n)
}

var pngHead = "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"

var elfHead = "\x7fELF\x02\x01\x01\x00" + strings.Repeat("\x00", 56)
