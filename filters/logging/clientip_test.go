package logging

import (
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"testing"
)

// testProxies trusts the private ranges and a documentation range, as a
// deployment behind a load balancer would.
var testProxies = newTrustedProxies([]netip.Prefix{
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("192.168.0.0/16"),
	netip.MustParsePrefix("fd00::/8"),
	netip.MustParsePrefix("fe80::/10"),
})

// newIPRequest returns a request from remoteAddr with the given header
// lines, as "Name: value" strings.
func newIPRequest(remoteAddr string, lines ...string) *http.Request {
	r := &http.Request{Method: "GET", RemoteAddr: remoteAddr, Header: http.Header{}}
	for _, l := range lines {
		name, value, _ := strings.Cut(l, ": ")
		r.Header.Add(name, value)
	}
	return r
}

func TestNewTrustedProxies(t *testing.T) {
	tests := []struct {
		name     string
		prefixes []netip.Prefix
		addr     string
		want     bool
	}{
		{"nil prefixes trust no one", nil, "10.0.0.1", false},
		{"empty prefixes trust no one", []netip.Prefix{}, "10.0.0.1", false},
		{"an address in a prefix is trusted", []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, "10.1.2.3", true},
		{"an address outside is not", []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, "11.0.0.1", false},
		{"a prefix with host bits is masked", []netip.Prefix{netip.MustParsePrefix("10.1.2.3/8")}, "10.200.0.1", true},
		{"a single address is a /32", []netip.Prefix{netip.MustParsePrefix("203.0.113.7/32")}, "203.0.113.7", true},
		{"a /32 does not cover its neighbour", []netip.Prefix{netip.MustParsePrefix("203.0.113.7/32")}, "203.0.113.8", false},
		{"an IPv4-mapped prefix covers IPv4 addresses", []netip.Prefix{netip.MustParsePrefix("::ffff:10.0.0.0/104")}, "10.9.9.9", true},
		{"an IPv6 prefix covers IPv6 addresses", []netip.Prefix{netip.MustParsePrefix("2001:db8::/32")}, "2001:db8::1", true},
		{"an IPv6 prefix does not cover IPv4", []netip.Prefix{netip.MustParsePrefix("::/0")}, "10.0.0.1", false},
		{"an IPv4 prefix does not cover IPv6", []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0")}, "2001:db8::1", false},
		{"a zone is ignored", []netip.Prefix{netip.MustParsePrefix("fe80::/10")}, "fe80::1%eth0", true},
		{"an invalid prefix is dropped", []netip.Prefix{{}}, "0.0.0.0", false},
		{"the zero address is never trusted", []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0")}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var a netip.Addr
			if tt.addr != "" {
				a = netip.MustParseAddr(tt.addr)
			}
			if got := newTrustedProxies(tt.prefixes).trusted(a); got != tt.want {
				t.Errorf("trusted(%v) = %v, want %v", a, got, tt.want)
			}
		})
	}
	var none *trustedProxies
	if none.trusted(netip.MustParseAddr("10.0.0.1")) {
		t.Error("a nil *trustedProxies trusts an address")
	}
	if got := none.clientIP(newIPRequest("10.0.0.1:1", "X-Forwarded-For: 203.0.113.9")); got.String() != "10.0.0.1" {
		t.Errorf("nil *trustedProxies: clientIP = %v, want the peer", got)
	}
}

func TestReadingOnlyTheThreeHeaders(t *testing.T) {
	for _, h := range []string{"forwarded", "X-FORWARDED-FOR", "x-real-ip"} {
		if _, ok := testProxies.reading(h); !ok {
			t.Errorf("reading(%q) refused", h)
		}
	}
	if _, ok := testProxies.reading("X-Client-IP"); ok {
		t.Error("reading an unknown header must be refused")
	}
}

