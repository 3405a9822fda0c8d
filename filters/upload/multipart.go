package upload

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"hash"
	"io"
	"mime"
	"net/http"
	"strings"
)

// sniffLen is how many bytes http.DetectContentType looks at.
const sniffLen = 512

// What the parser is streaming, for emit.
const (
	modePreamble = iota
	modeField
	modeFile
)

// parser is a streaming multipart/form-data reader. It keeps a bufio.Reader
// of bounded size over the body and never holds a file part whole: the
// bytes up to a possible delimiter go out as soon as they are read. Every
// limit is checked on the bytes read so far, so a parse stops at most one
// buffer past the byte that crossed a limit. Parsers are pooled per
// filter.
type parser struct {
	br      *bufio.Reader
	body    bodyReader
	lim     *limits
	allowed []string
	noHash  bool
	sink    Sink
	st      *state
	form    *Form
	delim   []byte // "\r\n--" + boundary
	scratch []byte // a field's value; unescaped parameters

	nparts, nfiles int
	fieldBytes     int64
	headerScanned  int // header bytes searched for a line end, in all

	// The part being read.
	mode    int
	count   int64
	file    *File
	hash    hash.Hash
	nsniff  int
	sniffed bool
	sniff   [sniffLen]byte
	hs      *hasher // hashes big chunks beside the write, once a file is big
}

// Hashing a large file on a second goroutine, while the chunk is written
// to the sink, keeps SHA-256 off the critical path when a core is free.
const (
	parallelAfter = 256 << 10 // bytes of a file before a hasher starts
	parallelChunk = 16 << 10  // smaller chunks are hashed inline
	fillTarget    = 32 << 10  // a file's chunks are at least this long when the body allows
)

// hasher hashes chunks on its own goroutine, one at a time.
type hasher struct {
	h    hash.Hash
	in   chan []byte
	done chan struct{}
}

func (hs *hasher) run() {
	for b := range hs.in {
		hs.h.Write(b)
		hs.done <- struct{}{}
	}
}

// stopHasher ends the hasher goroutine, if one runs.
func (p *parser) stopHasher() {
	if p.hs != nil {
		close(p.hs.in)
		p.hs = nil
	}
}

// parseMultipart reads a multipart/form-data body into form.
func (c *config) parseMultipart(st *state, r *http.Request, form *Form) *Error {
	boundary, err := boundaryOf(r.Header.Get("Content-Type"), c.lim.boundary)
	if err != nil {
		return err
	}
	if r.ContentLength > c.lim.body {
		return limitError("MaxBodyBytes", c.lim.body, "the request body is too large")
	}
	if r.Body == nil || r.Body == http.NoBody {
		return malformed("the multipart body is empty")
	}
	p := c.readers.Get().(*parser)
	p.body = bodyReader{r: r.Body, max: c.lim.body, declared: r.ContentLength, limit: "MaxBodyBytes", prog: st.prog, stop: &st.stop}
	p.br.Reset(&p.body)
	p.lim, p.allowed, p.noHash, p.sink, p.st, p.form = &c.lim, c.allowed, c.noHash, c.sink, st, form
	p.delim = append(append(p.delim[:0], "\r\n--"...), boundary...)
	returned := false
	defer func() {
		if !returned { // a Sink panicked: p is not pooled
			p.stopHasher()
		}
	}()
	err = p.parse()
	returned = true
	p.stopHasher()
	if err == nil {
		st.nparts, st.fieldBytes, st.bodyBytes = p.nparts, p.fieldBytes, p.body.n
	}
	// Drop what refers to this request before pooling.
	if p.file != nil && p.file.stored != nil && err != nil {
		p.file.stored.Close()
	}
	p.body = bodyReader{}
	p.br.Reset(nil)
	p.st, p.form, p.file, p.hash = nil, nil, nil, nil
	p.nparts, p.nfiles, p.fieldBytes, p.headerScanned = 0, 0, 0, 0
	if cap(p.scratch) > 64<<10 {
		p.scratch = nil
	}
	c.readers.Put(p)
	return err
}

