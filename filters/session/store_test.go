package session

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/jackc/pgx/v5"
	"go.uber.org/goleak"

	"github.com/wsapi-go/wsapi/internal/testservice"
)

// verifyNoLeaks checks, once the test and all its cleanups (which close
// stores and servers and stop services) are done, that no goroutine
// started during the test is left. Registered first, its cleanup runs
// last.
//
// No driver goroutine needs ignoring: each store's Close stops its cleanup
// goroutine and closes its pool, and goleak retries for a while, so
// goroutines on their way out (a pool's health check, a server's
// connection) have time to leave. One goroutine is ignored: scs.New, which
// New calls, always makes a memstore with a cleanup goroutine before New
// replaces it with the given store, and scs offers no safe way to stop it
// (see memoryStore). The memory store of OpenStore runs no such goroutine,
// so the ignore hides none of ours.
func verifyNoLeaks(t *testing.T) {
	t.Helper()
	opts := []goleak.Option{
		goleak.IgnoreCurrent(),
		goleak.IgnoreTopFunction("github.com/alexedwards/scs/v2/memstore.(*MemStore).startCleanup"),
	}
	t.Cleanup(func() { goleak.VerifyNone(t, opts...) })
}

// openStoreT opens a store from rawURL and closes it when the test ends.
func openStoreT(t *testing.T, rawURL string) *Store {
	t.Helper()
	s, err := OpenStore(rawURL)
	if err != nil {
		t.Fatalf("OpenStore(%q): %v", rawURL, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// closedPort returns a 127.0.0.1 port that nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	return port
}

// TestOpenStoreRejectsBadURLsClearly: each URL OpenStore cannot use gives
// an error that starts with "session: ", says what is wrong (and, for a
// malformed URL, the accepted forms), and never repeats a password.
func TestOpenStoreRejectsBadURLsClearly(t *testing.T) {
	verifyNoLeaks(t)
	closed := closedPort(t)
	dir := t.TempDir()
	tests := []struct {
		name, url string
		want      []string // substrings of the message
		notWant   string   // a secret the message must not repeat
	}{
		{"an empty URL", "", []string{"empty store URL", "accepted forms"}, ""},
		{"a URL with no scheme", "/var/lib/app/sessions.db", []string{"has no scheme", "accepted forms"}, ""},
		{"an unknown scheme", "mysql://db/app", []string{`unknown store "mysql"`, "accepted forms"}, ""},
		{"http", "http://example.com/", []string{`unknown store "http"`}, ""},
		{"memory with a path", "memory:sessions", []string{`takes nothing after "memory:"`}, ""},
		{"sqlite with no path", "sqlite:", []string{"has no file path", "sqlite:///abs/path/file.db"}, ""},
		{"sqlite with two slashes and nothing", "sqlite://", []string{"has no file path"}, ""},
		{"sqlite with a directory", "sqlite://" + dir + "/", []string{"has no file path"}, ""},
		{"sqlite with two slashes", "sqlite://sessions.db", []string{`names a host ("sessions.db")`, "three slashes"}, ""},
		{"sqlite with a query", "sqlite://" + dir + "/s.db?mode=ro", []string{"query parameters are not supported"}, ""},
		{"sqlite in a missing directory", "sqlite://" + dir + "/missing/s.db", []string{"open sqlite database " + dir + "/missing/s.db", "directory must exist"}, ""},
		{"redis with no host", "redis:///0", []string{"has no host:port"}, ""},
		{"redis with a database that is no number", "redis://127.0.0.1:6379/sessions", []string{`database "sessions" is not a number`, "redis://[user:password@]host:port/db"}, ""},
		{"redis with a negative database", "redis://127.0.0.1:6379/-1", []string{`database "-1" is not a number`}, ""},
		{"redis with a path too long", "redis://127.0.0.1:6379/0/1", []string{`database "0/1" is not a number`}, ""},
		{"an unreachable redis", "redis://:hunter2@127.0.0.1:" + closed + "/0", []string{"redis store at 127.0.0.1:" + closed + " (database 0) does not answer"}, "hunter2"},
		{"postgres with a bad port", "postgres://app:hunter2@127.0.0.1:port/db", []string{"cannot parse the store URL"}, "hunter2"},
		{"postgres with a bad option", "postgres://app:hunter2@127.0.0.1/db?sslmode=sometimes", []string{"postgres store URL", "sslmode"}, "hunter2"},
		{"an unreachable postgres", "postgres://app:hunter2@127.0.0.1:" + closed + "/db?sslmode=disable", []string{"postgres store at 127.0.0.1:" + closed + `, database "db" does not answer`}, "hunter2"},
		{"an unreachable postgresql", "postgresql://app@127.0.0.1:" + closed + "/db?sslmode=disable", []string{"does not answer"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := OpenStore(tt.url)
			if err == nil {
				s.Close()
				t.Fatalf("OpenStore(%q) succeeded, want an error", tt.url)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "session: ") {
				t.Errorf("the error does not start with %q: %s", "session: ", msg)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("the error does not say %q: %s", w, msg)
				}
			}
			if tt.notWant != "" && strings.Contains(msg, tt.notWant) {
				t.Errorf("the error repeats the password %q: %s", tt.notWant, msg)
			}
		})
	}
}

// TestOpenStoreAcceptsEachForm: each documented URL form opens a store of
// the right kind that takes a commit, and closes (twice) without error.
func TestOpenStoreAcceptsEachForm(t *testing.T) {
	verifyNoLeaks(t)
	redis := testservice.StartRedis(t)
	pg := testservice.StartPostgres(t)
	dir := t.TempDir()
	t.Chdir(dir)
	pgURL, _ := url.Parse(pg.URL())

	tests := []struct {
		name, url, kind string
		file            string // the SQLite file that must exist after the open
	}{
		{"memory", "memory:", "memory", ""},
		{"memory with slashes", "memory://", "memory", ""},
		{"sqlite, an absolute path", "sqlite://" + dir + "/abs.db", "sqlite", filepath.Join(dir, "abs.db")},
		{"sqlite, a relative path", "sqlite:rel.db", "sqlite", filepath.Join(dir, "rel.db")},
		{"sqlite, a relative path in a directory", "sqlite:sub/../rel2.db", "sqlite", filepath.Join(dir, "rel2.db")},
		{"sqlite, an escaped path", "sqlite://" + dir + "/with%20space.db", "sqlite", filepath.Join(dir, "with space.db")},
		{"redis", redis.URL(), "redis", ""},
		{"redis with no database", "redis://" + redis.Addr(), "redis", ""},
		{"redis, database 3", "redis://" + redis.Addr() + "/3", "redis", ""},
		{"postgres", pg.URL(), "postgres", ""},
		{"postgresql", "postgresql://postgres@" + pgURL.Host + pgURL.Path + "?" + pgURL.RawQuery, "postgres", ""},
	}
	if err := os.Mkdir("sub", 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := OpenStore(tt.url)
			if err != nil {
				t.Fatalf("OpenStore(%q): %v", tt.url, err)
			}
			if s.Kind != tt.kind {
				t.Errorf("Kind = %q, want %q", s.Kind, tt.kind)
			}
			if tt.file != "" {
				if _, err := os.Stat(tt.file); err != nil {
					t.Errorf("the database file: %v", err)
				}
			}
			if err := s.Commit("t", []byte("v"), time.Now().Add(time.Minute)); err != nil {
				t.Errorf("Commit: %v", err)
			}
			if err := s.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
			if err := s.Close(); err != nil {
				t.Errorf("a second Close: %v", err)
			}
		})
	}
}

