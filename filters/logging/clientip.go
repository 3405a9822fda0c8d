package logging

import (
	"github.com/wsapi-go/wsapi/internal/trust"
	"net/http"
	"net/netip"
	"strings"
)

// maxForwardedHops is how many entries of a forwarding header clientIP
// examines at most, walking from the right. Real chains of proxies are a
// handful of hops; the limit bounds the work a client can cause with a
// long header.
const maxForwardedHops = 32

// trustedProxies is the set of proxies whose forwarding header is
// believed, and which header that is. A nil *trustedProxies trusts no one.
type trustedProxies struct {
	set    *trust.Proxies
	header string // the forwarding header the proxies set, canonical
}

// newTrustedProxies returns the set of proxies in prefixes (see trust.New
// for how prefixes are normalised). Nil or empty prefixes trust no one. The
// proxies are taken to set X-Forwarded-For; see reading.
func newTrustedProxies(prefixes []netip.Prefix) *trustedProxies {
	return &trustedProxies{set: trust.New(prefixes), header: "X-Forwarded-For"}
}

// reading returns a copy of t that reads header, one of Forwarded,
// X-Forwarded-For and X-Real-IP (in any case), and false for another.
func (t *trustedProxies) reading(header string) (*trustedProxies, bool) {
	h := http.CanonicalHeaderKey(header)
	switch h {
	case "Forwarded", "X-Forwarded-For", "X-Real-Ip":
	default:
		return nil, false
	}
	c := *t
	c.header = h
	return &c, true
}

// trusted reports whether a is the address of a trusted proxy. A zone is
// ignored: a link-local peer "fe80::1%eth0" is in the prefix fe80::/10.
func (t *trustedProxies) trusted(a netip.Addr) bool {
	return t != nil && t.set.Trusts(a)
}

// clientIP returns the address of the client that sent r.
//
// It starts from the peer, r.RemoteAddr ("host:port", "[ipv6%zone]:port",
// or a bare address), with an IPv4-mapped IPv6 address unmapped; a
// RemoteAddr that is not an IP address (a unix socket's "@", or "") gives
// the zero Addr. Only when the peer is a trusted proxy is the forwarding
// header read, and only the one header the proxies set (t.header); the
// others are ignored, as a client may have sent them:
//
//   - Forwarded (RFC 7239): the for= parameter of every element, across
//     all header lines, quoted or not, with or without a port;
//   - X-Forwarded-For: comma-separated addresses across all header lines,
//     optionally with a port ("192.0.2.1:4711", "[2001:db8::1]:4711");
//   - X-Real-IP: one address per header line.
//
// The entries are walked from the right, the one the nearest proxy wrote,
// skipping trusted proxies: the first address that is not trusted is the
// client. Otherwise the walk stops, and the answer is the last trusted
// address walked (at first the peer):
//
//   - when an entry is not an address: garbage, an address with a zone, a
//     Forwarded element without for= or with two, "unknown", or an
//     obfuscated identifier such as "_hidden";
//   - when the entries run out: a chain of trusted addresses gives its
//     left-most one;
//   - when maxForwardedHops (32) entries, empty ones included, have been
//     examined: behind a list of 32 or more trusted addresses, the answer
//     is the 32nd address from the right, and what lies further left is
//     never read.
//
// Reading one header, and never falling back to another, matters: a proxy
// that appends to X-Forwarded-For but passes on a Forwarded header from the
// client would otherwise let the client choose its address.
//
// clientIP does not allocate, however long or malformed the headers.
func (t *trustedProxies) clientIP(r *http.Request) netip.Addr {
	peer := parsePeer(r.RemoteAddr)
	if !t.trusted(peer) {
		return peer
	}
	w := hopWalker{t: t, ip: peer}
	lines := r.Header[t.header]
	for i := len(lines) - 1; i >= 0 && w.more(); i-- {
		switch t.header {
		case "Forwarded":
			w.forwarded(lines[i])
		case "X-Real-Ip":
			w.entry(lines[i])
		default:
			w.list(lines[i])
		}
	}
	return w.ip
}

// hopWalker walks the entries of a forwarding header from the right.
type hopWalker struct {
	t    *trustedProxies
	ip   netip.Addr // the answer so far: the last trusted address walked, or the client
	hops int        // entries examined
	done bool       // the client is found, or the walk was stopped
}

