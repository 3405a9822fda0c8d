package session

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/alexedwards/scs/goredisstore"
	"github.com/alexedwards/scs/pgxstore"
	"github.com/alexedwards/scs/sqlite3store"
	"github.com/alexedwards/scs/v2"
	"github.com/alexedwards/scs/v2/memstore"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
	_ "modernc.org/sqlite" // the "sqlite" database/sql driver, pure Go
)

// acceptedForms ends the errors OpenStore returns for a URL it cannot parse
// or use.
const acceptedForms = "accepted forms: memory:, sqlite:///abs/path/file.db, sqlite:relative/file.db, " +
	"redis://[user:password@]host:port/db, postgres://user[:password]@host:port/dbname (or postgresql://)"

// Cleanup intervals: how often expired sessions are removed from a store
// that does not expire them itself. Redis does, so it has none.
const (
	memoryCleanup = time.Minute
	sqlCleanup    = 5 * time.Minute
)

// openTimeout bounds the first contact with a redis or postgres server.
const openTimeout = 10 * time.Second

// SQL that OpenStore runs to create the sessions table and its index when
// they are missing: the schemas sqlite3store and pgxstore document.
const (
	sqliteSchema = `CREATE TABLE IF NOT EXISTS sessions (token TEXT PRIMARY KEY, data BLOB NOT NULL, expiry REAL NOT NULL);
CREATE INDEX IF NOT EXISTS sessions_expiry_idx ON sessions(expiry);`
	postgresSchema = `CREATE TABLE IF NOT EXISTS sessions (token TEXT PRIMARY KEY, data BYTEA NOT NULL, expiry TIMESTAMPTZ NOT NULL);
CREATE INDEX IF NOT EXISTS sessions_expiry_idx ON sessions (expiry);`
	postgresDeleteExpired = `DELETE FROM sessions WHERE expiry < current_timestamp`
)

// sqliteParams are the DSN parameters of every SQLite store: wait up to 5 s
// for a lock instead of failing with SQLITE_BUSY, and write-ahead logging,
// so readers do not block the writer (nor the writer the readers) when
// concurrent requests, or several processes, share the file. With WAL,
// synchronous=NORMAL keeps the file consistent and saves an fsync per
// commit; a power cut may lose the last sessions written.
const sqliteParams = "_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)"

// Store is a session store opened by [OpenStore]: the [scs.Store] it embeds
// keeps the sessions, and Close releases what it holds (connections, files,
// cleanup goroutines).
//
// A *Store is an scs.Store, so it goes straight to [New]. It is also an
// [scs.CtxStore] (the request's context reaches stores that take one, such
// as redis), and an [scs.IterableStore] and [scs.IterableCtxStore]: All
// lists the sessions when the embedded store can (all four built-in stores
// can), and returns an error when it cannot.
//
// A store that takes a context is always called with one: its plain
// methods may not work (goredisstore's panic), so Find, Commit and Delete
// call FindCtx, CommitCtx and DeleteCtx with context.Background().
//
// Any scs.Store can be wrapped by hand, as &Store{Store: s}; Close then does
// nothing.
//
// # Which store
//
// "memory" keeps sessions in the process: they are lost on restart and not
// shared between instances. It suits development and tests.
//
// "sqlite" is the embedded persistent store and the one to start with: a
// single file, no server to run, sessions survive restarts, and instances
// on one machine can share the file. It uses modernc.org/sqlite, a SQLite
// translated to pure Go, so the program still builds with CGO_ENABLED=0 and
// cross-compiles like any Go program. It is preferred over an embedded
// key-value store such as bbolt because bbolt locks its file for one process
// at a time (a second instance, or a restart that overlaps the old process,
// blocks) and has no expiry to query, while SQLite lets several processes
// read and write (with WAL), finds expired sessions through an index, and
// the file opens in the sqlite3 shell for a look inside.
//
// "redis" and "postgres" are for instances on several machines.
//
// Redis expires sessions itself. The others have a goroutine that removes
// expired sessions, until Close: every minute for memory, every 5 minutes
// for sqlite and postgres.
type Store struct {
	scs.Store

	// Kind is the kind of store: "memory", "sqlite", "redis" or "postgres";
	// empty for a Store wrapped by hand.
	Kind string

	closeOnce sync.Once
	closer    func() error
	closeErr  error
}

// *Store meets each of scs's store interfaces, whatever it embeds.
var (
	_ scs.Store            = (*Store)(nil)
	_ scs.CtxStore         = (*Store)(nil)
	_ scs.IterableStore    = (*Store)(nil)
	_ scs.IterableCtxStore = (*Store)(nil)
)

