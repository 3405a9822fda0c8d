package upload_test

import (
	"bytes"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"testing"

	"github.com/wsapi-go/wsapi/filter/filtertest"
	"github.com/wsapi-go/wsapi/filters/upload"
)

// discard is a ResponseWriter that keeps nothing.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(p []byte) (int, error) { return len(p), nil }
func (d *discard) WriteHeader(int)             {}

// resettable is a request body that can be served again.
type resettable struct{ bytes.Reader }

func (*resettable) Close() error { return nil }

// benchForm is a 10 KiB upload: two fields and one file.
func benchForm() (body []byte, ctype string) {
	content := bytes.Repeat([]byte("0123456789abcdef"), 10<<10/16)
	return filtertest.MultipartBody(url.Values{"title": {"report"}, "tags": {"a"}},
		filtertest.File{Field: "file", Name: "report.txt", ContentType: "text/plain", Content: content})
}

// BenchmarkUpload10KiB reads a 10 KiB upload (two fields, one file)
// through the filter and with ParseMultipartForm, the file stored on disk
// by both; and with ParseMultipartForm keeping it in memory.
func BenchmarkUpload10KiB(b *testing.B) {
	body, ctype := benchForm()
	dir := b.TempDir()
	b.Setenv("TMPDIR", dir) // ParseMultipartForm stores in the same directory
	run := func(b *testing.B, h http.Handler) {
		rd := &resettable{}
		r := filtertest.NewRequest("POST", "/", rd)
		r.Header.Set("Content-Type", ctype)
		r.ContentLength = int64(len(body))
		w := &discard{h: http.Header{}}
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			rd.Reset(body)
			r.MultipartForm, r.Form, r.PostForm = nil, nil, nil
			h.ServeHTTP(w, r)
		}
	}
	f := upload.New()
	f.Sink = upload.DirSink{Dir: dir}
	ours := f.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		form, err := upload.Parse(r)
		if err != nil || form.File("file").Size != 10<<10 {
			b.Fatal(err)
		}
	}))
	peer := func(maxMemory int64) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if err := r.ParseMultipartForm(maxMemory); err != nil {
				b.Fatal(err)
			}
			r.MultipartForm.RemoveAll()
		})
	}
	b.Run("wsapi", func(b *testing.B) { run(b, ours) })
	b.Run("ParseMultipartForm/disk", func(b *testing.B) { run(b, peer(0)) })
	b.Run("ParseMultipartForm/memory", func(b *testing.B) { run(b, peer(32<<20)) })
}

// genBody yields a multipart body with one file of n pseudo-random bytes,
// generated as it is read.
type genBody struct {
	head, tail []byte
	pattern    []byte
	n, off     int64
}

const genBoundary = "gen-boundary-5ec1d0a7f9b2"

var genPattern = func() []byte {
	rng := rand.New(rand.NewPCG(1, 2))
	p := make([]byte, 256<<10)
	for i := range p {
		p[i] = byte(rng.Uint32())
	}
	return p
}()

func newGenBody(n int64) *genBody {
	return &genBody{
		head:    []byte("--" + genBoundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n"),
		tail:    []byte("\r\n--" + genBoundary + "--\r\n"),
		pattern: genPattern,
		n:       n,
	}
}

func (g *genBody) size() int64 { return int64(len(g.head)) + g.n + int64(len(g.tail)) }

func (g *genBody) Read(p []byte) (int, error) {
	h, n := int64(len(g.head)), g.n
	switch {
	case g.off < h:
		c := copy(p, g.head[g.off:])
		g.off += int64(c)
		return c, nil
	case g.off < h+n:
		left := h + n - g.off
		pos := (g.off - h) % int64(len(g.pattern))
		c := copy(p[:min(int64(len(p)), left)], g.pattern[pos:])
		g.off += int64(c)
		return c, nil
	case g.off < h+n+int64(len(g.tail)):
		c := copy(p, g.tail[g.off-h-n:])
		g.off += int64(c)
		return c, nil
	}
	return 0, io.EOF
}

func (g *genBody) Close() error { return nil }

// BenchmarkUploadLarge streams one 64 MiB file to disk through the filter,
// through ParseMultipartForm (which spools it to a temporary file past
// 32 MiB), and with a plain io.Copy of the body to a file.
func BenchmarkUploadLarge(b *testing.B) {
	const size = 64 << 20
	dir := b.TempDir()
	b.Setenv("TMPDIR", dir) // ParseMultipartForm stores in the same directory
	run := func(b *testing.B, h http.Handler) {
		w := &discard{h: http.Header{}}
		b.SetBytes(newGenBody(size).size())
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			g := newGenBody(size)
			r := filtertest.NewRequest("POST", "/", g)
			r.ContentLength = g.size()
			r.Header.Set("Content-Type", "multipart/form-data; boundary="+genBoundary)
			h.ServeHTTP(w, r)
		}
	}
	f := upload.New()
	f.Sink = upload.DirSink{Dir: dir}
	f.MaxBodyBytes, f.MaxFileBytes = 1<<30, 1<<30
	b.Run("wsapi", func(b *testing.B) {
		run(b, f.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			form, err := upload.Parse(r)
			if err != nil || form.File("file").Size != size {
				b.Fatal(err)
			}
		})))
	})
	nohash := *f
	nohash.SkipSHA256 = true
	b.Run("wsapi/SkipSHA256", func(b *testing.B) {
		run(b, nohash.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			form, err := upload.Parse(r)
			if err != nil || form.File("file").Size != size {
				b.Fatal(err)
			}
		})))
	})
	b.Run("ParseMultipartForm", func(b *testing.B) {
		run(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if err := r.ParseMultipartForm(32 << 20); err != nil {
				b.Fatal(err)
			}
			r.MultipartForm.RemoveAll()
		}))
	})
	b.Run("io.Copy", func(b *testing.B) {
		run(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			out, err := os.CreateTemp(dir, "copy-*")
			if err != nil {
				b.Fatal(err)
			}
			if _, err := io.Copy(out, r.Body); err != nil {
				b.Fatal(err)
			}
			out.Close()
			os.Remove(out.Name())
		}))
	})
}

// BenchmarkPassThrough is a request without a form: the filter does
// nothing.
func BenchmarkPassThrough(b *testing.B) {
	h := upload.New().Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	r := filtertest.Get("/")
	w := &discard{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(w, r)
	}
}
