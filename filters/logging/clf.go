package logging

import (
	"strconv"
	"time"
)

// clfTimeLayout is the time layout of Apache's %t, without the brackets.
const clfTimeLayout = "02/Jan/2006:15:04:05 -0700"

// clfEntry is one request, as the Common and Combined log formats show it.
// The strings are as the client sent them; appendCommon and appendCombined
// escape them.
type clfEntry struct {
	Host      string    // the client's address (%h); "" is written "-"
	User      string    // the authenticated user (%u); "" is written "-"
	Method    string    // the request method, first part of %r
	URI       string    // the request target, as sent, second part of %r
	Proto     string    // "HTTP/1.1", third part of %r
	Referer   string    // the Referer header; "" is written "-"
	UserAgent string    // the User-Agent header; "" is written "-"
	Time      time.Time // when the request was received (%t)
	Status    int       // the status sent (%>s)
	Bytes     int64     // the body bytes sent; 0 is written "-" (%b)
}

// appendCommon appends e as a line of the Common Log Format, with its
// "\n":
//
//	192.0.2.1 - alice [10/Oct/2000:13:55:36 -0700] "GET /a.gif HTTP/1.0" 200 2326
//
// The ident field is always "-". Every field taken from the request is
// escaped with appendEscaped, so the line is printable ASCII and a client
// cannot end it early or forge another. It does not allocate when dst has
// room.
func appendCommon(dst []byte, e *clfEntry) []byte {
	dst = appendCommonFields(dst, e)
	return append(dst, '\n')
}

// appendCombined appends e as a line of the Combined Log Format, with its
// "\n": the Common Log Format followed by the quoted referer and user
// agent, "-" when empty:
//
//	192.0.2.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 2326 "https://example.com/" "Mozilla/5.0"
//
// It escapes as appendCommon does, and does not allocate when dst has room.
func appendCombined(dst []byte, e *clfEntry) []byte {
	dst = appendCommonFields(dst, e)
	dst = append(dst, ` "`...)
	dst = appendEscapedOrDash(dst, e.Referer)
	dst = append(dst, `" "`...)
	dst = appendEscapedOrDash(dst, e.UserAgent)
	return append(dst, "\"\n"...)
}

// appendCommonFields appends the fields of the Common Log Format, without
// the "\n".
func appendCommonFields(dst []byte, e *clfEntry) []byte {
	dst = appendEscapedOrDash(dst, e.Host)
	dst = append(dst, " - "...)
	dst = appendEscapedOrDash(dst, e.User)
	dst = append(dst, " ["...)
	dst = e.Time.AppendFormat(dst, clfTimeLayout)
	dst = append(dst, `] "`...)
	dst = appendEscaped(dst, e.Method)
	dst = append(dst, ' ')
	dst = appendEscaped(dst, e.URI)
	dst = append(dst, ' ')
	dst = appendEscaped(dst, e.Proto)
	dst = append(dst, `" `...)
	dst = strconv.AppendInt(dst, int64(e.Status), 10)
	dst = append(dst, ' ')
	if e.Bytes == 0 {
		return append(dst, '-')
	}
	return strconv.AppendInt(dst, e.Bytes, 10)
}

// appendEscapedOrDash appends s escaped, or "-" when s is empty.
func appendEscapedOrDash(dst []byte, s string) []byte {
	if s == "" {
		return append(dst, '-')
	}
	return appendEscaped(dst, s)
}

// appendEscaped appends s escaped as Apache escapes log fields: '"' as
// \", '\' as \\, and every byte below 0x20, 0x7f and every byte above 0x7f
// as \xhh with lowercase hex. What it appends is printable ASCII, and it
// cannot end a quoted field. Non-ASCII text (UTF-8) is escaped byte by byte,
// as Apache does.
func appendEscaped(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	start := 0 // of the bytes not yet appended
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c < 0x7f && c != '"' && c != '\\' {
			continue
		}
		dst = append(dst, s[start:i]...)
		start = i + 1
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		default:
			dst = append(dst, '\\', 'x', hex[c>>4], hex[c&15])
		}
	}
	return append(dst, s[start:]...)
}