// errNotIterable is returned by All and AllCtx when the embedded store cannot
// list its sessions.
var errNotIterable = errors.New("session: the store cannot list its sessions")

// Close stops the store's cleanup goroutine, if any, waits for it to return,
// and closes the store's connections or database file. Sessions kept in a
// persistent store stay there. Close may be called more than once; later
// calls return what the first returned. Do not use the store after Close.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		if s.closer != nil {
			s.closeErr = s.closer()
		}
	})
	return s.closeErr
}

// Find returns the data of the session with token. found is false, and err
// nil, when there is no such session or it has expired; err is for a store
// that fails. A store that takes a context is given context.Background().
func (s *Store) Find(token string) (b []byte, found bool, err error) {
	return s.FindCtx(context.Background(), token)
}

// Commit adds the session with token, or replaces its data and expiry.
func (s *Store) Commit(token string, b []byte, expiry time.Time) error {
	return s.CommitCtx(context.Background(), token, b, expiry)
}

// Delete removes the session with token; a token not in the store is not
// an error.
func (s *Store) Delete(token string) error {
	return s.DeleteCtx(context.Background(), token)
}

// FindCtx is Find with a context, which reaches the embedded store when it
// takes one.
func (s *Store) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	if c, ok := s.Store.(scs.CtxStore); ok {
		return c.FindCtx(ctx, token)
	}
	return s.Store.Find(token)
}

// CommitCtx is Commit with a context, which reaches the embedded store when
// it takes one.
func (s *Store) CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error {
	if c, ok := s.Store.(scs.CtxStore); ok {
		return c.CommitCtx(ctx, token, b, expiry)
	}
	return s.Store.Commit(token, b, expiry)
}

// DeleteCtx is Delete with a context, which reaches the embedded store when
// it takes one.
func (s *Store) DeleteCtx(ctx context.Context, token string) error {
	if c, ok := s.Store.(scs.CtxStore); ok {
		return c.DeleteCtx(ctx, token)
	}
	return s.Store.Delete(token)
}

// All returns the token and data of every session that has not expired. It
// returns an error when the embedded store cannot list its sessions.
func (s *Store) All() (map[string][]byte, error) {
	return s.AllCtx(context.Background())
}

// AllCtx is All with a context, which reaches the embedded store when it
// takes one.
func (s *Store) AllCtx(ctx context.Context) (map[string][]byte, error) {
	switch st := s.Store.(type) {
	case scs.IterableCtxStore:
		return st.AllCtx(ctx)
	case scs.IterableStore:
		return st.All()
	}
	return nil, errNotIterable
}

// OpenStore opens the session store that rawURL names:
//
//	memory:                               in this process only (scs memstore)
//	sqlite:///abs/path/file.db            a SQLite file, created if missing
//	sqlite:relative/file.db               the same, relative to the working directory
//	redis://[user:password@]host:port/db  a Redis server; db is a number, 0 when omitted
//	rediss://...                          the same over TLS
//	postgres://user[:password]@host:port/dbname?sslmode=disable
//	postgresql://...                      a PostgreSQL database (any pgx connection URL)
//
// The query parameters of a redis or postgres URL go to its driver: see
// redis.ParseURL (dial_timeout, max_retries, ...) and pgxpool.ParseConfig
// (sslmode, pool_max_conns, ...). A sqlite URL takes none: the store sets
// a busy timeout and WAL mode itself.
//
// OpenStore creates the SQL stores' sessions table and its expiry index
// when they are missing, and checks that a server answers before it
// returns. Its errors start with "session: " and say what is wrong (and,
// for a URL it cannot parse or use, what forms are accepted); passwords in
// the URL are not repeated.
//
// The caller must Close the store when done, after the filters that use it
// have stopped serving.
func OpenStore(rawURL string) (*Store, error) {
	if strings.TrimSpace(rawURL) == "" {
		return nil, fmt.Errorf("session: empty store URL; %s", acceptedForms)
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("session: cannot parse the store URL: %v; %s", redactErr(err, rawURL), acceptedForms)
	}
	switch strings.ToLower(u.Scheme) {
	case "memory":
		return openMemory(u, memoryCleanup)
	case "sqlite":
		return openSQLite(u, sqlCleanup)
	case "redis", "rediss":
		return openRedis(u)
	case "postgres", "postgresql":
		return openPostgres(u, sqlCleanup)
	case "":
		return nil, fmt.Errorf("session: store URL %q has no scheme; %s", u.Redacted(), acceptedForms)
	}
	return nil, fmt.Errorf("session: unknown store %q in %q; %s", u.Scheme, u.Redacted(), acceptedForms)
}