func TestClientIP(t *testing.T) {
	tests := []struct {
		name   string
		remote string
		lines  []string
		want   string // "" for the zero Addr
	}{
		// The peer.
		{"an IPv4 peer is its own client", "203.0.113.9:4711", nil, "203.0.113.9"},
		{"an IPv6 peer is its own client", "[2001:db8::9]:4711", nil, "2001:db8::9"},
		{"an IPv6 peer keeps its zone", "[fe80::9%eth0]:4711", nil, "fe80::9%eth0"},
		{"an IPv4-mapped peer is unmapped", "[::ffff:203.0.113.9]:4711", nil, "203.0.113.9"},
		{"a peer without a port is read", "203.0.113.9", nil, "203.0.113.9"},
		{"a bare IPv6 peer is read", "2001:db8::9", nil, "2001:db8::9"},
		{"a unix socket peer is no address", "@", nil, ""},
		{"an empty peer is no address", "", nil, ""},
		{"a peer name is no address", "localhost:80", nil, ""},
		{"a peer with a broken bracket is no address", "[2001:db8::9:80", nil, ""},
		{"a peer with an empty zone is no address", "[fe80::9%]:80", nil, ""},

		// Spoofing: headers from an untrusted peer are ignored.
		{"an untrusted peer's X-Forwarded-For is ignored", "203.0.113.9:1",
			[]string{"X-Forwarded-For: 198.51.100.1"}, "203.0.113.9"},
		{"an untrusted peer's Forwarded is ignored", "203.0.113.9:1",
			[]string{"Forwarded: for=198.51.100.1"}, "203.0.113.9"},
		{"an untrusted peer's X-Real-IP is ignored", "203.0.113.9:1",
			[]string{"X-Real-IP: 198.51.100.1"}, "203.0.113.9"},
		{"an untrusted peer claiming a trusted address is ignored", "203.0.113.9:1",
			[]string{"X-Forwarded-For: 10.0.0.1", "X-Real-IP: 10.0.0.2"}, "203.0.113.9"},
		{"an untrusted IPv4-mapped peer is not trusted", "[::ffff:203.0.113.9]:1",
			[]string{"X-Forwarded-For: 198.51.100.1"}, "203.0.113.9"},

		// X-Forwarded-For.
		{"a trusted peer's X-Forwarded-For names the client", "10.0.0.1:1",
			[]string{"X-Forwarded-For: 198.51.100.1"}, "198.51.100.1"},
		{"a chain of trusted proxies is skipped", "10.0.0.1:1",
			[]string{"X-Forwarded-For: 198.51.100.1, 10.0.0.3, 192.168.1.1"}, "198.51.100.1"},
		{"the right-most untrusted entry wins over spoofed ones on its left", "10.0.0.1:1",
			[]string{"X-Forwarded-For: 1.1.1.1, 2.2.2.2, 198.51.100.1, 10.0.0.3"}, "198.51.100.1"},
		{"lines are walked last first", "10.0.0.1:1",
			[]string{"X-Forwarded-For: 1.1.1.1", "X-Forwarded-For: 198.51.100.1, 10.0.0.2", "X-Forwarded-For: 10.0.0.3"}, "198.51.100.1"},
		{"all trusted gives the left-most", "10.0.0.1:1",
			[]string{"X-Forwarded-For: 10.0.0.5, 10.0.0.4", "X-Forwarded-For: 192.168.0.3"}, "10.0.0.5"},
		{"spaces and tabs are tolerated", "10.0.0.1:1",
			[]string{"X-Forwarded-For:   198.51.100.1 ,\t10.0.0.2\t, 10.0.0.3  "}, "198.51.100.1"},
		{"no spaces at all are fine", "10.0.0.1:1",
			[]string{"X-Forwarded-For: 198.51.100.1,10.0.0.2"}, "198.51.100.1"},
		{"empty entries are skipped", "10.0.0.1:1",
			[]string{"X-Forwarded-For: 198.51.100.1, , ,10.0.0.2,"}, "198.51.100.1"},
		{"an empty header leaves the peer", "10.0.0.1:1",
			[]string{"X-Forwarded-For: "}, "10.0.0.1"},
		{"an IPv6 client is read", "10.0.0.1:1",
			[]string{"X-Forwarded-For: 2001:db8::77, 10.0.0.2"}, "2001:db8::77"},
		{"an IPv4 entry with a port is read", "10.0.0.1:1",
			[]string{"X-Forwarded-For: 198.51.100.1:4711"}, "198.51.100.1"},
		{"a bracketed IPv6 entry with a port is read", "10.0.0.1:1",
			[]string{"X-Forwarded-For: [2001:db8::77]:4711"}, "2001:db8::77"},
		{"an IPv4-mapped entry is unmapped", "10.0.0.1:1",
			[]string{"X-Forwarded-For: ::ffff:198.51.100.1"}, "198.51.100.1"},
		{"an IPv4-mapped trusted entry is skipped", "10.0.0.1:1",
			[]string{"X-Forwarded-For: 198.51.100.1, ::ffff:10.0.0.2"}, "198.51.100.1"},
		{"an IPv4-mapped trusted peer is trusted", "[::ffff:10.0.0.1]:1",
			[]string{"X-Forwarded-For: 198.51.100.1"}, "198.51.100.1"},
		{"a link-local peer with a zone is trusted", "[fe80::1%eth0]:1",
			[]string{"X-Forwarded-For: 198.51.100.1"}, "198.51.100.1"},

		// Garbage stops the walk at the last trusted address.
		{"garbage right after the peer gives the peer", "10.0.0.1:1",
			[]string{"X-Forwarded-For: 198.51.100.1, not-an-ip"}, "10.0.0.1"},
		{"garbage after a trusted hop gives that hop", "10.0.0.1:1",
			[]string{"X-Forwarded-For: 198.51.100.1, bogus, 10.0.0.2"}, "10.0.0.2"},
		{"a host name is garbage", "10.0.0.1:1",
			[]string{"X-Forwarded-For: example.com"}, "10.0.0.1"},
		{"an address with a zone is garbage", "10.0.0.1:1",
			[]string{"X-Forwarded-For: fe80::1%eth0"}, "10.0.0.1"},
		{"an address with a leading zero is garbage", "10.0.0.1:1",
			[]string{"X-Forwarded-For: 198.051.100.1"}, "10.0.0.1"},
		{"an out-of-range octet is garbage", "10.0.0.1:1",
			[]string{"X-Forwarded-For: 198.256.100.1"}, "10.0.0.1"},
		{"a three-part address is garbage", "10.0.0.1:1",
			[]string{"X-Forwarded-For: 198.51.100"}, "10.0.0.1"},
		{"an empty port is garbage", "10.0.0.1:1",
			[]string{"X-Forwarded-For: 198.51.100.1:"}, "10.0.0.1"},
		{"a six-digit port is garbage", "10.0.0.1:1",
			[]string{"X-Forwarded-For: 198.51.100.1:123456"}, "10.0.0.1"},
		{"a quoted entry is garbage in X-Forwarded-For", "10.0.0.1:1",
			[]string{`X-Forwarded-For: "198.51.100.1"`}, "10.0.0.1"},
		{"a CR in an entry is garbage", "10.0.0.1:1",
			[]string{"X-Forwarded-For: 198.51.100.1\r, 10.0.0.2"}, "10.0.0.2"},
		{"a LF in an entry is garbage", "10.0.0.1:1",
			[]string{"X-Forwarded-For: 198.51.100.1\n127.0.0.1"}, "10.0.0.1"},
		{"an ESC in an entry is garbage", "10.0.0.1:1",
			[]string{"X-Forwarded-For: \x1b[31m198.51.100.1"}, "10.0.0.1"},
		{"a NUL in an entry is garbage", "10.0.0.1:1",
			[]string{"X-Forwarded-For: 198.51.100.1\x00"}, "10.0.0.1"},
		{"non-ASCII in an entry is garbage", "10.0.0.1:1",
			[]string{"X-Forwarded-For: 198.51.100.\u0661"}, "10.0.0.1"},

		// Forwarded.
		{"Forwarded for= names the client", "10.0.0.1:1",
			[]string{"Forwarded: for=198.51.100.1"}, "198.51.100.1"},
		{"the parameter name is case-insensitive", "10.0.0.1:1",
			[]string{"Forwarded: For=198.51.100.1"}, "198.51.100.1"},
		{"other parameters are ignored", "10.0.0.1:1",
			[]string{"Forwarded: proto=https;for=198.51.100.1;by=10.0.0.1;host=example.com"}, "198.51.100.1"},
		{"a quoted address is read", "10.0.0.1:1",
			[]string{`Forwarded: for="198.51.100.1"`}, "198.51.100.1"},
		{"a quoted IPv6 address with a port is read", "10.0.0.1:1",
			[]string{`Forwarded: for="[2001:db8:cafe::17]:4711"`}, "2001:db8:cafe::17"},
		{"a quoted IPv6 address without a port is read", "10.0.0.1:1",
			[]string{`Forwarded: for="[2001:db8:cafe::17]"`}, "2001:db8:cafe::17"},
		{"an IPv4 address with a port is read", "10.0.0.1:1",
			[]string{`Forwarded: for="198.51.100.1:4711"`}, "198.51.100.1"},
		{"an obfuscated port is fine", "10.0.0.1:1",
			[]string{`Forwarded: for="198.51.100.1:_p1"`}, "198.51.100.1"},
		{"RFC 7239's example with several elements", "10.0.0.1:1",
			[]string{"Forwarded: for=192.0.2.43, for=198.51.100.17;by=203.0.113.60;proto=http;host=example.com"}, "198.51.100.17"},
		{"trusted elements are skipped", "10.0.0.1:1",
			[]string{`Forwarded: for=198.51.100.17, for="[fd00::2]";proto=https, for=10.0.0.3`}, "198.51.100.17"},
		{"elements across lines are walked last first", "10.0.0.1:1",
			[]string{"Forwarded: for=1.1.1.1", "Forwarded: for=198.51.100.17, for=10.0.0.2", "Forwarded: for=10.0.0.3"}, "198.51.100.17"},
		{"all trusted elements give the left-most", "10.0.0.1:1",
			[]string{"Forwarded: for=10.0.0.7, for=10.0.0.6"}, "10.0.0.7"},
		{"a quoted comma does not split elements", "10.0.0.1:1",
			[]string{`Forwarded: for=198.51.100.17;host="a,b", for=10.0.0.2`}, "198.51.100.17"},
		{"a quoted semicolon does not split pairs", "10.0.0.1:1",
			[]string{`Forwarded: host="a;for=1.1.1.1";for=198.51.100.17`}, "198.51.100.17"},
		{"an escaped quote stays inside its string", "10.0.0.1:1",
			[]string{`Forwarded: for=198.51.100.17;ext="x\", for=1.1.1.1"`}, "198.51.100.17"},
		{"an unbalanced quote on the left does not swallow the right", "10.0.0.1:1",
			[]string{`Forwarded: for="1.1.1.1, for=198.51.100.17`}, "198.51.100.17"},
		{"spaces around elements and pairs are tolerated", "10.0.0.1:1",
			[]string{"Forwarded:  for=198.51.100.17 ;  proto=http ,  for=10.0.0.2 "}, "198.51.100.17"},
		{"unknown ends the walk", "10.0.0.1:1",
			[]string{"Forwarded: for=198.51.100.17, for=unknown, for=10.0.0.2"}, "10.0.0.2"},
		{"an obfuscated identifier ends the walk", "10.0.0.1:1",
			[]string{`Forwarded: for=198.51.100.17, for=_hidden`}, "10.0.0.1"},
		{"an element without for= ends the walk", "10.0.0.1:1",
			[]string{"Forwarded: for=198.51.100.17, proto=https"}, "10.0.0.1"},
		{"an element with for= twice ends the walk", "10.0.0.1:1",
			[]string{"Forwarded: for=198.51.100.17;for=10.0.0.2"}, "10.0.0.1"},
		{"an unquoted IPv6 address is read", "10.0.0.1:1",
			[]string{"Forwarded: for=2001:db8::17"}, "2001:db8::17"},
		{"a quoted-pair in a node is garbage", "10.0.0.1:1",
			[]string{`Forwarded: for="198.51.100.\17"`}, "10.0.0.1"},
		{"a half-quoted node is garbage", "10.0.0.1:1",
			[]string{`Forwarded: for="198.51.100.17`}, "10.0.0.1"},
		{"a CR in Forwarded is garbage", "10.0.0.1:1",
			[]string{"Forwarded: for=198.51.100.17\r"}, "10.0.0.1"},
		{"a LF in a quoted Forwarded node is garbage", "10.0.0.1:1",
			[]string{"Forwarded: for=\"198.51.100.17\n\""}, "10.0.0.1"},
		{"an ESC in Forwarded is garbage", "10.0.0.1:1",
			[]string{"Forwarded: for=\x1b]0;198.51.100.17"}, "10.0.0.1"},
		{"a NUL in Forwarded is garbage", "10.0.0.1:1",
			[]string{"Forwarded: for=198.51.100.17\x00, for=10.0.0.2"}, "10.0.0.2"},
		{"empty Forwarded elements are skipped", "10.0.0.1:1",
			[]string{"Forwarded: for=198.51.100.17,, ,"}, "198.51.100.17"},

		// X-Real-IP.
		{"a trusted peer's X-Real-IP names the client", "10.0.0.1:1",
			[]string{"X-Real-IP: 198.51.100.1"}, "198.51.100.1"},
		{"X-Real-IP is one address, not a list", "10.0.0.1:1",
			[]string{"X-Real-IP: 198.51.100.1, 10.0.0.2"}, "10.0.0.1"},
		{"a trusted X-Real-IP gives that address", "10.0.0.1:1",
			[]string{"X-Real-IP: 10.0.0.9"}, "10.0.0.9"},
		{"a garbage X-Real-IP gives the peer", "10.0.0.1:1",
			[]string{"X-Real-IP: \x1b[2J"}, "10.0.0.1"},

		// Which header.
		{"proxies that set Forwarded: the others are ignored", "10.0.0.1:1",
			[]string{"Forwarded: for=198.51.100.1", "X-Forwarded-For: 198.51.100.2", "X-Real-IP: 198.51.100.3"}, "198.51.100.1"},
		{"proxies that set X-Forwarded-For: X-Real-IP is ignored", "10.0.0.1:1",
			[]string{"X-Forwarded-For: 198.51.100.2", "X-Real-IP: 198.51.100.3"}, "198.51.100.2"},
		{"proxies that set X-Forwarded-For: a client's Forwarded is ignored", "10.0.0.1:1",
			[]string{"X-Forwarded-For: 198.51.100.2", "Forwarded: for=198.51.100.9"}, "198.51.100.2"},
		{"proxies that set X-Real-IP: a client's X-Forwarded-For is ignored", "10.0.0.1:1",
			[]string{"X-Real-IP: 198.51.100.3", "X-Forwarded-For: 198.51.100.9"}, "198.51.100.3"},
		{"an empty Forwarded does not fall back to another header", "10.0.0.1:1",
			[]string{"Forwarded: ", "X-Forwarded-For: 198.51.100.2"}, "10.0.0.1"},
		{"a garbage Forwarded does not fall back", "10.0.0.1:1",
			[]string{"Forwarded: for=unknown", "X-Forwarded-For: 198.51.100.2"}, "10.0.0.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newIPRequest(tt.remote, tt.lines...)
			// The proxies set the header of the case's first line.
			header := "X-Forwarded-For"
			if len(tt.lines) > 0 {
				header, _, _ = strings.Cut(tt.lines[0], ":")
			}
			tp, ok := testProxies.reading(header)
			if !ok {
				t.Fatalf("cannot read %q", header)
			}
			got := tp.clientIP(r)
			if tt.want == "" {
				if got.IsValid() {
					t.Errorf("clientIP = %v, want the zero Addr", got)
				}
				return
			}
			if want := netip.MustParseAddr(tt.want); got != want {
				t.Errorf("clientIP = %v, want %v", got, want)
			}
		})
	}
}

