package testservice

import (
	"bufio"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Redis is a redis-server started by [StartRedis]. It keeps its data in
// memory only (no RDB snapshot, no append-only file), so a Stop loses it.
// Stop and Start are meant for the test's goroutine; URL and Addr may be
// called from any goroutine.
type Redis struct {
	t    testing.TB
	bin  string
	port int
	dir  string
	log  string
	proc *process // nil while stopped
}

// StartRedis starts a redis-server on a free 127.0.0.1 port, waits until
// it answers PING, and stops it when the test ends. It skips the test
// ("service unavailable") when redis-server is not on PATH, and fails it
// when the server does not start.
func StartRedis(t testing.TB) *Redis {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		skipUnavailable(t, "redis-server is not on PATH (on Debian: apt-get install redis-server)")
	}
	dir := t.TempDir()
	r := &Redis{t: t, bin: bin, port: freePort(t), dir: dir, log: filepath.Join(dir, "redis.log")}
	t.Cleanup(func() {
		if err := r.stop(); err != nil {
			t.Errorf("testservice: stop redis: %v", err)
		}
	})
	r.Start()
	return r
}

// Addr returns the server's address, "127.0.0.1:port".
func (r *Redis) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(r.port)) }

// URL returns the server's URL with database 0: "redis://127.0.0.1:port/0".
func (r *Redis) URL() string { return "redis://" + r.Addr() + "/0" }

// Start starts the server again after Stop, on the same port, and waits
// until it answers; it starts empty. It does nothing when the server is
// running, and fails the test when the server does not start.
func (r *Redis) Start() {
	r.t.Helper()
	if r.proc != nil {
		return
	}
	cmd := exec.Command(r.bin,
		"--port", strconv.Itoa(r.port),
		"--bind", "127.0.0.1",
		"--save", "",
		"--appendonly", "no",
		"--dir", r.dir,
		"--daemonize", "no",
		"--logfile", "",
	)
	cmd.Dir = r.dir
	p, err := startProcess(cmd, r.log)
	if err != nil {
		r.t.Fatalf("testservice: start redis-server: %v", err)
	}
	r.proc = p
	if err := waitReady(p, r.ping); err != nil {
		_ = r.stop()
		r.t.Fatalf("testservice: redis-server on %s: %v\nlog:\n%s", r.Addr(), err, logTail(r.log))
	}
}

// Stop stops the server and waits until it has exited; its data is lost.
// Connections to it fail until Start. It does nothing when the server is
// stopped.
func (r *Redis) Stop() {
	r.t.Helper()
	if err := r.stop(); err != nil {
		r.t.Fatalf("testservice: stop redis: %v", err)
	}
}

// stop is Stop, returning its error.
func (r *Redis) stop() error {
	if r.proc == nil {
		return nil
	}
	p := r.proc
	r.proc = nil
	return p.stop(syscall.SIGTERM, stopGrace)
}

// ping sends PING over a new connection and expects PONG.
func (r *Redis) ping() error {
	c, err := net.DialTimeout("tcp", r.Addr(), time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if strings.TrimSpace(line) != "+PONG" {
		return fmt.Errorf("PING answered %q", strings.TrimSpace(line))
	}
	return nil
}
