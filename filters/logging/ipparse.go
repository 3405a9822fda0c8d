package logging

import (
	"net/netip"
	"strings"
)

// parsePeer parses r.RemoteAddr: "192.0.2.1:4711", "[2001:db8::1]:4711",
// "[fe80::1%eth0]:4711", or a bare address. The zone of an IPv6 address is
// kept; an IPv4-mapped address is unmapped, and loses its zone. Anything
// else gives the zero Addr. The port is not checked: the server, not the
// client, wrote it.
func parsePeer(s string) netip.Addr {
	host := s
	if strings.HasPrefix(s, "[") {
		end := strings.LastIndexByte(s, ']')
		if end < 0 {
			return netip.Addr{}
		}
		host = s[1:end]
		if rest := s[end+1:]; rest != "" && rest[0] != ':' {
			return netip.Addr{}
		}
	} else if i := strings.IndexByte(s, ':'); i >= 0 && strings.IndexByte(s[i+1:], ':') < 0 {
		host = s[:i] // one colon: IPv4 and a port
	}
	zone := ""
	if i := strings.IndexByte(host, '%'); i >= 0 {
		host, zone = host[:i], host[i+1:]
		if zone == "" {
			return netip.Addr{}
		}
	}
	a, ok := parseIP(host)
	if !ok {
		return netip.Addr{}
	}
	if zone == "" || a.Is4In6() {
		return a.Unmap()
	}
	if a.Is4() {
		return netip.Addr{}
	}
	return a.WithZone(zone)
}

// parseNode parses an address from a forwarding header, with an optional
// port: "192.0.2.1", "192.0.2.1:4711", "2001:db8::1", "[2001:db8::1]" or
// "[2001:db8::1]:4711". The port is digits, or an obfuscated port such as
// "_p1" (RFC 7239). Addresses with a zone are refused; IPv4-mapped IPv6
// addresses are unmapped.
func parseNode(s string) (netip.Addr, bool) {
	host, port := s, ""
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return netip.Addr{}, false
		}
		host, port = s[1:end], s[end+1:]
		if port != "" {
			if port[0] != ':' {
				return netip.Addr{}, false
			}
			port = port[1:]
			if port == "" {
				return netip.Addr{}, false
			}
		}
	} else if i := strings.IndexByte(s, ':'); i >= 0 && strings.IndexByte(s[i+1:], ':') < 0 {
		host, port = s[:i], s[i+1:] // one colon: IPv4 and a port
		if port == "" {
			return netip.Addr{}, false
		}
	}
	if port != "" && !validPort(port) {
		return netip.Addr{}, false
	}
	a, ok := parseIP(host)
	if !ok {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

// validPort reports whether s is a port of RFC 7239's node-port: 1 to 5
// digits, or "_" and letters, digits, '.', '_' or '-'.
func validPort(s string) bool {
	if s[0] == '_' {
		return len(s) > 1 && ValidRequestID(s) // the same characters
	}
	if len(s) > 5 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// parseIP parses an IPv4 or IPv6 address without a zone, accepting exactly
// what netip.ParseAddr accepts for such input; unlike netip.ParseAddr, it
// does not allocate when s is not an address, so a client sending garbage
// costs nothing.
func parseIP(s string) (netip.Addr, bool) {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '.':
			b, ok := parseIPv4(s)
			if !ok {
				return netip.Addr{}, false
			}
			return netip.AddrFrom4(b), true
		case ':':
			return parseIPv6(s)
		}
	}
	return netip.Addr{}, false
}

// parseIPv4 parses a dotted-decimal IPv4 address: four fields of 0 to 255,
// without leading zeros.
func parseIPv4(s string) ([4]byte, bool) {
	var b [4]byte
	field, val, digits := 0, 0, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			if digits == 1 && val == 0 {
				return b, false // leading zero
			}
			val = val*10 + int(c-'0')
			digits++
			if val > 255 {
				return b, false
			}
		case c == '.':
			if digits == 0 || field == 3 {
				return b, false
			}
			b[field] = byte(val)
			field, val, digits = field+1, 0, 0
		default:
			return b, false
		}
	}
	if field != 3 || digits == 0 {
		return b, false
	}
	b[3] = byte(val)
	return b, true
}

// parseIPv6 parses an IPv6 address without a zone: up to eight groups of 1
// to 4 hex digits, at most one "::" standing for one or more zero groups,
// and maybe a dotted IPv4 address in place of the last two groups.
func parseIPv6(s string) (netip.Addr, bool) {
	var ip [16]byte
	n := 0         // bytes of ip filled
	ellipsis := -1 // where "::" stands in ip, or -1
	if strings.HasPrefix(s, "::") {
		ellipsis = 0
		s = s[2:]
		if s == "" {
			return netip.IPv6Unspecified(), true
		}
	}
	for n < 16 {
		off, acc := 0, 0
		for ; off < len(s) && off <= 4; off++ {
			h := unhex(s[off])
			if h < 0 {
				break
			}
			acc = acc<<4 | h
		}
		if off == 0 || off > 4 {
			return netip.Addr{}, false
		}
		if off < len(s) && s[off] == '.' {
			// A trailing IPv4 address, in place of two groups.
			if ellipsis < 0 && n != 12 || n > 12 {
				return netip.Addr{}, false
			}
			b, ok := parseIPv4(s)
			if !ok {
				return netip.Addr{}, false
			}
			copy(ip[n:], b[:])
			n += 4
			s = ""
			break
		}
		ip[n], ip[n+1] = byte(acc>>8), byte(acc)
		n += 2
		s = s[off:]
		if s == "" {
			break
		}
		if s[0] != ':' || len(s) == 1 {
			return netip.Addr{}, false
		}
		s = s[1:]
		if s[0] == ':' {
			if ellipsis >= 0 {
				return netip.Addr{}, false // a second "::"
			}
			ellipsis = n
			s = s[1:]
			if s == "" {
				break
			}
		}
	}
	if s != "" {
		return netip.Addr{}, false
	}
	if n < 16 {
		if ellipsis < 0 {
			return netip.Addr{}, false
		}
		// Move the groups after "::" to the end, and zero the gap.
		gap := 16 - n
		copy(ip[ellipsis+gap:], ip[ellipsis:n])
		clear(ip[ellipsis : ellipsis+gap])
	} else if ellipsis >= 0 {
		return netip.Addr{}, false // "::" must stand for at least one group
	}
	return netip.AddrFrom16(ip), true
}

// unhex returns the value of the hex digit c, or -1.
func unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}
