package upload

import (
	"bufio"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/wsapi-go/wsapi/filter"
)

// The defaults New sets, also used for a field left at zero.
const (
	DefaultMaxBodyBytes         = 32 << 20
	DefaultMaxFileBytes         = 32 << 20
	DefaultMaxFiles             = 32
	DefaultMaxParts             = 1000
	DefaultMaxFieldBytes        = 1 << 20
	DefaultMaxPartHeaderBytes   = 16 << 10
	DefaultMaxPreambleBytes     = 1 << 10
	DefaultMaxBoundaryLen       = 70
	DefaultMaxDispositionBytes  = 8 << 10
	DefaultMaxDispositionParams = 8
	DefaultMaxFileNameBytes     = 255
	DefaultMaxURLEncodedBytes   = 1 << 20
	DefaultMaxPairs             = 4096
)

// Filter is the upload filter: it reads multipart/form-data and
// application/x-www-form-urlencoded bodies as they stream in, under hard
// limits, when the app asks for the form (Parse), or before the app runs
// when Eager is set. New returns one with safe defaults; set its fields
// before Wrap, never after. A limit left at zero takes its default.
//
// A filter inside another one (a route's own) takes over from it while
// the form is not read: its settings apply, stricter or looser. A form an
// outer Eager filter read is checked against the inner filter's limits on
// the form's contents and its AllowedTypes (see the package
// documentation).
type Filter struct {
	// MaxBodyBytes caps a multipart body, whether it comes with a
	// Content-Length or chunked. Default 32 MiB.
	MaxBodyBytes int64
	// MaxFileBytes caps each file. Default 32 MiB.
	MaxFileBytes int64
	// MaxFiles caps the number of file parts. Default 32.
	MaxFiles int
	// MaxParts caps the number of parts, files and fields together.
	// Default 1000.
	MaxParts int
	// MaxFieldBytes caps the bytes of all non-file fields together, names
	// and values (they are kept in memory). Default 1 MiB.
	MaxFieldBytes int64
	// MaxPartHeaderBytes caps the header block of one part: its lines
	// with their CRLFs and the blank line that ends it. Default 16 KiB;
	// at most 1 MiB.
	MaxPartHeaderBytes int
	// MaxPreambleBytes caps the bytes before the first boundary. Default
	// 1 KiB.
	MaxPreambleBytes int
	// MaxBoundaryLen caps the boundary's length. Default and maximum
	// 70, as RFC 2046 says. A longer boundary is malformed input: 400.
	MaxBoundaryLen int
	// MaxDispositionBytes caps the value of a part's
	// Content-Disposition header. Default 8 KiB.
	MaxDispositionBytes int
	// MaxDispositionParams caps the number of parameters of a part's
	// Content-Disposition. Default 8.
	MaxDispositionParams int
	// MaxFileNameBytes is the length CleanFileName cuts a file name to:
	// a longer name is shortened, not refused. Default 255.
	MaxFileNameBytes int
	// MaxURLEncodedBytes caps an application/x-www-form-urlencoded body.
	// Default 1 MiB.
	MaxURLEncodedBytes int64
	// MaxPairs caps the number of key=value pairs of an urlencoded body.
	// Default 4096.
	MaxPairs int

	// AllowedTypes lists the media types a file's content may have, as
	// http.DetectContentType finds them in its first 512 bytes (never
	// the type the client claims): "image/png", or "image/*" for any
	// image. A file of another type ends the parse with 415. Empty (the
	// default) allows any content.
	AllowedTypes []string

	// SkipSHA256 leaves File.SHA256 zero instead of computing it while
	// the file streams in (so do not name files by it then). Hashing
	// costs about a nanosecond per byte; set it for bulk uploads on a
	// machine where the digest would be the bottleneck and the app does
	// not need it. Off by default.
	SkipSHA256 bool

	// Sink is where file parts go. nil (the default) means DirSink{}:
	// temporary files in os.TempDir(), which is memory (tmpfs) on many
	// systems.
	Sink Sink

	// Eager parses the form before the app runs, and answers an error
	// with ErrorHandler without calling the app. By default parsing is
	// deferred: nothing is read until the app calls Parse.
	Eager bool

	// ErrorHandler answers a form that could not be read, when Eager is
	// set. The default is WriteError.
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)

	// Progress, when set, tracks the bytes received of each upload that
	// carries an upload id (see Progress).
	Progress *Progress

	// Events is where the filter publishes "upload:limit" (a limit was
	// crossed), "upload:malformed", "upload:type" (a file type not
	// allowed) and "upload:store:error", each with the *Error; nil means
	// filter.DefaultHub.
	Events *filter.Hub
}

