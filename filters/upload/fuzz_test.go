package upload_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/wsapi-go/wsapi/filter/filtertest"
	"github.com/wsapi-go/wsapi/filters/upload"
)

// memSink keeps files in memory and counts those not yet removed.
type memSink struct {
	mu   sync.Mutex
	live int
}

type memFile struct {
	s       *memSink
	b       bytes.Buffer
	removed bool
}

func (s *memSink) Create(*upload.File) (upload.Stored, error) {
	s.mu.Lock()
	s.live++
	s.mu.Unlock()
	return &memFile{s: s}, nil
}

func (m *memFile) Write(p []byte) (int, error) { return m.b.Write(p) }
func (m *memFile) Close() error                { return nil }
func (m *memFile) Open() (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(m.b.Bytes())), nil
}
func (m *memFile) MoveTo(string) error { return errors.New("memFile: cannot move") }
func (m *memFile) Remove() error {
	if !m.removed {
		m.removed = true
		m.s.mu.Lock()
		m.s.live--
		m.s.mu.Unlock()
	}
	return nil
}

// fuzzFilter is a filter with small limits on a memory sink.
func fuzzFilter() (*upload.Filter, *memSink) {
	s := &memSink{}
	f := upload.New()
	f.Sink = s
	f.MaxBodyBytes = 1 << 20
	f.MaxFileBytes = 300
	f.MaxFiles = 3
	f.MaxParts = 8
	f.MaxFieldBytes = 200
	f.MaxPartHeaderBytes = 300
	f.MaxPreambleBytes = 50
	f.MaxDispositionBytes = 200
	f.MaxDispositionParams = 4
	f.MaxFileNameBytes = 20
	return f, s
}

// FuzzMultipart feeds the parser arbitrary bodies and checks that it
// answers with one of its statuses, keeps every limit, stores exactly what
// it reports, and leaves no file behind.
func FuzzMultipart(f *testing.F) {
	f.Add(mpBody(fieldPart("a", "1"), filePart("f", "../x.png", "image/png", pngHead)), bnd, false)
	f.Add("pre\r\n"+mpBody(fieldPart("a", "x\r\n-"), filePart("f", "", "", "")), bnd, true)
	f.Add(mpBody("Content-Disposition: form-data; name=\"f\"; filename*=UTF-8''a%2Fb\r\n\r\n--"+bnd), bnd, false)
	f.Add("--b \t\r\nContent-Disposition: form-data; name=a\r\n\r\n\r\n--b--", "b", true)
	f.Add("--"+bnd+"\r\n"+cdLine+" x\r\n\r\n", bnd, false)
	f.Add(mpBody(filePart("f", `a\"b`, "text/plain; charset=x", strings.Repeat("\r\n--", 30))), bnd, false)
	f.Fuzz(func(t *testing.T, body, boundary string, chunked bool) {
		flt, sink := fuzzFilter()
		var r *http.Request
		if chunked {
			r = postChunked(strings.NewReader(body))
		} else {
			r = post(body)
		}
		r.Header.Set("Content-Type", `multipart/form-data; boundary="`+strings.ReplaceAll(boundary, `"`, ``)+`"`)
		rec := filtertest.NewRecorder()
		flt.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			form, err := upload.Parse(r)
			if err != nil {
				upload.WriteError(w, err)
				return
			}
			checkForm(t, flt, form)
		})).ServeHTTP(rec, r)
		switch rec.Code {
		case 200, 400, 413, 415:
		default:
			t.Fatalf("status %d: %q", rec.Code, rec.Body.String())
		}
		if sink.live != 0 {
			t.Fatalf("%d stored files left", sink.live)
		}
	})
}

