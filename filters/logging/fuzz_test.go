package logging

import (
	"net/http"
	"net/netip"
	"regexp"
	"strings"
	"testing"
	"time"
)

// maxFuzzLen bounds the fuzzed strings whose checks cost more than linear
// time.
const maxFuzzLen = 2048

// fuzzHeaderLines splits a fuzzed header value into header lines at each
// blank line ("\n\n"), so that several lines are explored too. An empty
// value is no header at all.
func fuzzHeaderLines(v string) []string {
	if v == "" {
		return nil
	}
	return strings.Split(v, "\n\n")
}

// occursIn reports whether a is the address, unmapped, of some substring of
// s: the only way a forwarding header can name it.
func occursIn(a netip.Addr, s string) bool {
	const maxLen = len("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255")
	for i := range len(s) {
		// An address without a zone is made of hex digits, '.' and ':'.
		for j := i + 1; j <= len(s) && j-i <= maxLen && (unhex(s[j-1]) >= 0 || s[j-1] == '.' || s[j-1] == ':'); j++ {
			if b, err := netip.ParseAddr(s[i:j]); err == nil && b.Unmap() == a {
				return true
			}
		}
	}
	return false
}

func FuzzClientIP(f *testing.F) {
	f.Add("10.0.0.1:1", "", "198.51.100.1, 10.0.0.2", "", "10.0.0.0/8")
	f.Add("10.0.0.1:1", `for="[2001:db8::17]:4711";proto=https, for=10.0.0.2`, "198.51.100.2", "198.51.100.3", "10.0.0.0/8")
	f.Add("10.0.0.1:1", "for=198.51.100.17, for=unknown\n\nfor=_hidden", "", "", "10.0.0.0/8")
	f.Add("10.0.0.1:1", "", "", " 198.51.100.1 ", "10.0.0.0/8")
	f.Add("[::ffff:10.0.0.1]:1", "", "::ffff:198.51.100.1\n\n10.0.0.5", "", "::ffff:10.0.0.0/104")
	f.Add("[fe80::1%eth0]:80", "", "fe80::2%eth0, 2001:db8::1", "", "fe80::/10")
	f.Add("203.0.113.9:4711", "for=10.0.0.1", "10.0.0.1", "10.0.0.1", "10.0.0.0/8")
	f.Add("@", "", "198.51.100.1", "", "0.0.0.0/0")
	f.Add("10.0.0.1:1", `for="1.1.1.1, for=198.51.100.17;x="\"", for=10.0.0.2`, "", "", "10.0.0.0/8")
	f.Add("10.0.0.1:1", "", "198.51.100.1\r\n, 10.0.0.2\x00, \x1b[31m", "", "10.0.0.0/8")
	f.Add("10.0.0.1:1", "", strings.Repeat("10.0.0.3,", 40), "", "10.0.0.0/8")
	f.Add("192.0.2.1:1", "", "198.51.100.1", "", "")
	f.Fuzz(func(t *testing.T, remote, fwd, xff, xri, prefix string) {
		if len(remote)+len(fwd)+len(xff)+len(xri) > maxFuzzLen {
			t.Skip()
		}
		var prefixes []netip.Prefix
		if p, err := netip.ParsePrefix(prefix); err == nil {
			prefixes = append(prefixes, p)
		}
		tp := newTrustedProxies(prefixes)
		r := &http.Request{RemoteAddr: remote, Header: http.Header{}}
		for _, h := range []struct{ name, v string }{{"Forwarded", fwd}, {"X-Forwarded-For", xff}, {"X-Real-Ip", xri}} {
			if lines := fuzzHeaderLines(h.v); lines != nil {
				r.Header[h.name] = lines
			}
		}

		got := tp.clientIP(r)
		peer := parsePeer(remote)

		// The peer agrees with the standard library where it parses.
		if ap, err := netip.ParseAddrPort(remote); err == nil && ap.Addr().Unmap() != peer {
			t.Fatalf("peer of %q is %v, netip says %v", remote, peer, ap.Addr().Unmap())
		}
		if a, err := netip.ParseAddr(remote); err == nil && a.Unmap() != peer {
			t.Fatalf("peer of %q is %v, netip says %v", remote, peer, a.Unmap())
		}
		if len(prefixes) == 0 || !tp.trusted(peer) {
			if got != peer {
				t.Fatalf("untrusted peer %v: clientIP = %v, want the peer", peer, got)
			}
			return
		}
		if got == peer {
			return
		}
		if !got.IsValid() {
			t.Fatalf("trusted peer %v: clientIP is the zero Addr", peer)
		}
		if got.Zone() != "" || got.Is4In6() {
			t.Fatalf("clientIP = %v: a header address keeps a zone or stays mapped", got)
		}
		if !occursIn(got, fwd+"\n"+xff+"\n"+xri) {
			t.Fatalf("clientIP = %v, which is not the peer and not in the headers", got)
		}
	})
}

