package upload_test

import (
	"errors"
	"io"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/wsapi-go/wsapi/filter/filtertest"
	"github.com/wsapi-go/wsapi/filters/upload"
)

// cdLine is the Content-Disposition line of a field named "a".
const cdLine = "Content-Disposition: form-data; name=\"a\"\r\n"

// overhead is the length of a body whose one file part is empty.
var overhead = len(mpBody(filePart("f", "f.bin", "", "")))

func urlencoded(body string, chunked bool) *http.Request {
	var rd io.Reader = strings.NewReader(body)
	if chunked {
		rd = io.MultiReader(rd)
	}
	r := filtertest.NewRequest("POST", "/", rd)
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return r
}

// TestLimits runs each limit at N, which passes, and at N+1, which is
// refused with the status and a body that names the limit.
func TestLimits(t *testing.T) {
	tests := []struct {
		limit  string
		n      int
		set    func(f *upload.Filter, n int)
		req    func(n int) *http.Request
		status int
	}{{
		limit: "MaxParts", n: upload.DefaultMaxParts, // thousands of tiny parts
		req: func(n int) *http.Request {
			parts := make([]string, n)
			for i := range parts {
				parts[i] = fieldPart("a", "")
			}
			return post(mpBody(parts...))
		},
	}, {
		limit: "MaxFiles", n: 5,
		set: func(f *upload.Filter, n int) { f.MaxFiles = n },
		req: func(n int) *http.Request {
			parts := make([]string, n)
			for i := range parts {
				parts[i] = filePart("f", "f"+strconv.Itoa(i), "", "x")
			}
			return post(mpBody(parts...))
		},
	}, {
		limit: "MaxFileBytes", n: 1000,
		set: func(f *upload.Filter, n int) { f.MaxFileBytes = int64(n) },
		req: func(n int) *http.Request { return post(mpBody(filePart("f", "f", "", repeat("x", n)))) },
	}, {
		limit: "MaxFieldBytes", n: 1000, // one huge text field
		set: func(f *upload.Filter, n int) { f.MaxFieldBytes = int64(n) },
		req: func(n int) *http.Request { return post(mpBody(fieldPart("a", repeat("x", n-1)))) }, // the name counts
	}, {
		limit: "MaxFieldBytes", n: 10 * 1000, // many medium fields
		set: func(f *upload.Filter, n int) { f.MaxFieldBytes = int64(n) },
		req: func(n int) *http.Request {
			var parts []string
			for ; n > 0; n -= 1000 { // a 1-byte name and up to 999 bytes of value
				parts = append(parts, fieldPart("a", repeat("x", min(n, 1000)-1)))
			}
			return post(mpBody(parts...))
		},
	}, {
		limit: "MaxPreambleBytes", n: upload.DefaultMaxPreambleBytes, // a huge preamble
		req: func(n int) *http.Request { return post(repeat("p", n) + "\r\n" + mpBody(fieldPart("a", "1"))) },
	}, {
		limit: "MaxPartHeaderBytes", n: upload.DefaultMaxPartHeaderBytes,
		req: func(n int) *http.Request {
			pad := "X-Pad: " + repeat("h", n-len(cdLine)-len("X-Pad: \r\n\r\n")) + "\r\n"
			return post("--" + bnd + "\r\n" + cdLine + pad + "\r\nv\r\n--" + bnd + "--\r\n")
		},
	}, {
		limit: "MaxDispositionBytes", n: upload.DefaultMaxDispositionBytes,
		req: func(n int) *http.Request {
			v := `form-data; name="a"; x="` + repeat("d", n-len(`form-data; name="a"; x=""`)) + `"`
			return post(mpBody("Content-Disposition: " + v + "\r\n\r\nv"))
		},
	}, {
		limit: "MaxDispositionParams", n: upload.DefaultMaxDispositionParams,
		req: func(n int) *http.Request {
			v := `form-data; name="a"` + repeat("; p=1", n-1)
			return post(mpBody("Content-Disposition: " + v + "\r\n\r\nv"))
		},
	}, {
		limit: "MaxBoundaryLen", n: 70, status: 400, // a boundary over 70 characters
		req: func(n int) *http.Request {
			b := repeat("b", n)
			r := post(strings.ReplaceAll(mpBody(fieldPart("a", "1")), bnd, b))
			r.Header.Set("Content-Type", "multipart/form-data; boundary="+b)
			return r
		},
	}, {
		limit: "MaxBodyBytes", n: 2000, // with a Content-Length
		set: func(f *upload.Filter, n int) { f.MaxBodyBytes = int64(n) },
		req: func(n int) *http.Request { return post(mpBody(filePart("f", "f.bin", "", repeat("x", n-overhead)))) },
	}, {
		limit: "MaxBodyBytes", n: 2000, // chunked, without a Content-Length
		set: func(f *upload.Filter, n int) { f.MaxBodyBytes = int64(n) },
		req: func(n int) *http.Request {
			return postChunked(strings.NewReader(mpBody(filePart("f", "f.bin", "", repeat("x", n-overhead)))))
		},
	}, {
		limit: "MaxURLEncodedBytes", n: 100,
		set: func(f *upload.Filter, n int) { f.MaxURLEncodedBytes = int64(n) },
		req: func(n int) *http.Request { return urlencoded("a="+repeat("x", n-2), false) },
	}, {
		limit: "MaxURLEncodedBytes", n: 100, // chunked
		set: func(f *upload.Filter, n int) { f.MaxURLEncodedBytes = int64(n) },
		req: func(n int) *http.Request { return urlencoded("a="+repeat("x", n-2), true) },
	}, {
		limit: "MaxPairs", n: upload.DefaultMaxPairs,
		req: func(n int) *http.Request { return urlencoded(strings.TrimSuffix(repeat("a=1&", n), "&"), false) },
	}}
	for _, tt := range tests {
		t.Run(tt.limit+"/"+strconv.Itoa(tt.n), func(t *testing.T) {
			f, _ := newFilter(t)
			if tt.set != nil {
				tt.set(f, tt.n)
			}
			status := tt.status
			if status == 0 {
				status = http.StatusRequestEntityTooLarge
			}
			wantStatus(t, serve(t, f, formApp(nil), tt.req(tt.n)), 200, "ok")
			wantStatus(t, serve(t, f, formApp(nil), tt.req(tt.n+1)), status, tt.limit)
		})
	}
}

