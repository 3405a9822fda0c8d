package auth

import (
	"bytes"
	"encoding/base64"
	"unicode/utf8"
)

// maxCredentials caps the credentials part of an Authorization header that
// a strategy looks at; anything longer is malformed. It bounds the work and
// the stack buffer of the Basic strategy.
const maxCredentials = 1024

// maxBasicDecoded is the longest decoded "user:password" of a Basic header.
const maxBasicDecoded = maxCredentials / 4 * 3

// credentials returns what follows "<scheme> " in the Authorization header
// value h, and whether h uses scheme (compared without regard to case, as
// RFC 9110 says). Surrounding spaces are trimmed.
func credentials(h, scheme string) (string, bool) {
	if len(h) <= len(scheme) || h[len(scheme)] != ' ' || !equalFoldASCII(h[:len(scheme)], scheme) {
		return "", false
	}
	s := h[len(scheme)+1:]
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s, true
}

func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range len(a) {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// basicBuf holds the bytes of one Basic header being parsed, on the
// caller's stack: the encoded credentials and the decoded ones, with room
// after them for the verification cache's key.
type basicBuf struct {
	src [maxCredentials]byte
	dst [maxBasicDecoded + 1 + maxHashLen]byte
}

// parseBasic decodes the credentials of a Basic header into buf and splits
// them at the first colon. The user
// name must be 1 to 255 bytes of UTF-8 without control characters; the
// password is any bytes but control characters. Anything else, and
// credentials longer than maxCredentials, are ErrMalformed.
func parseBasic(cred string, buf *basicBuf) (user, pass []byte, err error) {
	if cred == "" || len(cred) > maxCredentials {
		return nil, nil, ErrMalformed
	}
	src := buf.src[:copy(buf.src[:], cred)]
	n, err := base64.StdEncoding.Decode(buf.dst[:maxBasicDecoded], src)
	if err != nil {
		return nil, nil, ErrMalformed
	}
	b := buf.dst[:n]
	i := bytes.IndexByte(b, ':')
	if i < 1 || i > 255 {
		return nil, nil, ErrMalformed
	}
	user, pass = b[:i], b[i+1:]
	if !utf8.Valid(user) || hasControl(user) || hasControl(pass) {
		return nil, nil, ErrMalformed
	}
	return user, pass, nil
}

// hasControl reports whether b holds an ASCII control character.
func hasControl(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c == 0x7f {
			return true
		}
	}
	return false
}

// validToken reports whether t may be a bearer token: 1 to maxCredentials
// characters of RFC 6750's token68 (letters, digits, "-._~+/" and trailing
// "=").
func validToken(t string) bool {
	if t == "" || len(t) > maxCredentials {
		return false
	}
	i := 0
	for ; i < len(t); i++ {
		c := t[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/') {
			break
		}
	}
	if i == 0 {
		return false
	}
	for ; i < len(t); i++ {
		if t[i] != '=' {
			return false
		}
	}
	return true
}