func (p *parser) parse() *Error {
	if err := p.preamble(); err != nil {
		return err
	}
	for {
		last, err := p.afterDelimiter()
		if err != nil {
			return err
		}
		if last {
			return p.epilogue()
		}
		if p.nparts++; p.nparts > p.lim.parts {
			return limitError("MaxParts", int64(p.lim.parts), "the form has too many parts")
		}
		if err := p.part(); err != nil {
			return err
		}
	}
}

// preamble skips what comes before the first delimiter: nothing, when the
// body starts with "--boundary", or at most MaxPreambleBytes then CRLF.
func (p *parser) preamble() *Error {
	first := p.delim[2:]
	b, err := p.br.Peek(len(first))
	if err == nil && bytes.Equal(b, first) {
		p.br.Discard(len(first))
		return nil
	}
	if err != nil && len(b) == 0 {
		return asError(err, "the multipart body is empty")
	}
	p.mode, p.count = modePreamble, 0
	return p.scan()
}

// epilogue reads and drops what follows the closing delimiter, so that the
// limit on the body and its Content-Length hold for the whole body.
func (p *parser) epilogue() *Error {
	if _, err := p.br.WriteTo(io.Discard); err != nil {
		return asError(err, "the request body ended early")
	}
	return nil
}

// afterDelimiter reads what follows a delimiter: "--" for the last one
// (last is true), or optional spaces and CRLF before a part.
func (p *parser) afterDelimiter() (last bool, _ *Error) {
	b, err := p.br.Peek(2)
	if err != nil {
		return false, asError(err, "the multipart body ends after a boundary")
	}
	if b[0] == '-' && b[1] == '-' {
		return true, nil
	}
	for n := 0; ; n++ {
		c, err := p.br.ReadByte()
		if err != nil {
			return false, asError(err, "the multipart body ends after a boundary")
		}
		switch {
		case (c == ' ' || c == '\t') && n < 64:
			continue
		case c == '\r':
			if c, err = p.br.ReadByte(); err == nil && c == '\n' {
				return false, nil
			}
		}
		return false, malformed("a boundary line has other text after the boundary")
	}
}

// part reads one part: its headers, then its content.
func (p *parser) part() *Error {
	var d disposition
	var ctype string
	var seenCD, seenCT bool
	budget := p.lim.partHeader
	for {
		line, err := p.headerLine(&budget)
		if err != nil {
			return err
		}
		if len(line) == 0 {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			return malformed("a part header is folded over lines (obs-fold)")
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			return malformed("a part header line has no name")
		}
		for _, c := range line[:colon] {
			if !isTokenChar(c) {
				return malformed("a part header name has an invalid character")
			}
		}
		value := bytes.TrimRight(line[colon+1:], " \t")
		value = bytes.TrimLeft(value, " \t")
		for _, c := range value {
			if c < 0x20 && c != '\t' || c == 0x7f {
				return malformed("a part header value has a control character")
			}
		}
		switch name := line[:colon]; {
		case asciiEqualFold(name, "Content-Disposition"):
			if seenCD {
				return malformed("a part has two Content-Disposition headers")
			}
			seenCD = true
			if len(value) > p.lim.disposition {
				return limitError("MaxDispositionBytes", int64(p.lim.disposition), "a part's Content-Disposition is too long")
			}
			var perr *Error
			d, p.scratch, perr = parseDisposition(string(value), p.lim.dispositionParams, p.scratch)
			if perr != nil {
				return perr
			}
		case asciiEqualFold(name, "Content-Type"):
			if seenCT {
				return malformed("a part has two Content-Type headers")
			}
			seenCT = true
			if mt, _, err := mime.ParseMediaType(string(value)); err == nil {
				ctype = mt
			}
		}
	}
	if !seenCD {
		return malformed("a part has no Content-Disposition header")
	}
	if !d.hasFilename {
		return p.field(d.name)
	}
	return p.fileBody(d, ctype)
}