// TestHugeInputsStopEarly streams endless bodies through a pipe and checks
// that reading stopped soon after the limit, with the pipe closed.
func TestHugeInputsStopEarly(t *testing.T) {
	const slack = 1 << 20 // a buffer and the pipe's own chunks
	tests := []struct {
		name, start, chunk, limit string
		status                    int
		set                       func(f *upload.Filter)
	}{
		{"a huge preamble", "", repeat("p", 4096), "MaxPreambleBytes", 413, nil},
		{"a part header that never ends", "--" + bnd + "\r\n" + cdLine + "X-Pad: ", repeat("h", 4096), "MaxPartHeaderBytes", 413, nil},
		{"a header line that never ends in CRLF", "--" + bnd + "\r\nContent-Disposition: form-data; name=\"", repeat("n", 4096), "MaxPartHeaderBytes", 413, nil},
		{"one huge text field", "--" + bnd + "\r\n" + cdLine + "\r\n", repeat("v", 4096), "MaxFieldBytes", 413, nil},
		{"many medium fields", "--" + bnd + "\r\n", cdLine + "\r\n" + repeat("v", 4000) + "\r\n--" + bnd + "\r\n", "MaxFieldBytes", 413, nil},
		{"thousands of tiny parts", "--" + bnd + "\r\n", cdLine + "\r\n\r\n--" + bnd + "\r\n", "MaxParts", 413, nil},
		{"a huge file", "--" + bnd + "\r\nContent-Disposition: form-data; name=\"f\"; filename=\"f\"\r\n\r\n", repeat("f", 4096), "MaxBodyBytes", 413, nil},
		{"a huge file under a small file limit", "--" + bnd + "\r\nContent-Disposition: form-data; name=\"f\"; filename=\"f\"\r\n\r\n", repeat("f", 4096), "MaxFileBytes", 413,
			func(f *upload.Filter) { f.MaxFileBytes = 1 << 20 }},
		{"an executable that claims to be image/png", "--" + bnd + "\r\nContent-Disposition: form-data; name=\"f\"; filename=\"cat.png\"\r\nContent-Type: image/png\r\n\r\n" + elfHead, repeat("\x00", 4096), "", 415,
			func(f *upload.Filter) { f.AllowedTypes = []string{"image/png"} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, _ := newFilter(t)
			if tt.set != nil {
				tt.set(f)
			}
			pr, done := pipe(tt.start, tt.chunk)
			rec := serve(t, f, formApp(nil), postChunked(pr))
			wantStatus(t, rec, tt.status, tt.limit)
			wantClosedEarly(t, done, upload.DefaultMaxBodyBytes+slack)
		})
	}
	t.Run("a urlencoded body", func(t *testing.T) {
		f, _ := newFilter(t)
		pr, done := pipe("a=", repeat("x", 4096))
		r := filtertest.NewRequest("POST", "/", pr)
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		wantStatus(t, serve(t, f, formApp(nil), r), 413, "MaxURLEncodedBytes")
		wantClosedEarly(t, done, upload.DefaultMaxURLEncodedBytes+slack)
	})
}

