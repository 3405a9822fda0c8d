package main

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"io/fs"
	"os"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// demoUser is the user the showcase creates; it holds the admin role.
const demoUser = "demo"

// bcryptCost is the cost of the hashes writeHtpasswd makes (tests lower
// it, to spare the race detector's slow bcrypt).
var bcryptCost = bcrypt.DefaultCost

// newPassword returns a random password: 16 characters of base64url (96
// bits), easy to copy from a terminal.
func newPassword() string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// writeHtpasswd makes sure the htpasswd file at path gives user the
// password, as a bcrypt hash (htpasswd -B). The other users' lines stay as
// they are, so users added with `htpasswd -B DATA/htpasswd ana` survive a
// restart. When the user's line already holds a hash of password, the
// file is left untouched: several instances started with one password on
// one data directory then keep the same hash, and so each other's logins
// (a new hash would end them, as a password change does).
func writeHtpasswd(path, user, password string) error {
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	var keep []string
	for line := range strings.Lines(string(old)) {
		line = strings.TrimRight(line, "\r\n")
		name, hash, _ := strings.Cut(line, ":")
		if name == user {
			if bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) == nil {
				return nil
			}
			continue
		}
		if strings.TrimSpace(line) != "" {
			keep = append(keep, line)
		}
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcryptCost)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	for _, line := range keep {
		b.WriteString(line)
		b.WriteByte('\n')
	}
	b.WriteString(user + ":" + string(hash) + "\n")
	return writeFileAtomic(path, b.Bytes(), 0o600)
}
