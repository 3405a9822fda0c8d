package upload

import (
	"strings"
)

// formKind is what a request's Content-Type says its body is.
type formKind uint8

const (
	kindOther formKind = iota
	kindURLEncoded
	kindMultipart
)

// kindOf returns the kind of body a Content-Type announces, looking only
// at its media type.
func kindOf(ct string) formKind {
	mt := ct
	if i := strings.IndexByte(mt, ';'); i >= 0 {
		mt = mt[:i]
	}
	mt = strings.TrimSpace(mt)
	switch {
	case strings.EqualFold(mt, "multipart/form-data"):
		return kindMultipart
	case strings.EqualFold(mt, "application/x-www-form-urlencoded"):
		return kindURLEncoded
	}
	return kindOther
}

// boundaryOf returns the boundary of a multipart/form-data Content-Type:
// exactly one boundary parameter, of 1 to max characters of RFC 2046's
// bchars, not ending in a space.
func boundaryOf(ct string, max int) (string, *Error) {
	i := strings.IndexByte(ct, ';')
	if i < 0 {
		return "", malformed("the multipart Content-Type has no boundary parameter")
	}
	var boundary string
	n := 0
	var scratch []byte
	for rest := ct[i:]; ; {
		var key, val string
		var err *Error
		key, val, rest, scratch, err = nextParam(rest, scratch)
		if err != nil {
			return "", malformed("the multipart Content-Type has malformed parameters")
		}
		if key == "" {
			break
		}
		if strings.EqualFold(key, "boundary") {
			n++
			boundary = val
		}
	}
	switch {
	case n == 0:
		return "", malformed("the multipart Content-Type has no boundary parameter")
	case n > 1:
		return "", malformed("the multipart Content-Type has more than one boundary parameter")
	case len(boundary) > max:
		return "", &Error{Status: 400, Limit: "MaxBoundaryLen", Max: int64(max), Reason: "the multipart boundary is too long"}
	case boundary == "" || boundary[len(boundary)-1] == ' ':
		return "", malformed("the multipart boundary is empty or ends in a space")
	}
	for i := 0; i < len(boundary); i++ {
		if !isBChar(boundary[i]) {
			return "", malformed("the multipart boundary has a character RFC 2046 does not allow")
		}
	}
	return boundary, nil
}

// isBChar reports whether c may appear in a boundary (RFC 2046 bchars).
func isBChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		strings.IndexByte("'()+_,-./:=? ", c) >= 0
}

// isTokenChar reports whether c is a tchar of RFC 9110.
func isTokenChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// isTSpecial reports whether c is one of RFC 2045's tspecials: the
// characters a backslash escapes inside a quoted string (any other
// backslash is kept, as browsers send Windows paths unescaped).
func isTSpecial(c byte) bool { return strings.IndexByte(`()<>@,;:\"/[]?=`, c) >= 0 }

func skipOWS(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	return s
}

// nextParam reads one "; key=value" parameter from s. It returns key "" at
// the end of s (a trailing ";" is allowed). The value is a token or a
// quoted string; scratch is reused to unescape a quoted string.
func nextParam(s string, scratch []byte) (key, val, rest string, _ []byte, err *Error) {
	s = skipOWS(s)
	if s == "" {
		return "", "", "", scratch, nil
	}
	if s[0] != ';' {
		return "", "", "", scratch, malformed("a header has text where a parameter should start")
	}
	s = skipOWS(s[1:])
	if s == "" {
		return "", "", "", scratch, nil
	}
	i := 0
	for i < len(s) && isTokenChar(s[i]) {
		i++
	}
	if i == 0 {
		return "", "", "", scratch, malformed("a header parameter has no name")
	}
	key, s = s[:i], skipOWS(s[i:])
	if s == "" || s[0] != '=' {
		return "", "", "", scratch, malformed("a header parameter has no value")
	}
	s = skipOWS(s[1:])
	if s != "" && s[0] == '"' {
		scratch = scratch[:0]
		escaped := false
		for i = 1; i < len(s); i++ {
			c := s[i]
			switch {
			case c == '"':
				if escaped {
					val = string(scratch)
				} else {
					val = s[1:i]
				}
				return key, val, s[i+1:], scratch, nil
			case c == '\\' && i+1 < len(s) && isTSpecial(s[i+1]):
				if !escaped {
					scratch = append(scratch, s[1:i]...)
					escaped = true
				}
				scratch = append(scratch, s[i+1])
				i++
			case c < 0x20 && c != '\t' || c == 0x7f:
				return "", "", "", scratch, malformed("a header parameter has a control character")
			default:
				if escaped {
					scratch = append(scratch, c)
				}
			}
		}
		return "", "", "", scratch, malformed("a header parameter has an unterminated quoted string")
	}
	i = 0
	for i < len(s) && isTokenChar(s[i]) {
		i++
	}
	if i == 0 {
		return "", "", "", scratch, malformed("a header parameter has an empty or invalid value")
	}
	return key, s[:i], s[i:], scratch, nil
}

// disposition is what a part's Content-Disposition says.
type disposition struct {
	name        string
	filename    string // the raw name, before CleanFileName
	hasFilename bool
}

// parseDisposition parses a form-data Content-Disposition value with at
// most maxParams parameters.
func parseDisposition(v string, maxParams int, scratch []byte) (disposition, []byte, *Error) {
	var d disposition
	i := 0
	for i < len(v) && isTokenChar(v[i]) {
		i++
	}
	if !strings.EqualFold(v[:i], "form-data") {
		return d, scratch, malformed(`a part's Content-Disposition is not "form-data"`)
	}
	var hasName bool
	n := 0
	for rest := v[i:]; ; {
		var key, val string
		var err *Error
		key, val, rest, scratch, err = nextParam(rest, scratch)
		if err != nil {
			return d, scratch, err
		}
		if key == "" {
			break
		}
		if n++; n > maxParams {
			return d, scratch, limitError("MaxDispositionParams", int64(maxParams), "a part's Content-Disposition has too many parameters")
		}
		switch {
		case strings.EqualFold(key, "name"):
			if hasName {
				return d, scratch, malformed("a part's Content-Disposition has two name parameters")
			}
			hasName, d.name = true, val
		case strings.EqualFold(key, "filename"):
			if d.hasFilename {
				return d, scratch, malformed("a part's Content-Disposition has two filename parameters")
			}
			d.hasFilename, d.filename = true, val
		}
		// RFC 7578 (4.2) says filename* must not be used in form data:
		// it is ignored, as other parameters are, so that the name is the
		// one every reader of the header sees.
	}
	if !hasName {
		return d, scratch, malformed("a part's Content-Disposition has no name parameter")
	}
	return d, scratch, nil
}