// shortReader is a body that ends before its Content-Length.
func TestMalformed(t *testing.T) {
	valid := mpBody(fieldPart("a", "1"))
	tests := []struct {
		name, ctype, body, says string
	}{
		{"two boundary parameters", "multipart/form-data; boundary=" + bnd + "; boundary=other", valid, "more than one boundary"},
		{"two boundary parameters, same value", "multipart/form-data; boundary=" + bnd + "; BOUNDARY=" + bnd, valid, "more than one boundary"},
		{"no boundary", "multipart/form-data", valid, "no boundary"},
		{"an empty boundary", `multipart/form-data; boundary=""`, valid, "empty"},
		{"a boundary with a bad character", "multipart/form-data; boundary=\"a\\\\b\"", valid, "boundary"},
		{"an empty body", "", "", "empty"},
		{"no closing boundary", "", "--" + bnd + "\r\n" + cdLine + "\r\nvalue", "closing boundary"},
		{"an obs-fold CR/LF inside a filename", "", mpBody("Content-Disposition: form-data; name=\"f\"; filename=\"a\r\n b.txt\"\r\n\r\nx"), "unterminated"},
		{"an obs-fold line", "", mpBody(cdLine + "X-A: 1\r\n 2\r\n\r\nx"), "obs-fold"},
		{"a bare LF in a header", "", mpBody("Content-Disposition: form-data; name=\"a\"\nX: 1\r\n\r\nx"), "CRLF"},
		{"a bare CR in a header", "", mpBody("Content-Disposition: form-data; name=\"a\"\rX: 1\r\n\r\nx"), "CRLF"},
		{"a NUL in a filename", "", mpBody("Content-Disposition: form-data; name=\"f\"; filename=\"a\x00.txt\"\r\n\r\nx"), "control character"},
		{"no Content-Disposition", "", mpBody("Content-Type: text/plain\r\n\r\nx"), "no Content-Disposition"},
		{"two Content-Dispositions", "", mpBody(cdLine + cdLine + "\r\nx"), "two Content-Disposition"},
		{"not form-data", "", mpBody("Content-Disposition: attachment; name=\"a\"\r\n\r\nx"), "form-data"},
		{"no name", "", mpBody("Content-Disposition: form-data; filename=\"a\"\r\n\r\nx"), "no name"},
		{"two filenames", "", mpBody("Content-Disposition: form-data; name=\"a\"; filename=a; filename=b\r\n\r\nx"), "two filename"},
		{"a header without a name", "", mpBody(": x\r\n" + cdLine + "\r\nx"), "no name"},
		{"text after a boundary", "", "--" + bnd + "x\r\n" + cdLine + "\r\nx\r\n--" + bnd + "--", "after the boundary"},
		{"the boundary inside a part", "", mpBody(fieldPart("a", "x\r\n--"+bnd+"y")), "after the boundary"},
		{"an unquoted filename with a space", "", mpBody("Content-Disposition: form-data; name=\"a\"; filename=a b\r\n\r\nx"), "parameter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, _ := newFilter(t)
			r := post(tt.body)
			if tt.ctype != "" {
				r.Header.Set("Content-Type", tt.ctype)
			}
			wantStatus(t, serve(t, f, formApp(nil), r), 400, tt.says)
		})
	}
	t.Run("a body shorter than its Content-Length", func(t *testing.T) {
		f, _ := newFilter(t)
		body := "--" + bnd + "\r\n" + filePart("f", "f", "", "abc")
		r := post(body)
		r.ContentLength += 100
		r.Header.Set("Content-Length", strconv.FormatInt(r.ContentLength, 10))
		wantStatus(t, serve(t, f, formApp(nil), r), 400, "shorter than its Content-Length")
	})
	t.Run("a Content-Length over MaxBodyBytes", func(t *testing.T) {
		f, _ := newFilter(t)
		pr, done := pipe("", "x")
		r := post("")
		r.Body, r.ContentLength = pr, upload.DefaultMaxBodyBytes+1
		wantStatus(t, serve(t, f, formApp(nil), r), 413, "MaxBodyBytes")
		wantClosedEarly(t, done, 1) // nothing read at all
	})
}

