package logging

import (
	"strings"
	"testing"
	"unsafe"
)

// The example of the W3C Trace Context specification.
const (
	exampleTraceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	exampleTraceID     = "4bf92f3577b34da6a3ce929d0e0e4736"
	exampleSpanID      = "00f067aa0ba902b7"
)

func TestParseTraceparent(t *testing.T) {
	valid := []struct {
		name, v, trace, span string
	}{
		{"the specification's example is parsed", exampleTraceparent, exampleTraceID, exampleSpanID},
		{"unsampled flags are fine", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00", exampleTraceID, exampleSpanID},
		{"unknown flags are fine", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-ff", exampleTraceID, exampleSpanID},
		{"a trace id with one non-zero digit is fine", "00-00000000000000000000000000000001-0000000000000001-01",
			"00000000000000000000000000000001", "0000000000000001"},
		{"a later version of the same length is parsed", "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", exampleTraceID, exampleSpanID},
		{"a later version may carry more after a dash", "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-the-future-holds", exampleTraceID, exampleSpanID},
		{"a later version may end with a bare dash", "fe-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-", exampleTraceID, exampleSpanID},
	}
	for _, tt := range valid {
		t.Run(tt.name, func(t *testing.T) {
			trace, span, ok := parseTraceparent(tt.v)
			if !ok || trace != tt.trace || span != tt.span {
				t.Errorf("parseTraceparent(%q) = %q, %q, %v; want %q, %q, true", tt.v, trace, span, ok, tt.trace, tt.span)
			}
		})
	}

	invalid := []struct{ name, v string }{
		{"an empty value is refused", ""},
		{"one character short is refused", exampleTraceparent[:54]},
		{"version 00 with one more character is refused", exampleTraceparent + "-"},
		{"version 00 with a suffix is refused", exampleTraceparent + "-00"},
		{"version ff is refused", "ff" + exampleTraceparent[2:]},
		{"a later version with a suffix not after a dash is refused", "01" + exampleTraceparent[2:] + "x"},
		{"a later version with a suffix after a space is refused", "01" + exampleTraceparent[2:] + " -"},
		{"an upper-case version is refused", "0A" + exampleTraceparent[2:]},
		{"a non-hex version is refused", "0g" + exampleTraceparent[2:]},
		{"a one-digit version is refused", "0-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x"},
		{"an all-zero trace id is refused", "00-00000000000000000000000000000000-00f067aa0ba902b7-01"},
		{"an all-zero parent id is refused", "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01"},
		{"an upper-case trace id is refused", "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"},
		{"one upper-case digit in the trace id is refused", "00-4bf92f3577b34da6a3ce929d0e0e473A-00f067aa0ba902b7-01"},
		{"an upper-case parent id is refused", "00-4bf92f3577b34da6a3ce929d0e0e4736-00F067AA0BA902B7-01"},
		{"upper-case flags are refused", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0A"},
		{"non-hex flags are refused", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0x"},
		{"a short trace id is refused", "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01x"},
		{"a long trace id is refused", "00-4bf92f3577b34da6a3ce929d0e0e47360-0f067aa0ba902b7-01"},
		{"a short parent id is refused", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b-01x"},
		{"underscores for dashes are refused", "00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01"},
		{"a missing last dash is refused", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7001"},
		{"spaces around the value are refused", " " + exampleTraceparent[:54]},
		{"a trailing space is refused", exampleTraceparent + " "},
		{"a trailing CR LF is refused", exampleTraceparent + "\r\n"},
		{"a CR inside is refused", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0\r"},
		{"a LF in the trace id is refused", "00-4bf92f3577b34da6a3ce9\n9d0e0e4736-00f067aa0ba902b7-01"},
		{"a NUL in the parent id is refused", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba9\x002b7-01"},
		{"a NUL after version 00 is refused", exampleTraceparent + "\x00"},
		{"an escape in a later version's tail is refused", "01" + exampleTraceparent[2:] + "\x1b[31m"},
		{"non-ASCII is refused", "00-4bf92f3577b34da6a3ce929d0e0e47\u00e9-00f067aa0ba902b7-01"},
		{"two headers joined by a comma are refused", exampleTraceparent + "," + exampleTraceparent},
		{"64 KB of hex is refused", strings.Repeat("a", 64<<10)},
		{"64 KB after version 00 is refused", exampleTraceparent + strings.Repeat("-", 64<<10)},
	}
	for _, tt := range invalid {
		t.Run(tt.name, func(t *testing.T) {
			if trace, span, ok := parseTraceparent(tt.v); ok || trace != "" || span != "" {
				t.Errorf("parseTraceparent(%.80q) = %q, %q, %v; want invalid", tt.v, trace, span, ok)
			}
		})
	}
}

func TestParseTraceparentLongLaterVersion(t *testing.T) {
	// A later version's tail is not read, however long.
	v := "01" + exampleTraceparent[2:] + "-" + strings.Repeat("x", 64<<10)
	trace, span, ok := parseTraceparent(v)
	if !ok || trace != exampleTraceID || span != exampleSpanID {
		t.Fatalf("parseTraceparent(64 KB, version 01) = %q, %q, %v", trace, span, ok)
	}
}

func TestParseTraceparentReturnsSubstrings(t *testing.T) {
	trace, span, ok := parseTraceparent(exampleTraceparent)
	if !ok {
		t.Fatal("example refused")
	}
	base := uintptr(unsafe.Pointer(unsafe.StringData(exampleTraceparent)))
	if uintptr(unsafe.Pointer(unsafe.StringData(trace))) != base+3 ||
		uintptr(unsafe.Pointer(unsafe.StringData(span))) != base+36 {
		t.Error("trace and span ids are not substrings of the header value")
	}
}

func TestParseTraceparentAlloc(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not stable under the race detector")
	}
	for _, v := range []string{exampleTraceparent, "ff" + exampleTraceparent[2:], "garbage"} {
		allocs := testing.AllocsPerRun(1000, func() {
			sinkString, _, _ = parseTraceparent(v)
		})
		if allocs != 0 {
			t.Errorf("parseTraceparent(%q) allocates %v times, want 0", v, allocs)
		}
	}
}

func BenchmarkParseTraceparent(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		sinkString, _, _ = parseTraceparent(exampleTraceparent)
	}
}