func FuzzParseIP(f *testing.F) {
	for _, s := range []string{"1.2.3.4", "::", "2001:db8::1", "::ffff:1.2.3.4", "1:2:3:4:5:6:7:8", "1::2::3", "01.2.3.4", "fe80::1%eth0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkParseIP(t, s)
	})
}

// traceparentShape is the W3C traceparent syntax, without the rules on
// versions and zeros.
var traceparentShape = regexp.MustCompile(`^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}(?s:(-.*)?)$`)

func FuzzTraceparent(f *testing.F) {
	f.Add(exampleTraceparent)
	f.Add("01" + exampleTraceparent[2:] + "-more")
	f.Add("ff" + exampleTraceparent[2:])
	f.Add("00-00000000000000000000000000000000-00f067aa0ba902b7-01")
	f.Add("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01")
	f.Add(exampleTraceparent + "\r\n")
	f.Fuzz(func(t *testing.T, v string) {
		trace, span, ok := parseTraceparent(v)
		m := traceparentShape.FindStringSubmatch(v)
		want := m != nil && m[1] != "ff" && !(m[1] == "00" && len(v) != traceparentLen) &&
			strings.Trim(m[2], "0") != "" && strings.Trim(m[3], "0") != ""
		if ok != want {
			t.Fatalf("parseTraceparent(%q) ok = %v, want %v", v, ok, want)
		}
		if !ok {
			if trace != "" || span != "" {
				t.Fatalf("parseTraceparent(%q) = %q, %q, false: want empty ids", v, trace, span)
			}
			return
		}
		if trace != m[2] || span != m[3] {
			t.Fatalf("parseTraceparent(%q) = %q, %q; want %q, %q", v, trace, span, m[2], m[3])
		}
	})
}

// unescapeCLF reverses appendEscaped; ok is false when s is not something
// appendEscaped writes.
func unescapeCLF(s string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			return "", false // a quote is always escaped
		case c != '\\':
			b.WriteByte(c)
		case i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\'):
			b.WriteByte(s[i+1])
			i++
		case i+3 < len(s) && s[i+1] == 'x' && unhex(s[i+2]) >= 0 && unhex(s[i+3]) >= 0 &&
			strings.ToLower(s[i+2:i+4]) == s[i+2:i+4]:
			v := byte(unhex(s[i+2])<<4 | unhex(s[i+3]))
			if v >= 0x20 && v < 0x7f && v != '"' && v != '\\' {
				return "", false // printable bytes are not escaped
			}
			b.WriteByte(v)
			i += 3
		default:
			return "", false
		}
	}
	return b.String(), true
}

func FuzzCLF(f *testing.F) {
	f.Add("127.0.0.1", "frank", "GET", "/apache_pb.gif", "HTTP/1.0", "http://www.example.com/start.html", "Mozilla/4.08 [en] (Win98; I ;Nav)", 200, int64(2326), int64(971211336), int16(-420))
	f.Add("", "", "", "", "", "", "", 0, int64(0), int64(0), int16(0))
	f.Add("192.0.2.1", "alice\n127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] \"GET /admin", "\x1b[31mGET", "/x\r\ny", "HTTP/1.1\"", "\\", "curl\x00", -1, int64(-5), int64(-62135596800), int16(840))
	f.Add("\xff\xfe", "caf\u00e9", "\x7f", "\\x0a", "\\\"", "\"", "\u2603", 999, int64(1<<62), int64(253402300800), int16(-1))
	f.Fuzz(func(t *testing.T, host, user, method, uri, proto, referer, ua string, status int, bytes, unix int64, offsetMin int16) {
		e := clfEntry{
			Host: host, User: user, Method: method, URI: uri, Proto: proto, Referer: referer, UserAgent: ua,
			Time: time.Unix(unix, 0).In(time.FixedZone("", int(offsetMin)*60)), Status: status, Bytes: bytes,
		}
		for name, line := range map[string]string{
			"appendCommon":   string(appendCommon(nil, &e)),
			"appendCombined": string(appendCombined(nil, &e)),
		} {
			body, ok := strings.CutSuffix(line, "\n")
			if !ok || !printableASCII(body) {
				t.Fatalf("%s wrote %q: not one line of printable ASCII", name, line)
			}
		}
		for _, s := range []string{host, user, method, uri, proto, referer, ua} {
			esc := string(appendEscaped(nil, s))
			if !printableASCII(esc) {
				t.Fatalf("appendEscaped(%q) = %q: not printable ASCII", s, esc)
			}
			if back, ok := unescapeCLF(esc); !ok || back != s {
				t.Fatalf("appendEscaped(%q) = %q, which reads back as %q, %v", s, esc, back, ok)
			}
		}
	})
}