func TestFileNames(t *testing.T) {
	long := repeat("n", 4096) + ".txt"
	tests := []struct{ disposition, want string }{
		{`filename="../../etc/passwd"`, "passwd"},
		{`filename="..\..\windows\win.ini"`, "win.ini"},
		{`filename="C:\Users\ann\report.pdf"`, "report.pdf"},
		{`filename=".htaccess"`, "htaccess"},
		{`filename=".."`, ""},
		{`filename="a \"quoted\" name.txt"`, `a quoted name.txt`},
		{`filename="plain.txt"; filename*=UTF-8''evil.php`, "plain.txt"}, // filename* is ignored (RFC 7578)
		{`filename*=ISO-8859-1''x.txt; filename="kept.txt"`, "kept.txt"},
		{`filename*=UTF-8''%zz; filename="bad-star.txt"`, "bad-star.txt"},
		{`filename="a.txt:evil.exe"`, "a.txtevil.exe"},
		{`filename="nul.txt"`, "_nul.txt"},
		{`filename="` + long + `"`, repeat("n", 251) + ".txt"}, // 4 KB long
		{`filename="evil` + "\u202e" + `gnp.exe"`, "evilgnp.exe"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			f, dir := newFilter(t)
			body := mpBody("Content-Disposition: form-data; name=\"f\"; " + tt.disposition + "\r\n\r\ncontent")
			rec := serve(t, f, formApp(func(form *upload.Form) {
				file := form.File("f")
				if file == nil {
					t.Fatal("no file")
				}
				if file.Name != tt.want {
					t.Errorf("Name = %q, want %q", file.Name, tt.want)
				}
				if !strings.HasPrefix(file.Path(), dir+"/upload-") {
					t.Errorf("stored at %s", file.Path())
				}
			}), post(body))
			wantStatus(t, rec, 200)
		})
	}
}

func TestFileNameStarOnlyIsAField(t *testing.T) {
	f, _ := newFilter(t)
	body := mpBody("Content-Disposition: form-data; name=\"f\"; filename*=UTF-8''evil.php\r\n\r\ncontent")
	rec := serve(t, f, formApp(func(form *upload.Form) {
		if len(form.Files) != 0 || form.Value("f") != "content" {
			t.Errorf("files %v, values %v; want the part as a field", form.Files, form.Values)
		}
	}), post(body))
	wantStatus(t, rec, 200)
}

func TestAllowedTypes(t *testing.T) {
	tests := []struct {
		allowed []string
		content string
		status  int
	}{
		{[]string{"image/png"}, pngHead, 200},
		{[]string{"image/*"}, pngHead, 200},
		{[]string{"image/png"}, elfHead, 415},      // an executable that claims to be image/png
		{[]string{"image/png"}, "MZ\x90\x00", 415}, // a Windows executable
		{[]string{"image/png"}, "<html><script>", 415},
		{[]string{"text/plain"}, "hello", 200},
		{[]string{"image/*"}, "", 415},
	}
	for _, tt := range tests {
		f, _ := newFilter(t)
		f.AllowedTypes = tt.allowed
		rec := serve(t, f, formApp(nil), post(mpBody(filePart("f", "cat.png", "image/png", tt.content))))
		wantStatus(t, rec, tt.status)
		if tt.status == 415 && !strings.Contains(rec.Body.String(), "not an allowed type") {
			t.Errorf("%q: body %q", tt.content, rec.Body.String())
		}
	}
}

