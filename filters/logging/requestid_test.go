package logging

import (
	"encoding/base32"
	"encoding/binary"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/xid"
)

// requestIDEncoding decodes ids with the standard library, to check the
// hand-written encoder against it.
var requestIDEncoding = base32.NewEncoding(requestIDAlphabet).WithPadding(base32.NoPadding)

func TestValidRequestID(t *testing.T) {
	tests := []struct {
		name string
		id   string
		want bool
	}{
		{"an empty id is refused", "", false},
		{"one character is enough", "a", true},
		{"64 characters are accepted", strings.Repeat("a", 64), true},
		{"65 characters are refused", strings.Repeat("a", 65), false},
		{"a huge id is refused", strings.Repeat("a", 1<<16), false},
		{"every allowed class passes", "AZaz09._-", true},
		{"a uuid passes", "123e4567-e89b-12d3-a456-426614174000", true},
		{"our own ids pass", "06f1k2m3n4p5q6r7s8t9", true},
		{"a space is refused", "abc def", false},
		{"a carriage return is refused", "abc\rdef", false},
		{"a line feed is refused", "abc\ndef", false},
		{"an escape is refused", "abc\x1b[31m", false},
		{"a NUL is refused", "abc\x00", false},
		{"a tab is refused", "\tabc", false},
		{"DEL is refused", "abc\x7f", false},
		{"a slash is refused", "a/b", false},
		{"a percent is refused", "a%0a", false},
		{"a plus is refused", "a+b", false},
		{"a quote is refused", `a"b`, false},
		{"a backslash is refused", `a\b`, false},
		{"a colon is refused", "a:b", false},
		{"non-ASCII is refused", "caf\u00e9", false},
		{"a lone high byte is refused", "a\xff", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ValidRequestID(tt.id); got != tt.want {
				t.Errorf("ValidRequestID(%q) = %v, want %v", tt.id, got, tt.want)
			}
		})
	}
}

func TestValidRequestIDEveryByte(t *testing.T) {
	for c := 0; c < 256; c++ {
		want := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '.' || c == '_' || c == '-'
		if got := ValidRequestID(string([]byte{byte(c)})); got != want {
			t.Errorf("ValidRequestID(%q) = %v, want %v", c, got, want)
		}
	}
}

func TestNewRequestIDLayout(t *testing.T) {
	before := time.Now().UnixMilli()
	id := NewRequestID()
	after := time.Now().UnixMilli()
	if len(id) != requestIDLen || !ValidRequestID(id) {
		t.Fatalf("NewRequestID() = %q: want 20 valid characters", id)
	}
	if strings.Trim(id, requestIDAlphabet) != "" {
		t.Fatalf("NewRequestID() = %q: want lowercase base32hex only", id)
	}
	b, err := requestIDEncoding.DecodeString(id)
	if err != nil || len(b) != 12 {
		t.Fatalf("decoding %q: %v (%d bytes)", id, err, len(b))
	}
	ms := int64(binary.BigEndian.Uint64(append([]byte{0, 0}, b[:6]...)))
	if ms < before || ms > after {
		t.Errorf("time in %q is %d, want between %d and %d", id, ms, before, after)
	}
	process := uint64(b[6])<<16 | uint64(b[7])<<8 | uint64(b[8])
	if process != requestIDProcess {
		t.Errorf("process bytes in %q are %06x, want %06x", id, process, requestIDProcess)
	}
	// The counter goes up by one per id (modulo 2^24).
	next := NewRequestID()
	b2, _ := requestIDEncoding.DecodeString(next)
	c1 := uint32(b[9])<<16 | uint32(b[10])<<8 | uint32(b[11])
	c2 := uint32(b2[9])<<16 | uint32(b2[10])<<8 | uint32(b2[11])
	if c2 != (c1+1)&0xffffff {
		t.Errorf("counter went from %06x to %06x, want +1", c1, c2)
	}
	// Re-encoding with the standard library gives the same text: the
	// hand-written encoder is base32hex.
	if got := requestIDEncoding.EncodeToString(b); got != id {
		t.Errorf("re-encoded %q as %q", id, got)
	}
}

func TestRequestIDsSortByTime(t *testing.T) {
	var ids []string
	for range 5 {
		ids = append(ids, NewRequestID())
		time.Sleep(2 * time.Millisecond)
	}
	if !slices.IsSorted(ids) {
		t.Errorf("ids made 2 ms apart are not in time order: %q", ids)
	}
	// The counter wrapping inside a millisecond does not matter across
	// milliseconds: the time comes first.
	// Move the counter forward (never back, which could repeat an id) to
	// just before it wraps.
	requestIDCounter.Add((0xffffff - requestIDCounter.Load()) & 0xffffff)
	a := NewRequestID() // most likely counter 0x000000
	time.Sleep(2 * time.Millisecond)
	b := NewRequestID()
	if a >= b {
		t.Errorf("id %q made before %q sorts after it", a, b)
	}
}

func TestRequestIDsAreUnique(t *testing.T) {
	const goroutines, each = 8, 100_000 / 8
	var wg sync.WaitGroup
	results := make([][]string, goroutines)
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ids := make([]string, 0, each)
			for range each {
				ids = append(ids, NewRequestID())
			}
			results[g] = ids
		}()
	}
	wg.Wait()
	seen := make(map[string]bool, goroutines*each)
	for _, ids := range results {
		for _, id := range ids {
			if !ValidRequestID(id) || len(id) != requestIDLen {
				t.Fatalf("invalid id %q", id)
			}
			if seen[id] {
				t.Fatalf("id %q made twice", id)
			}
			seen[id] = true
		}
	}
	if len(seen) != goroutines*each {
		t.Fatalf("got %d ids, want %d", len(seen), goroutines*each)
	}
}

func TestAppendRequestIDAlloc(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not stable under the race detector")
	}
	buf := make([]byte, 0, 64)
	buf = append(buf, "id="...)
	allocs := testing.AllocsPerRun(1000, func() {
		buf = appendRequestID(buf[:3])
	})
	if allocs != 0 {
		t.Errorf("appendRequestID allocates %v times per call, want 0", allocs)
	}
	if !strings.HasPrefix(string(buf), "id=") || !ValidRequestID(string(buf[3:])) {
		t.Errorf("appendRequestID wrote %q", buf)
	}
}

// sinkString keeps benchmark results alive.
var sinkString string

// BenchmarkRequestID compares making an id as a string with the peers:
// github.com/rs/xid, which zerolog's hlog.RequestIDHandler uses.
// (github.com/google/uuid is not a dependency of this module, so it is not
// measured here.)
func BenchmarkRequestID(b *testing.B) {
	b.Run("NewRequestID", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sinkString = NewRequestID()
		}
	})
	b.Run("appendRequestID", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, requestIDLen)
		for b.Loop() {
			buf = appendRequestID(buf[:0])
		}
	})
	b.Run("xid", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sinkString = xid.New().String()
		}
	})
	b.Run("parallel/NewRequestID", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			var s string
			for pb.Next() {
				s = NewRequestID()
			}
			_ = s
		})
	})
	b.Run("parallel/xid", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			var s string
			for pb.Next() {
				s = xid.New().String()
			}
			_ = s
		})
	})
}