// TestEachStoreKeepsItsContract: each kind of store keeps scs.Store's
// contract, through the plain and the context methods, and lets a session
// committed to expire in 1 s go.
func TestEachStoreKeepsItsContract(t *testing.T) {
	verifyNoLeaks(t)
	for _, kind := range []string{"memory", "sqlite", "redis", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel() // each waits for an expiry
			s := openStoreT(t, storeURL(t, kind))
			checkStoreContract(t, s)
		})
	}
}

// storeURL returns the URL of a new, empty store of kind, starting the
// service it needs for the rest of the test.
func storeURL(t *testing.T, kind string) string {
	t.Helper()
	switch kind {
	case "memory":
		return "memory:"
	case "sqlite":
		return "sqlite://" + filepath.Join(t.TempDir(), "sessions.db")
	case "redis":
		return testservice.StartRedis(t).URL()
	case "postgres":
		return testservice.StartPostgres(t).URL()
	}
	t.Fatalf("no store of kind %q", kind)
	return ""
}

// checkStoreContract checks what scs.Store promises, through the plain and
// the context methods, and expiry.
func checkStoreContract(t *testing.T, s *Store) {
	t.Helper()
	ctx := context.Background()
	later := time.Now().Add(time.Hour)

	if b, found, err := s.Find("unknown"); b != nil || found || err != nil {
		t.Errorf("Find of an unknown token = %q, %t, %v; want nil, false, nil", b, found, err)
	}
	if err := s.Delete("unknown"); err != nil {
		t.Errorf("Delete of an unknown token: %v", err)
	}

	mustFind := func(token string, want []byte) {
		t.Helper()
		b, found, err := s.Find(token)
		if err != nil || !found || !bytes.Equal(b, want) {
			t.Errorf("Find(%q) = %q, %t, %v; want %q, true, nil", token, b, found, err, want)
		}
	}
	mustMiss := func(token string) {
		t.Helper()
		if b, found, err := s.Find(token); found || err != nil {
			t.Errorf("Find(%q) = %q, %t, %v; want not found", token, b, found, err)
		}
	}

	if err := s.Commit("a", []byte("one"), later); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	mustFind("a", []byte("one"))
	if err := s.Commit("a", []byte("two"), later); err != nil {
		t.Fatalf("Commit over an existing token: %v", err)
	}
	mustFind("a", []byte("two"))

	if err := s.CommitCtx(ctx, "b", []byte{0, 1, 2, 255}, later); err != nil {
		t.Fatalf("CommitCtx: %v", err)
	}
	if b, found, err := s.FindCtx(ctx, "b"); err != nil || !found || !bytes.Equal(b, []byte{0, 1, 2, 255}) {
		t.Errorf("FindCtx = %q, %t, %v; want the bytes committed", b, found, err)
	}

	all, err := s.All()
	if err != nil {
		t.Fatalf("All: %v", err)
	}
	if len(all) != 2 || string(all["a"]) != "two" || !bytes.Equal(all["b"], []byte{0, 1, 2, 255}) {
		t.Errorf("All = %q, want a and b", all)
	}

	if err := s.Delete("a"); err != nil {
		t.Errorf("Delete: %v", err)
	}
	mustMiss("a")
	if err := s.DeleteCtx(ctx, "b"); err != nil {
		t.Errorf("DeleteCtx: %v", err)
	}
	mustMiss("b")

	// A session committed to expire in 1 s is there, then gone.
	if err := s.Commit("brief", []byte("x"), time.Now().Add(time.Second)); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	mustFind("brief", []byte("x"))
	time.Sleep(1100 * time.Millisecond)
	mustMiss("brief")
	if all, err := s.All(); err != nil || len(all) != 0 {
		t.Errorf("All after the expiry = %q, %v; want none", all, err)
	}
}

