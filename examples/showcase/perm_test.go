//go:build unix

package main

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wsapi-go/wsapi/filter/filtertest"
)

func TestDataDirMustBePrivate(t *testing.T) {
	newCfg := func(data string) *config {
		return &config{Data: data, Tmp: filepath.Join(data, "tmp"), Password: testPassword, Token: testToken,
			MaxUpload: 1 << 20, HeaderTimeout: time.Second, logOut: new(filtertest.Buffer)}
	}
	try := func(cfg *config) error {
		s, err := newServer(cfg, slog.New(slog.DiscardHandler))
		if err == nil {
			s.Close()
		}
		return err
	}

	// Created by the server: mode 0700.
	data := filepath.Join(t.TempDir(), "new")
	if err := try(newCfg(data)); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{data, filepath.Join(data, "tmp"), filepath.Join(data, "files")} {
		if fi, err := os.Stat(d); err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("%s: %v %v, want mode 0700", d, fi.Mode(), err)
		}
	}

	// Writable by others: refused, with the reason.
	open := t.TempDir()
	if err := os.Chmod(open, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := try(newCfg(open)); err == nil || !strings.Contains(err.Error(), "writable by other users") {
		t.Errorf("a DATA of mode 0777: %v", err)
	}
	if _, err := os.Stat(filepath.Join(open, "htpasswd")); err == nil {
		t.Errorf("the server wrote into a DATA it refused")
	}
	// A -tmp writable by others too.
	cfg := newCfg(filepath.Join(t.TempDir(), "d"))
	cfg.Tmp = open
	if err := try(cfg); err == nil || !strings.Contains(err.Error(), "-tmp") {
		t.Errorf("a -tmp of mode 0777: %v", err)
	}

	// Owned by another user (needs root to make one).
	if os.Geteuid() != 0 {
		return
	}
	theirs := filepath.Join(t.TempDir(), "theirs")
	if err := os.Mkdir(theirs, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(theirs, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	if err := try(newCfg(theirs)); err == nil || !strings.Contains(err.Error(), "belongs to user id 65534") {
		t.Errorf("a DATA of another user: %v", err)
	}
	// A symbolic link to it is refused too.
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(theirs, link); err != nil {
		t.Fatal(err)
	}
	if err := try(newCfg(link)); err == nil {
		t.Errorf("a DATA linking to another user's directory was taken")
	}
}