func TestClientIPIgnoresNonCanonicalHeaders(t *testing.T) {
	// net/http canonicalises header names; one set in the map by hand
	// under another spelling is not a forwarding header.
	r := newIPRequest("10.0.0.1:1")
	r.Header["x-forwarded-for"] = []string{"198.51.100.1"}
	r.Header["X_Forwarded_For"] = []string{"198.51.100.2"}
	if got := testProxies.clientIP(r); got.String() != "10.0.0.1" {
		t.Errorf("clientIP = %v, want the peer", got)
	}
}

// longForwardedFor returns an X-Forwarded-For value of n trusted addresses,
// 10.0.x.y, the i-th from the left being 10.0.(i/256).(i%256).
func longForwardedFor(n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("10.0.")
		b.WriteString(strconv.Itoa(i / 256 % 256))
		b.WriteByte('.')
		b.WriteString(strconv.Itoa(i % 256))
	}
	return b.String()
}

// hopAddr returns the address longForwardedFor puts at index i.
func hopAddr(i int) netip.Addr {
	return netip.AddrFrom4([4]byte{10, 0, byte(i / 256), byte(i % 256)})
}

func TestClientIPHopLimit(t *testing.T) {
	tests := []struct {
		name    string
		entries int
		want    int // index, from the left, of the address clientIP returns
	}{
		{"31 trusted entries give the left-most", 31, 0},
		{"32 trusted entries give the left-most", 32, 0},
		{"33 trusted entries give the 32nd from the right", 33, 1},
		{"10,000 trusted entries give the 32nd from the right", 10_000, 10_000 - 32},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newIPRequest("10.0.0.1:1", "X-Forwarded-For: "+longForwardedFor(tt.entries))
			if got, want := testProxies.clientIP(r), hopAddr(tt.want); got != want {
				t.Errorf("clientIP = %v, want %v", got, want)
			}
		})
	}

	t.Run("an untrusted client at the 32nd hop is found", func(t *testing.T) {
		r := newIPRequest("10.0.0.1:1", "X-Forwarded-For: 198.51.100.1, "+longForwardedFor(31))
		if got := testProxies.clientIP(r); got.String() != "198.51.100.1" {
			t.Errorf("clientIP = %v, want 198.51.100.1", got)
		}
	})
	t.Run("an untrusted client at the 33rd hop is not reached", func(t *testing.T) {
		r := newIPRequest("10.0.0.1:1", "X-Forwarded-For: 198.51.100.1, "+longForwardedFor(32))
		if got := testProxies.clientIP(r); got != hopAddr(0) {
			t.Errorf("clientIP = %v, want %v", got, hopAddr(0))
		}
	})
	t.Run("empty entries count as hops", func(t *testing.T) {
		r := newIPRequest("10.0.0.1:1", "X-Forwarded-For: 198.51.100.1"+strings.Repeat(",", 32))
		if got := testProxies.clientIP(r); got.String() != "10.0.0.1" {
			t.Errorf("clientIP = %v, want the peer", got)
		}
	})
	t.Run("the limit spans header lines", func(t *testing.T) {
		r := newIPRequest("10.0.0.1:1")
		for i := range 40 {
			r.Header.Add("X-Forwarded-For", hopAddr(i).String())
		}
		if got, want := testProxies.clientIP(r), hopAddr(40-32); got != want {
			t.Errorf("clientIP = %v, want %v", got, want)
		}
	})
	t.Run("the limit holds for Forwarded", func(t *testing.T) {
		var b strings.Builder
		for i := range 10_000 {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(`for="`)
			b.WriteString(hopAddr(i).String())
			b.WriteString(`:80";proto=https`)
		}
		r := newIPRequest("10.0.0.1:1", "Forwarded: "+b.String())
		tp, _ := testProxies.reading("Forwarded")
		if got, want := tp.clientIP(r), hopAddr(10_000-32); got != want {
			t.Errorf("clientIP = %v, want %v", got, want)
		}
	})
	t.Run("the limit holds for X-Real-IP lines", func(t *testing.T) {
		r := newIPRequest("10.0.0.1:1")
		for i := range 100 {
			r.Header.Add("X-Real-Ip", hopAddr(i).String())
		}
		tp, _ := testProxies.reading("X-Real-IP")
		if got, want := tp.clientIP(r), hopAddr(100-32); got != want {
			t.Errorf("clientIP = %v, want %v", got, want)
		}
	})
}

