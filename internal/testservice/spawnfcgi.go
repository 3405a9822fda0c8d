package testservice

import (
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
)

// Responder is a FastCGI responder started by [SpawnFCGI] or
// [StartResponder].
type Responder struct {
	// Network and Address say where it listens: "tcp" and
	// "127.0.0.1:port", or "unix" and a socket's path.
	Network, Address string
	log              string
}

// Log returns the last lines of what the responder wrote to its standard
// output and error.
func (r *Responder) Log() string { return logTail(r.log) }

// SpawnFCGI starts program with args as a FastCGI responder under
// spawn-fcgi, which hands it a listening socket on a free 127.0.0.1 port
// as its standard input, in the foreground (-n), with env added to its
// environment; it waits until the socket accepts connections and stops
// the responder when the test ends. It skips the test ("service
// unavailable") when spawn-fcgi is not installed.
func SpawnFCGI(t testing.TB, env []string, program string, args ...string) *Responder {
	t.Helper()
	bin, err := exec.LookPath("spawn-fcgi")
	if err != nil {
		skipUnavailable(t, "spawn-fcgi is not on PATH (on Debian: apt-get install spawn-fcgi)")
	}
	port := freePort(t)
	cmd := exec.Command(bin, append([]string{"-n", "-a", "127.0.0.1", "-p", strconv.Itoa(port), "--", program}, args...)...)
	cmd.Env = env
	return startResponder(t, cmd, "tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
}

// StartResponder runs cmd, a program that listens as a FastCGI responder
// at address on network, waits until it accepts connections, and stops it
// when the test ends.
func StartResponder(t testing.TB, cmd *exec.Cmd, network, address string) *Responder {
	t.Helper()
	return startResponder(t, cmd, network, address)
}

func startResponder(t testing.TB, cmd *exec.Cmd, network, address string) *Responder {
	t.Helper()
	dir := t.TempDir()
	r := &Responder{Network: network, Address: address, log: filepath.Join(dir, "responder.log")}
	p, err := startProcess(cmd, r.log)
	if err != nil {
		t.Fatalf("testservice: start %s: %v", cmd.Path, err)
	}
	t.Cleanup(func() {
		if err := p.stop(syscall.SIGTERM, stopGrace); err != nil {
			t.Errorf("testservice: stop %s: %v", filepath.Base(cmd.Path), err)
		}
	})
	if err := waitReady(p, func() error { return dialable(network, address) }); err != nil {
		t.Fatalf("testservice: %s at %s: %v\nlog:\n%s", filepath.Base(cmd.Path), address, err, logTail(r.log))
	}
	return r
}
