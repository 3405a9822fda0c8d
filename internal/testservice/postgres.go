package testservice

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Database is the database StartPostgres creates; the URL names it.
const Database = "wsapi_test"

// postgresBinGlob is where Debian's postgresql packages put the server's
// programs, one directory per major version.
const postgresBinGlob = "/usr/lib/postgresql/*/bin"

// Postgres is a PostgreSQL server started by [StartPostgres], with its own
// data directory; the superuser "postgres" connects without a password
// (trust authentication), over TCP on 127.0.0.1 or over the unix socket in
// the data's directory. Its data survives Stop and Start. For speed it runs
// with fsync off: what it holds is lost if the machine crashes, which does
// not matter for tests. Stop and Start are meant for the test's goroutine;
// URL may be called from any goroutine.
type Postgres struct {
	t       testing.TB
	bin     string // directory of initdb and postgres
	port    int
	dir     string // holds data/, the socket and postgres.log
	log     string
	cred    *syscall.Credential // the postgres user's, when run as root; nil otherwise
	proc    *process            // nil while stopped
	created bool                // Database exists
}

// StartPostgres creates a PostgreSQL cluster in a new temporary directory
// (initdb), starts a server for it on a free 127.0.0.1 port, creates the
// database [Database], and stops the server and removes the directory when
// the test ends.
//
// PostgreSQL refuses to run as root, so as root the directory is given to
// the "postgres" system user, and initdb and the server run as that user
// (as runuser -u postgres would run them). The test is skipped ("service
// unavailable") when initdb and postgres are neither on PATH nor under
// /usr/lib/postgresql/*/bin, or when run as root with no postgres user; it
// fails when the server does not start.
func StartPostgres(t testing.TB) *Postgres {
	t.Helper()
	bin, err := findPostgres()
	if err != nil {
		skipUnavailable(t, "%v (on Debian: apt-get install postgresql)", err)
	}
	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		cred, err = postgresUser()
		if err != nil {
			skipUnavailable(t, "PostgreSQL does not run as root, and %v", err)
		}
	}
	// Not t.TempDir: its parent directories are private to root, and the
	// postgres user must reach this one.
	parent := os.TempDir()
	if cred != nil && !traversable(parent) {
		parent = "/tmp"
	}
	dir, err := os.MkdirTemp(parent, "testservice-postgres-")
	if err != nil {
		t.Fatalf("testservice: %v", err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			t.Fatalf("testservice: give %s to the postgres user: %v", dir, err)
		}
	}
	p := &Postgres{t: t, bin: bin, port: freePort(t), dir: dir, log: filepath.Join(dir, "postgres.log"), cred: cred}
	t.Cleanup(func() { // runs before the directory is removed
		if err := p.stop(); err != nil {
			t.Errorf("testservice: stop postgres: %v", err)
		}
	})

	initdb := exec.Command(filepath.Join(bin, "initdb"),
		"-D", filepath.Join(dir, "data"),
		"-U", "postgres", "--auth=trust",
		"--encoding=UTF8", "--locale=C",
		"--no-sync", "--no-instructions")
	initdb.Dir = dir
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		t.Fatalf("testservice: initdb: %v\n%s", err, out)
	}
	p.Start()
	return p
}

// URL returns a connection URL for [Database] as the superuser, over TCP:
// "postgres://postgres@127.0.0.1:port/wsapi_test?sslmode=disable".
func (p *Postgres) URL() string { return p.url(Database) }

// url returns a connection URL for database db as the superuser.
func (p *Postgres) url(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", p.port, db)
}

// Start starts the server again after Stop, on the same port and with the
// same data, and waits until it accepts connections. It does nothing when
// the server is running, and fails the test when the server does not
// start.
func (p *Postgres) Start() {
	p.t.Helper()
	if p.proc != nil {
		return
	}
	cmd := exec.Command(filepath.Join(p.bin, "postgres"),
		"-D", filepath.Join(p.dir, "data"),
		"-p", strconv.Itoa(p.port),
		"-k", p.dir, // unix_socket_directories
		"-c", "listen_addresses=127.0.0.1",
		"-c", "fsync=off",
		"-c", "synchronous_commit=off",
		"-c", "full_page_writes=off",
		"-c", "shared_buffers=16MB",
		"-c", "max_connections=50",
		"-c", "autovacuum=off",
	)
	cmd.Dir = p.dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: p.cred}
	proc, err := startProcess(cmd, p.log)
	if err != nil {
		p.t.Fatalf("testservice: start postgres: %v", err)
	}
	p.proc = proc
	if err := waitReady(proc, p.ready); err != nil {
		_ = p.stop()
		p.t.Fatalf("testservice: postgres on 127.0.0.1:%d: %v\nlog:\n%s", p.port, err, logTail(p.log))
	}
}

// Stop shuts the server down (a fast shutdown: open connections are
// closed) and waits until it has exited. Connections to it fail until
// Start. It does nothing when the server is stopped.
func (p *Postgres) Stop() {
	p.t.Helper()
	if err := p.stop(); err != nil {
		p.t.Fatalf("testservice: stop postgres: %v", err)
	}
}

// stop is Stop, returning its error.
func (p *Postgres) stop() error {
	if p.proc == nil {
		return nil
	}
	proc := p.proc
	p.proc = nil
	return proc.stop(syscall.SIGINT, stopGrace)
}

// ready connects and, the first time, creates [Database].
func (p *Postgres) ready() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, p.url("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if p.created {
		return conn.Ping(ctx)
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+Database); err != nil {
		return fmt.Errorf("create database %s: %w", Database, err)
	}
	p.created = true
	return nil
}

// findPostgres returns the directory that holds both initdb and postgres:
// the one on PATH, or else the newest version under postgresBinGlob.
func findPostgres() (string, error) {
	if path, err := exec.LookPath("postgres"); err == nil {
		dir := filepath.Dir(path)
		if isExecutable(filepath.Join(dir, "initdb")) {
			return dir, nil
		}
	}
	dirs, _ := filepath.Glob(postgresBinGlob)
	// Newest version first: the directory above bin is the version, such
	// as "15" or "9.6".
	version := func(dir string) float64 {
		v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(dir)), 64)
		return v
	}
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, dir := range dirs {
		if isExecutable(filepath.Join(dir, "postgres")) && isExecutable(filepath.Join(dir, "initdb")) {
			return dir, nil
		}
	}
	return "", fmt.Errorf("initdb and postgres are neither on PATH nor in %s", postgresBinGlob)
}

// traversable reports whether every user may pass through dir and each
// directory above it.
func traversable(dir string) bool {
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil || fi.Mode().Perm()&0o001 == 0 {
			return false
		}
		if d == filepath.Dir(d) {
			return true
		}
	}
}

// isExecutable reports whether path is a regular file someone may execute.
func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}

// postgresUser returns the credentials of the "postgres" system user.
func postgresUser() (*syscall.Credential, error) {
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("there is no postgres user to run it: %v", err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("the postgres user has uid %q and gid %q, not numbers", u.Uid, u.Gid)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}
