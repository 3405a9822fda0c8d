package logging

import (
	"crypto/rand"
	"sync/atomic"
	"time"
)

// maxRequestIDLen is the longest request id ValidRequestID accepts.
const maxRequestIDLen = 64

// requestIDLen is the length of the ids NewRequestID makes.
const requestIDLen = 20

// requestIDChars marks the bytes a request id may contain: [A-Za-z0-9._-].
var requestIDChars = [256]bool{
	'-': true, '.': true, '_': true,
	'0': true, '1': true, '2': true, '3': true, '4': true,
	'5': true, '6': true, '7': true, '8': true, '9': true,
	'A': true, 'B': true, 'C': true, 'D': true, 'E': true, 'F': true, 'G': true,
	'H': true, 'I': true, 'J': true, 'K': true, 'L': true, 'M': true, 'N': true,
	'O': true, 'P': true, 'Q': true, 'R': true, 'S': true, 'T': true, 'U': true,
	'V': true, 'W': true, 'X': true, 'Y': true, 'Z': true,
	'a': true, 'b': true, 'c': true, 'd': true, 'e': true, 'f': true, 'g': true,
	'h': true, 'i': true, 'j': true, 'k': true, 'l': true, 'm': true, 'n': true,
	'o': true, 'p': true, 'q': true, 'r': true, 's': true, 't': true, 'u': true,
	'v': true, 'w': true, 'x': true, 'y': true, 'z': true,
}

// ValidRequestID reports whether s may be used as a request id: 1 to 64
// characters, each a letter, a digit, '.', '_' or '-'. Such an id is safe
// to echo in a response header and to write in any log format unescaped.
func ValidRequestID(s string) bool {
	if len(s) == 0 || len(s) > maxRequestIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !requestIDChars[s[i]] {
			return false
		}
	}
	return true
}

// NewRequestID returns a new request id: 20 characters of lowercase
// base32hex ([0-9a-v]), unique, and sortable by creation time to the
// millisecond. It is 6 bytes of Unix milliseconds, 3 bytes chosen at random
// when the process starts, and 3 bytes of a counter that starts at a random
// value; it carries no other information.
func NewRequestID() string {
	var b [requestIDLen]byte
	return string(appendRequestID(b[:0]))
}

// requestIDAlphabet is base32hex in lowercase: its order is the byte
// order, so the ids sort as the bytes they encode.
const requestIDAlphabet = "0123456789abcdefghijklmnopqrstuv"

// requestIDProcess holds the 3 random bytes of this process, in the low
// bits.
var requestIDProcess uint64

// requestIDCounter is the counter in the low 3 bytes of every id.
var requestIDCounter atomic.Uint32

func init() {
	var b [6]byte
	rand.Read(b[:]) // never fails (crypto/rand, Go 1.24 and later)
	requestIDProcess = uint64(b[0])<<16 | uint64(b[1])<<8 | uint64(b[2])
	requestIDCounter.Store(uint32(b[3])<<16 | uint32(b[4])<<8 | uint32(b[5]))
}

// appendRequestID appends a new request id (see NewRequestID) to dst. It
// does not allocate when dst has room for 20 more bytes.
func appendRequestID(dst []byte) []byte {
	ms := uint64(time.Now().UnixMilli())
	n := uint64(requestIDCounter.Add(1) & 0xffffff)
	// The 12 bytes as one 96-bit number, hi:lo, followed by 4 zero bits
	// so that it fills 20 characters of 5 bits.
	hi := ms<<16 | requestIDProcess>>8           // bytes 0 to 7
	lo := ((requestIDProcess&0xff)<<24 | n) << 4 // bytes 8 to 11, then 4 zero bits
	return append(dst,
		requestIDAlphabet[hi>>59&31], requestIDAlphabet[hi>>54&31],
		requestIDAlphabet[hi>>49&31], requestIDAlphabet[hi>>44&31],
		requestIDAlphabet[hi>>39&31], requestIDAlphabet[hi>>34&31],
		requestIDAlphabet[hi>>29&31], requestIDAlphabet[hi>>24&31],
		requestIDAlphabet[hi>>19&31], requestIDAlphabet[hi>>14&31],
		requestIDAlphabet[hi>>9&31], requestIDAlphabet[hi>>4&31],
		requestIDAlphabet[(hi&15)<<1|lo>>35],
		requestIDAlphabet[lo>>30&31], requestIDAlphabet[lo>>25&31],
		requestIDAlphabet[lo>>20&31], requestIDAlphabet[lo>>15&31],
		requestIDAlphabet[lo>>10&31], requestIDAlphabet[lo>>5&31],
		requestIDAlphabet[lo&31],
	)
}
