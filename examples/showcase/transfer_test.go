package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wsapi-go/wsapi"
)

// launch serves a's handler with a real Launcher (its ReadTimeout set to
// readTimeout) and returns the base URL.
func launch(t *testing.T, a *testApp, readTimeout time.Duration) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := &wsapi.Launcher{ReadTimeout: readTimeout, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Serve(ctx, ln, a.s.handler) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return "http://" + ln.Addr().String()
}

// putFile writes a file of user straight into the store and returns its id.
func putFile(t *testing.T, a *testApp, user string, content []byte) string {
	t.Helper()
	id := newID()
	dir := a.s.files.dir(user)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	m, _ := json.Marshal(fileMeta{ID: id, Name: "big.bin", Size: int64(len(content)), Type: "application/octet-stream", Time: time.Now()})
	if err := os.WriteFile(filepath.Join(dir, id+dataSuffix), content, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, id+metaSuffix), m, 0o600); err != nil {
		t.Fatal(err)
	}
	return id
}

func TestSlowBodyNeverHoldsTheBulkhead(t *testing.T) {
	// One slot in the app: a client that trickles its login form must not
	// take it.
	a := start(t, func(c *config) { c.maxInApp, c.smallBodyTimeout = 1, time.Second })
	base := launch(t, a, time.Minute)
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nusername=d")

	c := newClient(t, base)
	for i := range 3 {
		start := time.Now()
		resp, _ := c.page("/login")
		if resp.StatusCode != 200 || time.Since(start) > 5*time.Second {
			t.Fatalf("GET /login %d while a login body trickles: %d after %v", i, resp.StatusCode, time.Since(start))
		}
	}
	if resp, body := c.do("GET", "/healthz", nil); resp.StatusCode != 200 || body != "ok" {
		t.Errorf("/healthz: %d %q", resp.StatusCode, body)
	}
	_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("the slow client got no answer: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestTimeout {
		t.Errorf("the slow login body: %d, want 408", resp.StatusCode)
	}

	// A body above the cap is refused at the door.
	resp2, _ := c.do("POST", "/login", strings.NewReader("username="+strings.Repeat("x", maxSmallBody)),
		"Content-Type", "application/x-www-form-urlencoded", "Accept", "text/html")
	if resp2.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("a 64 KiB login body: %d, want 413", resp2.StatusCode)
	}
}

// slowUpload sends one file of n chunks of size bytes through the API,
// with pause between chunks, and returns the status and body.
func slowUpload(t *testing.T, base string, chunks, size int, pause time.Duration) (int, string) {
	t.Helper()
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		fw, err := mw.CreateFormFile("file", "slow.bin")
		if err == nil {
			for i := range chunks {
				if i > 0 {
					time.Sleep(pause)
				}
				if _, err = fw.Write(bytes.Repeat([]byte{0, 1, 2, 3}, size/4)); err != nil {
					break
				}
			}
		}
		if err == nil {
			err = mw.Close()
		}
		pw.CloseWithError(err)
	}()
	req, _ := http.NewRequest("POST", base+"/api/files", pr)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := (&http.Client{Timeout: time.Minute}).Do(req)
	if err != nil {
		pr.CloseWithError(err)
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestSlowUploadOutlivesReadTimeoutAndDeadline(t *testing.T) {
	// ReadTimeout and the app's deadline are 1 second; the upload takes
	// about 3, and its bytes keep coming.
	a := start(t, func(c *config) { c.requestDeadline, c.ioIdleTimeout = time.Second, 2*time.Second })
	base := launch(t, a, time.Second)
	status, body := slowUpload(t, base, 11, 16<<10, 300*time.Millisecond)
	if status != http.StatusCreated || !strings.Contains(body, `"size":180224`) {
		t.Fatalf("a slow upload: %d %s", status, body)
	}
	waitEmpty(t, a.cfg.Tmp)
}

func TestStalledUploadIsCut(t *testing.T) {
	a := start(t, func(c *config) { c.ioIdleTimeout = time.Second })
	base := launch(t, a, time.Minute)
	status, body := slowUpload(t, base, 2, 4<<10, 4*time.Second)
	if status != http.StatusBadRequest || !strings.Contains(body, "no data came") {
		t.Errorf("an upload that stalls: %d %s, want 400 saying no data came", status, body)
	}
	waitEmpty(t, a.cfg.Tmp)
}

func TestLongStreamAndDownloadOutliveTheDeadline(t *testing.T) {
	a := start(t, func(c *config) { c.requestDeadline = time.Second })
	base := launch(t, a, time.Second) // ReadTimeout too: it must not end them
	c := newClient(t, base)
	c.mustLogin(demoUser, testPassword)

	resp, body := c.page("/stream?n=4&ms=700")
	if resp.StatusCode != 200 || !strings.Contains(body, "All 4 chunks sent.") {
		t.Errorf("a 2-second stream with a 1-second deadline: %d\n%s", resp.StatusCode, body)
	}

	content := bytes.Repeat([]byte("0123456789abcdef"), 1<<20) // 16 MiB
	id := putFile(t, a, demoUser, content)
	req, _ := http.NewRequest("GET", base+"/files/"+id, nil)
	r, err := c.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	h := sha256.New()
	buf := make([]byte, 256<<10)
	var n int64
	for {
		k, err := r.Body.Read(buf)
		h.Write(buf[:k])
		n += int64(k)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("the download failed after %d bytes: %v", n, err)
		}
		time.Sleep(40 * time.Millisecond) // 16 MiB in about 2.5 s at most
	}
	if want := sha256.Sum256(content); n != int64(len(content)) || !bytes.Equal(h.Sum(nil), want[:]) {
		t.Errorf("the slow download: %d bytes, want %d, the same content", n, len(content))
	}
}

func TestStalledDownloadIsAnErrorNotAShortFile(t *testing.T) {
	a := start(t, func(c *config) { c.ioIdleTimeout = time.Second })
	base := launch(t, a, time.Minute)
	c := newClient(t, base)
	c.mustLogin(demoUser, testPassword)
	content := bytes.Repeat([]byte("x"), 48<<20) // more than the sockets' buffers
	id := putFile(t, a, demoUser, content)
	req, _ := http.NewRequest("GET", base+"/files/"+id, nil)
	r, err := c.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	if r.ContentLength != int64(len(content)) {
		t.Fatalf("Content-Length %d, want %d", r.ContentLength, len(content))
	}
	time.Sleep(5 * time.Second) // the client stops reading: the server cuts
	n, err := io.Copy(io.Discard, r.Body)
	if err == nil || n == int64(len(content)) {
		t.Errorf("a cut download read %d of %d bytes with error %v; want an error", n, len(content), err)
	}
}