// New returns an upload filter with the default limits.
func New() *Filter {
	return &Filter{
		MaxBodyBytes:         DefaultMaxBodyBytes,
		MaxFileBytes:         DefaultMaxFileBytes,
		MaxFiles:             DefaultMaxFiles,
		MaxParts:             DefaultMaxParts,
		MaxFieldBytes:        DefaultMaxFieldBytes,
		MaxPartHeaderBytes:   DefaultMaxPartHeaderBytes,
		MaxPreambleBytes:     DefaultMaxPreambleBytes,
		MaxBoundaryLen:       DefaultMaxBoundaryLen,
		MaxDispositionBytes:  DefaultMaxDispositionBytes,
		MaxDispositionParams: DefaultMaxDispositionParams,
		MaxFileNameBytes:     DefaultMaxFileNameBytes,
		MaxURLEncodedBytes:   DefaultMaxURLEncodedBytes,
		MaxPairs:             DefaultMaxPairs,
	}
}

var (
	_ filter.Filter = (*Filter)(nil)
	_ filter.Namer  = (*Filter)(nil)
)

// Name returns "upload".
func (f *Filter) Name() string { return "upload" }

// config is a Filter compiled by Wrap.
type config struct {
	next    http.Handler
	lim     limits
	allowed []string
	noHash  bool
	sink    Sink
	eager   bool
	onError func(w http.ResponseWriter, r *http.Request, err error)
	prog    *Progress
	events  *filter.Hub
	readers sync.Pool // *parser, with its bufio.Reader

	finishHook func(*filter.Exchange)
}

// limits are a Filter's limits, defaults applied.
type limits struct {
	body, file, fields, urlencoded          int64
	files, parts, pairs                     int
	partHeader, preamble, boundary          int
	disposition, dispositionParams, nameLen int
}

func orDefault[T int | int64](v, def T, name string) T {
	switch {
	case v == 0:
		return def
	case v < 0:
		panic(fmt.Sprintf("upload: %s is %d: set a positive limit, or 0 for the default", name, v))
	}
	return v
}

// Wrap returns next with forms read under the filter's limits. It panics
// on a negative limit, a MaxBoundaryLen above 70 or a MaxPartHeaderBytes
// above 1 MiB.
func (f *Filter) Wrap(next http.Handler) http.Handler {
	c := &config{
		next: next,
		lim: limits{
			body:              orDefault(f.MaxBodyBytes, DefaultMaxBodyBytes, "MaxBodyBytes"),
			file:              orDefault(f.MaxFileBytes, DefaultMaxFileBytes, "MaxFileBytes"),
			fields:            orDefault(f.MaxFieldBytes, DefaultMaxFieldBytes, "MaxFieldBytes"),
			urlencoded:        orDefault(f.MaxURLEncodedBytes, DefaultMaxURLEncodedBytes, "MaxURLEncodedBytes"),
			files:             orDefault(f.MaxFiles, DefaultMaxFiles, "MaxFiles"),
			parts:             orDefault(f.MaxParts, DefaultMaxParts, "MaxParts"),
			pairs:             orDefault(f.MaxPairs, DefaultMaxPairs, "MaxPairs"),
			partHeader:        orDefault(f.MaxPartHeaderBytes, DefaultMaxPartHeaderBytes, "MaxPartHeaderBytes"),
			preamble:          orDefault(f.MaxPreambleBytes, DefaultMaxPreambleBytes, "MaxPreambleBytes"),
			boundary:          orDefault(f.MaxBoundaryLen, DefaultMaxBoundaryLen, "MaxBoundaryLen"),
			disposition:       orDefault(f.MaxDispositionBytes, DefaultMaxDispositionBytes, "MaxDispositionBytes"),
			dispositionParams: orDefault(f.MaxDispositionParams, DefaultMaxDispositionParams, "MaxDispositionParams"),
			nameLen:           orDefault(f.MaxFileNameBytes, DefaultMaxFileNameBytes, "MaxFileNameBytes"),
		},
		allowed: append([]string(nil), f.AllowedTypes...),
		noHash:  f.SkipSHA256,
		sink:    f.Sink,
		eager:   f.Eager,
		onError: f.ErrorHandler,
		prog:    f.Progress,
		events:  f.Events,
	}
	if c.lim.boundary > 70 {
		panic(fmt.Sprintf("upload: MaxBoundaryLen is %d: RFC 2046 allows at most 70", c.lim.boundary))
	}
	if c.lim.partHeader > 1<<20 {
		panic(fmt.Sprintf("upload: MaxPartHeaderBytes is %d: at most 1 MiB (1048576)", c.lim.partHeader))
	}
	for _, t := range c.allowed {
		if t == "" || strings.ContainsAny(t, "; ") {
			panic(fmt.Sprintf("upload: AllowedTypes has %q: give media types such as image/png or image/*, without parameters", t))
		}
	}
	if c.sink == nil {
		c.sink = DirSink{}
	}
	if c.onError == nil {
		c.onError = func(w http.ResponseWriter, _ *http.Request, err error) { WriteError(w, err) }
	}
	if c.events == nil {
		c.events = filter.DefaultHub
	}
	size := max(64<<10, c.lim.partHeader+1)
	c.readers.New = func() any { return &parser{br: bufio.NewReaderSize(nil, size)} }
	c.finishHook = c.finish
	return c
}

