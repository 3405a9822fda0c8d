package auth

import (
	"bufio"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// maxHashLen is the longest password hash an htpasswd line may hold.
const maxHashLen = 128

// maxHtpasswdSize caps the size of an htpasswd file.
const maxHtpasswdSize = 16 << 20

// Htpasswd is a set of users and password hashes read from an Apache
// htpasswd file ("name:hash" lines; blank lines and lines starting with
// "#" are skipped). It is the user store of the Basic strategy and of the
// login handler, and tells the Session strategy which users exist.
//
// Hashes must be bcrypt ("$2y$", "$2b$", "$2a$": htpasswd -B). With
// AllowWeak, "{SHA}" (unsalted SHA-1, htpasswd -s) is accepted too; other
// schemes (MD5 "$apr1$", crypt, plain text) are always refused.
//
// The file is read again when its modification time or size changes,
// checked at most once per CheckEvery; a file that no longer parses is
// logged and the users read before stay in force.
//
// Set the fields, then call Load, before the first request; OpenHtpasswd
// does both with the defaults.
type Htpasswd struct {
	// File is the path of the htpasswd file.
	File string
	// AllowWeak accepts "{SHA}" hashes. Off by default: an unsalted SHA-1
	// falls to a dictionary in moments if the file leaks.
	AllowWeak bool
	// Roles gives users their roles (Identity.Roles), by user name.
	Roles map[string][]string
	// CheckEvery is how often, at most, the file's modification time and
	// size are checked for a change, on the path of a request. 0 means one
	// second; a negative value means on every verification.
	CheckEvery time.Duration
	// CacheFor is how long a successful verification is remembered, so a
	// client that sends the same good password on every request does not
	// pay for bcrypt each time. The cache is keyed by a SHA-256 of the user
	// name, the password and the stored hash, never the password itself,
	// and holds at most 4096 entries. 0 means 30 seconds; a negative value
	// turns the cache off.
	CacheFor time.Duration
	// Logger receives reload errors; nil means slog.Default().
	Logger *slog.Logger

	mu        sync.Mutex // serializes loads
	table     atomic.Pointer[htTable]
	lastCheck atomic.Int64 // unix nanoseconds of the last change check
	cache     verifyCache
}

// htTable is one reading of the file.
type htTable struct {
	users map[string]htUser
	dummy string // bcrypt hash compared for unknown users
	mtime time.Time
	size  int64
}

type htUser struct {
	hash string
	id   *Identity
}

// OpenHtpasswd reads the htpasswd file at path, with the defaults of
// Htpasswd (bcrypt only).
func OpenHtpasswd(path string) (*Htpasswd, error) {
	h := &Htpasswd{File: path}
	if err := h.Load(); err != nil {
		return nil, err
	}
	return h, nil
}

// Load reads the file now. It returns an error, and keeps the users read
// before, when the file cannot be read or a line cannot be used (a weak or
// unknown hash scheme, a duplicate or malformed line); the error names the
// line.
func (h *Htpasswd) Load() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	fi, err := os.Stat(h.File)
	if err != nil {
		return fmt.Errorf("auth: htpasswd: %w", err)
	}
	return h.load(fi)
}

// load reads the file whose stat is fi; h.mu is held.
func (h *Htpasswd) load(fi os.FileInfo) error {
	f, err := os.Open(h.File)
	if err != nil {
		return fmt.Errorf("auth: htpasswd: %w", err)
	}
	defer f.Close()
	t, err := parseHtpasswd(io.LimitReader(f, maxHtpasswdSize+1), h.File, h.AllowWeak, h.Roles)
	if err != nil {
		return err
	}
	t.mtime, t.size = fi.ModTime(), fi.Size()
	h.table.Store(t)
	h.cache.clear()
	return nil
}

