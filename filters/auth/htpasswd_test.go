package auth_test

import (
	"crypto/sha1"
	"encoding/base64"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/wsapi-go/wsapi/filters/auth"
)

func shaHash(pass string) string {
	sum := sha1.Sum([]byte(pass))
	return "{SHA}" + base64.StdEncoding.EncodeToString(sum[:])
}

func TestHtpasswdRefusesWeakAndUnknownSchemes(t *testing.T) {
	a, _ := hashes()
	for _, tc := range []struct{ name, content, err string }{
		{"{SHA} without AllowWeak", "ana:" + shaHash("x") + "\n", "weak hash scheme"},
		{"MD5 apr1", "ana:$apr1$abc$def\n", "unsupported hash scheme"},
		{"crypt", "ana:abJnggxhB/yWI\n", "unsupported hash scheme"},
		{"plain text", "ana:secret\n", "unsupported hash scheme"},
		{"a line without a colon", "ana\n", "line 1"},
		{"a user twice", "ana:" + a + "\nana:" + a + "\n", "appears twice"},
		{"a broken bcrypt hash", "ana:$2y$99$x\n", "bad bcrypt hash"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := auth.OpenHtpasswd(writeFile(t, tc.content))
			if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.HasPrefix(err.Error(), "auth: ") {
				t.Errorf("error %v, want one with %q", err, tc.err)
			}
		})
	}
	if _, err := auth.OpenHtpasswd(writeFile(t, "") + ".missing"); err == nil {
		t.Error("a missing file: no error")
	}
}

func TestHtpasswdAllowWeakAcceptsSHA(t *testing.T) {
	h := &auth.Htpasswd{File: writeFile(t, "old:"+shaHash("pw")+"\n"), AllowWeak: true}
	if err := h.Load(); err != nil {
		t.Fatal(err)
	}
	if id, err := h.Verify("old", "pw"); err != nil || id.Name != "old" {
		t.Errorf("Verify good: %v %v", id, err)
	}
	if _, err := h.Verify("old", "pW"); err != auth.ErrInvalid {
		t.Errorf("Verify wrong: %v", err)
	}
}

// setFile rewrites path and gives it a modification time of its own, so
// that a change is seen even within the file system's time granularity.
func setFile(t *testing.T, path, content string, mtime time.Time) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, mtime, mtime); err != nil {
		t.Fatal(err)
	}
}

func TestHtpasswdIsReadAgainWhenItChanges(t *testing.T) {
	a, b := hashes()
	path := writeFile(t, "ana:"+a+"\n")
	var logs strings.Builder
	h := &auth.Htpasswd{File: path, CheckEvery: -1, Logger: slog.New(slog.NewTextHandler(&logs, nil))} // check on every call
	if err := h.Load(); err != nil {
		t.Fatal(err)
	}
	if _, ok := h.Lookup("bob"); ok {
		t.Fatal("bob before he was added")
	}
	base := time.Now().Add(-time.Hour)
	setFile(t, path, "ana:"+a+"\nbob:"+b+"\n", base)
	if _, ok := h.Lookup("bob"); !ok {
		t.Fatal("bob was added, but is not seen")
	}
	if _, err := h.Verify("bob", bobPass); err != nil {
		t.Errorf("bob's password: %v", err)
	}

	// A bad line is logged and left out; the other lines take effect.
	setFile(t, path, "ana:plain\nbob:"+b+"\n", base.Add(time.Minute))
	if _, err := h.Verify("bob", bobPass); err != nil {
		t.Errorf("after a reload with a bad line, bob's password: %v", err)
	}
	if _, ok := h.Lookup("ana"); ok {
		t.Error("ana's bad line was taken")
	}
	if !strings.Contains(logs.String(), "line is refused") || !strings.Contains(logs.String(), "line 1") {
		t.Errorf("the bad line was not logged: %q", logs.String())
	}
	h.Lookup("bob")
	if n := strings.Count(logs.String(), "line is refused"); n != 1 {
		t.Errorf("the bad line was logged %d times for one change, want once", n)
	}
	// A password changed in the file is not served from the cache.
	c, _ := hashes()
	setFile(t, path, "bob:"+c+"\n", base.Add(2*time.Minute))
	if _, err := h.Verify("bob", bobPass); err != auth.ErrInvalid {
		t.Errorf("bob's old password after it changed: %v", err)
	}
	if _, err := h.Verify("bob", anaPass); err != nil {
		t.Errorf("bob's new password: %v", err)
	}
	if _, ok := h.Lookup("ana"); ok {
		t.Error("ana was removed, but is still there")
	}
}

