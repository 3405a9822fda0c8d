package main

import (
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseSize(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int64
	}{
		{"1", 1}, {"1048576", 1 << 20}, {"1KiB", 1 << 10}, {"1MiB", 1 << 20}, {"32MiB", 32 << 20},
		{"2GiB", 2 << 30}, {"1.5 KiB", 1536}, {"1mib", 1 << 20}, {"10M", 10 << 20}, {" 7 ", 7}, {"5B", 5},
	} {
		if got, err := parseSize(tt.in); err != nil || got != tt.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
	for _, in := range []string{"", "0", "-1", "MiB", "1XB", "1.5", "lots", "1e3", "2000GiB", "0.0001KiB"} {
		if got, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q) = %d, want an error", in, got)
		}
	}
}

func TestFormatSize(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1 KiB", 1536: "1.5 KiB", 32 << 20: "32 MiB", 3 << 30: "3 GiB"} {
		if got := formatSize(n); got != want {
			t.Errorf("formatSize(%d) = %q, want %q", n, got, want)
		}
	}
}

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestParseConfigDefaultsAndEnvironment(t *testing.T) {
	c, err := parseConfig([]string{"-lua", "off"}, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:8080" || c.MaxUpload != 32<<20 || c.Workers != 2 || c.HeaderTimeout != 10*time.Second ||
		filepath.Base(c.Data) != "wsapi-showcase" || c.Tmp != filepath.Join(c.Data, "tmp") || c.Password != "" || c.Token != "" {
		t.Errorf("defaults: %+v", c)
	}

	dir := t.TempDir()
	c, err = parseConfig(nil, env(map[string]string{
		"PORT": "9000", "SHOWCASE_DATA": dir, "SHOWCASE_TMP": dir + "/up", "SHOWCASE_PASSWORD": "pw",
		"SHOWCASE_TOKEN": "0123456789abcdef", "SHOWCASE_REDIS": "127.0.0.1:6379", "SHOWCASE_POSTGRES": "postgres://x@y/z",
		"SHOWCASE_MAX_UPLOAD": "1KiB", "SHOWCASE_WORKERS": "0", "SHOWCASE_ACCESS_LOG": "/tmp/a.log",
		"SHOWCASE_DEBUG_ADDR": "127.0.0.1:6060", "SHOWCASE_HEADER_TIMEOUT": "1s", "SHOWCASE_LUA": "off",
	}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := config{Addr: "127.0.0.1:9000", Data: dir, Tmp: dir + "/up", Password: "pw", Token: "0123456789abcdef",
		Redis: "127.0.0.1:6379", Postgres: "postgres://x@y/z", MaxUpload: 1024, Workers: 0, AccessLog: "/tmp/a.log",
		DebugAddr: "127.0.0.1:6060", HeaderTimeout: time.Second}
	if *c != want {
		t.Errorf("from the environment:\n got %+v\nwant %+v", *c, want)
	}

	// Flags win over the environment.
	c, err = parseConfig([]string{"-addr", "127.0.0.1:0", "-workers", "3", "-max-upload", "2MiB", "-lua", "off"},
		env(map[string]string{"PORT": "9000", "SHOWCASE_WORKERS": "0", "SHOWCASE_MAX_UPLOAD": "1KiB"}), io.Discard)
	if err != nil || c.Addr != "127.0.0.1:0" || c.Workers != 3 || c.MaxUpload != 2<<20 {
		t.Errorf("flags over the environment: %+v, %v", c, err)
	}
}

func TestParseConfigRefusesBadValues(t *testing.T) {
	for _, tt := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"-max-upload", "big"}, nil, "-max-upload"},
		{nil, map[string]string{"SHOWCASE_MAX_UPLOAD": "0"}, "-max-upload"},
		{[]string{"-workers", "many"}, nil, "-workers"},
		{[]string{"-workers", "1000"}, nil, "-workers"},
		{nil, map[string]string{"SHOWCASE_WORKERS": "-2"}, "-workers"},
		{[]string{"-header-timeout", "0s"}, nil, "-header-timeout"},
		{[]string{"-token", "short"}, nil, "-token"},
		{[]string{"-token", "has spaces in it, many"}, nil, "-token"},
		{[]string{"-password", strings.Repeat("p", 73)}, nil, "-password"},
		{[]string{"-lua", "/no/such/wsapi.cgi"}, nil, "-lua"},
		{[]string{"-nosuchflag"}, nil, "not defined"},
		{[]string{"stray"}, nil, "unexpected argument"},
	} {
		_, err := parseConfig(tt.args, env(tt.env), io.Discard)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v %v: error %v, want one about %s", tt.args, tt.env, err, tt.want)
		}
	}
	if _, err := parseConfig([]string{"-h"}, env(nil), io.Discard); err != errHelp {
		t.Errorf("-h: %v, want errHelp", err)
	}
}

func TestDebugAddrMustBeLoopback(t *testing.T) {
	for addr, ok := range map[string]bool{"127.0.0.1:6060": true, "[::1]:6060": true, "localhost:0": true,
		":6060": false, "0.0.0.0:6060": false, "192.0.2.1:6060": false, "example.com:6060": false} {
		_, err := parseConfig([]string{"-debug-addr", addr, "-lua", "off"}, env(nil), io.Discard)
		if (err == nil) != ok {
			t.Errorf("-debug-addr %s: %v, want ok %v", addr, err, ok)
		}
		if !ok {
			if err != nil && !strings.Contains(err.Error(), "-debug-remote") {
				t.Errorf("-debug-addr %s: %v does not name -debug-remote", addr, err)
			}
			if _, err := parseConfig([]string{"-debug-addr", addr, "-debug-remote", "-lua", "off"}, env(nil), io.Discard); err != nil {
				t.Errorf("-debug-addr %s -debug-remote: %v", addr, err)
			}
		}
	}
}
