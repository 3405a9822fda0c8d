package isolate

import (
	"context"
	"sync"
	"time"

	"github.com/wsapi-go/wsapi/filter"
)

// The request's context under a Deadline is the request's deadlineState
// itself, so a deadline costs one allocation, not a context, a timer and a
// closure. It ends at the deadline (with context.DeadlineExceeded), when
// its parent ends (with the parent's error), or when the request is
// finished (with context.Canceled), as a context.WithDeadline would.
//
// It learns of its parent's end lazily: Err asks the parent, and the
// first Done or AfterFunc registers with it. Contexts derived from it
// (context.WithCancel, context.AfterFunc) find its AfterFunc method and
// start no goroutine.

// cancelCtxKey is the context package's private key for its cancelCtx;
// Value answers nil for it, so context.Cause falls back to Err instead of
// reporting the parent's cause.
var cancelCtxKey = filter.LookupKey(func(ctx context.Context) { _ = context.Cause(ctx) })

type afterFunc struct {
	f func()
}

// ctxState is the context part of a deadlineState.
type ctxState struct {
	parent     context.Context
	deadline   time.Time
	mu         sync.Mutex
	err        error
	done       chan struct{}
	stopParent func() bool
	afters     []*afterFunc
}

func (s *ctxState) Deadline() (time.Time, bool) {
	if d, ok := s.parent.Deadline(); ok && d.Before(s.deadline) {
		return d, true
	}
	return s.deadline, true
}

func (s *ctxState) Done() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done == nil {
		s.done = make(chan struct{})
		if s.err != nil {
			close(s.done)
		} else {
			s.watchParent()
		}
	}
	return s.done
}

// watchParent registers with the parent once; s.mu is held.
func (s *ctxState) watchParent() {
	if s.stopParent == nil && s.parent.Done() != nil {
		s.stopParent = context.AfterFunc(s.parent, func() { s.cancel(s.parent.Err()) })
	}
}

func (s *ctxState) Err() error {
	s.mu.Lock()
	err := s.err
	s.mu.Unlock()
	if err != nil {
		return err
	}
	if err = s.parent.Err(); err != nil {
		s.cancel(err)
		return s.Err()
	}
	return nil
}

func (s *ctxState) Value(key any) any {
	if key == cancelCtxKey {
		return nil
	}
	return s.parent.Value(key)
}

// AfterFunc runs f on its own goroutine once the context ends, as
// context.AfterFunc does; the context package finds it, so contexts
// derived from this one need no goroutine of their own.
func (s *ctxState) AfterFunc(f func()) (stop func() bool) {
	a := &afterFunc{f: f}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		go f()
		return func() bool { return false }
	}
	s.watchParent()
	s.afters = append(s.afters, a)
	return func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		for i, b := range s.afters {
			if b == a {
				s.afters = append(s.afters[:i], s.afters[i+1:]...)
				return true
			}
		}
		return false
	}
}

// cancel ends the context with err; the first error stays.
func (s *ctxState) cancel(err error) {
	s.mu.Lock()
	if s.err != nil {
		s.mu.Unlock()
		return
	}
	s.err = err
	if s.done != nil {
		close(s.done)
	}
	afters, stop := s.afters, s.stopParent
	s.afters, s.stopParent = nil, nil
	s.mu.Unlock()
	if stop != nil {
		stop()
	}
	for _, a := range afters {
		go a.f()
	}
}

func (s *ctxState) String() string { return "isolate.Deadline context" }
