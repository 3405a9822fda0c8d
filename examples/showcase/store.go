package main

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/wsapi-go/wsapi/filters/upload"
)

// A store keeps each user's files under root/<user>/: the content in
// <id>.data and its metadata in <id>.json. A file is listed once its
// metadata is there; the metadata is written to a temporary file and
// renamed into place, so a crash leaves either no metadata or all of it,
// never half. Content without metadata (a crash between the two steps) is
// never listed, and swept at start once it is an hour old.
type store struct {
	root string
	log  *slog.Logger // where damaged metadata is reported; nil: slog.Default()

	// touch, when set, is called with each path the store is about to
	// use on disk; tests check that bad ids never get that far.
	touch func(path string)
}

// fileMeta is the metadata of a stored file, as kept in <id>.json and as
// the API answers it.
type fileMeta struct {
	ID     string    `json:"id"`
	Name   string    `json:"name"`
	Size   int64     `json:"size"`
	Type   string    `json:"type"`
	SHA256 string    `json:"sha256"`
	Time   time.Time `json:"time"`
}

const (
	idBytes    = 16 // 128 random bits: ids cannot be guessed
	metaSuffix = ".json"
	dataSuffix = ".data"
	tmpPrefix  = ".tmp-"
	orphanAge  = time.Hour
)

// errNotFound is the error of a file that does not exist for that user, or
// an id that cannot be one.
var errNotFound = errors.New("no such file")

// errDamaged is the error of metadata that cannot be read as such.
var errDamaged = errors.New("damaged metadata")

func newStore(root string) (*store, error) {
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, fmt.Errorf("the files directory: %w", err)
	}
	return &store{root: root}, nil
}

// newID returns a new random file id: 32 lower-case hex digits.
func newID() string {
	var b [idBytes]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return hex.EncodeToString(b[:])
}

