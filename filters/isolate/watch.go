package isolate

import (
	"context"
	"os"
	"os/signal"
	"time"
)

// A Reloader rebuilds its app's instances; Pool is one.
type Reloader interface {
	Reload() error
}

// Watch calls r.Reload when one of signals arrives, and when one of files
// changes (its size, modification time or existence, checked every
// interval; 0 means every second), until ctx ends. It returns ctx's error.
// A failed reload keeps the old instances; onError, when not nil, hears of
// it.
//
//	go isolate.Watch(ctx, pool, 0, []string{"app.conf"}, onError, syscall.SIGHUP)
func Watch(ctx context.Context, r Reloader, interval time.Duration, files []string, onError func(error), signals ...os.Signal) error {
	if interval <= 0 {
		interval = time.Second
	}
	var sigc chan os.Signal
	if len(signals) > 0 {
		sigc = make(chan os.Signal, 1)
		signal.Notify(sigc, signals...)
		defer signal.Stop(sigc)
	}
	var tick <-chan time.Time
	seen := make([]fileStamp, len(files))
	if len(files) > 0 {
		for i, f := range files {
			seen[i] = stampOf(f)
		}
		t := time.NewTicker(interval)
		defer t.Stop()
		tick = t.C
	}
	reload := func() {
		if err := r.Reload(); err != nil && onError != nil {
			onError(err)
		}
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-sigc:
			reload()
		case <-tick:
			changed := false
			for i, f := range files {
				if st := stampOf(f); st != seen[i] {
					seen[i], changed = st, true
				}
			}
			if changed {
				reload()
			}
		}
	}
}

// fileStamp is what Watch compares to see a file change.
type fileStamp struct {
	exists bool
	size   int64
	mod    time.Time
}

func stampOf(name string) fileStamp {
	fi, err := os.Stat(name)
	if err != nil {
		return fileStamp{}
	}
	return fileStamp{exists: true, size: fi.Size(), mod: fi.ModTime()}
}
