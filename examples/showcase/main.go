// Command showcase is a small, real web app built on wsapi for Go: a file
// drop. Log in, upload files with a progress bar, list and download them,
// log out. It puts all six filters of the project to work together, the way
// an app of one's own would:
//
//   - a wsapi.Stack of logging (JSON access log), isolate (panics
//     recovered, a bulkhead with a queue, a deadline per request), session
//     (scs), auth (login form, CSRF protection, brute-force limits) and
//     upload (streamed, limited, type judged by content);
//   - a filters/mux that mounts the parts: the site at /, a JSON API at
//     /api (bearer token), a streamed WSAPI-style page at /stream (run in
//     isolate worker processes), an admin page at /admin (role "admin"),
//     and the original Lua WSAPI app at /lua/ through wsapi.cgi;
//   - chi routers for the site and the API, html/template pages and a
//     little JavaScript, all embedded in the binary.
//
// # Running it
//
// From the root of the repository, with nothing else installed:
//
//	go run ./examples/showcase
//
// It prints where it listens, the demo user's password and the API token:
//
//	listening on http://127.0.0.1:8080/
//	login as demo with password PW
//	API token: TOKEN
//
// Open the address, log in as demo, and upload a file. The API:
//
//	curl -H "Authorization: Bearer TOKEN" http://127.0.0.1:8080/api/files
//	curl -H "Authorization: Bearer TOKEN" -F file=@notes.txt http://127.0.0.1:8080/api/files
//
// SIGINT (Ctrl-C) or SIGTERM shuts it down gracefully. Like examples/hello,
// the binary also runs as a CGI program or a FastCGI responder
// (wsapi.Launcher picks the mode); it is meant to run natively.
//
// # Flags
//
// Each flag not given takes its value from the environment variable named
// beside it:
//
//	-addr ADDR             address to serve on (env PORT sets the port on
//	                       127.0.0.1); default 127.0.0.1:8080; 127.0.0.1:0
//	                       picks a free port, and the line "listening on"
//	                       tells which
//	-data DIR              SHOWCASE_DATA: uploaded files, their metadata,
//	                       the htpasswd file and the Lua app; default
//	                       wsapi-showcase in the system's temporary directory
//	-tmp DIR               SHOWCASE_TMP: uploads in progress; default
//	                       DATA/tmp. Nothing of a request is left there after it
//	-password PW           SHOWCASE_PASSWORD: the demo user's password;
//	                       default: generated at start and printed. Flags
//	                       are visible to other local users (ps): prefer
//	                       the environment variables for -password and -token
//	-token TOKEN           SHOWCASE_TOKEN: the demo API bearer token (16 to
//	                       512 characters); default: generated and printed
//	-redis ADDR            SHOWCASE_REDIS: sessions and brute-force counts in
//	                       Redis (127.0.0.1:6379 or a redis:// URL)
//	-postgres URL          SHOWCASE_POSTGRES: sessions in PostgreSQL
//	                       (postgres://user@host:5432/db?sslmode=disable);
//	                       with -redis too, the counts stay in Redis
//	-max-upload SIZE       SHOWCASE_MAX_UPLOAD: the largest file, in bytes or
//	                       with a suffix KiB, MiB or GiB; default 32MiB. One
//	                       upload holds at most 16 files, 4 × SIZE + 1 MiB in all
//	-workers N             SHOWCASE_WORKERS: worker processes (this program
//	                       again) that serve /stream; 0 serves it in this
//	                       process; default 2
//	-access-log FILE       SHOWCASE_ACCESS_LOG: the access log, one JSON line
//	                       per request, is appended to FILE; default stderr
//	-debug-addr ADDR       SHOWCASE_DEBUG_ADDR: a second listener with
//	                       net/http/pprof (/debug/pprof/) and expvar
//	                       (/debug/vars, with "goroutines" and "open_fds",
//	                       never the command line); never on the public
//	                       listener. A loopback address only (127.0.0.1:6060,
//	                       [::1]:6060, localhost:6060), and requests whose Host
//	                       is one, unless -debug-remote is given
//	-debug-remote          SHOWCASE_DEBUG_REMOTE=1: allow any -debug-addr; it
//	                       has no login, so only behind a firewall
//	-header-timeout D      SHOWCASE_HEADER_TIMEOUT: the time a client has to
//	                       send its request headers; default 10s
//	-lua PATH              SHOWCASE_LUA: wsapi.cgi (Debian's lua-wsapi);
//	                       default: wsapi.cgi on PATH; "off": no Lua app. Without
//	                       it, /lua/ answers 404 with a page that says so
//	-fastcgi ADDR          serve FastCGI on ADDR (host:port or a socket's
//	                       path) instead of HTTP
//
// # Several instances
//
// Instances behind one load balancer share the sessions and the brute-force
// counts through -redis (or the sessions through -postgres), the files
// through one -data directory on a shared disk, and must be given the same
// -password and -token. A logout revokes its login on the instance that
// served it; the session itself is gone everywhere.
//
// # Time limits
//
// A client has -header-timeout for its headers. A request other than an
// upload has 5 seconds to send its body, of 64 KiB at most, read before
// the request may take one of the 256 slots of the bulkhead: a client that
// trickles a login form is cut at the door and never holds a slot, and
// /healthz is answered before the bulkhead too. Requests get 2 minutes in
// the app, but uploads, downloads and /stream: those take as long as they
// need while bytes move, and are cut after 30 seconds without progress (the
// read deadline of an upload moves as its body arrives; a download's write
// deadline moves at each write). A download carries its Content-Length, so
// a download cut short is an error for the client, never a short file.
//
// # Brute-force limits
//
// Failed logins count per client address (50 in 15 minutes) and per user
// name (10 in 15 minutes, the auth filter's UserLimiter). The per-user
// limit stops a password guessed from many addresses; its price is that
// anyone can keep a user, the demo admin included, locked out with 10 bad
// passwords every 15 minutes. A site that fears this more than distributed
// guessing raises userAttempts or drops the UserLimiter.
//
// # Files on disk
//
// DATA/files/USER/ holds ID.data, a file's content, and ID.json, its
// metadata (id, cleaned original name, size, sniffed type, SHA-256, time),
// written to a temporary file and renamed into place, so that a crash never
// leaves half of it. Ids are 128 random bits in hex; anything else is
// refused before a path is built. A file whose metadata is damaged is left
// out of the list (and logged) and can still be deleted
// (DELETE /api/files/ID). DATA and -tmp are created with mode 0700; one
// that exists and belongs to another user, or that group or others may
// write to, is refused at start (the default DATA is a well-known name in
// the shared temporary directory). At start, what a crash left (temporary
// metadata, content without metadata, the upload filter's upload-* files
// in -tmp and .upload-move-* copies) is removed once it is an hour old.
// DATA/htpasswd holds bcrypt hashes:
// users added with `htpasswd -B DATA/htpasswd NAME` can log in at once
// (without the admin role).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/wsapi-go/wsapi"
	"github.com/wsapi-go/wsapi/filters/auth"
	"github.com/wsapi-go/wsapi/filters/isolate"
	"github.com/wsapi-go/wsapi/filters/mux"
)

