package main

import (
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestValidIDAndUserDirs(t *testing.T) {
	for range 100 {
		if id := newID(); !validID(id) {
			t.Fatalf("newID() = %q is not valid", id)
		}
	}
	if a, b := newID(), newID(); a == b {
		t.Error("two ids are equal")
	}
	for _, id := range []string{"", "..", "0123456789ABCDEF0123456789ABCDEF", "0123456789abcdef0123456789abcde",
		"0123456789abcdef0123456789abcdef0", "0123456789abcdef0123456789abcde/", "0123456789abcdef0123456789abcdeg"} {
		if validID(id) {
			t.Errorf("validID(%q) = true", id)
		}
	}
	seen := map[string]string{}
	for _, user := range []string{"demo", "ana.b-c_d", "..", ".hidden", "a/b", `a\b`, "u-demo", "Ünï", "", strings.Repeat("x", 65)} {
		d := userDirName(user)
		if d == "" || d == "." || d == ".." || strings.ContainsAny(d, `/\`) || strings.HasPrefix(d, ".") {
			t.Errorf("userDirName(%q) = %q", user, d)
		}
		if other, ok := seen[d]; ok {
			t.Errorf("users %q and %q share the directory %q", user, other, d)
		}
		seen[d] = user
	}
	if userDirName("demo") != "demo" {
		t.Errorf("a plain name is kept: %q", userDirName("demo"))
	}
}

func TestStoreSweepsWhatACrashLeft(t *testing.T) {
	root := t.TempDir()
	s, err := newStore(root)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "demo")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	kept, orphan, fresh := newID(), newID(), newID()
	write := func(name, content string, age time.Duration) {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		old := time.Now().Add(-age)
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
	}
	write(kept+".data", "x", 2*time.Hour)
	write(kept+".json", `{"id":"`+kept+`","name":"x","size":1}`, 2*time.Hour)
	write(orphan+".data", "content without metadata", 2*time.Hour)
	write(fresh+".data", "maybe another instance's upload in progress", time.Minute)
	write(tmpPrefix+"123", `{"id":"half`, 2*time.Hour)

	files, err := s.list("demo")
	if err != nil || len(files) != 1 || files[0].ID != kept {
		t.Fatalf("list: %+v, %v", files, err)
	}
	if n := s.sweep(time.Now()); n != 2 {
		t.Errorf("sweep removed %d files, want 2", n)
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	want := []string{fresh + ".data", kept + ".data", kept + ".json"}
	slices.Sort(want)
	if !slices.Equal(names, want) {
		t.Errorf("after the sweep: %v, want %v", names, want)
	}
	if users, n, err := s.stats(); err != nil || users != 1 || n != 1 {
		t.Errorf("stats: %d users, %d files, %v", users, n, err)
	}
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "meta.json")
	for _, content := range []string{"first", "second, longer"} {
		if err := writeFileAtomic(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(p); string(b) != content {
			t.Errorf("content %q, want %q", b, content)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
	if info, _ := os.Stat(p); info.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", info.Mode())
	}
	if err := writeFileAtomic(filepath.Join(dir, "no", "such", "dir"), []byte("x"), 0o600); err == nil {
		t.Error("writing into a missing directory worked")
	}
}

func TestStoreSweepsUploadLeftovers(t *testing.T) {
	root, tmp := t.TempDir(), t.TempDir()
	s, err := newStore(root)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "demo")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-2 * time.Hour)
	for _, p := range []string{filepath.Join(dir, ".upload-move-1"), filepath.Join(tmp, "upload-2"), filepath.Join(tmp, "upload-new"), filepath.Join(tmp, "keep")} {
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(p, "new") {
			_ = os.Chtimes(p, old, old)
		}
	}
	if n := s.sweep(time.Now()) + sweepTmp(tmp, time.Now()); n != 2 {
		t.Errorf("removed %d files, want 2", n)
	}
	for p, want := range map[string]bool{filepath.Join(dir, ".upload-move-1"): false, filepath.Join(tmp, "upload-2"): false,
		filepath.Join(tmp, "upload-new"): true, filepath.Join(tmp, "keep"): true} {
		if _, err := os.Stat(p); (err == nil) != want {
			t.Errorf("%s there: %v, want %v", p, err == nil, want)
		}
	}
}

func TestDamagedMetadata(t *testing.T) {
	a := start(t)
	c := a.client()
	c.mustLogin(demoUser, testPassword)
	good := putFile(t, a, demoUser, []byte("good"))
	bad := putFile(t, a, demoUser, []byte("bad"))
	if err := os.WriteFile(filepath.Join(a.s.files.dir(demoUser), bad+metaSuffix), []byte(`{"id": "`+bad+`", broken`), 0o600); err != nil {
		t.Fatal(err)
	}
	auth := []string{"Authorization", "Bearer " + testToken}
	resp, body := c.do("GET", "/api/files", nil, auth...)
	if resp.StatusCode != 200 || !strings.Contains(body, good) || strings.Contains(body, bad) {
		t.Errorf("list with damaged metadata: %d %s", resp.StatusCode, body)
	}
	if !strings.Contains(a.logs.String(), "metadata is damaged") {
		t.Errorf("the damaged metadata was not logged:\n%s", a.logs)
	}
	if resp, _ := c.do("GET", "/api/files/"+bad, nil, auth...); resp.StatusCode != http.StatusNotFound {
		t.Errorf("download of a damaged file: %d, want 404", resp.StatusCode)
	}
	if resp, body := c.do("DELETE", "/api/files/"+bad, nil, auth...); resp.StatusCode != http.StatusNoContent {
		t.Errorf("delete of a damaged file: %d %s, want 204", resp.StatusCode, body)
	}
	for _, suffix := range []string{metaSuffix, dataSuffix} {
		if _, err := os.Stat(filepath.Join(a.s.files.dir(demoUser), bad+suffix)); err == nil {
			t.Errorf("%s%s is still there", bad, suffix)
		}
	}
	if resp, _ := c.do("DELETE", "/api/files/"+bad, nil, auth...); resp.StatusCode != http.StatusNotFound {
		t.Errorf("delete again: %d, want 404", resp.StatusCode)
	}
}
