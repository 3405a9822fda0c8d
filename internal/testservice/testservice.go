// Package testservice starts real servers for integration tests: a Redis
// ([StartRedis]) or a PostgreSQL ([StartPostgres]); nginx ([StartNginx])
// or lighttpd ([StartLighttpd]) with a configuration the test writes; and
// FastCGI responders under spawn-fcgi ([SpawnFCGI], [StartResponder]).
// Each runs on a free 127.0.0.1 port (or a socket), with its files in a
// temporary directory.
//
// A server is stopped, and its directory removed, when the test that
// started it ends (testing.TB.Cleanup). Stop and Start stop it and start it
// again on the same port in the middle of a test, to see how code behaves
// while a service is down and after it comes back.
//
// # Missing servers
//
// When the server's program is not installed, the test is skipped with a
// message containing "service unavailable". Run locally, such tests are
// skipped; under CI=true the project's .ci/run fails on such a skip, so CI
// cannot pass without the services. On Debian the packages are
// redis-server, postgresql, nginx-light, lighttpd and spawn-fcgi:
// redis-server is on PATH, nginx and lighttpd are found in /usr/sbin, and
// the PostgreSQL programs under /usr/lib/postgresql/<version>/bin when they
// are not on PATH.
//
// # Processes
//
// Each server runs in its own process group. Stop asks it to shut down
// (SIGTERM for Redis, SIGINT, a fast shutdown, for PostgreSQL), waits a
// few seconds, then kills the whole group, so no process outlives its test.
// A server that the apt package started on the default port does not get
// in the way: these servers use other, free ports and their own data.
package testservice

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// readyTimeout bounds how long a server may take to answer after it was
// started.
const readyTimeout = 20 * time.Second

// stopGrace is how long a server may take to shut down before its process
// group is killed.
const stopGrace = 5 * time.Second

// skipUnavailable skips the test because a service cannot be run here.
func skipUnavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	t.Skipf("testservice: service unavailable: "+format, args...)
}

// freePort returns a TCP port on 127.0.0.1 that nothing listened on a
// moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testservice: find a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// process is a server process running in its own process group.
type process struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited and been waited for
	err  error         // what Wait returned; read after done is closed
}

// startProcess starts cmd in a new process group, with its standard output
// and error appended to logPath.
func startProcess(cmd *exec.Cmd, logPath string) (*process, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer logf.Close() // the child has its own copy
	cmd.Stdout = logf
	cmd.Stderr = logf
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	// If the test binary dies without its cleanups (a test timeout's
	// panic, a kill), the server dies with it instead of lingering. The
	// signal is tied to the OS thread that started the process; the Go
	// runtime ends a thread only when a goroutine locked to it
	// (runtime.LockOSThread) exits locked, which these tests never do.
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// exited reports whether the process has exited.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends sig to the process, waits up to grace for it to exit, then
// kills its process group, and returns once it has been waited for. It
// returns an error when the process had to be killed.
func (p *process) stop(sig syscall.Signal, grace time.Duration) error {
	pgid := p.cmd.Process.Pid // Setpgid: the group's id is the leader's pid
	var err error
	if !p.exited() {
		_ = p.cmd.Process.Signal(sig)
		select {
		case <-p.done:
		case <-time.After(grace):
			err = fmt.Errorf("%s did not exit %v after %v: killed", p.cmd.Path, grace, sig)
		}
	}
	// Whatever is left of the group (children that outlived the leader, or
	// the leader itself after the grace period) goes now.
	if kerr := syscall.Kill(-pgid, syscall.SIGKILL); kerr != nil && !errors.Is(kerr, syscall.ESRCH) && err == nil {
		err = fmt.Errorf("kill process group %d: %w", pgid, kerr)
	}
	<-p.done
	return err
}

// waitReady calls ready until it returns nil, the process exits, or
// readyTimeout passes; it returns the last error.
func waitReady(p *process, ready func() error) error {
	deadline := time.Now().Add(readyTimeout)
	delay := 5 * time.Millisecond
	for {
		err := ready()
		if err == nil {
			return nil
		}
		if p.exited() {
			return fmt.Errorf("the server exited (%v) before it answered: %w", p.err, err)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no answer after %v: %w", readyTimeout, err)
		}
		time.Sleep(delay)
		delay = min(2*delay, 100*time.Millisecond)
	}
}

// logTail returns the last lines of the log at path, for failure messages.
func logTail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > 20 {
		lines = lines[len(lines)-20:]
	}
	return strings.Join(lines, "\n")
}