// checkForm checks a parsed form against the filter's limits and the
// stored content.
func checkForm(t *testing.T, f *upload.Filter, form *upload.Form) {
	t.Helper()
	fieldBytes, files, parts := 0, 0, 0
	for _, vs := range form.Values {
		for _, v := range vs {
			fieldBytes += len(v)
			parts++
		}
	}
	for _, fs := range form.Files {
		for _, file := range fs {
			files++
			parts++
			if file.Size > f.MaxFileBytes {
				t.Fatalf("a file of %d bytes passed MaxFileBytes %d", file.Size, f.MaxFileBytes)
			}
			if file.Name != upload.CleanFileName(file.Name, f.MaxFileNameBytes) {
				t.Fatalf("file name %q is not clean", file.Name)
			}
			rc, _ := file.Open()
			b, _ := io.ReadAll(rc)
			if int64(len(b)) != file.Size || sha256.Sum256(b) != file.SHA256 || http.DetectContentType(b) != file.Sniffed {
				t.Fatalf("file %+v does not describe its %d stored bytes", file, len(b))
			}
		}
	}
	if int64(fieldBytes) > f.MaxFieldBytes || files > f.MaxFiles || parts > f.MaxParts {
		t.Fatalf("limits passed: %d field bytes, %d files, %d parts", fieldBytes, files, parts)
	}
}

// FuzzMultipartRoundTrip checks that a form written by mime/multipart
// reads back as written.
func FuzzMultipartRoundTrip(f *testing.F) {
	f.Add("title", "Holiday", "photo", "../a \"b\".png", "content", uint8(0))
	f.Add("", "", "f", "", "", uint8(3))
	f.Add("näme", "v\r\n--x", `f\x`, `C:\a\b.txt`, "\r\n--fuzz-boundary-0", uint8(7))
	f.Fuzz(func(t *testing.T, name, value, fileField, fileName, content string, chunkSize uint8) {
		const boundary = "fuzz-boundary-0123456789"
		for _, s := range []string{name, value, fileField, fileName, content} {
			if strings.Contains(s, boundary) {
				t.Skip()
			}
		}
		for _, s := range []string{name, fileField, fileName} {
			if strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) || len(s) > 1000 {
				t.Skip()
			}
		}
		var buf bytes.Buffer
		w := multipart.NewWriter(&buf)
		w.SetBoundary(boundary)
		w.WriteField(name, value)
		esc := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
		h := textproto.MIMEHeader{"Content-Disposition": {`form-data; name="` + esc.Replace(fileField) + `"; filename="` + esc.Replace(fileName) + `"`}}
		pw, _ := w.CreatePart(h)
		io.WriteString(pw, content)
		w.Close()

		flt, sink := fuzzFilter()
		flt.MaxFieldBytes, flt.MaxFileBytes, flt.MaxDispositionBytes, flt.MaxPartHeaderBytes = 1<<20, 1<<20, 4096, 8192
		var rd io.Reader = bytes.NewReader(buf.Bytes())
		if chunkSize > 0 {
			rd = &smallReads{r: rd, n: int(chunkSize)}
		}
		r := filtertest.NewRequest("POST", "/", rd)
		r.Header.Set("Content-Type", w.FormDataContentType())
		var form *upload.Form
		var err error
		flt.Wrap(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
			form, err = upload.Parse(r)
			if err != nil {
				return
			}
			if got := form.Values[name]; len(got) != 1 || got[0] != value {
				t.Fatalf("field %q = %q, want %q", name, got, value)
			}
			fs := form.Files[fileField]
			if fileName == "" && content == "" {
				if len(fs) != 0 {
					t.Fatalf("an empty file input gave %v", fs)
				}
				return
			}
			if len(fs) != 1 {
				t.Fatalf("files under %q: %v", fileField, form.Files)
			}
			rc, _ := fs[0].Open()
			b, _ := io.ReadAll(rc)
			if string(b) != content || fs[0].Name != upload.CleanFileName(fileName, flt.MaxFileNameBytes) {
				t.Fatalf("file %q with %q, want %q with %q", fs[0].Name, b, fileName, content)
			}
		})).ServeHTTP(filtertest.NewRecorder(), r)
		if err != nil {
			t.Fatalf("a form written by mime/multipart: %v", err)
		}
		if sink.live != 0 {
			t.Fatalf("%d stored files left", sink.live)
		}
	})
}

