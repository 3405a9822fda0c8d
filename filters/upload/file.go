package upload

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// File is a file part of a form, stored by the filter's Sink while it
// streamed in. The filter removes the stored file when it returns, after
// the app, unless the app moved it (MoveTo) or kept it (Keep).
//
// A File belongs to the goroutine serving its request, as the request
// does; its methods are safe against the filter removing it from another
// goroutine (see the package documentation on http.TimeoutHandler).
type File struct {
	// Field is the form field the file was sent under.
	Field string
	// Name is the client's file name, cleaned by CleanFileName: a base
	// name without separators, control characters or leading dots. It
	// may be "". It never names the file on disk.
	Name string
	// Size is the file's length in bytes.
	Size int64
	// ContentType is the media type the client claimed for the part
	// (without parameters), or "" when it sent none or an invalid one.
	// Do not trust it.
	ContentType string
	// Sniffed is the media type http.DetectContentType finds in the
	// file's first 512 bytes, such as "image/png" or
	// "application/octet-stream". AllowedTypes is judged on it.
	Sniffed string
	// SHA256 is the SHA-256 digest of the content, computed while it
	// streamed in (zero when the filter's SkipSHA256 is set).
	SHA256 [32]byte

	stored Stored
	st     *state // guards the fields below, with its mu
	kept   bool   // moved or kept: not removed when the request ends
	gone   bool   // removed
}

// lock locks the file's request state, when it has one, and returns the
// function that unlocks it.
func (f *File) lock() (unlock func()) {
	if f.st == nil {
		return func() {}
	}
	f.st.mu.Lock()
	return f.st.mu.Unlock
}

// SHA256Hex returns the SHA-256 digest in lower-case hex (zeros when the
// filter's SkipSHA256 is set).
func (f *File) SHA256Hex() string { return hex.EncodeToString(f.SHA256[:]) }

// errGone is returned for a file removed when its request ended.
var errGone = fmt.Errorf("upload: the stored file was removed when its request ended: %w", os.ErrNotExist)

// Open opens the stored content for reading. The caller closes it.
func (f *File) Open() (io.ReadCloser, error) {
	defer f.lock()()
	if f.gone {
		return nil, errGone
	}
	return f.stored.Open()
}

// MoveTo moves the stored file to path, which the app chooses (never
// from the client's file name alone), replacing a file there. A moved
// file is not removed when the request is done. When MoveTo fails, the
// file stays stored, and is removed when the request is done.
func (f *File) MoveTo(path string) error {
	defer f.lock()()
	if f.gone {
		return errGone
	}
	if err := f.stored.MoveTo(path); err != nil {
		return err
	}
	f.kept = true
	return nil
}

// Keep leaves the stored file where the sink put it when the response
// finishes (for a sink that stores somewhere permanent).
func (f *File) Keep() {
	defer f.lock()()
	f.kept = true
}

// Path returns where the file is stored on disk now, or "" when its sink
// does not store it in a file or it was removed.
func (f *File) Path() string {
	defer f.lock()()
	if p, ok := f.stored.(interface{ Path() string }); ok && !f.gone {
		return p.Path()
	}
	return ""
}

// Sink is where the file parts of a form go while they stream in. The
// default is DirSink, a temporary directory.
type Sink interface {
	// Create returns a new, empty store for one file part. f has its
	// Field, Name and ContentType set, for information: a sink must not
	// build a path from them. Create is called on the goroutine serving
	// the request.
	Create(f *File) (Stored, error)
}

// Stored is one file a Sink is storing. The filter writes the content,
// then calls Close (also when the part failed); it calls Remove when the
// request ends with the file neither moved nor kept, or when the form
// failed. Remove may follow Close or come without it; after an error it
// may be called again.
type Stored interface {
	io.Writer
	// Close ends writing.
	Close() error
	// Open opens the content for reading.
	Open() (io.ReadCloser, error)
	// MoveTo moves the content to path.
	MoveTo(path string) error
	// Remove deletes the content. Removing twice is harmless; a removal
	// that failed is tried again when the request ends.
	Remove() error
}

// DirSink stores file parts in a directory, each in a new file named by
// os.CreateTemp ("upload-" and a random number), with mode 0600. Moving a
// file to another file system copies it to a temporary file beside the
// destination, then renames that over it.
type DirSink struct {
	// Dir is the directory; "" means os.TempDir(), which is memory
	// (tmpfs) on many systems.
	Dir string
}

var _ Sink = DirSink{}

// Create creates a new temporary file in the sink's directory.
func (s DirSink) Create(*File) (Stored, error) {
	f, err := os.CreateTemp(s.Dir, "upload-*")
	if err != nil {
		return nil, err
	}
	return &dirFile{f: f, path: f.Name()}, nil
}

// dirFile is a file stored by a DirSink.
type dirFile struct {
	f       *os.File
	path    string
	closed  bool
	removed bool
}

func (d *dirFile) Write(p []byte) (int, error) { return d.f.Write(p) }

func (d *dirFile) Close() error {
	if d.closed {
		return nil
	}
	d.closed = true
	return d.f.Close()
}

func (d *dirFile) Path() string { return d.path }

func (d *dirFile) Open() (io.ReadCloser, error) { return os.Open(d.path) }

// MoveTo renames the file to path. Across file systems it copies the
// content to a temporary file beside path, syncs it, removes the stored
// file and renames the copy over path, so that path never holds a partial
// file; when a step fails, the file stays stored (beside path when only
// the last rename failed) and MoveTo returns the error.
func (d *dirFile) MoveTo(path string) error {
	if d.removed {
		return os.ErrNotExist
	}
	if err := d.Close(); err != nil {
		return err
	}
	err := os.Rename(d.path, path)
	if err == nil {
		d.path = path
		return nil
	}
	if !crossDevice(err) {
		return err
	}
	tmp, err := copyBeside(d.path, path)
	if err != nil {
		return err
	}
	if err := os.Remove(d.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		os.Remove(tmp)
		return err
	}
	d.path = tmp
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	d.path = path
	return nil
}

// Remove removes the file; a failed removal may be tried again.
func (d *dirFile) Remove() error {
	d.Close()
	if d.removed {
		return nil
	}
	if err := os.Remove(d.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	d.removed = true
	return nil
}

// copyBeside copies the file from to a new temporary file in the directory
// of to, synced to disk, and returns its name. It leaves nothing behind
// when it fails.
func copyBeside(from, to string) (tmp string, err error) {
	in, err := os.Open(from)
	if err != nil {
		return "", err
	}
	defer in.Close()
	out, err := os.CreateTemp(filepath.Dir(to), ".upload-move-*")
	if err != nil {
		return "", err
	}
	defer func() {
		if err != nil {
			out.Close()
			os.Remove(out.Name())
		}
	}()
	if _, err = io.Copy(out, in); err != nil {
		return "", err
	}
	if err = out.Sync(); err != nil {
		return "", err
	}
	if err = out.Close(); err != nil {
		return "", err
	}
	return out.Name(), nil
}