func TestHtpasswdChecksTheFileAtMostEveryCheckEvery(t *testing.T) {
	a, b := hashes()
	path := writeFile(t, "ana:"+a+"\n")
	h := &auth.Htpasswd{File: path, CheckEvery: time.Hour}
	if err := h.Load(); err != nil {
		t.Fatal(err)
	}
	h.Lookup("ana") // the first check happens now
	setFile(t, path, "ana:"+a+"\nbob:"+b+"\n", time.Now().Add(-time.Hour))
	if _, ok := h.Lookup("bob"); ok {
		t.Error("the file was checked again before CheckEvery passed")
	}
	if err := h.Load(); err != nil {
		t.Fatal(err)
	}
	if _, ok := h.Lookup("bob"); !ok {
		t.Error("Load did not read the file")
	}
}

// A change that keeps the file's size and modification time (a copy that
// keeps times, two writes within one clock tick) is seen: the content is
// compared.
func TestHtpasswdSeesAChangeWithTheSameSizeAndTime(t *testing.T) {
	a, b := hashes() // same length, different hashes
	path := writeFile(t, "ana:"+a+"\n")
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	h := &auth.Htpasswd{File: path, CheckEvery: -1}
	if err := h.Load(); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Verify("ana", anaPass); err != nil {
		t.Fatalf("ana's password: %v", err)
	}
	setFile(t, path, "ana:"+b+"\n", fi.ModTime())
	if fi2, _ := os.Stat(path); fi2.Size() != fi.Size() || !fi2.ModTime().Equal(fi.ModTime()) {
		t.Fatal("the test needs the same size and time")
	}
	if _, err := h.Verify("ana", anaPass); err != auth.ErrInvalid {
		t.Errorf("the old password after the change: %v, want ErrInvalid", err)
	}
	if _, err := h.Verify("ana", bobPass); err != nil {
		t.Errorf("the new password: %v", err)
	}
}

