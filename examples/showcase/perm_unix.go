//go:build unix

package main

import (
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// privateDir creates dir (mode 0700) when it is not there, and refuses one
// that another user could change: not owned by this process's user, or
// writable by group or others. The default DATA is a well-known name in
// the shared temporary directory; a local user who created it first could
// otherwise plant an htpasswd file and log in as the admin.
func privateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	li, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	if li.Mode()&fs.ModeSymlink != 0 {
		if err := ownedAndPrivate(dir, li, "the symbolic link"); err != nil {
			return err
		}
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory", dir)
	}
	return ownedAndPrivate(dir, fi, "the directory")
}

// ownedAndPrivate checks that fi is owned by this process's user and, but
// for a symbolic link, not writable by group or others.
func ownedAndPrivate(dir string, fi fs.FileInfo, what string) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	if uid := os.Geteuid(); int(st.Uid) != uid {
		return fmt.Errorf("%s %s belongs to user id %d, not to this program's user (%d): another user could change what is in it; "+
			"remove it or choose another directory", what, dir, st.Uid, uid)
	}
	if fi.Mode()&fs.ModeSymlink == 0 && fi.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("%s %s is writable by other users (mode %04o): run chmod go-w on it, or choose another directory",
			what, dir, fi.Mode().Perm())
	}
	return nil
}
