//go:build linux

package upload_test

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/wsapi-go/wsapi/filters/upload"
)

// TestMoveToFailsWithoutACopy checks that a rename that fails for another
// reason than a file system boundary fails: the content is not copied
// somewhere else instead, and the file stays stored until the end.
func TestMoveToFailsWithoutACopy(t *testing.T) {
	f, _ := newFilter(t)
	dst := t.TempDir()
	rec := serve(t, f, formApp(func(form *upload.Form) {
		file := form.File("a")
		if err := file.MoveTo(filepath.Join(dst, "x") + "/"); err == nil {
			t.Error("MoveTo to a path that names a directory that is not there succeeded")
		}
		if _, err := os.Stat(file.Path()); err != nil {
			t.Errorf("the file is no longer stored: %v", err)
		}
	}), post(mpBody(filePart("a", "a.txt", "", "hello"))))
	wantStatus(t, rec, 200)
	assertEmpty(t, dst)
}

// TestMoveToAnotherFileSystem moves a file to /dev/shm, over a symbolic
// link: the link is replaced, as a rename would, and no temporary file is
// left.
func TestMoveToAnotherFileSystem(t *testing.T) {
	f, dir := newFilter(t)
	var a, b syscall.Statfs_t
	if syscall.Statfs(dir, &a) != nil || syscall.Statfs("/dev/shm", &b) != nil || a.Fsid == b.Fsid {
		t.Skip("no /dev/shm on another file system")
	}
	dst, err := os.MkdirTemp("/dev/shm", "upload-test-")
	if err != nil {
		t.Skip(err)
	}
	t.Cleanup(func() { os.RemoveAll(dst) })
	other := filepath.Join(t.TempDir(), "other")
	if err := os.WriteFile(other, []byte("untouched"), 0o600); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(dst, "moved")
	if err := os.Symlink(other, target); err != nil {
		t.Fatal(err)
	}
	rec := serve(t, f, formApp(func(form *upload.Form) {
		file := form.File("a")
		if err := file.MoveTo(target); err != nil {
			t.Fatal(err)
		}
		if file.Path() != target {
			t.Errorf("Path() = %q after the move", file.Path())
		}
	}), post(mpBody(filePart("a", "a.txt", "", "hello"))))
	wantStatus(t, rec, 200)
	if b, err := os.ReadFile(other); err != nil || string(b) != "untouched" {
		t.Errorf("the link's target: %q, %v", b, err)
	}
	if fi, err := os.Lstat(target); err != nil || !fi.Mode().IsRegular() {
		t.Fatalf("the destination: %v, %v", fi, err)
	}
	if b, err := os.ReadFile(target); err != nil || string(b) != "hello" {
		t.Errorf("the destination holds %q, %v", b, err)
	}
	ents, _ := os.ReadDir(dst)
	if len(ents) != 1 {
		t.Errorf("%d files in the destination directory, want 1", len(ents))
	}
}
