package logging

import (
	"strings"
	"testing"
	"time"
)

// clfTime is the time of Apache's documentation example.
var clfTime = time.Date(2000, time.October, 10, 13, 55, 36, 0, time.FixedZone("PDT", -7*3600))

func TestAppendCommonAndCombined(t *testing.T) {
	tests := []struct {
		name     string
		e        clfEntry
		common   string
		combined string
	}{
		{
			name:     "Apache's example",
			e:        clfEntry{Host: "127.0.0.1", User: "frank", Method: "GET", URI: "/apache_pb.gif", Proto: "HTTP/1.0", Time: clfTime, Status: 200, Bytes: 2326, Referer: "http://www.example.com/start.html", UserAgent: "Mozilla/4.08 [en] (Win98; I ;Nav)"},
			common:   `127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326` + "\n",
			combined: `127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326 "http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)"` + "\n",
		},
		{
			name:     "empty host, user, referer and agent are dashes",
			e:        clfEntry{Method: "HEAD", URI: "/", Proto: "HTTP/1.1", Time: clfTime, Status: 204},
			common:   `- - - [10/Oct/2000:13:55:36 -0700] "HEAD / HTTP/1.1" 204 -` + "\n",
			combined: `- - - [10/Oct/2000:13:55:36 -0700] "HEAD / HTTP/1.1" 204 - "-" "-"` + "\n",
		},
		{
			name:     "zero bytes are a dash, as %b",
			e:        clfEntry{Host: "2001:db8::1", Method: "GET", URI: "/empty", Proto: "HTTP/2.0", Time: clfTime.UTC(), Status: 200},
			common:   `2001:db8::1 - - [10/Oct/2000:20:55:36 +0000] "GET /empty HTTP/2.0" 200 -` + "\n",
			combined: `2001:db8::1 - - [10/Oct/2000:20:55:36 +0000] "GET /empty HTTP/2.0" 200 - "-" "-"` + "\n",
		},
		{
			name:     "a large body and a status with no text",
			e:        clfEntry{Host: "192.0.2.1", Method: "PUT", URI: "/big?x=1&y=%20", Proto: "HTTP/1.1", Time: clfTime, Status: 599, Bytes: 1 << 40},
			common:   `192.0.2.1 - - [10/Oct/2000:13:55:36 -0700] "PUT /big?x=1&y=%20 HTTP/1.1" 599 1099511627776` + "\n",
			combined: `192.0.2.1 - - [10/Oct/2000:13:55:36 -0700] "PUT /big?x=1&y=%20 HTTP/1.1" 599 1099511627776 "-" "-"` + "\n",
		},
		{
			name:     "quotes and backslashes are escaped",
			e:        clfEntry{Host: "192.0.2.1", User: `a"b\c`, Method: "GET", URI: `/"q"\`, Proto: "HTTP/1.1", Time: clfTime, Status: 404, Bytes: 9, Referer: `"`, UserAgent: `\" x`},
			common:   `192.0.2.1 - a\"b\\c [10/Oct/2000:13:55:36 -0700] "GET /\"q\"\\ HTTP/1.1" 404 9` + "\n",
			combined: `192.0.2.1 - a\"b\\c [10/Oct/2000:13:55:36 -0700] "GET /\"q\"\\ HTTP/1.1" 404 9 "\"" "\\\" x"` + "\n",
		},
		{
			name:     "non-ASCII is escaped byte by byte",
			e:        clfEntry{Host: "192.0.2.1", User: "jos\u00e9", Method: "GET", URI: "/caf\u00e9", Proto: "HTTP/1.1", Time: clfTime, Status: 200, Bytes: 1, UserAgent: "\u2603"},
			common:   `192.0.2.1 - jos\xc3\xa9 [10/Oct/2000:13:55:36 -0700] "GET /caf\xc3\xa9 HTTP/1.1" 200 1` + "\n",
			combined: `192.0.2.1 - jos\xc3\xa9 [10/Oct/2000:13:55:36 -0700] "GET /caf\xc3\xa9 HTTP/1.1" 200 1 "-" "\xe2\x98\x83"` + "\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(appendCommon(nil, &tt.e)); got != tt.common {
				t.Errorf("appendCommon:\n got %q\nwant %q", got, tt.common)
			}
			if got := string(appendCombined(nil, &tt.e)); got != tt.combined {
				t.Errorf("appendCombined:\n got %q\nwant %q", got, tt.combined)
			}
		})
	}
}

