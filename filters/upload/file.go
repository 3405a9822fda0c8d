package upload

import (
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
)

// File is a file part of a form, stored by the filter's Sink while it
// streamed in. The filter removes the stored file when the response is
// finished, unless the app moved it (MoveTo) or kept it (Keep).
//
// A File belongs to the goroutine serving its request, as the request does.
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
	kept   bool // moved or kept: not removed at finish
}

// SHA256Hex returns the SHA-256 digest in lower-case hex.
func (f *File) SHA256Hex() string { return hex.EncodeToString(f.SHA256[:]) }

// Open opens the stored content for reading. The caller closes it.
func (f *File) Open() (io.ReadCloser, error) { return f.stored.Open() }

// MoveTo moves the stored file to path, which the app chooses (never
// from the client's file name alone), replacing a file there. A moved
// file is not removed when the response finishes.
func (f *File) MoveTo(path string) error {
	if err := f.stored.MoveTo(path); err != nil {
		return err
	}
	f.kept = true
	return nil
}

// Keep leaves the stored file where the sink put it when the response
// finishes (for a sink that stores somewhere permanent).
func (f *File) Keep() { f.kept = true }

// Path returns where the file is stored on disk now, or "" when its sink
// does not store it in a file.
func (f *File) Path() string {
	if p, ok := f.stored.(interface{ Path() string }); ok {
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
// failed. Remove may follow Close or come without it.
type Stored interface {
	io.Writer
	// Close ends writing.
	Close() error
	// Open opens the content for reading.
	Open() (io.ReadCloser, error)
	// MoveTo moves the content to path.
	MoveTo(path string) error
	// Remove deletes the content. Removing twice is harmless.
	Remove() error
}

// DirSink stores file parts in a directory, each in a new file named by
// os.CreateTemp ("upload-" and a random number), with mode 0600.
type DirSink struct {
	// Dir is the directory; "" means os.TempDir().
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

func (d *dirFile) MoveTo(path string) error {
	if d.removed {
		return os.ErrNotExist
	}
	d.Close()
	err := os.Rename(d.path, path)
	if err == nil {
		d.path = path
		return nil
	}
	var le *os.LinkError
	if !errors.As(err, &le) {
		return err
	}
	// Another file system: copy, then remove the temporary file.
	if err := copyFile(d.path, path); err != nil {
		return err
	}
	os.Remove(d.path)
	d.path = path
	return nil
}

func (d *dirFile) Remove() error {
	d.Close()
	if d.removed {
		return nil
	}
	d.removed = true
	err := os.Remove(d.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

func copyFile(from, to string) (err error) {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(filepath.Clean(to), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err = io.Copy(out, in); err != nil {
		out.Close()
		os.Remove(to)
		return err
	}
	return out.Close()
}
