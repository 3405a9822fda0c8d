package isolate

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/wsapi-go/wsapi/filter"
)

// A Factory makes a new instance of an app: its own state, its own
// configuration read afresh, as WSAPI's isolated loaders gave each
// instance its own Lua state. An instance that implements io.Closer is
// closed when it is retired.
type Factory func() (http.Handler, error)

// Fresh returns an app that makes a new instance with factory for every
// request, and closes it (when it is an io.Closer) after the request. A
// factory error is answered with 503 and published as
// EventInstanceError on filter.DefaultHub.
func Fresh(factory Factory) http.Handler {
	if factory == nil {
		panic("isolate: Fresh with a nil factory")
	}
	return fresh(factory)
}

type fresh Factory

func (f fresh) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h, err := f()
	if err != nil || h == nil {
		instanceError(filter.DefaultHub, w, r, err)
		return
	}
	if c, ok := h.(io.Closer); ok {
		defer c.Close()
	}
	h.ServeHTTP(w, r)
}

var errNilInstance = errors.New("isolate: the factory returned a nil handler")

func instanceError(hub *filter.Hub, w http.ResponseWriter, r *http.Request, err error) {
	if err == nil {
		err = errNilInstance
	}
	filter.From(r).Logger().Error("isolate: cannot make an instance", "error", err.Error())
	hub.Publish(EventInstanceError, r, err)
	const body = "Service Unavailable\n"
	writeError(w, r, http.StatusServiceUnavailable, body, strconv.Itoa(len(body)), "1")
}

// Pool is an app served by a pool of instances, each serving one request
// at a time. Instances are made on demand with Factory, up to Max; when all
// are busy, a request waits for one (at most MaxWait) and then gets 503.
// An instance is retired after TTL or MaxRequests requests, and an idle one
// after IdleTimeout; retired instances are closed when they are not busy.
//
// Reload replaces the instances with new ones without failing a request:
// the requests in flight finish on the old instances, which are closed as
// they come back; new requests get new instances. Watch triggers a reload
// on a signal or when a file changes.
//
// Set the fields before the first request; call Close when done, to close
// the instances and stop the collector.
type Pool struct {
	// Factory makes the instances. It is required.
	Factory Factory

	// Max is the most instances at once; the default is 8.
	Max int

	// TTL retires an instance this long after it was made; 0 means
	// never.
	TTL time.Duration

	// MaxRequests retires an instance after it served that many requests;
	// 0 means never.
	MaxRequests int

	// IdleTimeout retires an instance idle for that long; 0 means never.
	IdleTimeout time.Duration

	// MaxWait is how long a request waits for a busy pool; 0 means until
	// its client goes away.
	MaxWait time.Duration

	// Hub receives EventInstanceError, EventReload and EventRejected; nil
	// means filter.DefaultHub.
	Hub *filter.Hub

	once    sync.Once
	mu      sync.Mutex
	idle    []*instance // most recently used last
	total   int         // instances alive, busy or idle
	gen     uint64
	free    chan struct{} // a token per instance that may be taken or made
	stop    chan struct{}
	stopped sync.WaitGroup
	closed  bool
}

type instance struct {
	h      http.Handler
	gen    uint64
	born   time.Time
	used   time.Time
	served int
}

var _ http.Handler = (*Pool)(nil)

func (p *Pool) init() {
	p.once.Do(func() {
		if p.Factory == nil {
			panic("isolate: Pool.Factory is nil: set it to a function that makes the app")
		}
		if p.Max == 0 {
			p.Max = 8
		}
		if p.Max < 0 || p.TTL < 0 || p.MaxRequests < 0 || p.IdleTimeout < 0 || p.MaxWait < 0 {
			panic(fmt.Sprintf("isolate: Pool limits must not be negative (Max %d)", p.Max))
		}
		p.free = make(chan struct{}, p.Max)
		for range p.Max {
			p.free <- struct{}{}
		}
		p.stop = make(chan struct{})
		every := min(nonZero(p.TTL), nonZero(p.IdleTimeout))
		if every != maxDuration {
			p.stopped.Add(1)
			go p.collect(every / 2)
		}
	})
}

const maxDuration = time.Duration(1<<63 - 1)

func nonZero(d time.Duration) time.Duration {
	if d == 0 {
		return maxDuration
	}
	return d
}

// ServeHTTP serves r on an instance of the pool.
func (p *Pool) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.init()
	if reason := p.take(r); reason != "" {
		hub := hubOr(p.Hub)
		if hub.Enabled(EventRejected) {
			hub.Publish(EventRejected, r, RejectedEvent{Reason: reason})
		}
		const body = "Service Unavailable\n"
		writeError(w, r, http.StatusServiceUnavailable, body, strconv.Itoa(len(body)), "1")
		return
	}
	in, err := p.get()
	if err != nil {
		p.free <- struct{}{}
		instanceError(hubOr(p.Hub), w, r, err)
		return
	}
	defer p.done(in)
	in.h.ServeHTTP(w, r)
}

