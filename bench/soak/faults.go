package main

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"syscall"
	"time"
)

// A fault kind.
const (
	faultRedis  = "redis"
	faultWorker = "worker"
)

// PlannedFault is a fault to inject at a time of the run.
type PlannedFault struct {
	At   time.Duration
	Kind string
}

// PlanFaults spreads n faults of each kind evenly over a run of d, Redis
// and worker kills alternately: none in the first tenth (the users are
// still logging in), and the last early enough to leave room for an outage
// of down and its recovery before the end.
func PlanFaults(d time.Duration, n int, down time.Duration) []PlannedFault {
	if n <= 0 || d <= 0 {
		return nil
	}
	// Usable span: from 10% of the run to the end less an outage and a
	// grace period.
	from := d / 10
	to := d - down - 5*time.Second
	if to <= from {
		to = from + 1
	}
	span := to - from
	var out []PlannedFault
	for i := range 2 * n {
		at := from + span*time.Duration(i)/time.Duration(2*n)
		kind := faultRedis
		if i%2 == 1 {
			kind = faultWorker
		}
		out = append(out, PlannedFault{At: at, Kind: kind})
	}
	return out
}

// injector injects the faults and records their windows.
type injector struct {
	g     *gen
	redis *redisServer
	show  *showcase
	down  time.Duration // how long Redis stays down
	grace time.Duration

	mu      sync.Mutex
	windows []Window
	counts  map[string]int
	errs    []string
}

func (in *injector) add(w Window) {
	in.mu.Lock()
	in.windows = append(in.windows, w)
	in.mu.Unlock()
}

// Windows returns the windows so far, in time order.
func (in *injector) Windows() []Window {
	in.mu.Lock()
	defer in.mu.Unlock()
	w := slices.Clone(in.windows)
	slices.SortFunc(w, func(a, b Window) int { return int(a.Start - b.Start) })
	return w
}

func (in *injector) fail(format string, args ...any) {
	in.mu.Lock()
	in.errs = append(in.errs, fmt.Sprintf(format, args...))
	in.mu.Unlock()
}

// run injects the plan's faults at their times, until stop is closed.
func (in *injector) run(plan []PlannedFault, stop <-chan struct{}) {
	in.counts = map[string]int{}
	for _, f := range plan {
		wait := f.At - in.g.since()
		if wait > 0 {
			select {
			case <-stop:
				return
			case <-time.After(wait):
			}
		}
		in.counts[f.Kind]++
		switch f.Kind {
		case faultRedis:
			in.redisOutage(in.counts[f.Kind], stop)
		case faultWorker:
			in.killWorker(in.counts[f.Kind])
		}
	}
}

// redisOutage stops Redis (SIGTERM; no persistence, so the sessions and
// brute-force counts are gone), waits, and starts it again on the same
// port.
func (in *injector) redisOutage(n int, stop <-chan struct{}) {
	g := in.g
	w := Window{Name: fmt.Sprintf("redis stopped #%d", n), Grace: in.grace}
	w.Start = g.since()
	g.lastOutage.Store(int64(w.Start))
	if !in.redis.p.stop(syscall.SIGTERM, 10*time.Second) {
		in.fail("redis did not exit within 10s of SIGTERM; killed")
	}
	stopped := g.since()
	// Until it exited, Redis still saved sessions (a login just after
	// the SIGTERM): they are lost too.
	g.lastOutage.Store(int64(stopped))
	select {
	case <-stop:
	case <-time.After(in.down):
	}
	restart := g.since()
	if err := in.redis.start(); err != nil {
		in.fail("redis restart #%d: %v", n, err)
		w.End = g.since()
		w.Note = "restart failed: " + err.Error()
		in.add(w)
		return
	}
	w.End = g.since()
	w.Note = fmt.Sprintf("SIGTERM, exited after %s; restarted at %s, answering PING after %s; sessions lost",
		secs(stopped-w.Start), secs(restart), secs(w.End-restart))
	in.add(w)
}

// killWorker kills one isolate worker with SIGKILL and waits until the
// supervisor has started a new one.
func (in *injector) killWorker(n int) {
	g := in.g
	w := Window{Name: fmt.Sprintf("worker killed #%d", n), Grace: in.grace}
	before := workers(in.show.p.pid())
	if len(before) == 0 {
		in.fail("worker kill #%d: the showcase has no worker processes", n)
		return
	}
	victim := before[rand.IntN(len(before))]
	w.Start = g.since()
	if err := syscall.Kill(victim, syscall.SIGKILL); err != nil {
		in.fail("worker kill #%d: %v", n, err)
		return
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		now := workers(in.show.p.pid())
		if len(now) >= len(before) && !slices.Contains(now, victim) {
			w.End = g.since()
			w.Note = fmt.Sprintf("SIGKILL to pid %d; replacement %v seen after %s", victim, newPIDs(now, before), secs(w.End-w.Start))
			break
		}
		if time.Now().After(deadline) {
			w.End = g.since()
			w.Note = fmt.Sprintf("SIGKILL to pid %d; no replacement within 30s (workers now %v)", victim, now)
			in.fail("worker kill #%d: no replacement worker within 30s", n)
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	in.add(w)
}

// newPIDs returns the pids of now that are not in before.
func newPIDs(now, before []int) []int {
	var out []int
	for _, p := range now {
		if !slices.Contains(before, p) {
			out = append(out, p)
		}
	}
	return out
}