// validID reports whether id can be a file id: exactly 32 lower-case hex
// digits. Anything else ("..", "%2e", a path) is refused before a path is
// built from it.
func validID(id string) bool {
	if len(id) != 2*idBytes {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// userDirName is the directory name of a user: the name itself when it is
// plain ASCII letters, digits, '.', '_' and '-' (not starting with '.'),
// otherwise "u-" and a hash of it, so no user name can climb out of root
// or collide with another.
func userDirName(user string) string {
	plain := user != "" && len(user) <= 64 && user[0] != '.'
	for i := 0; plain && i < len(user); i++ {
		c := user[i]
		plain = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-'
	}
	if plain && !strings.HasPrefix(user, "u-") {
		return user
	}
	sum := sha256.Sum256([]byte(user))
	return "u-" + hex.EncodeToString(sum[:16])
}

func (s *store) dir(user string) string { return filepath.Join(s.root, userDirName(user)) }

func (s *store) path(user, id, suffix string) string {
	p := filepath.Join(s.dir(user), id+suffix)
	if s.touch != nil {
		s.touch(p)
	}
	return p
}

// add moves an uploaded file into the user's directory and writes its
// metadata. The file's name is cleaned again (the upload filter cleaned
// it already) and never used on disk.
func (s *store) add(user string, f *upload.File, now time.Time) (fileMeta, error) {
	if err := os.MkdirAll(s.dir(user), 0o700); err != nil {
		return fileMeta{}, err
	}
	name := upload.CleanFileName(f.Name, 255)
	if name == "" {
		name = "unnamed"
	}
	m := fileMeta{
		ID:     newID(),
		Name:   name,
		Size:   f.Size,
		Type:   f.Sniffed,
		SHA256: f.SHA256Hex(),
		Time:   now.UTC().Truncate(time.Millisecond),
	}
	data := s.path(user, m.ID, dataSuffix)
	if err := f.MoveTo(data); err != nil {
		return fileMeta{}, err
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err == nil {
		err = writeFileAtomic(s.path(user, m.ID, metaSuffix), append(b, '\n'), 0o600)
	}
	if err != nil {
		os.Remove(data)
		return fileMeta{}, err
	}
	return m, nil
}

// list returns the user's files, the newest first.
func (s *store) list(user string) ([]fileMeta, error) {
	entries, err := os.ReadDir(s.dir(user))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var files []fileMeta
	for _, e := range entries {
		id, ok := strings.CutSuffix(e.Name(), metaSuffix)
		if !ok || !validID(id) {
			continue
		}
		m, err := s.meta(user, id)
		if errors.Is(err, errNotFound) {
			continue // removed meanwhile
		}
		if err != nil {
			// Damaged metadata: the file is not listed, and can still be
			// deleted (remove needs no metadata).
			s.logger().Error("showcase: a file's metadata is damaged; it is left out of the list", "user", user, "id", id, "error", err.Error())
			continue
		}
		files = append(files, m)
	}
	slices.SortFunc(files, func(a, b fileMeta) int {
		if c := b.Time.Compare(a.Time); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return files, nil
}

// meta reads the metadata of the user's file id.
func (s *store) meta(user, id string) (fileMeta, error) {
	if !validID(id) {
		return fileMeta{}, errNotFound
	}
	b, err := os.ReadFile(s.path(user, id, metaSuffix))
	if errors.Is(err, fs.ErrNotExist) {
		return fileMeta{}, errNotFound
	}
	if err != nil {
		return fileMeta{}, err
	}
	var m fileMeta
	if err := json.Unmarshal(b, &m); err != nil {
		return fileMeta{}, fmt.Errorf("%w of %s: %w", errDamaged, id, err)
	}
	if m.ID != id {
		return fileMeta{}, fmt.Errorf("%w of %s: it names %q", errDamaged, id, m.ID)
	}
	return m, nil
}

// open returns the metadata and the open content of the user's file id.
func (s *store) open(user, id string) (fileMeta, *os.File, error) {
	m, err := s.meta(user, id)
	if err != nil {
		return m, nil, err
	}
	f, err := os.Open(s.path(user, id, dataSuffix))
	if errors.Is(err, fs.ErrNotExist) {
		return m, nil, errNotFound
	}
	return m, f, err
}

// logger is where the store reports damaged metadata.
func (s *store) logger() *slog.Logger {
	if s.log != nil {
		return s.log
	}
	return slog.Default()
}

// remove deletes the user's file id: the metadata first, so the file
// leaves the list at once, then the content. Damaged metadata does not
// stop it: the returned metadata then holds the id alone, and the name
// "a damaged file".
func (s *store) remove(user, id string) (fileMeta, error) {
	if !validID(id) {
		return fileMeta{}, errNotFound
	}
	m, err := s.meta(user, id)
	if errors.Is(err, errNotFound) {
		return m, err
	}
	if err != nil {
		s.logger().Warn("showcase: deleting a file whose metadata is damaged", "user", user, "id", id, "error", err.Error())
		m = fileMeta{ID: id, Name: "a damaged file"}
	}
	if err := os.Remove(s.path(user, id, metaSuffix)); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return m, errNotFound
		}
		return m, err
	}
	if err := os.Remove(s.path(user, id, dataSuffix)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return m, err
	}
	return m, nil
}

// stats counts the users with a directory and the files of all of them.
func (s *store) stats() (users, files int, err error) {
	dirs, err := os.ReadDir(s.root)
	if err != nil {
		return 0, 0, err
	}
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		users++
		entries, err := os.ReadDir(filepath.Join(s.root, d.Name()))
		if err != nil {
			continue
		}
		for _, e := range entries {
			if id, ok := strings.CutSuffix(e.Name(), metaSuffix); ok && validID(id) {
				files++
			}
		}
	}
	return users, files, nil
}

// sweep removes what a crash may have left behind, once it is older than
// orphanAge (younger, it may be another instance's work in progress):
// temporary metadata files, and content without metadata. It returns the
// number of files removed.
func (s *store) sweep(now time.Time) int {
	removed := 0
	dirs, _ := os.ReadDir(s.root)
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		dir := filepath.Join(s.root, d.Name())
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			name := e.Name()
			// .upload-move-*: the upload filter's copy of a file across
			// file systems, cut short by a crash.
			orphan := strings.HasPrefix(name, tmpPrefix) || strings.HasPrefix(name, ".upload-move-")
			if id, ok := strings.CutSuffix(name, dataSuffix); ok && validID(id) {
				_, err := os.Stat(filepath.Join(dir, id+metaSuffix))
				orphan = errors.Is(err, fs.ErrNotExist)
			}
			if !orphan {
				continue
			}
			if info, err := e.Info(); err == nil && now.Sub(info.ModTime()) > orphanAge {
				if os.Remove(filepath.Join(dir, name)) == nil {
					removed++
				}
			}
		}
	}
	return removed
}

// sweepTmp removes the upload filter's temporary files ("upload-*") that
// a crash left in the uploads-in-progress directory, once they are older
// than orphanAge. It returns the number of files removed.
func sweepTmp(dir string, now time.Time) int {
	removed := 0
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "upload-") || !e.Type().IsRegular() {
			continue
		}
		if info, err := e.Info(); err == nil && now.Sub(info.ModTime()) > orphanAge {
			if os.Remove(filepath.Join(dir, e.Name())) == nil {
				removed++
			}
		}
	}
	return removed
}

// writeFileAtomic writes data to path through a temporary file in the same
// directory, synced and then renamed over path: readers see the old
// content or the new, never a part of it.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, tmpPrefix+"*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(perm)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	if d, err := os.Open(dir); err == nil { // make the rename durable too
		_ = d.Sync()
		d.Close()
	}
	return nil
}
