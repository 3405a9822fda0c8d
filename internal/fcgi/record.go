// Package fcgi speaks the FastCGI protocol (version 1) as a client, the web
// server's side of it: records, the name-value pairs of the params stream,
// and a [Client] that sends a request to a responder over a pooled,
// kept-alive connection and streams the answer back.
//
// # Records
//
// A record is an 8-byte header (version, type, request id, content length,
// padding length), then its content and padding. [ReadHeader] checks the
// version and the type of every header it reads, so a peer that sends
// garbage is found out at the first bad byte. [AppendParams] and
// [ParseParams] encode and decode the params stream; ParseParams never
// reads past its input and never allocates more than its input's size.
//
// # Client
//
// One request runs on one connection at a time, always with request id 1,
// as web servers do. The connection is kept open (FCGI_KEEP_CONN) and goes
// back to the pool when the responder has ended the request and the answer
// has been read; any fault (a malformed record, an early end of the stream,
// a timeout, an answer not read to its end) closes it instead.
package fcgi

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Version is the protocol version of every record.
const Version = 1

// Record types.
const (
	TypeBeginRequest    uint8 = 1
	TypeAbortRequest    uint8 = 2
	TypeEndRequest      uint8 = 3
	TypeParams          uint8 = 4
	TypeStdin           uint8 = 5
	TypeStdout          uint8 = 6
	TypeStderr          uint8 = 7
	TypeData            uint8 = 8
	TypeGetValues       uint8 = 9
	TypeGetValuesResult uint8 = 10
	TypeUnknownType     uint8 = 11
)

// RoleResponder is the role of a BEGIN_REQUEST record for a request that
// gets an answer.
const RoleResponder = 1

// FlagKeepConn in a BEGIN_REQUEST record asks the responder to keep the
// connection open after the request.
const FlagKeepConn = 1

// Protocol statuses of an END_REQUEST record.
const (
	StatusRequestComplete = 0
	StatusCantMultiplex   = 1
	StatusOverloaded      = 2
	StatusUnknownRole     = 3
)

// HeaderLen is the size of a record header.
const HeaderLen = 8

// MaxContent is the largest content of one record.
const MaxContent = 65535

// ErrMalformed is wrapped by every error about bytes that break the
// protocol.
var ErrMalformed = errors.New("fcgi: malformed record")

// Header is a record header.
type Header struct {
	Type          uint8
	ID            uint16
	ContentLength uint16
	PaddingLength uint8
}

// AppendHeader appends the encoded header h to dst.
func AppendHeader(dst []byte, h Header) []byte {
	return append(dst, Version, h.Type, byte(h.ID>>8), byte(h.ID),
		byte(h.ContentLength>>8), byte(h.ContentLength), h.PaddingLength, 0)
}

// ParseHeader decodes the 8 bytes of a record header. It returns an error
// wrapping [ErrMalformed] when the version is not 1 or the type is unknown.
func ParseHeader(b *[HeaderLen]byte) (Header, error) {
	h := Header{
		Type:          b[1],
		ID:            binary.BigEndian.Uint16(b[2:4]),
		ContentLength: binary.BigEndian.Uint16(b[4:6]),
		PaddingLength: b[6],
	}
	if b[0] != Version {
		return h, fmt.Errorf("%w: version %d", ErrMalformed, b[0])
	}
	if h.Type < TypeBeginRequest || h.Type > TypeUnknownType {
		return h, fmt.Errorf("%w: type %d", ErrMalformed, h.Type)
	}
	return h, nil
}

// ReadHeader reads and decodes a record header from r. An end of input
// before the first byte is io.EOF; within the header, io.ErrUnexpectedEOF.
func ReadHeader(r io.Reader, buf *[HeaderLen]byte) (Header, error) {
	if _, err := io.ReadFull(r, buf[:]); err != nil {
		return Header{}, err
	}
	return ParseHeader(buf)
}

// AppendRecord appends records of type typ for request id with content c,
// as many as c needs (none for an empty c; [AppendEnd] ends a stream),
// each padded to a multiple of 8 bytes.
func AppendRecord(dst []byte, typ uint8, id uint16, c []byte) []byte {
	for len(c) > 0 {
		n := min(len(c), MaxContent)
		pad := (8 - n%8) % 8
		dst = AppendHeader(dst, Header{Type: typ, ID: id, ContentLength: uint16(n), PaddingLength: uint8(pad)})
		dst = append(dst, c[:n]...)
		dst = append(dst, zeros[:pad]...)
		c = c[n:]
	}
	return dst
}

// AppendEnd appends the empty record that ends stream typ of request id.
func AppendEnd(dst []byte, typ uint8, id uint16) []byte {
	return AppendHeader(dst, Header{Type: typ, ID: id})
}

// AppendBeginRequest appends a BEGIN_REQUEST record for role and flags.
func AppendBeginRequest(dst []byte, id uint16, role uint16, flags uint8) []byte {
	dst = AppendHeader(dst, Header{Type: TypeBeginRequest, ID: id, ContentLength: 8})
	return append(dst, byte(role>>8), byte(role), flags, 0, 0, 0, 0, 0)
}

// AppendEndRequest appends an END_REQUEST record with the application's
// exit status and the protocol status.
func AppendEndRequest(dst []byte, id uint16, appStatus uint32, protoStatus uint8) []byte {
	dst = AppendHeader(dst, Header{Type: TypeEndRequest, ID: id, ContentLength: 8})
	dst = binary.BigEndian.AppendUint32(dst, appStatus)
	return append(dst, protoStatus, 0, 0, 0)
}

var zeros [255]byte