// Removing a user takes effect even when another line of the new file is
// bad ($apr1$, the default of htpasswd without -B).
func TestHtpasswdRemovesAUserDespiteABadLine(t *testing.T) {
	a, b := hashes()
	path := writeFile(t, "ana:"+a+"\nbob:"+b+"\n")
	var logs strings.Builder
	h := &auth.Htpasswd{File: path, CheckEvery: -1, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	if err := h.Load(); err != nil {
		t.Fatal(err)
	}
	setFile(t, path, "ana:"+a+"\ncarol:$apr1$abcdefgh$0123456789abcdefghijkl\n", time.Now().Add(-time.Hour))
	if _, err := h.Verify("bob", bobPass); err != auth.ErrInvalid {
		t.Errorf("bob, removed: %v, want ErrInvalid", err)
	}
	if _, ok := h.Lookup("carol"); ok {
		t.Error("carol's $apr1$ line was taken")
	}
	if _, err := h.Verify("ana", anaPass); err != nil {
		t.Errorf("ana: %v", err)
	}
	if !strings.Contains(logs.String(), "line 2") || !strings.Contains(logs.String(), "carol") {
		t.Errorf("the bad line was not logged: %q", logs.String())
	}
}

// Load takes the good lines and names the bad ones in its error; a user
// listed twice is left out altogether.
func TestHtpasswdLoadTakesTheGoodLines(t *testing.T) {
	a, b := hashes()
	h := &auth.Htpasswd{File: writeFile(t, "ana:"+a+"\nbob:"+b+"\nbob:"+a+"\neve:plain\nbob:"+b+"\n")}
	err := h.Load()
	if err == nil || !strings.Contains(err.Error(), "line 3") || !strings.Contains(err.Error(), "line 4") || !strings.Contains(err.Error(), "line 5") {
		t.Errorf("error %v, want lines 3, 4 and 5 named", err)
	}
	if _, err := h.Verify("ana", anaPass); err != nil {
		t.Errorf("ana: %v", err)
	}
	for _, u := range []string{"bob", "eve"} {
		if _, ok := h.Lookup(u); ok {
			t.Errorf("%s is in", u)
		}
	}
}

// A {SHA} user is also checked against the dummy bcrypt hash, so it takes
// as long as an unknown user; every verification pays for one bcrypt.
func TestHtpasswdSHAUsersPayForBcryptToo(t *testing.T) {
	a, _ := hashes()
	h := &auth.Htpasswd{File: writeFile(t, "old:"+shaHash("pw")+"\nana:"+a+"\n"), AllowWeak: true, CacheFor: -1}
	if err := h.Load(); err != nil {
		t.Fatal(err)
	}
	var calls []string
	auth.OnCompareHash(t, func(hash []byte) { calls = append(calls, string(hash)) })
	for _, tc := range []struct{ user, pass string }{{"old", "wrong"}, {"old", "pw"}, {"nobody", "pw"}, {"ana", "wrong"}} {
		calls = nil
		h.Verify(tc.user, tc.pass)
		if len(calls) != 1 {
			t.Errorf("Verify(%q, %q): %d bcrypt comparisons, want 1", tc.user, tc.pass, len(calls))
		}
	}
	if _, err := h.Verify("old", "pw"); err != nil {
		t.Errorf("old's good password: %v", err)
	}
}

// Hashes of different bcrypt costs answer in different times: Load warns.
func TestHtpasswdWarnsAboutMixedCosts(t *testing.T) {
	a, _ := hashes() // cost 4
	five, _ := bcrypt.GenerateFromPassword([]byte("x"), 5)
	for _, tc := range []struct {
		content string
		warn    bool
	}{
		{"ana:" + a + "\nbob:" + string(five) + "\n", true},
		{"ana:" + a + "\n", false},
	} {
		var logs strings.Builder
		h := &auth.Htpasswd{File: writeFile(t, tc.content), Logger: slog.New(slog.NewTextHandler(&logs, nil))}
		if err := h.Load(); err != nil {
			t.Fatal(err)
		}
		warned := strings.Contains(logs.String(), "different costs") && strings.Contains(logs.String(), "min_cost=4 max_cost=5")
		if warned != tc.warn {
			t.Errorf("warned %v, want %v: %q", warned, tc.warn, logs.String())
		}
	}
}

// Stamp changes with the user's hash and nothing else.
func TestHtpasswdStamp(t *testing.T) {
	a, b := hashes()
	path := writeFile(t, "ana:"+a+"\nbob:"+b+"\n")
	h := &auth.Htpasswd{File: path, CheckEvery: -1}
	if err := h.Load(); err != nil {
		t.Fatal(err)
	}
	s1, ok := h.Stamp("ana")
	if !ok || len(s1) != 16 || strings.Contains(a, s1) {
		t.Fatalf("Stamp(ana) = %q, %v", s1, ok)
	}
	if _, ok := h.Stamp("nobody"); ok {
		t.Error("a stamp for an unknown user")
	}
	setFile(t, path, "# comment\nana:"+a+"\nbob:"+a+"\n", time.Now().Add(-time.Hour))
	if s2, _ := h.Stamp("ana"); s2 != s1 {
		t.Errorf("ana's stamp changed with bob's line: %q, %q", s1, s2)
	}
	setFile(t, path, "ana:"+b+"\n", time.Now().Add(-time.Minute))
	if s3, _ := h.Stamp("ana"); s3 == s1 {
		t.Error("ana's stamp did not change with her hash")
	}
}