// headerLine returns the next header line without its CRLF, counting its
// bytes against budget. The line is valid until the next read. Each byte
// is searched for the line's end once, however the header trickles in.
func (p *parser) headerLine(budget *int) ([]byte, *Error) {
	searched := 0
	for {
		if _, err := p.br.Peek(1); err != nil {
			return nil, asError(err, "the multipart body ends inside a part's headers")
		}
		buf, _ := p.br.Peek(p.br.Buffered())
		look := buf[:min(len(buf), *budget)]
		p.headerScanned += len(look) - searched
		if i := bytes.IndexByte(look[searched:], '\n'); i >= 0 {
			i += searched
			if i == 0 || buf[i-1] != '\r' || bytes.IndexByte(buf[:i-1], '\r') >= 0 {
				return nil, malformed("a part header line does not end in CRLF")
			}
			*budget -= i + 1
			p.br.Discard(i + 1)
			return buf[:i-1], nil
		}
		searched = len(look)
		if len(buf) >= *budget {
			return nil, limitError("MaxPartHeaderBytes", int64(p.lim.partHeader), "a part's headers are too long")
		}
		if _, err := p.br.Peek(len(buf) + 1); err != nil {
			return nil, asError(err, "the multipart body ends inside a part's headers")
		}
	}
}

// field reads a non-file field's value into the form.
func (p *parser) field(name string) *Error {
	if p.fieldBytes += int64(len(name)); p.fieldBytes > p.lim.fields {
		return limitError("MaxFieldBytes", p.lim.fields, "the form's fields are too large")
	}
	if _, ok := p.form.Values[name]; !ok {
		name = strings.Clone(name) // not the whole header it was cut from
	}
	p.mode, p.count = modeField, 0
	p.scratch = p.scratch[:0]
	if err := p.scan(); err != nil {
		return err
	}
	p.form.Values[name] = append(p.form.Values[name], string(p.scratch))
	return nil
}

// fileBody streams a file part to the sink. The sink's file is created
// when the first byte of content comes (or at the end of an empty file
// with a name), so a browser's empty file input costs no Create.
func (p *parser) fileBody(d disposition, ctype string) *Error {
	f := &File{Field: d.name, Name: CleanFileName(d.filename, p.lim.nameLen), ContentType: ctype, st: p.st}
	p.file, p.hash = f, nil
	p.mode, p.count, p.nsniff, p.sniffed = modeFile, 0, 0, false
	if err := p.scan(); err != nil {
		return err
	}
	if f.stored == nil {
		if d.filename == "" {
			// A file input left empty: browsers send an empty part with
			// an empty name. It is no file.
			p.file = nil
			return nil
		}
		if err := p.create(); err != nil {
			return err
		}
	}
	if !p.sniffed {
		if err := p.judge(); err != nil {
			return err
		}
	}
	p.stopHasher()
	f.Size = p.count
	if p.hash != nil {
		p.hash.Sum(f.SHA256[:0])
	}
	p.file, p.hash = nil, nil
	if err := f.stored.Close(); err != nil {
		return &Error{Status: http.StatusInternalServerError, Reason: "the file cannot be stored", Err: err}
	}
	p.form.Files[f.Field] = append(p.form.Files[f.Field], f)
	return nil
}

// create counts the current file against MaxFiles and has the sink create
// its store.
func (p *parser) create() *Error {
	if p.nfiles++; p.nfiles > p.lim.files {
		return limitError("MaxFiles", int64(p.lim.files), "the form has too many files")
	}
	s, err := p.sink.Create(p.file)
	if err != nil {
		return &Error{Status: http.StatusInternalServerError, Reason: "the file cannot be stored", Err: err}
	}
	p.file.stored = s
	p.st.files = append(p.st.files, p.file)
	if !p.noHash {
		p.hash = sha256.New()
	}
	return nil
}

// judge sniffs the file's type from its first bytes and checks it against
// AllowedTypes.
func (p *parser) judge() *Error {
	p.sniffed = true
	p.file.Sniffed = http.DetectContentType(p.sniff[:p.nsniff])
	return typeAllowed(p.allowed, p.file.Sniffed)
}

// typeAllowed checks a sniffed content type against AllowedTypes: nil when
// it is allowed, a 415 *Error otherwise.
func typeAllowed(allowed []string, sniffed string) *Error {
	if len(allowed) == 0 {
		return nil
	}
	mt := sniffed
	if i := strings.IndexByte(mt, ';'); i >= 0 {
		mt = mt[:i]
	}
	for _, a := range allowed {
		if a == mt || strings.HasSuffix(a, "/*") && strings.HasPrefix(mt, a[:len(a)-1]) {
			return nil
		}
	}
	return &Error{Status: http.StatusUnsupportedMediaType, Reason: "a file's content is " + mt + ", which is not an allowed type"}
}

