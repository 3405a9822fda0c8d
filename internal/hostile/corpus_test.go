package hostile_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wsapi-go/wsapi/internal/hostile"
)

func TestParseFull(t *testing.T) {
	data := "# area: protocol\r\n" +
		"# attacks: everything at once\n" +
		"# cve: CVE-2000-0001\n" +
		"# expect: 200, 4xx\n" +
		"# why: a reason\n" +
		"# forbid: \"secret\"\n" +
		"# forbid: \"other\\r\\n\"\n" +
		"# max-bytes: 100\n" +
		"# smuggle: true\n" +
		"# slow: 10ms\n" +
		"# slow-after: head\n" +
		"# deadline: header-timeout\n" +
		"# close-write: true\n" +
		"# login: true\n" +
		"# repeat: @A@ 3 \"ab\\r\\n\"\n" +
		"# known: to be decided\n" +
		"\n" +
		"POST / HTTP/1.1\r\nHost: @HOST@\r\nContent-Length: @LEN@\r\n\r\n@A@"
	c, err := hostile.Parse("full", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	want := &hostile.Case{
		Name: "full", Area: "protocol", Attacks: "everything at once", CVE: "CVE-2000-0001",
		Expect: hostile.StatusSet{200, 4}, Why: "a reason", Forbid: []string{"secret", "other\r\n"},
		MaxBytes: 100, Smuggle: true, Slow: 10 * time.Millisecond, SlowAfter: hostile.SlowAfterHead,
		Deadline: hostile.DeadlineHeaderTimeout, CloseWrite: true, Login: true, Known: "to be decided",
		Raw: []byte("POST / HTTP/1.1\r\nHost: @HOST@\r\nContent-Length: @LEN@\r\n\r\nab\r\nab\r\nab\r\n"),
	}
	if c.Name != want.Name || c.Area != want.Area || c.Attacks != want.Attacks || c.CVE != want.CVE ||
		!slices.Equal(c.Expect, want.Expect) || c.Why != want.Why || !slices.Equal(c.Forbid, want.Forbid) ||
		c.MaxBytes != want.MaxBytes || c.Smuggle != want.Smuggle || c.Slow != want.Slow ||
		c.SlowAfter != want.SlowAfter || c.Deadline != want.Deadline || c.CloseWrite != want.CloseWrite ||
		c.Login != want.Login || c.Known != want.Known || !bytes.Equal(c.Raw, want.Raw) {
		t.Errorf("Parse:\n got %+v\nwant %+v", c, want)
	}
}

func TestParseDefaults(t *testing.T) {
	c, err := hostile.Parse("min", []byte("# area: mux\n# attacks: a path\n\nGET / HTTP/1.1\r\n\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Expect, hostile.DefaultExpect) || c.Deadline != hostile.DeadlineLastByte || c.Smuggle || c.Login || c.Slow != 0 {
		t.Errorf("defaults: %+v", c)
	}
	if string(c.Raw) != "GET / HTTP/1.1\r\n\r\n" {
		t.Errorf("raw %q", c.Raw)
	}
}

func TestParseErrors(t *testing.T) {
	const ok = "# area: mux\n# attacks: a path\n"
	for _, tc := range []struct{ name, data, want string }{
		{"no blank line", ok + "GET / HTTP/1.1\r\n", "does not start with '#'"},
		{"no header end", "# area: mux", "no blank line"},
		{"unknown key", ok + "# colour: red\n\nGET /\r\n", "unknown key"},
		{"twice", ok + "# area: mux\n\nGET /\r\n", "given twice"},
		{"no area", "# attacks: x\n\nGET /\r\n", "area and attacks are required"},
		{"bad area", "# area: moon\n# attacks: x\n\nGET /\r\n", "is none of"},
		{"success without why", ok + "# expect: 200\n\nGET /\r\n", "say why"},
		{"redirect without why", ok + "# expect: 3xx\n\nGET /\r\n", "say why"},
		{"bad status", ok + "# expect: 600\n\nGET /\r\n", "no status"},
		{"bad repeat", ok + "# repeat: A 3 \"x\"\n\nGET /\r\n", "@TOKEN@"},
		{"repeat count", ok + "# repeat: @A@ 0 \"x\"\n\nGET /@A@\r\n", "count"},
		{"repeat unit", ok + "# repeat: @A@ 2 x\n\nGET /@A@\r\n", "Go string literal"},
		{"repeat absent", ok + "# repeat: @A@ 2 \"x\"\n\nGET /\r\n", "must occur once"},
		{"len in body", ok + "\nPOST / HTTP/1.1\r\nContent-Length: @LEN@\r\n\r\n@LEN@", "must be in the head"},
		{"len without head end", ok + "\nPOST / HTTP/1.1\r\nContent-Length: @LEN@\r\n", "must be in the head"},
		{"empty request", ok + "\n", "no request"},
		{"slow-after alone", ok + "# slow-after: 3\n\nGET /\r\n", "slow-after without slow"},
		{"slow-after beyond", ok + "# slow: 1ms\n# slow-after: 99\n\nGET /\r\n", "beyond"},
		{"bad deadline", ok + "# deadline: never\n\nGET /\r\n", "header-timeout"},
		{"empty forbid", ok + "# forbid: \"\"\n\nGET /\r\n", "forbid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := hostile.Parse(tc.name, []byte(tc.data))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Parse: %v, want an error with %q", err, tc.want)
			}
		})
	}
}