func TestTransportPaddingAndPreamble(t *testing.T) {
	f, _ := newFilter(t)
	body := "preamble text\r\n--" + bnd + " \t\r\n" + fieldPart("a", "1") + "\r\n--" + bnd + "--\r\nepilogue"
	rec := serve(t, f, formApp(func(form *upload.Form) {
		if form.Value("a") != "1" {
			t.Errorf("a = %q", form.Value("a"))
		}
	}), post(body))
	wantStatus(t, rec, 200)
}

// failingBody fails its first read: a client that announced a body and
// sent nothing.
type failingBody struct{}

func (failingBody) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }

// allocated returns the bytes fn allocates.
func allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestURLEncodedMemoryFollowsTheBytes checks that an urlencoded body's
// buffer grows with the bytes that arrive, not with the Content-Length.
func TestURLEncodedMemoryFollowsTheBytes(t *testing.T) {
	f, _ := newFilter(t)
	f.MaxURLEncodedBytes = 64 << 20
	h := filtertest.Check(t, f, formApp(nil))
	n := allocated(func() {
		for range 5 {
			r := filtertest.NewRequest("POST", "/", io.NopCloser(failingBody{}))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r.ContentLength = 64 << 20
			h.ServeHTTP(filtertest.NewRecorder(), r)
		}
	})
	if n > 4<<20 {
		t.Errorf("5 requests that announced 64 MiB and sent nothing allocated %d KiB", n>>10)
	}
	body := repeat("&", 1<<20) // no pairs: only the buffer
	n = allocated(func() {
		h.ServeHTTP(filtertest.NewRecorder(), urlencoded(body, false))
	})
	if n > 5<<19 {
		t.Errorf("a 1 MiB body of its Content-Length allocated %d KiB, want at most 2.5 MiB", n>>10)
	}
}

// trickle yields one byte per read.
type trickle struct{ r io.Reader }

func (t trickle) Read(p []byte) (int, error) { return t.r.Read(p[:1]) }

// TestTrickledHeaderIsSearchedOnce checks that a part header sent a byte
// at a time is searched for its line ends in linear time.
func TestTrickledHeaderIsSearchedOnce(t *testing.T) {
	const limit = 64 << 10
	head := "X-A: " + repeat("a", limit)
	scanned, err := upload.HeaderScanned(trickle{strings.NewReader(head)}, limit)
	var e *upload.Error
	if !errors.As(err, &e) || e.Limit != "MaxPartHeaderBytes" {
		t.Errorf("err = %v, want MaxPartHeaderBytes", err)
	}
	if scanned > 2*limit {
		t.Errorf("%d bytes searched for a %d-byte header", scanned, limit)
	}
	lines := "Content-Disposition: form-data; name=\"a\"\r\nX-B: " + repeat("b", 1000) + "\r\n\r\n"
	scanned, err = upload.HeaderScanned(trickle{strings.NewReader(lines)}, limit)
	if err != nil || scanned > 2*len(lines) {
		t.Errorf("%d bytes searched for %d bytes of header lines, %v", scanned, len(lines), err)
	}
}

func TestCleanFileNameForWindows(t *testing.T) {
	for name, want := range map[string]string{
		"CON":            "_CON",
		"con":            "_con",
		"nul.txt":        "_nul.txt",
		"NUL .tar.gz":    "_NUL .tar.gz",
		"com1.log":       "_com1.log",
		"LPT9":           "_LPT9",
		"COM\u00b9.txt":  "_COM\u00b9.txt",
		"CONOUT$":        "_CONOUT$",
		"console.txt":    "console.txt",
		"COM10":          "COM10",
		"a.txt:evil.exe": "a.txtevil.exe",
		`x<>|?*".txt`:    "x.txt",
		"C:report.pdf":   "Creport.pdf",
		"nul:":           "_nul",
	} {
		if got := upload.CleanFileName(name, 255); got != want {
			t.Errorf("CleanFileName(%q) = %q, want %q", name, got, want)
		}
	}
	if got := upload.CleanFileName("aux.txt", 3); got != "_au" {
		t.Errorf("CleanFileName(aux.txt, 3) = %q", got)
	}
}