// TestSQLiteTakesConcurrentWritesFromTwoStores: two stores on one file
// (two instances of an app) write at once without SQLITE_BUSY errors: the
// file is in WAL mode and writers wait for the lock.
func TestSQLiteTakesConcurrentWritesFromTwoStores(t *testing.T) {
	verifyNoLeaks(t)
	path := filepath.Join(t.TempDir(), "sessions.db")
	stores := []*Store{openStoreT(t, "sqlite://"+path), openStoreT(t, "sqlite://"+path)}
	const writers, writes = 8, 20
	errs := make(chan error, 2*writers*writes) // room for every error
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := stores[w%2]
			for i := range writes {
				token := "w" + strconv.Itoa(w) + "-" + strconv.Itoa(i%4)
				if err := s.Commit(token, []byte(token), time.Now().Add(time.Hour)); err != nil {
					errs <- err
				}
				if _, _, err := s.Find(token); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if _, err := os.Stat(path + "-wal"); err != nil {
		t.Errorf("no write-ahead log next to the database: %v", err)
	}
	all, err := stores[0].All()
	if err != nil || len(all) != writers*4 {
		t.Errorf("All = %d sessions, %v; want %d", len(all), err, writers*4)
	}
}

// TestTheRequestContextReachesRedis: FindCtx hands its context to a store
// that takes one, so a canceled request stops waiting for Redis.
func TestTheRequestContextReachesRedis(t *testing.T) {
	verifyNoLeaks(t)
	s := openStoreT(t, testservice.StartRedis(t).URL())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := s.FindCtx(ctx, "x"); !errors.Is(err, context.Canceled) {
		t.Errorf("FindCtx with a canceled context: %v, want context.Canceled", err)
	}
}

// plainStore is an scs.Store and nothing more.
type plainStore struct{ data map[string][]byte }

// Find returns the data under token.
func (p plainStore) Find(token string) ([]byte, bool, error) {
	b, ok := p.data[token]
	return b, ok, nil
}

// Commit sets the data under token; it keeps no expiry.
func (p plainStore) Commit(token string, b []byte, _ time.Time) error {
	p.data[token] = b
	return nil
}

// Delete removes token.
func (p plainStore) Delete(token string) error { delete(p.data, token); return nil }

// TestAStoreWrappedByHand: a Store made by hand around a plain scs.Store
// serves the context methods through the plain ones, says it cannot list,
// and closes without error.
func TestAStoreWrappedByHand(t *testing.T) {
	s := &Store{Store: plainStore{map[string][]byte{}}}
	ctx := context.Background()
	if err := s.CommitCtx(ctx, "t", []byte("v"), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if b, found, err := s.FindCtx(ctx, "t"); string(b) != "v" || !found || err != nil {
		t.Errorf("FindCtx = %q, %t, %v", b, found, err)
	}
	if err := s.DeleteCtx(ctx, "t"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.All(); !errors.Is(err, errNotIterable) {
		t.Errorf("All of a store that cannot list: %v, want errNotIterable", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	var _ scs.Store = s
}

// TestTheMemoryCleanupRemovesExpiredSessions: the memory store's cleanup
// forgets expired sessions, keeps live ones, and stops at Close.
func TestTheMemoryCleanupRemovesExpiredSessions(t *testing.T) {
	verifyNoLeaks(t)
	u, _ := url.Parse("memory:")
	s, err := openMemory(u, 20*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	m := s.Store.(*memoryStore)
	_ = s.Commit("old", []byte("x"), time.Now().Add(-time.Second))
	_ = s.Commit("new", []byte("y"), time.Now().Add(time.Hour))
	waitFor(t, "the memory cleanup", func() bool { return m.len() == 1 })
	if _, found, _ := s.Find("new"); !found {
		t.Error("the cleanup removed a live session")
	}
}

// TestTheSQLiteCleanupRemovesExpiredSessions: sqlite3store's cleanup
// deletes expired rows and stops at Close.
func TestTheSQLiteCleanupRemovesExpiredSessions(t *testing.T) {
	verifyNoLeaks(t)
	path := filepath.Join(t.TempDir(), "s.db")
	u, _ := url.Parse("sqlite://" + path)
	s, err := openSQLite(u, 50*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_ = s.Commit("old", []byte("x"), time.Now().Add(-time.Second))
	_ = s.Commit("new", []byte("y"), time.Now().Add(time.Hour))

	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows := func() int {
		var n int
		if err := db.QueryRow("SELECT count(*) FROM sessions").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	waitFor(t, "the sqlite cleanup", func() bool { return rows() == 1 })
}

// TestThePostgresCleanupRemovesExpiredSessions: the postgres store's
// cleanup deletes expired rows and stops at Close.
func TestThePostgresCleanupRemovesExpiredSessions(t *testing.T) {
	verifyNoLeaks(t)
	pg := testservice.StartPostgres(t)
	u, _ := url.Parse(pg.URL())
	s, err := openPostgres(u, 50*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_ = s.Commit("old", []byte("x"), time.Now().Add(-time.Second))
	_ = s.Commit("new", []byte("y"), time.Now().Add(time.Hour))

	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pg.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows := func() int {
		var n int
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM sessions").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	waitFor(t, "the postgres cleanup", func() bool { return rows() == 1 })
}

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: nothing happened in 5 s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