// parseHtpasswd reads htpasswd lines from r.
func parseHtpasswd(r io.Reader, name string, allowWeak bool, roles map[string][]string) (*htTable, error) {
	t := &htTable{users: map[string]htUser{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 64<<10)
	cost, total := 0, 0
	for n := 1; sc.Scan(); n++ {
		total += len(sc.Bytes()) + 1
		if total > maxHtpasswdSize {
			return nil, fmt.Errorf("auth: htpasswd %s: larger than %d bytes", name, maxHtpasswdSize)
		}
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		user, hash, ok := strings.Cut(line, ":")
		if !ok || user == "" || hash == "" || len(user) > 255 || len(hash) > maxHashLen || hasControl([]byte(user)) {
			return nil, fmt.Errorf("auth: htpasswd %s line %d: want \"name:hash\"", name, n)
		}
		if _, dup := t.users[user]; dup {
			return nil, fmt.Errorf("auth: htpasswd %s line %d: user %q appears twice", name, n, user)
		}
		switch {
		case isBcrypt(hash):
			c, err := bcrypt.Cost([]byte(hash))
			if err != nil {
				return nil, fmt.Errorf("auth: htpasswd %s line %d (user %q): bad bcrypt hash: %v", name, n, user, err)
			}
			cost = max(cost, c)
		case strings.HasPrefix(hash, "{SHA}"):
			if !allowWeak {
				return nil, fmt.Errorf("auth: htpasswd %s line %d (user %q): {SHA} is a weak hash scheme: use bcrypt (htpasswd -B), or set Htpasswd.AllowWeak", name, n, user)
			}
			if d, err := base64.StdEncoding.DecodeString(hash[5:]); err != nil || len(d) != sha1.Size {
				return nil, fmt.Errorf("auth: htpasswd %s line %d (user %q): bad {SHA} hash", name, n, user)
			}
		default:
			return nil, fmt.Errorf("auth: htpasswd %s line %d (user %q): unsupported hash scheme: use bcrypt (htpasswd -B)", name, n, user)
		}
		t.users[user] = htUser{hash: hash, id: &Identity{Name: user, Roles: roles[user]}}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("auth: htpasswd %s: %w", name, err)
	}
	if cost == 0 {
		cost = bcrypt.DefaultCost
	}
	t.dummy = dummyHash(cost)
	return t, nil
}

func isBcrypt(hash string) bool {
	return strings.HasPrefix(hash, "$2y$") || strings.HasPrefix(hash, "$2b$") || strings.HasPrefix(hash, "$2a$")
}

// dummies holds one dummy bcrypt hash per cost, made once.
var dummies sync.Map // int -> string

// dummyHash returns a bcrypt hash of a random password at cost: verifying
// an unknown user against it takes as long as verifying a known one.
func dummyHash(cost int) string {
	if v, ok := dummies.Load(cost); ok {
		return v.(string)
	}
	b, err := bcrypt.GenerateFromPassword([]byte(rand.Text()), cost)
	if err != nil {
		panic("auth: bcrypt: " + err.Error())
	}
	v, _ := dummies.LoadOrStore(cost, string(b))
	return v.(string)
}

// current returns the users, reading the file again when it changed.
func (h *Htpasswd) current(now int64) *htTable {
	every := h.CheckEvery
	if every == 0 {
		every = time.Second
	}
	last := h.lastCheck.Load()
	if now-last >= int64(every) && h.lastCheck.CompareAndSwap(last, now) {
		h.reloadIfChanged()
	}
	t := h.table.Load()
	if t == nil {
		panic("auth: Htpasswd used before Load: build it with auth.OpenHtpasswd(path), or call Load")
	}
	return t
}

func (h *Htpasswd) reloadIfChanged() {
	fi, err := os.Stat(h.File)
	if err != nil {
		h.logger().Error("auth: htpasswd: cannot check the file; the users read before stay in force", "file", h.File, "error", err.Error())
		return
	}
	if t := h.table.Load(); t != nil && t.mtime.Equal(fi.ModTime()) && t.size == fi.Size() {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if t := h.table.Load(); t != nil && t.mtime.Equal(fi.ModTime()) && t.size == fi.Size() {
		return
	}
	if err := h.load(fi); err != nil {
		h.logger().Error("auth: htpasswd: cannot reload; the users read before stay in force", "error", err.Error())
		// Do not try again until the file changes once more.
		if t := h.table.Load(); t != nil {
			c := *t
			c.mtime, c.size = fi.ModTime(), fi.Size()
			h.table.Store(&c)
		}
	}
}

func (h *Htpasswd) logger() *slog.Logger {
	if h.Logger != nil {
		return h.Logger
	}
	return slog.Default()
}

// Lookup returns the identity of the user name, and whether the file has
// that user.
func (h *Htpasswd) Lookup(name string) (*Identity, bool) {
	u, ok := h.current(time.Now().UnixNano()).users[name]
	return u.id, ok
}

// Verify checks a user name and password. An unknown user and a wrong
// password both give ErrInvalid, after the same work: an unknown user is
// checked against a dummy bcrypt hash.
func (h *Htpasswd) Verify(user, password string) (*Identity, error) {
	var buf basicBuf
	if len(user)+1+len(password) > maxBasicDecoded {
		return h.verifySlow(time.Now().UnixNano(), []byte(user), []byte(password))
	}
	n := copy(buf.dst[:], user)
	buf.dst[n] = ':'
	m := copy(buf.dst[n+1:], password)
	u, p := buf.dst[:n], buf.dst[n+1:n+1+m]
	now := time.Now().UnixNano()
	if id, ok := h.cached(now, u, p, &buf); ok {
		return id, nil
	}
	return h.verifySlow(now, u, p)
}

// cached reports whether user and pass were verified recently. user and
// pass lie in buf.dst, pass last; buf.dst's tail is used for the key.
func (h *Htpasswd) cached(now int64, user, pass []byte, buf *basicBuf) (*Identity, bool) {
	if h.CacheFor < 0 {
		return nil, false
	}
	u, ok := h.current(now).users[string(user)]
	if !ok {
		return nil, false
	}
	if h.cache.hit(cacheKeyIn(user, pass, u.hash, buf), now) {
		return u.id, true
	}
	return nil, false
}

// cacheKeyIn returns SHA-256(user \0 pass \0 hash), built in buf without
// allocating. user and pass are views of buf.dst.
func cacheKeyIn(user, pass []byte, hash string, buf *basicBuf) [32]byte {
	end := len(user) + 1 + len(pass)
	if end+1+len(hash) > len(buf.dst) || len(user) > 0 && &buf.dst[0] != &user[0] {
		return cacheKey(user, pass, hash)
	}
	buf.dst[len(user)] = 0
	buf.dst[end] = 0
	n := copy(buf.dst[end+1:], hash)
	sum := sha256.Sum256(buf.dst[:end+1+n])
	buf.dst[len(user)] = ':'
	return sum
}

// cacheKey is cacheKeyIn for any slices.
func cacheKey(user, pass []byte, hash string) [32]byte {
	d := sha256.New()
	d.Write(user)
	d.Write([]byte{0})
	d.Write(pass)
	d.Write([]byte{0})
	io.WriteString(d, hash)
	var sum [32]byte
	d.Sum(sum[:0])
	return sum
}

// verifySlow checks the password against the stored hash (or a dummy one
// for an unknown user) and remembers a success.
func (h *Htpasswd) verifySlow(now int64, user, pass []byte) (*Identity, error) {
	t := h.current(now)
	u, known := t.users[string(user)]
	hash := t.dummy
	if known {
		hash = u.hash
	}
	ok := false
	if isBcrypt(hash) {
		ok = bcrypt.CompareHashAndPassword([]byte(hash), pass) == nil
	} else { // {SHA}, accepted at load only with AllowWeak
		want, _ := base64.StdEncoding.DecodeString(hash[5:])
		got := sha1.Sum(pass)
		ok = subtle.ConstantTimeCompare(want, got[:]) == 1
	}
	if !ok || !known {
		return nil, ErrInvalid
	}
	if h.CacheFor >= 0 {
		d := h.CacheFor
		if d == 0 {
			d = 30 * time.Second
		}
		h.cache.put(cacheKey(user, pass, hash), now+int64(d))
	}
	return u.id, nil
}

// verifyCache remembers successful verifications until they expire.
type verifyCache struct {
	mu sync.RWMutex
	m  map[[32]byte]int64 // key -> expiry, unix nanoseconds
}

const maxCacheEntries = 4096

func (c *verifyCache) hit(key [32]byte, now int64) bool {
	c.mu.RLock()
	exp, ok := c.m[key]
	c.mu.RUnlock()
	return ok && now < exp
}

func (c *verifyCache) put(key [32]byte, exp int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[[32]byte]int64)
	}
	if len(c.m) >= maxCacheEntries {
		now := time.Now().UnixNano()
		for k, e := range c.m {
			if e <= now {
				delete(c.m, k)
			}
		}
		if len(c.m) >= maxCacheEntries {
			clear(c.m)
		}
	}
	c.m[key] = exp
}

func (c *verifyCache) clear() {
	c.mu.Lock()
	clear(c.m)
	c.mu.Unlock()
}