// sinkAddr keeps results alive.
var sinkAddr netip.Addr

func TestClientIPAlloc(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not stable under the race detector")
	}
	tests := []struct {
		name   string
		remote string
		lines  []string
	}{
		{"an untrusted peer", "203.0.113.9:4711", []string{"X-Forwarded-For: 198.51.100.1"}},
		{"an IPv6 peer", "[2001:db8::9]:4711", nil},
		{"a unix socket", "@", nil},
		{"a link-local peer with a zone", "[fe80::1%eth0]:4711", []string{"X-Forwarded-For: 198.51.100.1"}},
		{"X-Forwarded-For of 10,000 trusted entries", "10.0.0.1:1", []string{"X-Forwarded-For: " + longForwardedFor(10_000)}},
		{"X-Forwarded-For with garbage", "10.0.0.1:1", []string{"X-Forwarded-For: 1.2.3, 10.0.0.2"}},
		{"X-Forwarded-For with IPv6 garbage", "10.0.0.1:1", []string{"X-Forwarded-For: 2001:db8:::1, 10.0.0.2"}},
		{"X-Forwarded-For with a zone", "10.0.0.1:1", []string{"X-Forwarded-For: fe80::1%eth0"}},
		{"Forwarded with quotes and IPv6", "10.0.0.1:1", []string{`Forwarded: for="[2001:db8::17]:4711";proto=https, for=10.0.0.2`}},
		{"Forwarded unknown", "10.0.0.1:1", []string{`Forwarded: for=unknown`}},
		{"X-Real-IP", "10.0.0.1:1", []string{"X-Real-IP: 198.51.100.1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newIPRequest(tt.remote, tt.lines...)
			tp := testProxies
			if len(tt.lines) > 0 {
				header, _, _ := strings.Cut(tt.lines[0], ":")
				tp, _ = testProxies.reading(header)
			}
			allocs := testing.AllocsPerRun(100, func() {
				sinkAddr = tp.clientIP(r)
			})
			if allocs != 0 {
				t.Errorf("clientIP allocates %v times per call, want 0", allocs)
			}
		})
	}
	r := newIPRequest("10.0.0.1:1", "X-Forwarded-For: "+longForwardedFor(10_000))
	if got, want := testProxies.clientIP(r), hopAddr(10_000-32); got != want {
		t.Errorf("10,000 entries: clientIP = %v, want %v", got, want)
	}
}

