package auth

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
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
// The file is read again when its content changes: at most once per
// CheckEvery, on the path of a request, it is read and its SHA-256
// compared with the last reading's (its modification time and size are
// not trusted: a copy that keeps them, or two writes within one tick of
// the clock, would hide a change). When it changed, the users of its good
// lines take effect at once, so a user removed from the file is refused
// even when another line is broken; the lines that cannot be used are
// logged and left out. A file that cannot be read at all is logged, and
// the users read before stay in force.
//
// An unknown user is checked against a dummy bcrypt hash of the file's
// highest cost, so a wrong password and an unknown user take the same
// time; a {SHA} user is checked against that dummy hash too. A user whose
// hash has a lower cost than others answers faster, which tells that the
// user exists: Load logs a warning when the costs differ.
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
	// CheckEvery is how often, at most, the file is read and hashed to
	// see whether it changed, on the path of a request. 0 means one
	// second; a negative value means on every verification.
	CheckEvery time.Duration
	// CacheFor is how long a successful verification is remembered, so a
	// client that sends the same good password on every request does not
	// pay for bcrypt each time. The cache is keyed by a SHA-256 of the user
	// name, the password and the stored hash, never the password itself,
	// and holds at most 4096 entries. 0 means 30 seconds; a negative value
	// turns the cache off.
	CacheFor time.Duration
	// Logger receives reload errors and the warning about mixed bcrypt
	// costs; nil means slog.Default().
	Logger *slog.Logger

	mu        sync.Mutex // serializes loads
	readErr   string     // the last error reading the file, logged once
	table     atomic.Pointer[htTable]
	lastCheck atomic.Int64 // unix nanoseconds of the last change check
	cache     verifyCache
}

// htTable is one reading of the file.
type htTable struct {
	users            map[string]htUser
	dummy            string            // bcrypt hash compared for unknown users
	minCost, maxCost int               // of the bcrypt hashes; 0 when there is none
	sum              [sha256.Size]byte // of the file's content
}

type htUser struct {
	hash  string
	stamp string // see Stamp
	id    *Identity
}

// OpenHtpasswd reads the htpasswd file at path, with the defaults of
// Htpasswd (bcrypt only). It returns an error when the file cannot be
// read or any line cannot be used.
func OpenHtpasswd(path string) (*Htpasswd, error) {
	h := &Htpasswd{File: path}
	if err := h.Load(); err != nil {
		return nil, err
	}
	return h, nil
}

// Load reads the file now. When the file cannot be read, it returns the
// error and the users read before stay. Otherwise the users of the good
// lines take effect, and the lines that cannot be used (a weak or unknown
// hash scheme, a malformed line, a user listed twice, which leaves that
// user out altogether) are left out and named in the error.
func (h *Htpasswd) Load() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	data, err := h.read()
	if err != nil {
		return err
	}
	t, bad, err := parseHtpasswd(data, h.File, h.AllowWeak, h.Roles)
	if err != nil {
		return err
	}
	h.store(t)
	return errors.Join(bad...)
}