// stateKey holds a request's form state: the one the outermost upload
// filter attached, which an inner one takes over (see Filter).
var stateKey = filter.NewKey[*state]("upload")

// ServeHTTP sets up deferred parsing of a form body, or parses it now when
// the filter is Eager. Requests whose body is not a form pass straight
// through.
func (c *config) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	kind := kindOf(r.Header.Get("Content-Type"))
	if kind == kindOther {
		c.next.ServeHTTP(w, r)
		return
	}
	x, w, r, owner := filter.Begin(w, r)
	defer owner.End()
	st, nested := stateKey.Get(x)
	if !nested {
		st = &state{c: c, kind: kind}
		stateKey.Set(x, st)
		x.OnFinish(c.finishHook)
	}
	err := st.enter(c, r, nested)
	defer st.exit(x)
	if err != nil {
		st.report(r, err)
	}
	if c.eager {
		if _, err := st.parse(r); err != nil {
			c.onError(w, r, err)
			return
		}
	}
	c.next.ServeHTTP(w, r)
}

// finish runs when the response is finished. The filters have returned by
// then, and their files are removed, unless a handler between the exchange's
// owner and the filter runs the app on another goroutine and returned
// first (http.TimeoutHandler): then a parse still under way stops reading,
// and the filter removes the files when it returns.
func (c *config) finish(x *filter.Exchange) {
	st, ok := stateKey.Get(x)
	if !ok {
		return
	}
	st.mu.Lock()
	st.finished = true
	st.stop.Store(true)
	if st.inside == 0 {
		st.endLocked(x)
	}
	st.mu.Unlock()
}

// Form is a parsed form: its non-file fields and its files.
type Form struct {
	// Values holds the non-file fields, in the order they came.
	Values url.Values
	// Files holds the file parts by field name, in the order they came.
	Files map[string][]*File
}

// Value returns the first value of the field name, or "".
func (f *Form) Value(name string) string { return f.Values.Get(name) }

// File returns the first file sent under the field name, or nil.
func (f *Form) File(name string) *File {
	if fs := f.Files[name]; len(fs) > 0 {
		return fs[0]
	}
	return nil
}

// Parse returns the request's form, reading it on the first call (later
// calls return the same form or error). It reads the body of r (r.Body,
// so a reader an inner handler put around the body, such as
// http.MaxBytesReader, is honoured), a multipart/form-data or
// application/x-www-form-urlencoded request that passed through an upload
// filter, under its limits; query parameters are not included. For a
// request whose body is not a form it returns an empty form; for a form
// request without an upload filter, ErrNoFilter. Any other error is an
// *Error: answer it with WriteError. After an error the body is closed and
// the files stored so far are removed.
//
// Parse reads the body on the calling goroutine: call it from the
// goroutine serving the request, while the filter serves it. The filter
// does not fill r.Form, r.PostForm or r.MultipartForm: after Parse,
// r.FormValue and r.ParseMultipartForm find the body read, and before it
// they would read the body without the filter's limits.
func Parse(r *http.Request) (*Form, error) {
	st, ok := stateKey.Get(filter.From(r))
	if !ok {
		if kindOf(r.Header.Get("Content-Type")) != kindOther {
			return nil, ErrNoFilter
		}
		return &Form{Values: url.Values{}, Files: map[string][]*File{}}, nil
	}
	return st.parse(r)
}
