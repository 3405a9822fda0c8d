package testservice

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// WebServer is an nginx or a lighttpd started by [StartNginx] or
// [StartLighttpd] on a free 127.0.0.1 port, with its configuration, logs
// and temporary files in a directory of its own.
type WebServer struct {
	// Port is the port it listens on, on 127.0.0.1.
	Port int
	// Dir holds its configuration and logs.
	Dir  string
	log  string
	proc *process
}

// URL returns "http://127.0.0.1:port".
func (w *WebServer) URL() string { return "http://127.0.0.1:" + strconv.Itoa(w.Port) }

// ErrorLog returns the last lines of the server's error log.
func (w *WebServer) ErrorLog() string { return logTail(w.log) }

// StartNginx starts nginx (Debian's nginx-light) on a free 127.0.0.1 port
// with server as the inside of its one server block (after its listen
// directive), waits until it accepts connections, and stops it when the
// test ends. Run as root, its workers run as root too, so they reach
// sockets in the test's private temporary directories. It skips the test
// ("service unavailable") when nginx is neither on PATH nor in /usr/sbin.
func StartNginx(t testing.TB, server string) *WebServer {
	t.Helper()
	bin := lookProgram("nginx")
	if bin == "" {
		skipUnavailable(t, "nginx is not installed (on Debian: apt-get install nginx-light)")
	}
	dir := t.TempDir()
	w := &WebServer{Port: freePort(t), Dir: dir, log: filepath.Join(dir, "error.log")}
	user := ""
	if os.Geteuid() == 0 {
		user = "user root root;\n"
	}
	conf := fmt.Sprintf(`%sdaemon off;
master_process on;
worker_processes 1;
pid %[2]s/nginx.pid;
error_log %[2]s/error.log warn;
events { worker_connections 256; }
http {
	access_log off;
	client_body_temp_path %[2]s/body;
	proxy_temp_path %[2]s/proxy;
	fastcgi_temp_path %[2]s/fastcgi;
	uwsgi_temp_path %[2]s/uwsgi;
	scgi_temp_path %[2]s/scgi;
	client_max_body_size 64m;
	server {
		listen 127.0.0.1:%[3]d;
		%[4]s
	}
}
`, user, dir, w.Port, server)
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatalf("testservice: %v", err)
	}
	w.start(t, exec.Command(bin, "-p", dir, "-c", path, "-e", w.log), syscall.SIGQUIT)
	return w
}

// StartLighttpd starts lighttpd on a free 127.0.0.1 port with conf added
// to a configuration that sets the port, the document root (a new empty
// directory, docroot in Dir) and the logs; it waits until lighttpd accepts
// connections and stops it when the test ends. It skips the test ("service
// unavailable") when lighttpd is neither on PATH nor in /usr/sbin.
func StartLighttpd(t testing.TB, conf string) *WebServer {
	t.Helper()
	bin := lookProgram("lighttpd")
	if bin == "" {
		skipUnavailable(t, "lighttpd is not installed (on Debian: apt-get install lighttpd)")
	}
	dir := t.TempDir()
	w := &WebServer{Port: freePort(t), Dir: dir, log: filepath.Join(dir, "error.log")}
	root := filepath.Join(dir, "docroot")
	if err := os.Mkdir(root, 0o755); err != nil {
		t.Fatalf("testservice: %v", err)
	}
	full := fmt.Sprintf(`server.bind = "127.0.0.1"
server.port = %d
server.document-root = %q
server.errorlog = %q
server.upload-dirs = (%q)
%s
`, w.Port, root, w.log, dir, conf)
	path := filepath.Join(dir, "lighttpd.conf")
	if err := os.WriteFile(path, []byte(full), 0o644); err != nil {
		t.Fatalf("testservice: %v", err)
	}
	w.start(t, exec.Command(bin, "-D", "-f", path), syscall.SIGTERM)
	return w
}

// start runs cmd, waits for the port, and stops it with sig at the end.
func (w *WebServer) start(t testing.TB, cmd *exec.Cmd, sig syscall.Signal) {
	t.Helper()
	cmd.Dir = w.Dir
	p, err := startProcess(cmd, filepath.Join(w.Dir, "stdout.log"))
	if err != nil {
		t.Fatalf("testservice: start %s: %v", cmd.Path, err)
	}
	w.proc = p
	t.Cleanup(func() {
		if err := p.stop(sig, stopGrace); err != nil {
			t.Errorf("testservice: stop %s: %v", filepath.Base(cmd.Path), err)
		}
	})
	if err := waitReady(p, func() error { return dialable("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(w.Port))) }); err != nil {
		t.Fatalf("testservice: %s on port %d: %v\nlog:\n%s\n%s", filepath.Base(cmd.Path), w.Port, err, logTail(w.log), logTail(filepath.Join(w.Dir, "stdout.log")))
	}
}

// dialable reports whether something accepts connections at addr.
func dialable(network, addr string) error {
	c, err := net.DialTimeout(network, addr, time.Second)
	if err != nil {
		return err
	}
	return c.Close()
}

// lookProgram finds a program on PATH or in /usr/sbin (not on every
// user's PATH), or returns "".
func lookProgram(name string) string {
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	if p := filepath.Join("/usr/sbin", name); isExecutable(p) {
		return p
	}
	return ""
}
