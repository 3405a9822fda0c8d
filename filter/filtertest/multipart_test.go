package filtertest_test

import (
	"bytes"
	"io"
	"mime"
	"net/url"
	"strings"
	"testing"

	"github.com/wsapi-go/wsapi/filter/filtertest"
)

func TestPostMultipartParsesBack(t *testing.T) {
	r := filtertest.PostMultipart("/upload",
		url.Values{"title": {"Holiday"}, "tags": {"sea", "sun"}},
		filtertest.File{Field: "photo", Name: `a "b".jpg`, ContentType: "image/jpeg", Content: []byte("JPEG")},
		filtertest.File{Field: "notes", Name: "n.txt", Content: []byte("plain")},
	)
	if r.Method != "POST" {
		t.Errorf("Method = %q", r.Method)
	}
	if r.ContentLength <= 0 || r.Header.Get("Content-Length") == "" {
		t.Errorf("ContentLength = %d, header %q", r.ContentLength, r.Header.Get("Content-Length"))
	}
	if err := r.ParseMultipartForm(1 << 20); err != nil {
		t.Fatal(err)
	}
	if got := r.MultipartForm.Value["tags"]; len(got) != 2 || got[0] != "sea" || got[1] != "sun" {
		t.Errorf("tags = %q", got)
	}
	if got := r.FormValue("title"); got != "Holiday" {
		t.Errorf("title = %q", got)
	}
	tests := []struct {
		field, name, contentType, content string
	}{
		{"photo", `a "b".jpg`, "image/jpeg", "JPEG"},
		{"notes", "n.txt", "application/octet-stream", "plain"},
	}
	for _, tt := range tests {
		f, h, err := r.FormFile(tt.field)
		if err != nil {
			t.Errorf("FormFile(%q): %v", tt.field, err)
			continue
		}
		b, _ := io.ReadAll(f)
		f.Close()
		if h.Filename != tt.name || h.Header.Get("Content-Type") != tt.contentType || string(b) != tt.content {
			t.Errorf("file %q = %q %q %q, want %q %q %q", tt.field,
				h.Filename, h.Header.Get("Content-Type"), b, tt.name, tt.contentType, tt.content)
		}
	}
}

func TestMultipartBodyIsDeterministic(t *testing.T) {
	fields := url.Values{"zeta": {"z"}, "alpha": {"a"}, "mid": {"m"}}
	file := filtertest.File{Field: "f", Name: "f.bin", Content: []byte{0, 1, 2}}
	b1, ct1 := filtertest.MultipartBody(fields, file)
	for range 5 {
		b2, ct2 := filtertest.MultipartBody(fields, file)
		if !bytes.Equal(b1, b2) || ct1 != ct2 {
			t.Fatal("two calls with the same form gave different bodies")
		}
	}
	body := string(b1)
	a, m, z, f := strings.Index(body, `name="alpha"`), strings.Index(body, `name="mid"`),
		strings.Index(body, `name="zeta"`), strings.Index(body, `name="f"`)
	if a < 0 || a >= m || m >= z || z >= f {
		t.Errorf("fields not in sorted order before the file: alpha %d, mid %d, zeta %d, file %d", a, m, z, f)
	}
	if ct1 != "multipart/form-data; boundary=filtertest-boundary" {
		t.Errorf("content type = %q", ct1)
	}
}

func TestMultipartBodyAvoidsABoundaryInTheContent(t *testing.T) {
	tests := []struct {
		name     string
		fields   url.Values
		files    []filtertest.File
		boundary string
	}{
		{"an empty form keeps the fixed boundary", nil, nil, "filtertest-boundary"},
		{"a field value with the boundary gets the next one",
			url.Values{"x": {"--filtertest-boundary--"}}, nil, "filtertest-boundary-1"},
		{"file content with the first two boundaries gets the third",
			nil, []filtertest.File{{Field: "f", Content: []byte("filtertest-boundary-1")}}, "filtertest-boundary-2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, ct := filtertest.MultipartBody(tt.fields, tt.files...)
			_, params, err := mime.ParseMediaType(ct)
			if err != nil {
				t.Fatal(err)
			}
			if params["boundary"] != tt.boundary {
				t.Errorf("boundary = %q, want %q", params["boundary"], tt.boundary)
			}
		})
	}
}