// redactErr returns err's message with the password of rawURL, if any,
// replaced by "xxxxx", for errors from parsers that quote the URL.
func redactErr(err error, rawURL string) string {
	msg := err.Error()
	if at := strings.LastIndex(rawURL, "@"); at >= 0 {
		if i := strings.Index(rawURL, "://"); i >= 0 && i < at {
			if j := strings.Index(rawURL[i+3:at], ":"); j >= 0 {
				if pw := rawURL[i+3+j+1 : at]; pw != "" {
					msg = strings.ReplaceAll(msg, pw, "xxxxx")
				}
			}
		}
	}
	return msg
}

// openMemory opens a memory store.
func openMemory(u *url.URL, cleanup time.Duration) (*Store, error) {
	if u.Opaque != "" || u.Host != "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return nil, fmt.Errorf("session: memory store URL %q takes nothing after \"memory:\"; %s", u.Redacted(), acceptedForms)
	}
	m := newMemoryStore(cleanup)
	return &Store{Store: m, Kind: "memory", closer: m.close}, nil
}

// memoryStore is scs's memstore with a cleanup goroutine that can be
// stopped safely.
//
// memstore (like pgxstore) creates its stop channel inside its cleanup
// goroutine, so a StopCleanup called soon after the store was made reads
// that field while the goroutine writes it: go test -race reports the race,
// and StopCleanup can find no channel and leave the goroutine running. So
// the memstore here runs without its own cleanup, and memoryStore removes
// expired sessions itself, from a record of each session's expiry.
type memoryStore struct {
	*memstore.MemStore

	mu     sync.Mutex       // held across each change to MemStore and expiry
	expiry map[string]int64 // token: expiry in Unix nanoseconds

	stop func() // stops the cleanup goroutine and waits for it
}

// newMemoryStore returns a memory store whose cleanup runs every interval.
func newMemoryStore(interval time.Duration) *memoryStore {
	m := &memoryStore{
		MemStore: memstore.NewWithCleanupInterval(0),
		expiry:   make(map[string]int64),
	}
	m.stop = every(interval, func(context.Context) error {
		m.deleteExpired(time.Now())
		return nil
	})
	return m
}

// Commit adds or replaces a session.
func (m *memoryStore) Commit(token string, b []byte, expiry time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.expiry[token] = expiry.UnixNano()
	return m.MemStore.Commit(token, b, expiry)
}

// Delete removes a session; a token not in the store is not an error.
func (m *memoryStore) Delete(token string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.expiry, token)
	return m.MemStore.Delete(token)
}

// deleteExpired removes the sessions that expired before now.
func (m *memoryStore) deleteExpired(now time.Time) {
	n := now.UnixNano()
	m.mu.Lock()
	defer m.mu.Unlock()
	for token, exp := range m.expiry {
		if n > exp {
			delete(m.expiry, token)
			_ = m.MemStore.Delete(token) // never fails
		}
	}
}

// len returns how many sessions, expired or not, the store holds.
func (m *memoryStore) len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.expiry)
}

// close stops the cleanup goroutine.
func (m *memoryStore) close() error {
	m.stop()
	return nil
}

// openSQLite opens a SQLite store, creating the file, the table and its
// index when missing.
func openSQLite(u *url.URL, cleanup time.Duration) (*Store, error) {
	path, err := sqlitePath(u)
	if err != nil {
		return nil, err
	}
	dsn := (&url.URL{Scheme: "file", Path: path, RawQuery: sqliteParams}).String()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("session: open sqlite database %s: %w", path, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), openTimeout)
	defer cancel()
	if _, err := db.ExecContext(ctx, sqliteSchema); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("session: open sqlite database %s (its directory must exist and be writable): %w", path, err)
	}
	st := sqlite3store.NewWithCleanupInterval(db, cleanup)
	closer := func() error {
		// sqlite3store makes its stop channel before it starts the
		// goroutine, so StopCleanup is safe; it returns once the goroutine
		// has received.
		st.StopCleanup()
		return db.Close()
	}
	return &Store{Store: st, Kind: "sqlite", closer: closer}, nil
}

