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
// When the factory fails, a request that needs a new instance waits for
// one of the instances alive to come back, as when all are busy (at most
// MaxWait, or until its client goes away), and gets 503 only when none is
// alive or the wait is over. Retired instances are not kept in service:
// with a factory that keeps failing, the pool shrinks as they retire.
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
	back    chan struct{} // closed when an instance comes back or goes; nil when nobody waits
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
	// The token is given back here until put takes it over: also when the
	// factory or an instance's Close panics.
	held := true
	defer func() {
		if held {
			p.free <- struct{}{}
		}
	}()
	in, err := p.get(r)
	if err != nil {
		instanceError(hubOr(p.Hub), w, r, err)
		return
	}
	held = false
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
// The caller holds a token. When the factory fails while other instances
// are alive, get waits for one of them to come back (at most MaxWait, and
// not after the client went away) rather than failing the request.
func (p *Pool) get(r *http.Request) (*instance, error) {
	var failed error
	var timeout <-chan time.Time
	for {
		now := time.Now()
		p.mu.Lock()
		in, expired := p.popIdle(now)
		var back chan struct{}
		switch {
		case in != nil:
		case failed == nil:
			p.total++ // the instance about to be made
		case p.total > 0:
			if p.back == nil {
				p.back = make(chan struct{})
			}
			back = p.back
		}
		gen := p.gen
		p.mu.Unlock()
		for _, old := range expired {
			p.closeInstance(old)
		}
		switch {
		case in != nil:
			return in, nil
		case failed == nil:
			if in, failed = p.make(gen, now); failed == nil {
				return in, nil
			}
			continue
		case back == nil:
			return nil, failed // no instance left to wait for
		}
		if timeout == nil && p.MaxWait > 0 {
			t := time.NewTimer(p.MaxWait)
			defer t.Stop()
			timeout = t.C
		}
		select {
		case <-back:
		case <-timeout:
			return nil, failed
		case <-r.Context().Done():
			return nil, failed
		}
	}
}

// popIdle takes the most recently used live idle instance, and returns the
// expired ones it removed on the way, for the caller to close once p.mu
// is unlocked. p.mu is held.
func (p *Pool) popIdle(now time.Time) (in *instance, expired []*instance) {
	for n := len(p.idle); n > 0; n = len(p.idle) {
		in := p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
		if p.live(in, now) {
			return in, expired
		}
		p.total--
		expired = append(expired, in)
	}
	return nil, expired
}

// make makes an instance of generation gen with the factory. p.total
// counts it already, and is set back when the factory fails or panics.
func (p *Pool) make(gen uint64, now time.Time) (*instance, error) {
	made := false
	defer func() {
		if !made {
			p.mu.Lock()
			p.total--
			p.wake()
			p.mu.Unlock()
		}
	}()
	h, err := p.Factory()
	if err == nil && h == nil {
		err = errNilInstance
	}
	if err != nil {
		return nil, err
	}
	made = true
	return &instance{h: h, gen: gen, born: now, used: now}, nil
}

// wake wakes the requests waiting for an instance to come back. p.mu is
// held.
func (p *Pool) wake() {
	if p.back != nil {
		close(p.back)
		p.back = nil
	}
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
	defer func() { p.free <- struct{}{} }()
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
	p.wake()
	p.mu.Unlock()
	if in != nil {
		p.closeInstance(in)
	}
}

// closeInstance closes in when it is an io.Closer. A panic in Close is
// contained and published as EventInstanceError, so that it cannot break
// the pool's bookkeeping or kill its collector.
func (p *Pool) closeInstance(in *instance) {
	c, ok := in.h.(io.Closer)
	if !ok {
		return
	}
	defer func() {
		if v := recover(); v != nil {
			hubOr(p.Hub).Publish(EventInstanceError, nil, fmt.Errorf("isolate: an instance's Close panicked: %v", v))
		}
	}()
	_ = c.Close()
}

// Reload makes one instance with Factory and, when that works, makes it
// the first of a new generation: idle old instances are closed now, busy
// ones when their request is done (until then, one more than Max may be
// alive, never more than Max busy). When the factory fails, nothing
// changes and Reload returns the error. Reload is safe
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
		p.closeInstance(&instance{h: h})
		return errors.New("isolate: Reload after Close")
	}
	p.gen++
	old := p.idle
	p.idle = nil
	p.total -= len(old)
	gen := p.gen
	// The new instance goes into service even when all Max are busy: until
	// the old ones come back, there is one more than Max alive (but never
	// more than Max busy). So a factory that fails after a reload still
	// leaves an instance of the current generation.
	p.idle = append(p.idle, &instance{h: h, gen: gen, born: now, used: now})
	p.total++
	p.wake()
	p.mu.Unlock()
	for _, in := range old {
		p.closeInstance(in)
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
			if len(gone) > 0 {
				p.wake()
			}
			p.mu.Unlock()
			for _, in := range gone {
				p.closeInstance(in)
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
	p.wake()
	p.mu.Unlock()
	close(p.stop)
	p.stopped.Wait()
	for _, in := range old {
		p.closeInstance(in)
	}
	return nil
}