func TestStatusSet(t *testing.T) {
	s, err := hostile.ParseStatusSet("303 4xx")
	if err != nil {
		t.Fatal(err)
	}
	for status, want := range map[int]bool{303: true, 400: true, 431: true, 499: true, 200: false, 302: false, 500: false} {
		if s.Has(status) != want {
			t.Errorf("%v.Has(%d) = %v", s, status, !want)
		}
	}
	if !s.AcceptsSuccess() || hostile.DefaultExpect.AcceptsSuccess() {
		t.Error("AcceptsSuccess")
	}
	if s.String() != "303 4xx" {
		t.Errorf("String %q", s.String())
	}
}

func TestRender(t *testing.T) {
	tg := &hostile.Target{Addr: "127.0.0.1:9", Cookie: "session=abc"}
	c, err := hostile.Parse("r", []byte("# area: auth\n# attacks: x\n# login: true\n\nPOST /files HTTP/1.1\r\nHost: @HOST@\r\nContent-Length: @LEN@\r\n\r\nhello @HOST@"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := tg.Render(c)
	if err != nil {
		t.Fatal(err)
	}
	want := "POST /files HTTP/1.1\r\nCookie: session=abc\r\nOrigin: http://127.0.0.1:9\r\nHost: 127.0.0.1:9\r\nContent-Length: 17\r\n\r\nhello 127.0.0.1:9"
	if string(got) != want {
		t.Errorf("Render:\n got %q\nwant %q", got, want)
	}

	// A request with its own Origin keeps it: no same-origin one is added.
	c.Raw = []byte("POST /files HTTP/1.1\r\norigin: http://evil.example\r\n\r\n")
	got, _ = tg.Render(c)
	if want := "POST /files HTTP/1.1\r\nCookie: session=abc\r\norigin: http://evil.example\r\n\r\n"; string(got) != want {
		t.Errorf("Render with an Origin:\n got %q\nwant %q", got, want)
	}

	if _, err := (&hostile.Target{Addr: "127.0.0.1:9"}).Render(c); err == nil {
		t.Error("Render of a login case without a cookie: no error")
	}
}

// TestCorpus checks the corpus itself: every file loads, every area is
// covered, and the files are byte-exact (a .gitattributes keeps line ends
// as they are).
func TestCorpus(t *testing.T) {
	cases, err := hostile.Load(corpusDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) < 40 {
		t.Errorf("%d cases, want at least 40", len(cases))
	}
	byArea := map[string]int{}
	for _, c := range cases {
		byArea[c.Area]++
		if !strings.HasPrefix(c.Name, c.Area+"-") {
			t.Errorf("%s: the name does not start with its area %q", c.Name, c.Area)
		}
		if c.Deadline == hostile.DeadlineHeaderTimeout && c.Login {
			t.Errorf("%s: a slow-header case needs no login", c.Name)
		}
	}
	for _, a := range hostile.Areas {
		if byArea[a] == 0 {
			t.Errorf("no case in area %s", a)
		}
	}
	t.Logf("cases by area: %v", byArea)
	attrs, err := os.ReadFile(filepath.Join(corpusDir, ".gitattributes"))
	if err != nil || !strings.Contains(string(attrs), "*.http -text") {
		t.Errorf("testdata/hostile/.gitattributes must say \"*.http -text\": %q, %v", attrs, err)
	}
	if _, err := os.Stat(filepath.Join(corpusDir, "README.md")); err != nil {
		t.Error(err)
	}
}
