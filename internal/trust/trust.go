// Package trust holds the set of trusted proxies that filters share: the
// networks whose forwarding headers (X-Forwarded-For, X-Forwarded-Proto,
// Forwarded) a filter may believe.
package trust

import (
	"net/netip"
	"strings"
)

// Proxies is a set of trusted networks. A nil *Proxies trusts no one.
type Proxies struct {
	prefixes []netip.Prefix
}

// New returns the set of prefixes. Each prefix is masked (10.1.2.3/8 is
// 10.0.0.0/8), an IPv4-mapped IPv6 prefix of /96 or longer becomes the IPv4
// prefix it maps (addresses are compared unmapped), and invalid prefixes are
// dropped. Nil or empty prefixes give a set that trusts no one.
func New(prefixes []netip.Prefix) *Proxies {
	p := &Proxies{prefixes: make([]netip.Prefix, 0, len(prefixes))}
	for _, pre := range prefixes {
		if !pre.IsValid() {
			continue
		}
		if a := pre.Addr(); a.Is4In6() && pre.Bits() >= 96 {
			pre = netip.PrefixFrom(a.Unmap(), pre.Bits()-96)
		}
		p.prefixes = append(p.prefixes, pre.Masked())
	}
	return p
}

// Trusts reports whether a is the address of a trusted proxy. An
// IPv4-mapped address is compared unmapped, and a zone is ignored: a
// link-local peer "fe80::1%eth0" is in fe80::/10.
func (p *Proxies) Trusts(a netip.Addr) bool {
	if p == nil || !a.IsValid() {
		return false
	}
	a = a.Unmap().WithZone("")
	for _, pre := range p.prefixes {
		if pre.Contains(a) {
			return true
		}
	}
	return false
}

// Empty reports whether the set trusts no one.
func (p *Proxies) Empty() bool { return p == nil || len(p.prefixes) == 0 }

// Peer returns the address of r.RemoteAddr ("host:port", "[v6%zone]:port"
// or a bare address), unmapped, or the zero Addr when it is not an IP
// address (a unix socket's "@", or "").
func Peer(remoteAddr string) netip.Addr {
	if ap, err := netip.ParseAddrPort(remoteAddr); err == nil {
		return ap.Addr().Unmap()
	}
	host := strings.TrimSuffix(strings.TrimPrefix(remoteAddr, "["), "]")
	if a, err := netip.ParseAddr(host); err == nil {
		return a.Unmap()
	}
	return netip.Addr{}
}
