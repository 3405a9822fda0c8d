package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/wsapi-go/wsapi"
)

// config is the command line, after the environment filled the flags
// that were not given.
type config struct {
	Addr      string // native address, such as 127.0.0.1:8080
	FastCGI   string // serve FastCGI on this address instead
	Data      string // uploaded files, metadata, htpasswd, Lua app
	Tmp       string // uploads in progress
	Password  string // the demo user's password; "" means generate one
	Token     string // the demo API token; "" means generate one
	Redis     string // Redis address or URL for sessions and limits
	Postgres  string // PostgreSQL URL for sessions
	MaxUpload int64  // the largest file, in bytes
	Workers   int    // worker processes for /stream; 0: in-process
	AccessLog string // access log path; "" means stderr
	DebugAddr string // pprof and expvar listener; "" means none
	// HeaderTimeout is the launcher's ReadHeaderTimeout.
	HeaderTimeout time.Duration
	// Lua is the path of wsapi.cgi, or "" when lua-wsapi is not there.
	Lua string

	// DebugRemote allows a -debug-addr that is not a loopback address.
	DebugRemote bool

	// logOut, when set, receives the access log instead of AccessLog
	// (tests point it at a buffer).
	logOut io.Writer
	// Tests shorten these; zero means the constant of the same name.
	maxInApp                                         int
	requestDeadline, smallBodyTimeout, ioIdleTimeout time.Duration
}

// limit is v, or def when v is zero.
func (c *config) limit(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

// dur is v, or def when v is zero.
func (c *config) dur(v, def time.Duration) time.Duration {
	if v == 0 {
		return def
	}
	return v
}

// Limits of the flags' values.
const (
	maxWorkers   = 64
	maxUploadCap = 1 << 40 // 1 TiB: beyond it, the body limit would overflow
	minTokenLen  = 16
	maxTokenLen  = 512
)

// loopbackAddr reports whether addr (host:port) names a loopback host:
// localhost or a loopback IP. An empty host (":6060") is every interface.
func loopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// isTrue reads a boolean environment variable: 1, true, yes or on.
func isTrue(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "1", "true", "yes", "on":
		return true
	}
	return false
}

// errHelp is returned by parseConfig for -h and -help: the usage was
// printed, and the program exits with 0.
var errHelp = flag.ErrHelp