func TestAppendEscaped(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"plain /path?q=1 text", "plain /path?q=1 text"},
		{`"`, `\"`},
		{`\`, `\\`},
		{`\x41`, `\\x41`}, // a literal \x is not mistaken for an escape
		{"\x00", `\x00`},
		{"\t", `\x09`},
		{"\n", `\x0a`},
		{"\r", `\x0d`},
		{"\x1b", `\x1b`},
		{"\x1f", `\x1f`},
		{" ~", " ~"},
		{"\x7f", `\x7f`},
		{"\x80", `\x80`},
		{"\xff", `\xff`},
		{"a\nb\"c", `a\x0ab\"c`},
	}
	for _, tt := range tests {
		if got := string(appendEscaped([]byte(">"), tt.in)); got != ">"+tt.want {
			t.Errorf("appendEscaped(%q) = %q, want %q", tt.in, got, ">"+tt.want)
		}
	}
	// Every byte: printable ASCII but '"' and '\' is kept, the rest is
	// escaped.
	for c := 0; c < 256; c++ {
		got := string(appendEscaped(nil, string([]byte{byte(c)})))
		keep := c >= 0x20 && c < 0x7f && c != '"' && c != '\\'
		if keep != (got == string([]byte{byte(c)})) || !printableASCII(got) {
			t.Errorf("appendEscaped(%q) = %q", c, got)
		}
	}
}

// printableASCII reports whether s is made of bytes 0x20 to 0x7e only.
func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// checkOneLine fails t unless line is printable ASCII with exactly one
// "\n", at its end.
func checkOneLine(t *testing.T, line string) {
	t.Helper()
	body, ok := strings.CutSuffix(line, "\n")
	if !ok || !printableASCII(body) {
		t.Errorf("not one printable line: %q", line)
	}
}

func TestCLFForgedLines(t *testing.T) {
	// Shapes of CVE-2025-25184 and CVE-2022-30123 (Rack): request fields
	// carrying a line break and a fake log line, or terminal escapes.
	forged := "\n127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] \"GET /admin HTTP/1.1\" 200 1"
	tests := []struct {
		name string
		e    clfEntry
	}{
		{"a URI with a forged line", clfEntry{URI: "/x" + forged}},
		{"a user name with a forged line", clfEntry{User: "alice" + forged}},
		{"a user name with CR LF", clfEntry{User: "alice\r\n127.0.0.1"}},
		{"a method with a terminal colour", clfEntry{Method: "\x1b[31mGET"}},
		{"a method with a title escape", clfEntry{Method: "\x1b]0;owned\x07GET"}},
		{"a user agent with a NUL", clfEntry{UserAgent: "curl\x00/8.0"}},
		{"a referer with a forged line", clfEntry{Referer: "https://a/" + forged}},
		{"a host with a line break", clfEntry{Host: "192.0.2.1\n10.0.0.1"}},
		{"a proto with a quote", clfEntry{Proto: "HTTP/1.1\" 200 1 \"-\" \"-"}},
		{"DEL and high bytes", clfEntry{URI: "/\x7f\x80\xff", UserAgent: "\xc0\xaf"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := tt.e
			e.Time, e.Status, e.Bytes = clfTime, 200, 1
			if e.Method == "" {
				e.Method = "GET"
			}
			if e.URI == "" {
				e.URI = "/"
			}
			if e.Proto == "" {
				e.Proto = "HTTP/1.1"
			}
			common := string(appendCommon(nil, &e))
			combined := string(appendCombined(nil, &e))
			checkOneLine(t, common)
			checkOneLine(t, combined)
			if !strings.HasPrefix(combined, strings.TrimSuffix(common, "\n")) {
				t.Errorf("the Combined line does not start with the Common line:\n%q\n%q", combined, common)
			}
			// The quoted fields stay quoted: the line has exactly the
			// quotes the format puts there.
			if n := strings.Count(strings.ReplaceAll(combined, `\"`, ""), `"`); n != 6 {
				t.Errorf("the Combined line has %d unescaped quotes, want 6: %q", n, combined)
			}
		})
	}
}

func TestCLFAlloc(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not stable under the race detector")
	}
	e := clfEntry{
		Host: "192.0.2.1", User: "alice\n", Method: "GET", URI: "/a\"b\x1b", Proto: "HTTP/1.1",
		Referer: "https://example.com/", UserAgent: "Mozilla/5.0 \u2603", Time: time.Now(), Status: 200, Bytes: 1234,
	}
	buf := make([]byte, 0, 1024)
	for name, f := range map[string]func([]byte, *clfEntry) []byte{"appendCommon": appendCommon, "appendCombined": appendCombined} {
		allocs := testing.AllocsPerRun(1000, func() {
			buf = f(buf[:0], &e)
		})
		if allocs != 0 {
			t.Errorf("%s allocates %v times per call, want 0", name, allocs)
		}
	}
}

func BenchmarkCLF(b *testing.B) {
	e := clfEntry{
		Host: "192.0.2.1", User: "alice", Method: "GET", URI: "/search?q=golang&page=2", Proto: "HTTP/1.1",
		Referer: "https://example.com/", UserAgent: "Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/128.0",
		Time: clfTime, Status: 200, Bytes: 5120,
	}
	buf := make([]byte, 0, 1024)
	b.Run("Common", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			buf = appendCommon(buf[:0], &e)
		}
	})
	b.Run("Combined", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			buf = appendCombined(buf[:0], &e)
		}
	})
	b.Run("Combined/hostile", func(b *testing.B) {
		h := e
		h.URI = "/x\n127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] \"GET /admin"
		h.UserAgent = "\x1b[31m\x00\xff"
		b.ReportAllocs()
		for b.Loop() {
			buf = appendCombined(buf[:0], &h)
		}
	})
}
