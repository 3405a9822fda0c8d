package upload_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/wsapi-go/wsapi/filter/filtertest"
	"github.com/wsapi-go/wsapi/filters/upload"
)

func TestCleanupWhenTheAppPanics(t *testing.T) {
	f, dir := newFilter(t)
	var stored string
	h := filtertest.Check(t, f, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		form, err := upload.Parse(r)
		if err != nil {
			t.Fatal(err)
		}
		stored = form.File("f").Path()
		if _, err := os.Stat(stored); err != nil {
			t.Errorf("the file is not stored while the app runs: %v", err)
		}
		panic("app failed")
	}))
	func() {
		defer func() {
			if p := recover(); p != "app failed" {
				t.Errorf("recovered %v, want the app's panic", p)
			}
		}()
		h.ServeHTTP(filtertest.NewRecorder(), post(mpBody(filePart("f", "f.txt", "", "data"), filePart("g", "g.txt", "", "more"))))
	}()
	if stored == "" {
		t.Fatal("the app did not run")
	}
	assertEmpty(t, dir)
}

func TestCleanupWhenALimitTrips(t *testing.T) {
	f, dir := newFilter(t)
	f.MaxFileBytes = 40 << 10
	var seen []string
	f.Sink = recordingSink{DirSink: upload.DirSink{Dir: dir}, created: &seen}
	rec := serve(t, f, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := upload.Parse(r)
		// The files are gone as soon as Parse fails, before the finish.
		assertEmpty(t, dir)
		upload.WriteError(w, err)
	}), postChunked(&smallReads{r: strings.NewReader(mpBody(filePart("a", "a", "", "small"), filePart("b", "b", "", repeat("x", 100<<10)))), n: 50}))
	wantStatus(t, rec, 413, "MaxFileBytes")
	if len(seen) != 2 {
		t.Errorf("%d files were created, want 2", len(seen))
	}
}

// recordingSink is a DirSink that records the files it creates.
type recordingSink struct {
	upload.DirSink
	created *[]string
}

func (s recordingSink) Create(f *upload.File) (upload.Stored, error) {
	st, err := s.DirSink.Create(f)
	if err == nil {
		*s.created = append(*s.created, f.Field)
	}
	return st, err
}

// server starts a real server with f around app; done gets the error Parse
// returned, once the filter (and its finish hooks) returned.
func server(t *testing.T, f *upload.Filter) (*httptest.Server, <-chan error) {
	t.Helper()
	done := make(chan error, 1)
	var parseErr error
	h := f.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		form, err := upload.Parse(r)
		parseErr = err
		if err != nil {
			upload.WriteError(w, err)
			return
		}
		var b strings.Builder
		for name, files := range form.Files {
			for _, file := range files {
				b.WriteString(name + "=" + strconv.FormatInt(file.Size, 10) + " " + file.SHA256Hex()[:8] + "\n")
			}
		}
		io.WriteString(w, b.String())
	}))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() { done <- parseErr }()
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, done
}

func TestCleanupWhenTheClientGoesAway(t *testing.T) {
	for _, chunked := range []bool{false, true} {
		t.Run("chunked="+strconv.FormatBool(chunked), func(t *testing.T) {
			f, dir := newFilter(t)
			srv, done := server(t, f)
			conn, err := net.Dial("tcp", srv.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			head := "POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=" + bnd + "\r\n"
			part := "--" + bnd + "\r\n" + filePart("f", "big.bin", "", repeat("x", 100<<10))
			if chunked {
				head += "Transfer-Encoding: chunked\r\n\r\n" + strconv.FormatInt(int64(len(part)), 16) + "\r\n" + part + "\r\n"
			} else {
				head += "Content-Length: 10000000\r\n\r\n" + part
			}
			if _, err := io.WriteString(conn, head); err != nil {
				t.Fatal(err)
			}
			conn.Close() // mid-upload
			err = <-done
			var e *upload.Error
			if !errors.As(err, &e) || e.Status != 400 {
				t.Errorf("Parse returned %v, want a 400 *upload.Error", err)
			}
			assertEmpty(t, dir)
		})
	}
}

func TestARealServerChunked(t *testing.T) {
	f, dir := newFilter(t)
	f.MaxBodyBytes = 1 << 20
	srv, done := server(t, f)
	send := func(body string) (*http.Response, string) {
		pr, pw := io.Pipe()
		go func() {
			io.WriteString(pw, body)
			pw.Close()
		}()
		req, _ := http.NewRequest("POST", srv.URL+"/upload", pr) // chunked: no length
		req.Header.Set("Content-Type", "multipart/form-data; boundary="+bnd)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		<-done
		return resp, string(b)
	}
	resp, body := send(mpBody(filePart("f", "f.bin", "", repeat("y", 300<<10))))
	if resp.StatusCode != 200 || resp.ContentLength == 0 || !strings.HasPrefix(body, "f=307200 ") {
		t.Errorf("%s: %q", resp.Status, body)
	}
	resp, body = send(mpBody(filePart("f", "f.bin", "", repeat("y", 2<<20))))
	if resp.StatusCode != 413 || !strings.Contains(body, "MaxBodyBytes") {
		t.Errorf("%s: %q", resp.Status, body)
	}
	assertEmpty(t, dir)
}

// TestAKeepAliveConnectionAfterAForm checks that a form read to its end
// leaves the connection usable for the next request.
func TestAKeepAliveConnectionAfterAForm(t *testing.T) {
	f, _ := newFilter(t)
	srv, done := server(t, f)
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	br := bufio.NewReader(conn)
	for i := range 2 {
		body := mpBody(filePart("f", "f", "", repeat("z", 1000+i)))
		io.WriteString(conn, "POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary="+bnd+
			"\r\nContent-Length: "+strconv.Itoa(len(body))+"\r\n\r\n"+body)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		<-done
		if resp.StatusCode != 200 || !strings.HasPrefix(string(b), "f="+strconv.Itoa(1000+i)) {
			t.Errorf("request %d: %s %q", i, resp.Status, b)
		}
	}
}