func TestParseIPMatchesNetip(t *testing.T) {
	inputs := []string{
		"", ".", ":", "::", ":::", "1.2.3.4", "0.0.0.0", "255.255.255.255", "256.0.0.0",
		"1.2.3", "1.2.3.4.5", "1..2.3", "01.2.3.4", "1.2.3.04", "1.2.3.4.", ".1.2.3.4",
		"1.2.3.-4", "1.2.3.4 ", " 1.2.3.4", "1.2.3.4:80", "0x1.2.3.4",
		"::1", "1::", "1::1", "2001:db8::1", "2001:DB8::1", "2001:0db8:0000:0000:0000:0000:0000:0001",
		"1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "1:2:3:4:5:6:7::", "::1:2:3:4:5:6:7",
		"1:2:3:4::5:6:7:8", "1::2::3", "12345::1", "1:2:3:4:5:6:7:", ":1:2:3:4:5:6:7", "1:",
		"::ffff:1.2.3.4", "::1.2.3.4", "1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:7:1.2.3.4",
		"1:2:3:4:5:1.2.3.4", "::ffff:1.2.3", "::ffff:01.2.3.4", "::1234.1.1.1", "::1a.1.1.1",
		"::ffff:1.2.3.4:5", "1:2:3:4:5::1.2.3.4", "g::1", "::g", "[::1]", "fe80::1%eth0",
		"::ffff:255.255.255.255", "0:0:0:0:0:0:0:0", "::0:0:0:0:0:0:0", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
	}
	for _, s := range inputs {
		checkParseIP(t, s)
	}
}

