package auth_test

import (
	"crypto/sha1"
	"encoding/base64"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

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

	// A file that no longer parses leaves the users read before in force.
	setFile(t, path, "ana:plain\nbob:"+b+"\n", base.Add(time.Minute))
	if _, err := h.Verify("bob", bobPass); err != nil {
		t.Errorf("after a bad reload, bob's password: %v", err)
	}
	if !strings.Contains(logs.String(), "cannot reload") || !strings.Contains(logs.String(), "line 1") {
		t.Errorf("the bad reload was not logged: %q", logs.String())
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