// emit takes the next bytes of the current part (or the preamble).
func (p *parser) emit(b []byte) *Error {
	switch p.mode {
	case modePreamble:
		if p.count += int64(len(b)); p.count > int64(p.lim.preamble) {
			return limitError("MaxPreambleBytes", int64(p.lim.preamble), "the multipart preamble is too long")
		}
	case modeField:
		if p.fieldBytes += int64(len(b)); p.fieldBytes > p.lim.fields {
			return limitError("MaxFieldBytes", p.lim.fields, "the form's fields are too large")
		}
		p.scratch = append(p.scratch, b...)
	case modeFile:
		if p.count += int64(len(b)); p.count > p.lim.file {
			return limitError("MaxFileBytes", p.lim.file, "a file is too large")
		}
		if !p.sniffed {
			p.nsniff += copy(p.sniff[p.nsniff:], b)
			if p.nsniff == sniffLen {
				if err := p.judge(); err != nil {
					return err
				}
			}
		}
		if p.file.stored == nil {
			if err := p.create(); err != nil {
				return err
			}
		}
		var err error
		if p.hash == nil {
			_, err = p.file.stored.Write(b)
		} else if len(b) >= parallelChunk && p.count > parallelAfter {
			if p.hs == nil {
				p.hs = &hasher{h: p.hash, in: make(chan []byte), done: make(chan struct{}, 1)}
				go p.hs.run()
			}
			p.hs.in <- b // b stays untouched until the hasher is done
			_, err = p.file.stored.Write(b)
			<-p.hs.done
		} else {
			p.hash.Write(b)
			_, err = p.file.stored.Write(b)
		}
		if err != nil {
			return &Error{Status: http.StatusInternalServerError, Reason: "the file cannot be stored", Err: err}
		}
	}
	return nil
}

// scan streams the bytes up to the next delimiter to emit, and consumes
// the delimiter. A delimiter split across reads is found: the bytes that
// could start one are held back until more arrive.
func (p *parser) scan() *Error {
	d := p.delim
	for {
		if _, err := p.br.Peek(1); err != nil {
			return asError(err, "the multipart body ends before its closing boundary")
		}
		buf, _ := p.br.Peek(p.br.Buffered())
		if i := bytes.Index(buf, d); i >= 0 {
			if i > 0 {
				if err := p.emit(buf[:i]); err != nil {
					return err
				}
			}
			p.br.Discard(i + len(d))
			return nil
		}
		if p.mode == modeFile && len(buf) < fillTarget && p.br.Size() > fillTarget {
			// Wait for a longer chunk: the part goes on past what is
			// buffered, so the bytes are needed anyway. A read error
			// shows again on the next read.
			if more, _ := p.br.Peek(fillTarget); len(more) > len(buf) {
				continue
			}
		}
		keep := partialSuffix(buf, d)
		if safe := len(buf) - keep; safe > 0 {
			if err := p.emit(buf[:safe]); err != nil {
				return err
			}
			p.br.Discard(safe)
			continue
		}
		// All that is buffered may be the start of a delimiter.
		if _, err := p.br.Peek(len(buf) + 1); err != nil {
			return asError(err, "the multipart body ends before its closing boundary")
		}
	}
}

// partialSuffix returns the length of the longest suffix of buf that is a
// proper prefix of d.
func partialSuffix(buf, d []byte) int {
	start := max(len(buf)-len(d)+1, 0)
	for j := start; j < len(buf); j++ {
		k := bytes.IndexByte(buf[j:], d[0])
		if k < 0 {
			return 0
		}
		j += k
		if bytes.HasPrefix(d, buf[j:]) {
			return len(buf) - j
		}
	}
	return 0
}

// asciiEqualFold reports whether b equals s, ignoring ASCII case.
func asciiEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		c, d := b[i], s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if 'A' <= d && d <= 'Z' {
			d += 'a' - 'A'
		}
		if c != d {
			return false
		}
	}
	return true
}
