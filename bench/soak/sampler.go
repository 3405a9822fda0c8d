package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// saveGoroutines writes the showcase's goroutine profile to file, for a
// look at what stays after the load (KEEP=1 bench/soak.sh keeps it).
func saveGoroutines(addr, file string) {
	resp, err := debugClient.Get("http://" + addr + "/debug/pprof/goroutine?debug=1")
	if err != nil {
		return
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	os.WriteFile(file, b, 0o644)
}

// waitFor polls cond until it holds or d passed.
func waitFor(d time.Duration, cond func() bool) error {
	deadline := time.Now().Add(d)
	for {
		if cond() {
			return nil
		}
		if time.Now().After(deadline) {
			return errors.New("timed out")
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// waitGroup waits for wg at most d.
func waitGroup(wg *sync.WaitGroup, d time.Duration) error {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-time.After(d):
		return errors.New("timed out")
	}
}

// steadyVars reads goroutines and fds until three readings in a row agree
// (at most 15 s), and returns the last.
func steadyVars(addr string) (goroutines, fds int, err error) {
	same := 0
	lastG, lastFD := -1, -1
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		goroutines, fds, err = debugVars(addr)
		if err != nil {
			time.Sleep(200 * time.Millisecond)
			continue
		}
		if goroutines == lastG && fds == lastFD {
			same++
			if same == 2 {
				return goroutines, fds, nil
			}
		} else {
			same = 0
		}
		lastG, lastFD = goroutines, fds
		time.Sleep(500 * time.Millisecond)
	}
	if err != nil {
		return 0, 0, fmt.Errorf("debug listener: %w", err)
	}
	return goroutines, fds, nil
}

// sampler takes a sample every 5 s.
type sampler struct {
	g       *gen
	show    *showcase
	samples []Sample
}

func (s *sampler) run(stop <-chan struct{}) {
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	var lastN, last5 int64
	lastAt := time.Duration(0)
	take := func() {
		at := s.g.since()
		sm := Sample{At: at, RSS: rss(s.show.p.pid())}
		for _, w := range workers(s.show.p.pid()) {
			sm.WorkerRSS += rss(w)
		}
		gor, fds, err := debugVars(s.show.debug)
		if err != nil {
			gor, fds = -1, -1
		}
		sm.Goroutines, sm.FDs = gor, fds
		n, f := s.g.answered.Load(), s.g.fiveXX.Load()
		if at > lastAt {
			sm.Rate = float64(n-lastN) / (at - lastAt).Seconds()
		}
		sm.FiveXX = int(f - last5)
		lastN, last5, lastAt = n, f, at
		sm.TmpFiles, _ = countFiles(s.show.tmp)
		s.samples = append(s.samples, sm)
	}
	lastN = s.g.answered.Load()
	last5 = s.g.fiveXX.Load()
	take()
	for {
		select {
		case <-stop:
			take()
			return
		case <-t.C:
			take()
		}
	}
}
