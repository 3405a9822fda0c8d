package main

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// boundary is the multipart boundary of every upload.
const boundary = "soak-boundary-7c1e9a40d2b8"

// gen is the load generator's shared state.
type gen struct {
	base     string // http://127.0.0.1:PORT
	host     string // 127.0.0.1:PORT
	password string
	token    string
	start    time.Time
	think    time.Duration
	tooLarge []byte // a file of max-upload+1 bytes

	// pool is random content that uploads take slices of: its first
	// half is text (sniffed as text/plain), its second binary (sniffed
	// as application/octet-stream).
	pool []byte

	mu   sync.Mutex
	recs []Record

	answered atomic.Int64 // answers so far (for the samples' rate)
	fiveXX   atomic.Int64 // 5xx answers so far

	loginSem chan struct{} // logins in flight at once
	// badEvery spaces the bad logins; nextBad is when the next may go.
	badEvery time.Duration
	nextBad  atomic.Int64
	// lastOutage is when the latest stopped Redis exited (since start;
	// when it was told to stop, until then), -1 before the first: a
	// session whose login began before that is lost with it.
	lastOutage atomic.Int64
	stopping   atomic.Bool

	// evidence is a directory for the answers of failed checks; kept
	// counts them.
	evidence string
	kept     atomic.Int64
	kept5xx  atomic.Int64

	ctlSeq atomic.Int64 // ids of the controller's own requests
	ctl    *http.Client
}

func newGen(base, password, token string, maxUpload int64, think time.Duration) *gen {
	g := &gen{
		base: base, host: strings.TrimPrefix(base, "http://"),
		password: password, token: token, think: think,
		loginSem: make(chan struct{}, 4),
		ctl:      &http.Client{Timeout: 30 * time.Second, CheckRedirect: noRedirect},
	}
	g.lastOutage.Store(-1)
	rng := rand.New(rand.NewPCG(1, 2))
	const half = 256 << 10
	g.pool = make([]byte, 2*half)
	letters := "abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ 0123456789\n"
	for i := range half {
		g.pool[i] = letters[rng.IntN(len(letters))]
	}
	for i := half; i < len(g.pool); i++ {
		g.pool[i] = byte(rng.UintN(256))
	}
	g.tooLarge = make([]byte, maxUpload+1)
	for i := range g.tooLarge {
		g.tooLarge[i] = letters[i%len(letters)]
	}
	return g
}

func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// since returns the time since the start of the run.
func (g *gen) since() time.Duration { return time.Since(g.start) }

// add commits a record.
func (g *gen) add(r *Record) {
	if r.Status > 0 {
		g.answered.Add(1)
	}
	if r.Status >= 500 {
		g.fiveXX.Add(1)
	}
	g.mu.Lock()
	g.recs = append(g.recs, *r)
	g.mu.Unlock()
}

// records returns a copy of the records so far.
func (g *gen) records() []Record {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]Record(nil), g.recs...)
}

// answer is what came back for a request.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// location returns the Location header's path (and query).
func (a *answer) location() string { return a.header.Get("Location") }

// exchange sends req with a request id on client and records it with
// check's judgement. check runs only when an answer came back whole.
func (g *gen) exchange(client *http.Client, id string, kind Kind, req *http.Request, check func(*answer, *Record)) *Record {
	req.Header.Set("X-Request-ID", id)
	rec := &Record{ID: id, Kind: kind, Path: req.URL.Path, Start: g.since()}
	resp, err := client.Do(req)
	if err != nil {
		rec.End = g.since()
		rec.Broken, rec.Reached = true, ReachMaybe
		rec.Problem = "no answer: " + err.Error()
		g.add(rec)
		return rec
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	resp.Body.Close()
	rec.End = g.since()
	rec.Status = resp.StatusCode
	if err != nil {
		rec.Broken = true
		rec.Problem = fmt.Sprintf("%d, body cut after %d bytes: %v", resp.StatusCode, len(body), err)
		g.add(rec)
		return rec
	}
	check(&answer{status: resp.StatusCode, header: resp.Header, body: body}, rec)
	if rec.Problem != "" {
		g.keepEvidence(rec, resp, body)
	}
	g.add(rec)
	return rec
}

// keepEvidence writes the answer to a failed check to the evidence
// directory (the first 20 5xx and the first 200 others), for a look at
// what came back.
func (g *gen) keepEvidence(rec *Record, resp *http.Response, body []byte) {
	if g.evidence == "" {
		return
	}
	// Few 5xx (faults make thousands), many of the others.
	if rec.Status >= 500 {
		if g.kept5xx.Add(1) > 20 {
			return
		}
	} else if g.kept.Add(1) > 200 {
		return
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s at %v: %s\n\n%s %s\n", rec.ID, rec.Path, rec.Start, rec.Problem, resp.Proto, resp.Status)
	resp.Header.Write(&b)
	b.WriteString("\n")
	b.Write(body)
	os.WriteFile(filepath.Join(g.evidence, rec.ID+".txt"), b.Bytes(), 0o644)
}

// controlGet sends a GET of the controller's own (health checks before and
// after the load), recorded like the others.
func (g *gen) controlGet(kind Kind, path string, check func(*answer, *Record)) *Record {
	req, _ := http.NewRequest(http.MethodGet, g.base+path, nil)
	id := "soak-0-" + strconv.FormatInt(g.ctlSeq.Add(1), 10)
	return g.exchange(g.ctl, id, kind, req, check)
}

// checkHealth is the check of GET /healthz.
func checkHealth(a *answer, r *Record) {
	if a.status != http.StatusOK || strings.TrimSpace(string(a.body)) != "ok" {
		r.Problem = fmt.Sprintf("want 200 ok, got %d %q", a.status, short(a.body))
	}
}

// short returns the start of a body for a message, quoted: a body may hold
// anything.
func short(b []byte) string {
	if len(b) > 120 {
		return strconv.QuoteToASCII(string(b[:120])) + "..."
	}
	return strconv.QuoteToASCII(string(b))
}
