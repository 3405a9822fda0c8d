package trust

import (
	"net/netip"
	"testing"
)

func TestProxies(t *testing.T) {
	p := New([]netip.Prefix{
		netip.MustParsePrefix("10.1.2.3/8"),
		netip.MustParsePrefix("::ffff:192.0.2.0/120"),
		netip.MustParsePrefix("fe80::/10"),
		{},
	})
	tests := []struct {
		addr string
		want bool
	}{
		{"10.200.0.1", true},
		{"11.0.0.1", false},
		{"192.0.2.77", true},
		{"::ffff:192.0.2.77", true},
		{"192.0.3.1", false},
		{"fe80::1%eth0", true},
		{"2001:db8::1", false},
	}
	for _, tt := range tests {
		if got := p.Trusts(netip.MustParseAddr(tt.addr)); got != tt.want {
			t.Errorf("Trusts(%s) = %v, want %v", tt.addr, got, tt.want)
		}
	}
	var none *Proxies
	if none.Trusts(netip.MustParseAddr("10.0.0.1")) || !none.Empty() || !New(nil).Empty() || p.Empty() {
		t.Error("a nil or empty set trusts no one")
	}
	if p.Trusts(netip.Addr{}) {
		t.Error("the zero Addr is never trusted")
	}
}

func TestPeer(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.1:1234":       "192.0.2.1",
		"[2001:db8::1]:443":    "2001:db8::1",
		"[::ffff:10.0.0.1]:80": "10.0.0.1",
		"[fe80::1%eth0]:80":    "fe80::1%eth0",
		"192.0.2.9":            "192.0.2.9",
		"[2001:db8::2]":        "2001:db8::2",
		"@":                    "invalid IP",
		"":                     "invalid IP",
		"example.com:80":       "invalid IP",
	} {
		if got := Peer(in).String(); got != want {
			t.Errorf("Peer(%q) = %s, want %s", in, got, want)
		}
	}
}