// done gives in back after its request; an instance whose request
// panicked is retired, as its state may be broken, and the panic goes on.
func (p *Pool) done(in *instance) {
	if v := recover(); v != nil {
		p.put(in, true)
		panic(v)
	}
	p.put(in, false)
}

// take waits for a free token; it returns why not when it gets none.
func (p *Pool) take(r *http.Request) string {
	select {
	case <-p.free:
		return ""
	default:
	}
	var timeout <-chan time.Time
	if p.MaxWait > 0 {
		t := time.NewTimer(p.MaxWait)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-p.free:
		return ""
	case <-r.Context().Done():
		return "gone"
	case <-timeout:
		return "wait"
	}
}

// get returns an idle instance of the current generation, or a new one.
// The caller holds a token.
func (p *Pool) get() (*instance, error) {
	p.mu.Lock()
	now := time.Now()
	for n := len(p.idle); n > 0; n = len(p.idle) {
		in := p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
		if p.live(in, now) {
			p.mu.Unlock()
			return in, nil
		}
		p.total--
		closeInstance(in)
	}
	gen := p.gen
	p.total++
	p.mu.Unlock()
	h, err := p.Factory()
	if err == nil && h == nil {
		err = errNilInstance
	}
	if err != nil {
		p.mu.Lock()
		p.total--
		p.mu.Unlock()
		return nil, err
	}
	return &instance{h: h, gen: gen, born: now, used: now}, nil
}

// live reports whether in may serve again; p.mu is held.
func (p *Pool) live(in *instance, now time.Time) bool {
	return !p.closed && in.gen == p.gen &&
		(p.TTL == 0 || now.Sub(in.born) < p.TTL) &&
		(p.MaxRequests == 0 || in.served < p.MaxRequests) &&
		(p.IdleTimeout == 0 || now.Sub(in.used) < p.IdleTimeout)
}

// put gives in back after a request and frees its token; a broken
// instance is closed.
func (p *Pool) put(in *instance, broken bool) {
	now := time.Now()
	in.served++
	in.used = now
	p.mu.Lock()
	if !broken && p.live(in, now) {
		p.idle = append(p.idle, in)
		in = nil
	} else {
		p.total--
	}
	p.mu.Unlock()
	if in != nil {
		closeInstance(in)
	}
	p.free <- struct{}{}
}

func closeInstance(in *instance) {
	if c, ok := in.h.(io.Closer); ok {
		_ = c.Close()
	}
}

// Reload makes one instance with Factory and, when that works, makes it
// the first of a new generation: idle old instances are closed now, busy
// ones when their request is done. When the factory fails, the old
// instances stay in service and Reload returns the error. Reload is safe
// to call at any time, from any goroutine.
func (p *Pool) Reload() error {
	p.init()
	h, err := p.Factory()
	if err == nil && h == nil {
		err = errNilInstance
	}
	hub := hubOr(p.Hub)
	if err != nil {
		hub.Publish(EventReload, nil, ReloadEvent{Generation: p.Generation(), Err: err})
		return err
	}
	now := time.Now()
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		closeInstance(&instance{h: h})
		return errors.New("isolate: Reload after Close")
	}
	p.gen++
	old := p.idle
	p.idle = nil
	p.total -= len(old)
	gen := p.gen
	if p.total < p.Max {
		p.idle = append(p.idle, &instance{h: h, gen: gen, born: now, used: now})
		p.total++
		h = nil
	}
	p.mu.Unlock()
	for _, in := range old {
		closeInstance(in)
	}
	if h != nil {
		closeInstance(&instance{h: h})
	}
	hub.Publish(EventReload, nil, ReloadEvent{Generation: gen})
	return nil
}

// Generation returns the number of successful reloads so far.
func (p *Pool) Generation() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.gen
}

// Instances returns the number of instances alive and how many of them are
// idle.
func (p *Pool) Instances() (alive, idle int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.total, len(p.idle)
}

// collect retires expired idle instances every so often, until Close.
func (p *Pool) collect(every time.Duration) {
	defer p.stopped.Done()
	t := time.NewTicker(max(every, time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case now := <-t.C:
			p.mu.Lock()
			keep := p.idle[:0]
			var gone []*instance
			for _, in := range p.idle {
				if p.live(in, now) {
					keep = append(keep, in)
				} else {
					gone = append(gone, in)
				}
			}
			clear(p.idle[len(keep):])
			p.idle = keep
			p.total -= len(gone)
			p.mu.Unlock()
			for _, in := range gone {
				closeInstance(in)
			}
		}
	}
}

// Close closes the idle instances and stops the collector; busy instances
// are closed when their request is done. The pool must not serve after
// Close.
func (p *Pool) Close() error {
	p.init()
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	old := p.idle
	p.idle = nil
	p.total -= len(old)
	p.mu.Unlock()
	close(p.stop)
	p.stopped.Wait()
	for _, in := range old {
		closeInstance(in)
	}
	return nil
}