// more reports whether the walk goes on.
func (w *hopWalker) more() bool { return !w.done }

// entry examines one entry of X-Forwarded-For or X-Real-IP.
func (w *hopWalker) entry(s string) {
	if w.done {
		return
	}
	if w.hops == maxForwardedHops {
		w.done = true
		return
	}
	w.hops++
	s = trimOWS(s)
	if s == "" {
		return // an empty list element: nothing to examine
	}
	w.node(s)
}

// node examines one address, with an optional port: it ends the walk
// unless the address is a trusted proxy.
func (w *hopWalker) node(s string) {
	a, ok := parseNode(s)
	if !ok {
		w.done = true
		return
	}
	w.ip = a
	if !w.t.trusted(a) {
		w.done = true
	}
}

// list examines the comma-separated entries of one X-Forwarded-For line,
// from the right.
func (w *hopWalker) list(v string) {
	for !w.done {
		i := strings.LastIndexByte(v, ',')
		w.entry(v[i+1:])
		if i < 0 {
			return
		}
		v = v[:i]
	}
}

// forwarded examines the elements of one Forwarded line, from the right.
// Commas inside quoted strings do not split elements.
func (w *hopWalker) forwarded(v string) {
	for !w.done {
		i := lastUnquoted(v, ',')
		if w.hops == maxForwardedHops {
			w.done = true
			return
		}
		w.hops++
		if elem := trimOWS(v[i+1:]); elem != "" {
			w.forwardedElement(elem)
		}
		if i < 0 {
			return
		}
		v = v[:i]
	}
}

// forwardedElement examines the for= parameter of one Forwarded element,
// "for=192.0.2.60;proto=http;by=203.0.113.43". An element without for=, or
// with two, ends the walk.
func (w *hopWalker) forwardedElement(elem string) {
	var node string
	found := false
	for elem != "" {
		var pair string
		if i := firstUnquoted(elem, ';'); i >= 0 {
			pair, elem = elem[:i], elem[i+1:]
		} else {
			pair, elem = elem, ""
		}
		pair = trimOWS(pair)
		eq := strings.IndexByte(pair, '=')
		if eq < 0 || !strings.EqualFold(trimOWS(pair[:eq]), "for") {
			continue
		}
		if found {
			w.done = true // for= twice in one element
			return
		}
		found = true
		node = trimOWS(pair[eq+1:])
	}
	if !found {
		w.done = true
		return
	}
	if len(node) >= 2 && node[0] == '"' && node[len(node)-1] == '"' {
		node = node[1 : len(node)-1]
		// A node has no use for quoted-pairs: one means it is not a node.
		if strings.IndexByte(node, '\\') >= 0 || strings.IndexByte(node, '"') >= 0 {
			w.done = true
			return
		}
	}
	// "unknown", "_hidden" and garbage fail to parse and end the walk.
	w.node(node)
}

// lastUnquoted returns the index of the last c in v that is not inside a
// quoted string, or -1. It reads v from the right; a quote preceded by an
// odd number of backslashes is escaped. When the quotes do not pair up the
// split is wrong, but only in entries left of a malformed one, which the
// walk never trusts further than the malformed one.
func lastUnquoted(v string, c byte) int {
	for i := len(v) - 1; i >= 0; i-- {
		switch v[i] {
		case c:
			return i
		case '"':
			// Find the opening quote.
			for i--; i >= 0; i-- {
				if v[i] == '"' && !escapedAt(v, i) {
					break
				}
			}
			if i < 0 {
				return -1
			}
		}
	}
	return -1
}

// escapedAt reports whether v[i] is preceded by an odd number of
// backslashes.
func escapedAt(v string, i int) bool {
	n := 0
	for j := i - 1; j >= 0 && v[j] == '\\'; j-- {
		n++
	}
	return n%2 == 1
}

// firstUnquoted returns the index of the first c in v that is not inside a
// quoted string, or -1.
func firstUnquoted(v string, c byte) int {
	quoted := false
	for i := 0; i < len(v); i++ {
		switch b := v[i]; {
		case quoted && b == '\\':
			i++ // skip the escaped byte
		case b == '"':
			quoted = !quoted
		case b == c && !quoted:
			return i
		}
	}
	return -1
}

// trimOWS trims spaces and tabs, HTTP's optional white space.
func trimOWS(s string) string {
	for s != "" && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for s != "" && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}