func main() {
	if isWorker() {
		os.Exit(runWorker())
	}
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// run is the program: it returns the exit code, 0 after a clean shutdown,
// 1 after an error, 2 for bad flags.
func run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	log := slog.New(slog.NewTextHandler(stderr, nil))
	slog.SetDefault(log)
	l := &wsapi.Launcher{Getenv: getenv, Logger: log}
	cgiMode := l.Mode() == wsapi.CGI
	if cgiMode {
		args = nil // under CGI the arguments belong to the web server
	}
	cfg, err := parseConfig(args, getenv, stderr)
	if errors.Is(err, errHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "showcase:", err)
		return 2
	}
	if cgiMode {
		cfg.Workers = 0 // one request per process: no workers to keep
	}
	if cfg.Password == "" {
		cfg.Password = newPassword()
		if cgiMode {
			log.Warn("showcase: under CGI, set SHOWCASE_PASSWORD: a password generated for each request is of no use")
		}
	}
	if cfg.Token == "" {
		cfg.Token, _ = auth.NewToken()
	}
	s, err := newServer(cfg, log)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	defer s.Close()

	l.Addr, l.FastCGIAddr = cfg.Addr, cfg.FastCGI
	l.ReadHeaderTimeout = cfg.HeaderTimeout
	l.Stack = s.stack
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	context.AfterFunc(ctx, stop) // a second signal stops the program at once
	defer stop()

	switch l.Mode() {
	case wsapi.CGI:
		err = l.ServeCGI(s.handler) // stdout is the answer: nothing printed
	case wsapi.FastCGI:
		printCredentials(stdout, cfg)
		err = l.Run(ctx, s.handler)
	default:
		err = serveNative(ctx, l, s, stdout)
	}
	if err != nil {
		log.Error("showcase: " + err.Error())
		return 1
	}
	return 0
}