// smallReads returns at most n bytes per Read, to move the boundary
// across buffer edges.
type smallReads struct {
	r io.Reader
	n int
}

func (s *smallReads) Read(p []byte) (int, error) {
	if len(p) > s.n {
		p = p[:s.n]
	}
	return s.r.Read(p)
}

func FuzzCleanFileName(f *testing.F) {
	for _, s := range []string{"CON", "nul.tar.gz", "a:b", "COM\u00b9 .x", "a.txt", "../../etc/passwd", `C:\x\y.exe`, "..", ".htaccess", "a\x00b", "\u202eexe.png", strings.Repeat("é", 200) + ".jpeg", "\xff\xfe.txt", " . .x. "} {
		f.Add(s, 255)
	}
	f.Fuzz(func(t *testing.T, name string, max int) {
		if max > 1<<16 {
			max = 1 << 16
		}
		got := upload.CleanFileName(name, max)
		limit := max
		if limit < 1 {
			limit = 255
		}
		switch {
		case len(got) > limit:
			t.Fatalf("%q is %d bytes, over %d", got, len(got), limit)
		case !utf8.ValidString(got):
			t.Fatalf("%q is not UTF-8", got)
		case strings.ContainsAny(got, "/\\\x00\r\n"):
			t.Fatalf("%q has a separator or a control character", got)
		case strings.ContainsAny(got, `<>:"|?*`):
			t.Fatalf("%q has a character Windows forbids", got)
		case isDeviceName(got):
			t.Fatalf("%q names a Windows device", got)
		case strings.HasPrefix(got, ".") || strings.HasPrefix(got, " ") || strings.HasSuffix(got, ".") || strings.HasSuffix(got, " "):
			t.Fatalf("%q starts or ends with a dot or a space", got)
		case upload.CleanFileName(got, max) != got:
			t.Fatalf("%q is not stable", got)
		}
		for _, r := range got {
			if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
				t.Fatalf("%q has a control character", got)
			}
		}
	})
}

// isDeviceName reports whether Windows opens a device for name.
func isDeviceName(name string) bool {
	base, _, _ := strings.Cut(name, ".")
	base = strings.ToUpper(strings.TrimRight(base, " "))
	switch base {
	case "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$":
		return true
	}
	if len(base) < 4 || base[:3] != "COM" && base[:3] != "LPT" {
		return false
	}
	switch base[3:] {
	case "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "\u00b9", "\u00b2", "\u00b3":
		return true
	}
	return false
}

// FuzzURLEncoded checks the urlencoded parser against url.ParseQuery.
func FuzzURLEncoded(f *testing.F) {
	for _, s := range []string{"a=1&b=2", "a&&b=%20", "=x&y=", "a=%zz", "a;b=1", "%41=%42+c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		flt := upload.New()
		flt.MaxPairs = 50
		r := filtertest.NewRequest("POST", "/", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		var form *upload.Form
		var err error
		flt.Wrap(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
			form, err = upload.Parse(r)
		})).ServeHTTP(filtertest.NewRecorder(), r)
		want, werr := url.ParseQuery(body)
		if werr != nil {
			return
		}
		if len(want) <= 0 && err == nil && len(form.Values) == 0 {
			return
		}
		pairs := 0
		for _, vs := range want {
			pairs += len(vs)
		}
		if pairs > flt.MaxPairs {
			var e *upload.Error
			if !errors.As(err, &e) || e.Limit != "MaxPairs" {
				t.Fatalf("%d pairs: %v", pairs, err)
			}
			return
		}
		if err != nil || !reflect.DeepEqual(form.Values, want) {
			t.Fatalf("Parse(%q) = %v, %v; url.ParseQuery says %v", body, form.Values, err, want)
		}
	})
}
