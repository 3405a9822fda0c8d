package upload

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// CleanFileName returns the file name a client sent, made safe to show and
// to use as the last element of a path on Unix and on Windows: the part
// after the last "/" or "\", without control or format characters (NUL,
// CR, LF, bidirectional overrides), invalid UTF-8, the characters Windows
// forbids in names (< > : " | ? *; ":" would also name an NTFS stream),
// leading dots and spaces, or trailing dots and spaces, and at most max
// bytes long (cut at a character boundary, keeping an extension of up to
// 16 bytes). A name Windows reserves for a device (CON, NUL, COM1,
// LPT1, with or without an extension, in any case) gets a "_" in front. It
// may return "" (for "..", say). max below 1 means 255.
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
		if c := name[i]; c < 0x20 || c == 0x7f || c >= utf8.RuneSelf || isWindowsSpecial(c) {
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
				r != '\u2028' && r != '\u2029' && !(r < utf8.RuneSelf && isWindowsSpecial(byte(r))) {
				b.WriteString(name[:size])
			}
			name = name[size:]
		}
		name = b.String()
	}
	name = strings.TrimLeft(name, ". ")
	name = strings.TrimRight(name, ". ")
	name = cutName(name, max)
	if reservedOnWindows(name) {
		name = cutName("_"+name, max)
	}
	return name
}

// cutName cuts name to at most max bytes, keeping an extension of up to
// 16 bytes, without a trailing dot or space.
func cutName(name string, max int) string {
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

// isWindowsSpecial reports whether Windows forbids c in a file name.
func isWindowsSpecial(c byte) bool { return strings.IndexByte(`<>:"|?*`, c) >= 0 }

// reservedOnWindows reports whether Windows takes name for a device: its
// part before the first dot, without trailing spaces, is CON, PRN, AUX,
// NUL, CONIN$, CONOUT$, or COM or LPT and a digit (or a superscript 1, 2
// or 3), in any case.
func reservedOnWindows(name string) bool {
	base, _, _ := strings.Cut(name, ".")
	base = strings.TrimRight(base, " ")
	switch {
	case len(base) == 3:
		for _, r := range []string{"CON", "PRN", "AUX", "NUL"} {
			if strings.EqualFold(base, r) {
				return true
			}
		}
	case len(base) == 6 || len(base) == 7:
		return strings.EqualFold(base, "CONIN$") || strings.EqualFold(base, "CONOUT$")
	case len(base) >= 4 && (strings.EqualFold(base[:3], "COM") || strings.EqualFold(base[:3], "LPT")):
		switch d := base[3:]; d {
		case "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "\u00b9", "\u00b2", "\u00b3":
			return true
		}
	}
	return false
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
