package upload

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// CleanFileName returns the file name a client sent, made safe to show and
// to use as the last element of a path: the part after the last "/" or
// "\", without control or format characters (NUL, CR, LF, bidirectional
// overrides), invalid UTF-8, leading dots and spaces, or trailing dots and
// spaces, and at most max bytes long (cut at a character boundary, keeping
// an extension of up to 16 bytes). It may return "" (for "..", say). max
// below 1 means 255.
//
// The filter never uses a client's name to name a file on disk; the clean
// name is for the app to show or to store as data.
func CleanFileName(name string, max int) string {
	if max < 1 {
		max = 255
	}
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	clean := true
	for i := 0; i < len(name); i++ {
		if c := name[i]; c < 0x20 || c == 0x7f || c >= utf8.RuneSelf {
			clean = false
			break
		}
	}
	if !clean {
		var b strings.Builder
		b.Grow(len(name))
		for len(name) > 0 {
			r, size := utf8.DecodeRuneInString(name)
			if !(r == utf8.RuneError && size <= 1) && !unicode.Is(unicode.Cc, r) && !unicode.Is(unicode.Cf, r) &&
				r != '\u2028' && r != '\u2029' {
				b.WriteString(name[:size])
			}
			name = name[size:]
		}
		name = b.String()
	}
	name = strings.TrimLeft(name, ". ")
	name = strings.TrimRight(name, ". ")
	if len(name) <= max {
		return name
	}
	ext := ""
	if i := strings.LastIndexByte(name, '.'); i > 0 && len(name)-i <= 16 && len(name)-i < max {
		ext = name[i:]
		name = name[:i]
	}
	name = strings.TrimRight(cutUTF8(name, max-len(ext)), ". ")
	if name == "" {
		return "" // nothing but an extension is left
	}
	return name + ext
}

// cutUTF8 returns the longest prefix of s of at most n bytes that ends at a
// character boundary.
func cutUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
