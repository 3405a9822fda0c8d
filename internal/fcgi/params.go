package fcgi

import (
	"fmt"
)

// maxParamLen is the largest length the 4-byte form encodes.
const maxParamLen = 1<<31 - 1

// AppendParams appends one name-value pair, encoded as the params stream
// encodes it, to dst: each length in one byte when it is below 128, else
// in four bytes with the high bit set.
func AppendParams(dst []byte, name, value string) []byte {
	dst = appendLen(dst, len(name))
	dst = appendLen(dst, len(value))
	dst = append(dst, name...)
	return append(dst, value...)
}

func appendLen(dst []byte, n int) []byte {
	if n < 128 {
		return append(dst, byte(n))
	}
	return append(dst, byte(n>>24)|0x80, byte(n>>16), byte(n>>8), byte(n))
}

// ParseParams decodes a params stream (the contents of its records, joined)
// and calls fn for each pair, in order, until fn returns false. It returns
// an error wrapping [ErrMalformed] when a length runs past the end of b;
// the pairs before the fault have been passed to fn.
func ParseParams(b []byte, fn func(name, value []byte) bool) error {
	for len(b) > 0 {
		nlen, n, ok := readLen(b)
		if !ok {
			return fmt.Errorf("%w: truncated name length in params", ErrMalformed)
		}
		b = b[n:]
		vlen, n, ok := readLen(b)
		if !ok {
			return fmt.Errorf("%w: truncated value length in params", ErrMalformed)
		}
		b = b[n:]
		if nlen > len(b) || vlen > len(b)-nlen {
			return fmt.Errorf("%w: a param runs past the end of the stream", ErrMalformed)
		}
		if !fn(b[:nlen], b[nlen:nlen+vlen]) {
			return nil
		}
		b = b[nlen+vlen:]
	}
	return nil
}

// readLen decodes one length at the start of b: the length, the bytes it
// took, and whether b held all of them.
func readLen(b []byte) (length, n int, ok bool) {
	if len(b) == 0 {
		return 0, 0, false
	}
	if b[0] < 0x80 {
		return int(b[0]), 1, true
	}
	if len(b) < 4 {
		return 0, 0, false
	}
	l := int(b[0]&0x7f)<<24 | int(b[1])<<16 | int(b[2])<<8 | int(b[3])
	return l, 4, l <= maxParamLen
}