// read reads the whole file, at most maxHtpasswdSize bytes.
func (h *Htpasswd) read() ([]byte, error) {
	f, err := os.Open(h.File)
	if err != nil {
		return nil, fmt.Errorf("auth: htpasswd: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxHtpasswdSize+1))
	if err != nil {
		return nil, fmt.Errorf("auth: htpasswd: %w", err)
	}
	if len(data) > maxHtpasswdSize {
		return nil, fmt.Errorf("auth: htpasswd %s: larger than %d bytes", h.File, maxHtpasswdSize)
	}
	return data, nil
}

// store puts t in force; h.mu is held.
func (h *Htpasswd) store(t *htTable) {
	h.table.Store(t)
	h.cache.clear()
	if t.minCost != t.maxCost {
		h.logger().Warn("auth: htpasswd: the bcrypt hashes have different costs; a user with a cheaper hash answers faster than an unknown user, which tells who exists: hash every password with the same cost (htpasswd -B -C)",
			"file", h.File, "min_cost", t.minCost, "max_cost", t.maxCost)
	}
}

// parseHtpasswd reads htpasswd lines from data. The lines it cannot use
// are left out and returned as errors in bad.
func parseHtpasswd(data []byte, name string, allowWeak bool, roles map[string][]string) (t *htTable, bad []error, err error) {
	t = &htTable{users: map[string]htUser{}, sum: sha256.Sum256(data)}
	dups := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 64<<10)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		user, hash, ok := strings.Cut(line, ":")
		if !ok || user == "" || hash == "" || len(user) > 255 || len(hash) > maxHashLen || hasControl([]byte(user)) {
			bad = append(bad, fmt.Errorf("auth: htpasswd %s line %d: want \"name:hash\"", name, n))
			continue
		}
		if _, dup := t.users[user]; dup || dups[user] {
			bad = append(bad, fmt.Errorf("auth: htpasswd %s line %d: user %q appears twice; the user is left out", name, n, user))
			delete(t.users, user)
			dups[user] = true
			continue
		}
		switch {
		case isBcrypt(hash):
			c, err := bcrypt.Cost([]byte(hash))
			if err != nil {
				bad = append(bad, fmt.Errorf("auth: htpasswd %s line %d (user %q): bad bcrypt hash: %v", name, n, user, err))
				continue
			}
			if t.maxCost == 0 {
				t.minCost = c
			}
			t.minCost, t.maxCost = min(t.minCost, c), max(t.maxCost, c)
		case strings.HasPrefix(hash, "{SHA}"):
			if !allowWeak {
				bad = append(bad, fmt.Errorf("auth: htpasswd %s line %d (user %q): {SHA} is a weak hash scheme: use bcrypt (htpasswd -B), or set Htpasswd.AllowWeak", name, n, user))
				continue
			}
			if d, err := base64.StdEncoding.DecodeString(hash[5:]); err != nil || len(d) != sha1.Size {
				bad = append(bad, fmt.Errorf("auth: htpasswd %s line %d (user %q): bad {SHA} hash", name, n, user))
				continue
			}
		default:
			bad = append(bad, fmt.Errorf("auth: htpasswd %s line %d (user %q): unsupported hash scheme: use bcrypt (htpasswd -B)", name, n, user))
			continue
		}
		t.users[user] = htUser{hash: hash, stamp: stampOf(hash), id: &Identity{Name: user, Roles: roles[user]}}
	}
	if err := sc.Err(); err != nil {
		return nil, nil, fmt.Errorf("auth: htpasswd %s: %w", name, err)
	}
	cost := t.maxCost
	if cost == 0 {
		cost = bcrypt.DefaultCost
	}
	t.dummy = dummyHash(cost)
	return t, bad, nil
}

// stampOf returns the stamp of a stored hash: 16 hex digits of its
// SHA-256.
func stampOf(hash string) string {
	sum := sha256.Sum256([]byte(hash))
	return hex.EncodeToString(sum[:8])
}

func isBcrypt(hash string) bool {
	return strings.HasPrefix(hash, "$2y$") || strings.HasPrefix(hash, "$2b$") || strings.HasPrefix(hash, "$2a$")
}

// compareHook, when set, is called before each bcrypt comparison; tests
// count the comparisons with it.
var compareHook func(hash []byte)

// compareHash is bcrypt.CompareHashAndPassword. pass is not handed to the
// hook, so that it does not escape (it lies in the caller's stack buffer).
func compareHash(hash, pass []byte) error {
	if compareHook != nil {
		compareHook(hash)
	}
	return bcrypt.CompareHashAndPassword(hash, pass)
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

// reloadIfChanged reads the file again when its modification time, size
// or content changed. Bad lines are logged and left out; a file that
// cannot be read is logged and the users read before stay.
func (h *Htpasswd) reloadIfChanged() {
	h.mu.Lock()
	defer h.mu.Unlock()
	data, err := h.read()
	if err != nil {
		if msg := err.Error(); msg != h.readErr { // once, not at every check
			h.readErr = msg
			h.logger().Error("auth: htpasswd: cannot read the file; the users read before stay in force", "file", h.File, "error", msg)
		}
		return
	}
	h.readErr = ""
	old := h.table.Load()
	if old != nil && old.sum == sha256.Sum256(data) {
		return
	}
	t, bad, err := parseHtpasswd(data, h.File, h.AllowWeak, h.Roles)
	if err != nil {
		h.logger().Error("auth: htpasswd: cannot reload; the users read before stay in force", "file", h.File, "error", err.Error())
		return
	}
	for _, e := range bad {
		h.logger().Error("auth: htpasswd: a line is refused; the other lines are in force", "error", e.Error())
	}
	h.store(t)
}

func (h *Htpasswd) logger() *slog.Logger {
	if h.Logger != nil {
		return h.Logger
	}
	return slog.Default()
}

// Stamp returns a stamp of the user's stored password hash (16 hex
// digits of its SHA-256), which changes when the password does, and
// whether the file has that user.
func (h *Htpasswd) Stamp(name string) (string, bool) {
	u, ok := h.current(time.Now().UnixNano()).users[name]
	return u.stamp, ok
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
		ok = compareHash([]byte(hash), pass) == nil
	} else { // {SHA}, accepted at load only with AllowWeak
		// Pay for the dummy bcrypt too, so that a {SHA} user takes as
		// long as an unknown one and timing does not tell who exists.
		_ = compareHash([]byte(t.dummy), pass)
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