// sqlitePath returns the absolute file path a sqlite: URL names.
func sqlitePath(u *url.URL) (string, error) {
	var path string
	switch {
	case u.Opaque != "": // sqlite:relative/file.db
		p, err := url.PathUnescape(u.Opaque)
		if err != nil {
			return "", fmt.Errorf("session: sqlite store URL %q: bad escape in the path: %v; %s", u.Redacted(), err, acceptedForms)
		}
		path = p
	case u.Host != "":
		return "", fmt.Errorf("session: sqlite store URL %q names a host (%q), but SQLite needs a file path: "+
			"use sqlite:///abs/path/file.db (three slashes) or sqlite:relative/file.db; %s", u.Redacted(), u.Host, acceptedForms)
	default: // sqlite:///abs/path/file.db
		path = u.Path
	}
	if path == "" || strings.HasSuffix(path, "/") {
		return "", fmt.Errorf("session: sqlite store URL %q has no file path; %s", u.Redacted(), acceptedForms)
	}
	if u.RawQuery != "" || u.ForceQuery {
		return "", fmt.Errorf("session: sqlite store URL %q: query parameters are not supported; %s", u.Redacted(), acceptedForms)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("session: sqlite store URL %q: %v; %s", u.Redacted(), err, acceptedForms)
	}
	return abs, nil
}

// openRedis opens a Redis store and checks that the server answers.
func openRedis(u *url.URL) (*Store, error) {
	if u.Host == "" {
		return nil, fmt.Errorf("session: redis store URL %q has no host:port; %s", u.Redacted(), acceptedForms)
	}
	if db := strings.Trim(u.Path, "/"); db != "" {
		if n, err := strconv.Atoi(db); err != nil || n < 0 {
			return nil, fmt.Errorf("session: redis store URL %q: database %q is not a number (0, 1, ...); %s", u.Redacted(), db, acceptedForms)
		}
	}
	opts, err := redis.ParseURL(u.String())
	if err != nil {
		return nil, fmt.Errorf("session: redis store URL %q: %v; %s", u.Redacted(), err, acceptedForms)
	}
	client := redis.NewClient(opts)
	ctx, cancel := context.WithTimeout(context.Background(), openTimeout)
	defer cancel()
	if err := client.Ping(ctx).Err(); err != nil {
		_ = client.Close()
		return nil, fmt.Errorf("session: redis store at %s (database %d) does not answer: %w", opts.Addr, opts.DB, err)
	}
	return &Store{Store: goredisstore.New(client), Kind: "redis", closer: client.Close}, nil
}

// openPostgres opens a PostgreSQL store, checks that the server answers,
// and creates the sessions table and its index when missing.
//
// pgxstore runs without its own cleanup goroutine, for the reason given on
// memoryStore; the store deletes expired rows itself, as pgxstore would.
func openPostgres(u *url.URL, cleanup time.Duration) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(u.String())
	if err != nil {
		return nil, fmt.Errorf("session: postgres store URL %q: %v; %s", u.Redacted(), redactErr(err, u.String()), acceptedForms)
	}
	ctx, cancel := context.WithTimeout(context.Background(), openTimeout)
	defer cancel()
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("session: postgres store URL %q: %v; %s", u.Redacted(), redactErr(err, u.String()), acceptedForms)
	}
	where := fmt.Sprintf("%s:%d, database %q", cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database)
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("session: postgres store at %s does not answer: %v", where, redactErr(err, u.String()))
	}
	if err := createPostgresSchema(ctx, pool); err != nil {
		pool.Close()
		return nil, fmt.Errorf("session: postgres store at %s: create the sessions table: %w", where, err)
	}
	stop := every(cleanup, func(ctx context.Context) error {
		_, err := pool.Exec(ctx, postgresDeleteExpired)
		return err
	})
	closer := func() error {
		stop()
		pool.Close()
		return nil
	}
	return &Store{Store: pgxstore.NewWithCleanupInterval(pool, 0), Kind: "postgres", closer: closer}, nil
}

// createPostgresSchema creates the sessions table and its index when they
// are missing. An advisory lock serializes instances that start together:
// concurrent CREATE TABLE IF NOT EXISTS can otherwise fail in PostgreSQL
// with a unique violation.
func createPostgresSchema(ctx context.Context, pool *pgxpool.Pool) error {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(ctx) }() // a no-op after Commit
	// The key is arbitrary; it only has to be the same for every instance.
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(7291548210)"); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, postgresSchema); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// every runs fn every interval in a goroutine until stop is called; stop
// cancels the context fn was given and waits for the goroutine to return.
// fn's errors are logged with [slog.Default]. With an interval of 0 or less
// nothing runs and stop does nothing.
func every(interval time.Duration, fn func(context.Context) error) (stop func()) {
	if interval <= 0 {
		return func() {}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if err := fn(ctx); err != nil && ctx.Err() == nil {
					slog.Default().Warn("session: cannot delete expired sessions", "err", err)
				}
			}
		}
	}()
	return func() {
		cancel()
		<-done
	}
}
