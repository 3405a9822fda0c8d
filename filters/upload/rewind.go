package upload

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"

	"github.com/wsapi-go/wsapi/filter"
)

// Rewindable is a filter that makes request bodies readable more than once
// (WSAPI's make_rewindable): it replaces r.Body with a body that keeps what
// is read, in memory up to MemoryBytes and then in a temporary file, so
// that a filter or the app can read it, call Rewind, and read it again.
// Nothing is read ahead: the body is spooled as it is read. The temporary
// file is removed when the response is finished.
//
// Set its fields before Wrap, never after.
type Rewindable struct {
	// MemoryBytes is how much of a body is kept in memory before it goes
	// to a temporary file. Default 64 KiB.
	MemoryBytes int64
	// MaxBytes caps the body: reading past it fails with an *Error (413,
	// limit "Rewindable.MaxBytes"). Default 32 MiB.
	MaxBytes int64
	// Dir is the directory of the temporary files; "" means
	// os.TempDir().
	Dir string
}

// NewRewindable returns a Rewindable filter with the defaults.
func NewRewindable() *Rewindable {
	return &Rewindable{MemoryBytes: 64 << 10, MaxBytes: DefaultMaxBodyBytes}
}

var (
	_ filter.Filter = (*Rewindable)(nil)
	_ filter.Namer  = (*Rewindable)(nil)
)

// Name returns "rewindable".
func (rw *Rewindable) Name() string { return "rewindable" }

// rewindKey holds a request's rewindable body.
var rewindKey = filter.NewKey[*rewindBody]("upload:rewindable")

// Wrap returns next with rewindable request bodies. It panics on a
// negative size.
func (rw *Rewindable) Wrap(next http.Handler) http.Handler {
	mem := orDefault(rw.MemoryBytes, 64<<10, "Rewindable.MemoryBytes")
	maxBytes := orDefault(rw.MaxBytes, DefaultMaxBodyBytes, "Rewindable.MaxBytes")
	if mem > maxBytes {
		panic(fmt.Sprintf("upload: Rewindable.MemoryBytes (%d) is above MaxBytes (%d)", mem, maxBytes))
	}
	dir := rw.Dir
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody {
			next.ServeHTTP(w, r)
			return
		}
		x, w, r, owner := filter.Begin(w, r)
		defer owner.End()
		if _, twice := rewindKey.Get(x); twice {
			next.ServeHTTP(w, r)
			return
		}
		b := &rewindBody{src: r.Body, mem: mem, max: maxBytes, dir: dir}
		rewindKey.Set(x, b)
		x.OnFinish(removeSpool)
		r.Body = b
		next.ServeHTTP(w, r)
	})
}

func removeSpool(x *filter.Exchange) {
	if b, ok := rewindKey.Get(x); ok {
		b.discard()
	}
}

// Rewind sets the request's body back to its first byte, when it passed
// through a Rewindable filter; otherwise it returns ErrNotRewindable. The
// body is the one r.Body was set to by the filter: a reader a later filter
// put around it is not rewound.
func Rewind(r *http.Request) error {
	b, ok := rewindKey.Get(filter.From(r))
	if !ok {
		return ErrNotRewindable
	}
	_, err := b.Seek(0, io.SeekStart)
	return err
}

// rewindBody spools what is read from src, so it can be read again.
type rewindBody struct {
	src  io.ReadCloser
	mem  int64
	max  int64
	dir  string
	buf  []byte   // the spool while it is small
	file *os.File // the spool once it is not
	n    int64    // bytes spooled
	pos  int64    // read position
	eof  bool     // src is exhausted
	err  error    // sticky error from src
	gone bool     // discarded at finish
}

// Read reads from the spool, then from the source, spooling what it reads.
func (b *rewindBody) Read(p []byte) (int, error) {
	if b.gone {
		return 0, errors.New("upload: read of a rewindable body after the request finished")
	}
	if len(p) == 0 {
		return 0, nil
	}
	if b.pos < b.n {
		if b.file == nil {
			n := copy(p, b.buf[b.pos:b.n])
			b.pos += int64(n)
			return n, nil
		}
		n, err := b.file.ReadAt(p[:min(int64(len(p)), b.n-b.pos)], b.pos)
		b.pos += int64(n)
		if err == io.EOF {
			err = nil
		}
		return n, err
	}
	if b.eof {
		return 0, io.EOF
	}
	if b.err != nil {
		return 0, b.err
	}
	if int64(len(p)) > b.max-b.n+1 {
		p = p[:b.max-b.n+1]
	}
	n, err := b.src.Read(p)
	if b.n+int64(n) > b.max {
		b.err = limitError("Rewindable.MaxBytes", b.max, "the request body is too large")
		return 0, b.err
	}
	if n > 0 {
		if werr := b.spool(p[:n]); werr != nil {
			b.err = &Error{Status: http.StatusInternalServerError, Reason: "the request body cannot be spooled", Err: werr}
			return 0, b.err
		}
		b.pos = b.n
	}
	switch {
	case err == io.EOF:
		b.eof = true
	case err != nil:
		b.err = err
	}
	return n, err
}

// spool appends p to the spool, moving it to a file past MemoryBytes.
func (b *rewindBody) spool(p []byte) error {
	if b.file == nil && b.n+int64(len(p)) <= b.mem {
		b.buf = append(b.buf[:b.n], p...)
		b.n += int64(len(p))
		return nil
	}
	if b.file == nil {
		f, err := os.CreateTemp(b.dir, "upload-body-*")
		if err != nil {
			return err
		}
		b.file = f
		if _, err := f.Write(b.buf[:b.n]); err != nil {
			return err
		}
		b.buf = nil
	}
	if _, err := b.file.WriteAt(p, b.n); err != nil {
		return err
	}
	b.n += int64(len(p))
	return nil
}

// Seek moves the read position within the bytes spooled so far; seeking
// from the end first reads the rest of the body.
func (b *rewindBody) Seek(offset int64, whence int) (int64, error) {
	var base int64
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		base = b.pos
	case io.SeekEnd:
		pos := b.pos
		b.pos = b.n
		if _, err := io.Copy(io.Discard, b); err != nil {
			b.pos = pos
			return pos, err
		}
		base = b.n
	default:
		return b.pos, errors.New("upload: invalid whence")
	}
	to := base + offset
	if to < 0 || to > b.n {
		return b.pos, errors.New("upload: seek outside the body read so far")
	}
	b.pos = to
	return to, nil
}

// Close does nothing: the spool stays readable until the response is
// finished. (The server closes the body it owns.)
func (b *rewindBody) Close() error { return nil }

// discard removes the spool file.
func (b *rewindBody) discard() {
	b.gone = true
	b.buf = nil
	if b.file != nil {
		b.file.Close()
		os.Remove(b.file.Name())
		b.file = nil
	}
}