// serveNative opens the listener itself, so that the start-up lines name
// the port it got (-addr 127.0.0.1:0), prints them, and serves with the
// launcher until ctx ends.
func serveNative(ctx context.Context, l *wsapi.Launcher, s *server, stdout io.Writer) error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return err
	}
	var dbg *http.Server
	var dln net.Listener
	if s.cfg.DebugAddr != "" {
		if dln, err = net.Listen("tcp", s.cfg.DebugAddr); err != nil {
			ln.Close()
			return fmt.Errorf("-debug-addr: %w", err)
		}
		dbg = &http.Server{Handler: debugHandler(s.cfg.DebugRemote), ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = dbg.Serve(dln) }()
		defer dbg.Close()
	}
	fmt.Fprintf(stdout, "listening on http://%s/\n", hostPort(ln.Addr()))
	printCredentials(stdout, s.cfg)
	if dln != nil {
		fmt.Fprintf(stdout, "pprof and expvar at http://%s/debug/pprof/ and http://%[1]s/debug/vars\n", hostPort(dln.Addr()))
	}
	return l.Serve(ctx, ln, s.handler)
}

// printCredentials prints the demo user's password and the API token.
func printCredentials(stdout io.Writer, cfg *config) {
	fmt.Fprintf(stdout, "login as %s with password %s\n", demoUser, cfg.Password)
	fmt.Fprintf(stdout, "API token: %s\n", cfg.Token)
}

// hostPort is the address to print for a listener: an unspecified IP
// (":8080") is shown as 127.0.0.1, where a browser on this machine finds
// it.
func hostPort(a net.Addr) string {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return a.String()
	}
	ip := ta.IP
	if ip == nil || ip.IsUnspecified() {
		ip = net.IPv4(127, 0, 0, 1)
	}
	return net.JoinHostPort(ip.String(), fmt.Sprint(ta.Port))
}

// runWorker is the program started again as a worker process: it serves
// the stream app on the socket its supervisor handed over, until the
// supervisor stops it.
func runWorker() int {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	p, err := loadPages()
	if err != nil {
		log.Error("showcase worker: templates", "error", err.Error())
		return 1
	}
	where := "worker process " + workerSlot()
	m := mux.New()
	m.Mount("/stream", newStreamApp(p, where))
	// No securityHeaders here: the server's stack sets them on the answer
	// it proxies, and a second set would repeat each header.
	h := wsapi.New(&isolate.Recover{}).Then(m)
	if err := serveWorker(h); err != nil {
		log.Error("showcase worker: " + err.Error())
		return 1
	}
	return 0
}