// parseConfig reads the flags in args; a flag not given takes its value
// from the environment (getenv), then from its default. The usage and
// flag errors go to stderr.
func parseConfig(args []string, getenv func(string) string, stderr io.Writer) (*config, error) {
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	defAddr := wsapi.DefaultAddr
	if port := getenv("PORT"); port != "" {
		defAddr = net.JoinHostPort("127.0.0.1", port)
	}
	defData := filepath.Join(os.TempDir(), "wsapi-showcase")

	fs := flag.NewFlagSet("showcase", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := &config{}
	var maxUpload, workers, headerTimeout string
	fs.StringVar(&c.Addr, "addr", defAddr, "`address` to serve on (env PORT sets the port on 127.0.0.1); 127.0.0.1:0 picks a free port")
	fs.StringVar(&c.FastCGI, "fastcgi", "", "serve FastCGI on this `address` (host:port or a unix socket's path) instead of HTTP")
	fs.StringVar(&c.Data, "data", env("SHOWCASE_DATA", defData), "`directory` of the uploaded files and their metadata (env SHOWCASE_DATA)")
	fs.StringVar(&c.Tmp, "tmp", getenv("SHOWCASE_TMP"), "`directory` of uploads in progress (env SHOWCASE_TMP; default DATA/tmp)")
	fs.StringVar(&c.Password, "password", getenv("SHOWCASE_PASSWORD"), "the demo user's `password` (env SHOWCASE_PASSWORD; default: generated and printed)")
	fs.StringVar(&c.Token, "token", getenv("SHOWCASE_TOKEN"), "the demo API bearer `token` (env SHOWCASE_TOKEN; default: generated and printed)")
	fs.StringVar(&c.Redis, "redis", getenv("SHOWCASE_REDIS"), "Redis `address` (127.0.0.1:6379) or redis:// URL: sessions and brute-force counts in Redis (env SHOWCASE_REDIS)")
	fs.StringVar(&c.Postgres, "postgres", getenv("SHOWCASE_POSTGRES"), "PostgreSQL `URL` (postgres://user@host/db): sessions in PostgreSQL (env SHOWCASE_POSTGRES)")
	fs.StringVar(&maxUpload, "max-upload", env("SHOWCASE_MAX_UPLOAD", "32MiB"), "the largest file, in `bytes` or with a suffix KiB, MiB or GiB (env SHOWCASE_MAX_UPLOAD)")
	fs.StringVar(&workers, "workers", env("SHOWCASE_WORKERS", "2"), "worker processes that serve /stream; 0 serves it in this process (env SHOWCASE_WORKERS)")
	fs.StringVar(&c.AccessLog, "access-log", getenv("SHOWCASE_ACCESS_LOG"), "`file` the access log (JSON lines) is appended to (env SHOWCASE_ACCESS_LOG; default stderr)")
	fs.StringVar(&c.DebugAddr, "debug-addr", getenv("SHOWCASE_DEBUG_ADDR"), "`address` of a second listener with pprof and expvar (env SHOWCASE_DEBUG_ADDR; default none)")
	fs.BoolVar(&c.DebugRemote, "debug-remote", isTrue(getenv("SHOWCASE_DEBUG_REMOTE")), "allow a -debug-addr that is not a loopback address: anyone who reaches it reads profiles and memory statistics (env SHOWCASE_DEBUG_REMOTE=1)")
	fs.StringVar(&headerTimeout, "header-timeout", env("SHOWCASE_HEADER_TIMEOUT", wsapi.DefaultReadHeaderTimeout.String()), "time a client has to send its request headers (env SHOWCASE_HEADER_TIMEOUT)")
	lua := fs.String("lua", getenv("SHOWCASE_LUA"), "`path` of wsapi.cgi (env SHOWCASE_LUA; default: wsapi.cgi on PATH; \"off\": no Lua app)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: showcase [flags]\n\nThe file-drop app of wsapi for Go. Flags:\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q: the showcase takes flags only (see -h)", fs.Arg(0))
	}

	var err error
	if c.MaxUpload, err = parseSize(maxUpload); err != nil {
		return nil, fmt.Errorf("-max-upload: %w", err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(workers))
	if err != nil || n < 0 || n > maxWorkers {
		return nil, fmt.Errorf("-workers: %q is not a number from 0 to %d", workers, maxWorkers)
	}
	c.Workers = n
	if c.HeaderTimeout, err = time.ParseDuration(strings.TrimSpace(headerTimeout)); err != nil || c.HeaderTimeout <= 0 {
		return nil, fmt.Errorf("-header-timeout: %q is not a positive duration such as 10s or 500ms", headerTimeout)
	}
	if c.Data == "" {
		return nil, errors.New("-data: the data directory must not be empty")
	}
	if c.Data, err = filepath.Abs(c.Data); err != nil {
		return nil, fmt.Errorf("-data: %w", err)
	}
	if c.Tmp == "" {
		c.Tmp = filepath.Join(c.Data, "tmp")
	}
	if c.Tmp, err = filepath.Abs(c.Tmp); err != nil {
		return nil, fmt.Errorf("-tmp: %w", err)
	}
	if err := checkToken(c.Token); err != nil {
		return nil, err
	}
	if c.DebugAddr != "" && !c.DebugRemote && !loopbackAddr(c.DebugAddr) {
		return nil, fmt.Errorf("-debug-addr: %q is not a loopback address (127.0.0.1, [::1] or localhost, with a port); "+
			"the debug listener has no login, so add -debug-remote to serve it there anyway", c.DebugAddr)
	}
	if len(c.Password) > 72 {
		return nil, errors.New("-password: at most 72 bytes (bcrypt ignores the rest)")
	}
	switch *lua {
	case "off", "none":
		c.Lua = ""
	case "":
		c.Lua, _ = exec.LookPath("wsapi.cgi")
	default:
		p, err := exec.LookPath(*lua)
		if err != nil {
			return nil, fmt.Errorf("-lua: %w (install Debian's lua-wsapi, or give the path of wsapi.cgi)", err)
		}
		c.Lua = p
	}
	return c, nil
}

// checkToken refuses a token that is too short to resist guessing, or that
// a client could not send in an Authorization header. "" is fine: one is
// generated.
func checkToken(tok string) error {
	if tok == "" {
		return nil
	}
	if len(tok) < minTokenLen || len(tok) > maxTokenLen {
		return fmt.Errorf("-token: want %d to %d characters, got %d", minTokenLen, maxTokenLen, len(tok))
	}
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~+/", c) >= 0) {
			return errors.New("-token: use letters, digits and - . _ ~ + / only")
		}
	}
	return nil
}

// parseSize reads a size: plain bytes ("1048576") or a number with the
// suffix KiB, MiB or GiB ("1MiB", "1.5 GiB"; the case of the suffix does
// not matter, and K, M, G, KB, MB and GB mean the same binary units).
func parseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := len(t)
	for i > 0 && (t[i-1] < '0' || t[i-1] > '9') && t[i-1] != '.' {
		i--
	}
	num, unit := strings.TrimSpace(t[:i]), strings.ToLower(strings.TrimSpace(t[i:]))
	var mult int64
	switch unit {
	case "", "b":
		mult = 1
	case "k", "kb", "kib":
		mult = 1 << 10
	case "m", "mb", "mib":
		mult = 1 << 20
	case "g", "gb", "gib":
		mult = 1 << 30
	default:
		return 0, fmt.Errorf("%q: unknown unit %q (use bytes, KiB, MiB or GiB)", s, t[i:])
	}
	if num == "" {
		return 0, fmt.Errorf("%q is not a size such as 1048576 or 1MiB", s)
	}
	if mult == 1 {
		n, err := strconv.ParseInt(num, 10, 64)
		if err != nil || n < 1 || n > maxUploadCap {
			return 0, fmt.Errorf("%q is not a size from 1 byte to 1024 GiB", s)
		}
		return n, nil
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || f <= 0 || f*float64(mult) > maxUploadCap || int64(f*float64(mult)) < 1 {
		return 0, fmt.Errorf("%q is not a size from 1 byte to 1024 GiB", s)
	}
	return int64(f * float64(mult)), nil
}

// formatSize writes n bytes for people: "512 B", "1.5 KiB", "32 MiB".
func formatSize(n int64) string {
	const units = "KMGT"
	if n < 1024 {
		return strconv.FormatInt(n, 10) + " B"
	}
	f := float64(n)
	u := -1
	for f >= 1024 && u < len(units)-1 {
		f /= 1024
		u++
	}
	s := strconv.FormatFloat(f, 'f', 1, 64)
	s = strings.TrimSuffix(s, ".0")
	return s + " " + string(units[u]) + "iB"
}
