// Package upload is the upload filter: multipart/form-data and urlencoded
// forms read as they stream in, under hard limits, with files stored
// outside memory and removed when the request is done; and a filter
// that makes request bodies rewindable.
//
// # Use
//
//	up := upload.New()
//	up.MaxFileBytes = 10 << 20
//	up.AllowedTypes = []string{"image/png", "image/jpeg"}
//	stack := wsapi.New(logs, up)
//
// and in any handler, in any framework, or in a WSAPI-style app through
// env.Request():
//
//	form, err := upload.Parse(r)
//	if err != nil {
//		upload.WriteError(w, err) // 400, 413 or 415, naming the limit
//		return
//	}
//	if f := form.File("avatar"); f != nil {
//		err = f.MoveTo(filepath.Join(dir, f.SHA256Hex()+".png")) // SHA256 is zero under SkipSHA256
//	}
//
// # Deferred or eager parsing
//
// By default nothing is read until the app calls Parse (WSAPI's
// delay_post): an app that refuses the request first never pays for its
// body, and the app answers a form error itself, with WriteError or its
// own page. With Eager set, the filter reads the form before the app runs
// and answers an error itself (ErrorHandler), without calling the app;
// Parse then returns the form already read. Parse reads the form once; later
// calls return the same form, or the same error.
//
// Requests whose Content-Type is neither multipart/form-data nor
// application/x-www-form-urlencoded pass through untouched, at no cost;
// Parse returns an empty form for them.
//
// Parse reads the body of the request it is given, so a reader that an
// inner handler put around the body (http.MaxBytesHandler, a decompressing
// filter) is honoured. The filter does not fill r.Form, r.PostForm or
// r.MultipartForm: r.FormValue and r.ParseMultipartForm, called before
// Parse, would read the body without the filter's limits, and called
// after it find the body read. Use the Form that Parse returns.
//
// # Nested filters
//
// An upload filter inside another one, on one route, say, takes over from
// it: while the form is not read, the innermost filter's limits,
// AllowedTypes, Sink and other settings apply, whether they are stricter
// or looser than the outer filter's. A form an outer Eager filter has read
// already is checked against the inner filter's limits on what the form
// holds (MaxBodyBytes, MaxFiles, MaxFileBytes, MaxParts, MaxFieldBytes,
// MaxURLEncodedBytes, MaxPairs) and its AllowedTypes; the limits on how
// the body was framed (headers, preamble, boundary) were the outer one's.
//
// # Streaming and limits
//
// The multipart parser is the package's own: it reads the body through a
// bufio.Reader of bounded size (64 KiB, or MaxPartHeaderBytes if larger),
// finds the boundary across buffer edges, and hands each file's bytes to the
// Sink as they arrive, hashing them (SHA-256) and sniffing the first 512
// (http.DetectContentType) on the way. A file never sits whole in memory;
// non-file fields do, up to MaxFieldBytes in all. Every limit is checked
// while streaming, with or without a Content-Length (a chunked body is cut
// at MaxBodyBytes; a Content-Length above it is refused before reading),
// and crossing one stops reading: the files stored so far are removed,
// Parse returns an *Error, and the body is closed. (Closing a body is not
// always the end of it: net/http reads up to 256 KiB more of a chunked
// body on Close, and the body of a Rewindable filter ignores Close. The
// "Connection: close" that WriteError sends is what ends the connection.)
// The epilogue after the closing boundary is read and dropped, so that
// MaxBodyBytes and the Content-Length hold for the whole body. An
// urlencoded body's buffer grows with the bytes that arrive, never ahead
// of them from the Content-Length.
//
// The limits, each a field of Filter with a safe default (a field left at
// zero takes its default): MaxBodyBytes, MaxFileBytes, MaxFiles, MaxParts,
// MaxFieldBytes, MaxPartHeaderBytes, MaxPreambleBytes, MaxBoundaryLen
// (at most 70), MaxDispositionBytes, MaxDispositionParams, and for
// urlencoded bodies MaxURLEncodedBytes and MaxPairs. Crossing one answers
// 413 with a body that names the field. Malformed input answers 400: no
// boundary or two boundary parameters, a boundary over MaxBoundaryLen, a
// body shorter than its Content-Length or without its closing boundary, a
// part header that is folded (obs-fold), has a bare CR or LF, a control
// character, or no form-data Content-Disposition with a name, and a
// boundary line with other text after the boundary. The parser is strict
// where RFC 7578 and RFC 2046 are: lines end in CRLF, and the boundary
// must not occur inside a part's content.
//
// A file whose sniffed type is not in AllowedTypes answers 415: the type is
// judged by content, never by the type the client claims (File.ContentType
// records the claim). A browser's empty file input (an empty part with an
// empty file name) is no file: it is not judged, not counted against
// MaxFiles, and the Sink never hears of it (a file's store is created on
// its first byte). A part's file name is its filename parameter;
// filename*, which RFC 7578 rules out in forms, is ignored, and a part
// with only filename* is a field.
//
// # Files and cleanup
//
// A File has its field, its cleaned name (CleanFileName: a base name
// without path separators, control characters, NUL, leading dots, the
// characters Windows forbids or a Windows device name, cut to
// MaxFileNameBytes), its size, the client's and the sniffed content types,
// its SHA-256, Open, MoveTo and Keep. Names on disk never come from the
// client: DirSink, the default Sink, names files with os.CreateTemp. Every
// stored file the app neither moved nor kept is removed when the upload
// filter returns, after the app: also when the app panicked, when the
// client went away mid-upload, and when a limit tripped. Another Sink (an
// object store, say) implements Sink and Stored.
//
// DirSink's default directory, os.TempDir(), is a tmpfs (memory) on many
// systems: where uploads may be large, set its Dir to a directory on disk.
//
// A handler that runs the app on a goroutine of its own and may return
// before it, such as http.TimeoutHandler, is best put outside the upload
// filter, which then returns when the app does and removes the files then.
// Once such a handler has returned and the response is finished, a parse
// under way stops reading and fails with 503, and its files are removed
// when it stops. When the handler sits inside the upload filter, the files
// the app holds are removed when the upload filter returns; MoveTo and
// Open then fail with an error that is os.ErrNotExist.
//
// # Speed and memory
//
// A request without a form costs nothing (no allocation). A form costs the
// exchange, one pooled parser (its 64 KiB buffer included) and what the
// form holds; a file streams from the buffer to the sink without another
// copy, so the server's memory does not grow with the size of an upload.
// Computing SHA-256 costs about a nanosecond per byte, which on a small
// machine is more than writing to the page cache: for files over 256 KiB
// the digest is computed on a second goroutine while each chunk is written,
// and SkipSHA256 turns it off where the app does not need it.
//
// # Progress
//
// A Progress tracks the bytes received of each upload that carries an
// upload id (query parameter or header X-Progress-ID), and is an
// http.Handler that answers a progress bar's poll with JSON.
//
// # Rewindable bodies
//
// Rewindable is a separate filter (WSAPI's make_rewindable): it spools a
// request body as it is read, in memory up to a threshold, then in a
// temporary file, so a filter and the app can each read it; Rewind sets it
// back to its start. The temporary file is removed at finish.
//
// # Events
//
// The filter publishes on Events (filter.DefaultHub by default), with the
// *Error as data: "upload:limit" when a limit is crossed,
// "upload:malformed" for malformed input, "upload:type" for a file type not
// allowed, and "upload:store:error" when the Sink fails (also logged).
package upload
