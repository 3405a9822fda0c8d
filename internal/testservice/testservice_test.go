package testservice

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.uber.org/goleak"
)

// TestRedisStopStart: a started Redis answers at its URL's address; once
// stopped it refuses connections; started again it answers on the same
// port. Stop and Start twice in a row do nothing more.
func TestRedisStopStart(t *testing.T) {
	verifyNoLeaks(t)
	r := StartRedis(t)
	if err := r.ping(); err != nil {
		t.Fatalf("a started server does not answer PING: %v", err)
	}
	if want := "redis://" + r.Addr() + "/0"; r.URL() != want {
		t.Errorf("URL() = %q, want %q", r.URL(), want)
	}

	r.Stop()
	if c, err := net.DialTimeout("tcp", r.Addr(), time.Second); err == nil {
		c.Close()
		t.Fatal("a stopped server still accepts connections")
	}
	r.Stop() // a second Stop does nothing

	r.Start()
	if err := r.ping(); err != nil {
		t.Fatalf("a restarted server does not answer PING: %v", err)
	}
	r.Start() // a second Start does nothing
}

// TestPostgresStopStartKeepsData: a started PostgreSQL takes connections at
// its URL; stopped it refuses them; started again, its data is still there.
func TestPostgresStopStartKeepsData(t *testing.T) {
	verifyNoLeaks(t)
	p := StartPostgres(t)
	pgExec(t, p.URL(), "CREATE TABLE kept (n int); INSERT INTO kept VALUES (42)")

	p.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if conn, err := pgx.Connect(ctx, p.URL()); err == nil {
		conn.Close(ctx)
		t.Fatal("a stopped server still accepts connections")
	}
	p.Stop() // a second Stop does nothing

	p.Start()
	var n int
	query(t, p.URL(), "SELECT n FROM kept", &n)
	if n != 42 {
		t.Errorf("after a restart the table holds %d, want 42", n)
	}
}

// TestNoProcessOutlivesItsTest checks that the servers, and for PostgreSQL
// its child processes, are gone once the test that started them ends.
func TestNoProcessOutlivesItsTest(t *testing.T) {
	var pids []int
	t.Run("redis", func(t *testing.T) {
		pids = append(pids, StartRedis(t).proc.cmd.Process.Pid)
	})
	t.Run("postgres", func(t *testing.T) {
		p := StartPostgres(t)
		pid := p.proc.cmd.Process.Pid
		children := childrenOf(t, pid) // checkpointer, background writer ...
		if len(children) == 0 {
			t.Fatalf("the postgres server (pid %d) has no child processes", pid)
		}
		pids = append(pids, pid)
		pids = append(pids, children...)
	})
	for _, pid := range pids {
		// Postgres's children leave a moment after the server.
		deadline := time.Now().Add(5 * time.Second)
		for syscall.Kill(pid, 0) == nil && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("process %d still exists after its test ended (kill 0: %v)", pid, err)
		}
	}
}

// verifyNoLeaks checks, once the test and its cleanups (which stop the
// servers) are done, that no goroutine started during the test is left.
// Registered first, its cleanup runs last.
func verifyNoLeaks(t *testing.T) {
	t.Helper()
	opt := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, opt) })
}

// pgExec runs sql on a new connection to url.
func pgExec(t *testing.T, url, sql string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatal(err)
	}
}

// query runs sql on a new connection to url and scans its one row into
// dest.
func query(t *testing.T, url, sql string, dest ...any) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if err := conn.QueryRow(ctx, sql).Scan(dest...); err != nil {
		t.Fatal(err)
	}
}

// childrenOf returns the pids of the processes whose parent is pid, from
// /proc.
func childrenOf(t *testing.T, pid int) []int {
	t.Helper()
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		t.Fatal(err)
	}
	var kids []int
	for _, path := range stats {
		b, err := os.ReadFile(path)
		if err != nil {
			continue // the process is gone
		}
		// pid (comm) state ppid ...; comm may hold spaces and parentheses.
		rest := string(b[strings.LastIndexByte(string(b), ')')+1:])
		f := strings.Fields(rest)
		if len(f) < 2 {
			continue
		}
		if ppid, _ := strconv.Atoi(f[1]); ppid == pid {
			child, _ := strconv.Atoi(filepath.Base(filepath.Dir(path)))
			kids = append(kids, child)
		}
	}
	return kids
}