// checkParseIP checks that parseIP agrees with netip.ParseAddr on s.
func checkParseIP(t *testing.T, s string) {
	t.Helper()
	got, ok := parseIP(s)
	want, err := netip.ParseAddr(s)
	if strings.IndexByte(s, '%') >= 0 {
		if ok {
			t.Errorf("parseIP(%q) = %v, true; want false: zones are refused", s, got)
		}
		return
	}
	if ok != (err == nil) || got != want {
		t.Errorf("parseIP(%q) = %v, %v; netip.ParseAddr = %v, %v", s, got, ok, want, err)
	}
}

func BenchmarkClientIP(b *testing.B) {
	cases := []struct {
		name   string
		remote string
		lines  []string
	}{
		{"untrusted peer", "203.0.113.9:4711", nil},
		{"X-Forwarded-For/3 hops", "10.0.0.1:1", []string{"X-Forwarded-For: 198.51.100.1, 10.0.0.3, 192.168.1.1"}},
		{"Forwarded/2 elements", "10.0.0.1:1", []string{`Forwarded: for="[2001:db8::17]:4711";proto=https, for=10.0.0.2`}},
		{"X-Forwarded-For/10000 hops", "10.0.0.1:1", []string{"X-Forwarded-For: " + longForwardedFor(10_000)}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			r := newIPRequest(c.remote, c.lines...)
			b.ReportAllocs()
			for b.Loop() {
				sinkAddr = testProxies.clientIP(r)
			}
		})
	}
}
