package main

import (
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
)

func streamBody(n, chunks int, done bool) []byte {
	var b strings.Builder
	b.WriteString(`<header><span id="user">demo</span></header><ol id="chunks">` + "\n")
	for i := 1; i <= chunks; i++ {
		fmt.Fprintf(&b, `<li class="chunk">chunk %d of %d, sent at 12:00:00.000</li>`+"\n", i, n)
	}
	if done {
		fmt.Fprintf(&b, `</ol><p id="stream-done" class="flash ok">All %d chunks sent.</p>`, n)
	}
	return []byte(b.String())
}

func TestCheckStream(t *testing.T) {
	if p := checkStream(streamBody(10, 10, true), 10); p != "" {
		t.Errorf("a whole stream failed: %s", p)
	}
	for name, body := range map[string][]byte{
		"a chunk missing":  streamBody(10, 9, true),
		"no closing":       streamBody(10, 10, false),
		"other chunk size": streamBody(20, 10, true),
		"empty":            nil,
	} {
		if p := checkStream(body, 10); p == "" {
			t.Errorf("%s: passed", name)
		}
	}
}

func TestCheckFlash(t *testing.T) {
	page := []byte(`<main><p class="flash ok" role="status">Uploaded soak-1-2.txt (3.0 KiB).</p>`)
	if p := checkFlash(page, "soak-1-2.txt"); p != "" {
		t.Errorf("the flash was not found: %s", p)
	}
	if p := checkFlash(page, "soak-1-3.txt"); p == "" {
		t.Error("another file's flash passed")
	}
	failed := []byte(`<p id="upload-error" class="flash error" role="alert">Files of type text/html are not allowed.</p>`)
	if p := checkFlash(failed, "soak-1-3.txt"); !strings.Contains(p, `"Files of type text/html are not allowed."`) {
		t.Errorf("the upload error is not quoted: %s", p)
	}
	hidden := []byte(`<p id="upload-error" class="flash error" role="alert" hidden></p>`)
	if p := checkFlash(hidden, "soak-1-3.txt"); !strings.Contains(p, "no flash") {
		t.Errorf("a hidden upload error: %s", p)
	}
}

func TestKindNames(t *testing.T) {
	seen := map[string]bool{}
	for k := Kind(0); k < numKinds; k++ {
		name := k.String()
		if name == "" || seen[name] {
			t.Errorf("kind %d has the name %q, empty or taken", k, name)
		}
		seen[name] = true
	}
	if Kind(-1).String() != "unknown" || numKinds.String() != "unknown" {
		t.Error("an out-of-range kind has a name")
	}
}

func TestMultipartBody(t *testing.T) {
	r, n := multipartBody("a.txt", []byte("hello"))
	body, err := io.ReadAll(r)
	if err != nil || int64(len(body)) != n {
		t.Fatalf("read %d bytes (%v), want the announced %d", len(body), err, n)
	}
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	part, err := mr.NextPart()
	if err != nil {
		t.Fatalf("not a multipart body: %v\n%q", err, body)
	}
	data, _ := io.ReadAll(part)
	if part.FormName() != "file" || part.FileName() != "a.txt" || string(data) != "hello" {
		t.Errorf("part %q %q %q, want file a.txt hello", part.FormName(), part.FileName(), data)
	}
	if _, err := mr.NextPart(); err != io.EOF {
		t.Errorf("after the part: %v, want io.EOF", err)
	}
}

func TestContentSniffsAllowed(t *testing.T) {
	if len(textHead) != 40 || len(binaryHead) != 40 {
		t.Fatalf("heads of %d and %d bytes, want 40", len(textHead), len(binaryHead))
	}
	g := newGen("http://127.0.0.1:1", "pw", "token", 1<<10, 0)
	seen := map[string]int{}
	for n := 1; n <= 64; n++ {
		v := newVU(g, n)
		for i := range 200 {
			size := 64 + v.rng.IntN(64<<10-64)
			if i%10 == 0 {
				size = 64
			}
			data, name := v.content(size)
			if len(data) != size {
				t.Fatalf("content(%d) gave %d bytes", size, len(data))
			}
			ct := http.DetectContentType(data)
			want := "text/plain; charset=utf-8"
			if strings.HasSuffix(name, ".bin") {
				want = "application/octet-stream"
			}
			if ct != want {
				t.Fatalf("%s (%d bytes) sniffs as %s, want %s", name, size, ct, want)
			}
			seen[ct]++
		}
	}
	if len(seen) != 2 {
		t.Errorf("types seen: %v, want text and binary", seen)
	}
}
