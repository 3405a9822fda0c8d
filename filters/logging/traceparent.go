package logging

// traceparentLen is the length of a version 00 traceparent header.
const traceparentLen = 55

// parseTraceparent parses a W3C Trace Context traceparent header value,
// "version-traceid-parentid-flags":
//
//	00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01
//
// The version is 2 lowercase hex digits other than "ff", the trace id 32
// and the parent (span) id 16 lowercase hex digits, neither all zeros, and
// the flags 2 lowercase hex digits. Version 00 is exactly 55 characters; a
// later version may carry more after a "-" at the 56th character, which is
// ignored. Upper-case hex is invalid, as the specification says.
//
// traceID and spanID are substrings of v; ok is false, and they are "",
// when v is not valid.
func parseTraceparent(v string) (traceID, spanID string, ok bool) {
	if len(v) < traceparentLen {
		return "", "", false
	}
	if v[2] != '-' || v[35] != '-' || v[52] != '-' {
		return "", "", false
	}
	version, trace, span, flags := v[0:2], v[3:35], v[36:52], v[53:55]
	if !isLowerHex(version) || version == "ff" ||
		!isLowerHex(trace) || allZeros(trace) ||
		!isLowerHex(span) || allZeros(span) ||
		!isLowerHex(flags) {
		return "", "", false
	}
	if len(v) > traceparentLen && (version == "00" || v[traceparentLen] != '-') {
		return "", "", false
	}
	return trace, span, true
}

// isLowerHex reports whether s is made of 0-9 and a-f only.
func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// allZeros reports whether s is made of '0' only.
func allZeros(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] != '0' {
			return false
		}
	}
	return true
}
