package fcgi

import (
	"bufio"
	"io"
	"net"
	"sync"
)

// maxTapParams bounds the params stream a [Tap] decodes for one request; a
// longer one passes through without the copies.
const maxTapParams = 1 << 20

// maxTapRequests bounds the requests whose params a [Tap] decodes at once
// on one connection.
const maxTapRequests = 64

// tapParams is the params stream of one request.
type tapParams struct {
	b    []byte
	over bool // longer than maxTapParams: not decoded
}

// Tap wraps a connection from a web server to a FastCGI responder. It
// passes every byte through unchanged, and at the end of each request's
// params stream inserts one more params record that repeats the named
// params under prefix+name (only those the web server sent).
//
// A responder that hides some params from its handler (net/http/fcgi keeps
// SCRIPT_NAME and PATH_INFO to itself) thus shows them under the new names.
// Bytes that are not well-formed records are passed through untouched, and
// from then on nothing more is inserted on that connection.
//
// The returned connection also follows the requests on it: one is open
// from its BEGIN_REQUEST record, read from the web server, until the
// responder has written the whole of its END_REQUEST record ([TapConn.Busy]).
func Tap(c net.Conn, prefix string, names ...string) *TapConn {
	return &TapConn{tap: tap{Conn: c, br: bufio.NewReaderSize(c, 16<<10), prefix: prefix, names: names, params: map[uint16]tapParams{}}}
}

// TapConn is the connection [Tap] returns.
type TapConn struct {
	tap
}

type tap struct {
	net.Conn
	br     *bufio.Reader
	prefix string
	names  []string
	params map[uint16]tapParams // the params stream so far, per request id

	out  []byte // bytes to hand out before reading more
	pass int    // bytes of the current record to pass straight through
	raw  bool   // a malformed record was seen: pass everything through
	hbuf [HeaderLen]byte
	rec  []byte

	mu   sync.Mutex
	open map[uint16]struct{} // requests begun and not yet ended

	wmu  sync.Mutex
	wh   [HeaderLen]byte // the header of the record being written
	whn  int             // bytes of wh seen
	wrem int             // content and padding of that record still to come
}

// Busy reports whether a request is open on the connection: its
// BEGIN_REQUEST record was read, and the responder has not yet written
// all of its END_REQUEST record.
func (t *TapConn) Busy() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.open) > 0
}

// CloseIdle closes the connection unless a request is open on it, and
// reports whether it did. A request that begins later on a connection so
// closed fails as on any closed connection.
func (t *TapConn) CloseIdle() bool {
	t.mu.Lock()
	if len(t.open) > 0 {
		t.mu.Unlock()
		return false
	}
	_ = t.Conn.Close()
	t.mu.Unlock()
	return true
}

// Write writes p to the connection and follows the records in it, to see
// the requests end.
func (t *tap) Write(p []byte) (int, error) {
	n, err := t.Conn.Write(p)
	t.wmu.Lock()
	t.follow(p[:n])
	t.wmu.Unlock()
	return n, err
}

// follow parses the records the responder wrote.
func (t *tap) follow(p []byte) {
	for len(p) > 0 {
		if t.wrem > 0 {
			k := min(len(p), t.wrem)
			t.wrem -= k
			p = p[k:]
		} else {
			k := copy(t.wh[t.whn:], p)
			t.whn += k
			p = p[k:]
			if t.whn < HeaderLen {
				return
			}
			t.whn = 0
			h, _ := ParseHeader(&t.wh)
			t.wrem = int(h.ContentLength) + int(h.PaddingLength)
		}
		if t.wrem == 0 && t.whn == 0 && t.wh[1] == TypeEndRequest {
			t.wh[1] = 0 // seen
			id := uint16(t.wh[2])<<8 | uint16(t.wh[3])
			t.mu.Lock()
			delete(t.open, id)
			t.mu.Unlock()
		}
	}
}

// begin notes that request id began.
func (t *tap) begin(id uint16) {
	t.mu.Lock()
	if t.open == nil {
		t.open = make(map[uint16]struct{})
	}
	t.open[id] = struct{}{}
	t.mu.Unlock()
}

func (t *tap) Read(p []byte) (int, error) {
	for {
		if len(t.out) > 0 {
			n := copy(p, t.out)
			t.out = t.out[n:]
			return n, nil
		}
		if t.raw {
			return t.br.Read(p)
		}
		if t.pass > 0 {
			n, err := t.br.Read(p[:min(len(p), t.pass)])
			t.pass -= n
			return n, err
		}
		if err := t.next(); err != nil {
			return 0, err
		}
	}
}

// next reads the next record header and sets up what to hand out.
func (t *tap) next() error {
	n, err := io.ReadFull(t.br, t.hbuf[:])
	if err != nil {
		if n > 0 { // a partial header: let the responder see it
			t.raw, t.out = true, append(t.rec[:0], t.hbuf[:n]...)
			return nil
		}
		return err
	}
	h, err := ParseHeader(&t.hbuf)
	if err != nil && t.hbuf[0] != Version {
		t.raw, t.out = true, append(t.rec[:0], t.hbuf[:]...)
		return nil
	}
	// A record of a type this package does not know passes through: the
	// responder answers it with an UNKNOWN_TYPE record.
	if h.Type == TypeBeginRequest {
		delete(t.params, h.ID)
		t.begin(h.ID)
	}
	if h.Type != TypeParams {
		t.out = append(t.rec[:0], t.hbuf[:]...)
		t.pass = int(h.ContentLength) + int(h.PaddingLength)
		return nil
	}
	if h.ContentLength > 0 {
		size := HeaderLen + int(h.ContentLength) + int(h.PaddingLength)
		rec := append(t.rec[:0], t.hbuf[:]...)
		rec = append(rec, make([]byte, size-HeaderLen)...)
		if n, err := io.ReadFull(t.br, rec[HeaderLen:]); err != nil {
			t.raw, t.out = true, rec[:HeaderLen+n] // what arrived, then the error
			return nil
		}
		t.rec, t.out = rec, rec
		s, ok := t.params[h.ID]
		switch {
		case !ok && len(t.params) >= maxTapRequests:
			// Too many requests at once: this one passes without copies.
		case s.over || len(s.b)+int(h.ContentLength) > maxTapParams:
			t.params[h.ID] = tapParams{over: true}
		default:
			t.params[h.ID] = tapParams{b: append(s.b, rec[HeaderLen:HeaderLen+int(h.ContentLength)]...)}
		}
		return nil
	}
	// The end of the params stream: the copies, then the empty record.
	stream, ok := t.params[h.ID]
	delete(t.params, h.ID)
	var extra []byte
	if !ok || stream.over {
		stream.b = nil
	}
	_ = ParseParams(stream.b, func(name, value []byte) bool {
		for _, want := range t.names {
			if string(name) == want {
				extra = AppendParams(extra, t.prefix+want, string(value))
			}
		}
		return true
	})
	out := AppendRecord(t.rec[:0], TypeParams, h.ID, extra)
	t.rec = append(out, t.hbuf[:]...)
	t.out = t.rec
	t.pass = int(h.PaddingLength)
	return nil
}
