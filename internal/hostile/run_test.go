package hostile_test

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wsapi-go/wsapi/internal/hostile"
)

// corpusDir is the corpus, from this package's directory.
var corpusDir = filepath.Join("..", "..", "testdata", "hostile")

// marker is the string the corpus's log-forging cases write: it may show
// in the access log only inside the escaped values of fields the client
// controls.
const marker = "HOSTILE-FORGED"

// server is a running server under test, the showcase or the stand-in.
type server struct {
	target    *hostile.Target
	debugAddr string // the debug listener, serving /debug/vars
	tmpDir    string // where uploads in progress are written
	accessLog string // the JSON access log's path
	password  string // the demo user's password
}

// login logs the demo user in and returns the session cookie as a Cookie
// header value.
func login(t *testing.T, s *server) string {
	t.Helper()
	client := &http.Client{
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	form := url.Values{"username": {"demo"}, "password": {s.password}, "next": {"/"}}
	resp, err := client.PostForm("http://"+s.target.Addr+"/login", form)
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %s, want 303", resp.Status)
	}
	for _, c := range resp.Cookies() {
		if c.Name == "session" && c.Value != "" {
			return c.Name + "=" + c.Value
		}
	}
	t.Fatalf("login: no session cookie in %q", resp.Header["Set-Cookie"])
	return ""
}

// runCorpus logs in, replays every case of the corpus against s as a
// parallel subtest of "case", then checks that the server's goroutines
// and open files are back near where they were before, that no upload is
// left in its temporary directory, and that its access log holds no
// forged line.
func runCorpus(t *testing.T, s *server) {
	cases, err := hostile.Load(corpusDir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	s.target.Cookie = login(t, s)
	if err := s.target.Health(ctx); err != nil {
		t.Fatal(err)
	}
	base, err := hostile.ReadVars(ctx, s.debugAddr)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	var ran, ranLogging atomic.Int32
	t.Run("case", func(t *testing.T) {
		for _, c := range cases {
			t.Run(c.Name, func(t *testing.T) {
				t.Parallel()
				ran.Add(1)
				if c.Area == "logging" {
					ranLogging.Add(1)
				}
				res, err := s.target.Run(ctx, c)
				if err != nil {
					t.Fatal(err)
				}
				t.Log(res.Summary())
				switch {
				case res.Pass && c.Known != "":
					t.Logf("marked as a known failure (%s), and passes now: drop its known field", c.Known)
				case res.Pass:
				case c.Known != "":
					t.Logf("known failure (%s):\n%s", c.Known, res.Report())
				default:
					t.Error(res.Report())
				}
			})
		}
	})
	t.Logf("%d cases replayed in %v", ran.Load(), time.Since(start).Round(time.Millisecond))

	settle, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if v, err := hostile.Settle(settle, s.debugAddr, base, hostile.Vars{Goroutines: 10, OpenFDs: 5}); err != nil {
		t.Errorf("after the corpus: %v", err)
	} else {
		t.Logf("goroutines %d (baseline %d), open files %d (baseline %d)", v.Goroutines, base.Goroutines, v.OpenFDs, base.OpenFDs)
	}

	wait, cancel2 := context.WithTimeout(ctx, 10*time.Second)
	defer cancel2()
	if files, err := hostile.WaitNoLeftovers(wait, s.tmpDir); err != nil || len(files) > 0 {
		t.Errorf("after the corpus, the temporary directory holds %q (%v)", files, err)
	}

	// The file name of upload-filename-traversal climbs to /etc.
	if hostile.FileExists("/etc/hostile-traversal.txt") {
		t.Error("an upload was written to /etc/hostile-traversal.txt")
	}

	data, err := os.ReadFile(s.accessLog)
	if err != nil {
		t.Fatal(err)
	}
	// The log must have seen the attacker's marker, or the check below
	// proves nothing.
	if ranLogging.Load() > 0 && !strings.Contains(string(data), marker) {
		t.Errorf("the access log (%d lines) never mentions %q: the logging cases did not reach it", strings.Count(string(data), "\n"), marker)
	}
	problems := hostile.CheckAccessLog(data, marker)
	for i, p := range problems {
		if i == 20 {
			t.Errorf("... and %d more access-log problems", len(problems)-i)
			break
		}
		t.Errorf("access log: %s", p)
	}
}
