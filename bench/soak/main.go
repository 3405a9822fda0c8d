// Command soak puts examples/showcase under a long, mixed load with faults,
// and writes a report: bench/soak.sh builds and runs it.
//
// It starts its own redis-server (no persistence) and the showcase (sessions
// and brute-force counts in that Redis, two isolate workers, an access log, a
// debug listener), then runs virtual users for the duration: each has one
// keep-alive connection and its own cookie jar, logs in as demo, and loops
// over page views, form uploads whose message goes through the session
// (a flash), JSON uploads that it downloads, compares and deletes, uploads
// one byte over the limit (413), /stream (served by the isolate workers),
// API calls with the bearer token, logouts and logins, a few bad logins,
// health checks, and uploads whose client hangs up in the middle of the
// body. Every answer is checked: the status expected for its type and the
// body.
//
// Meanwhile it injects faults, each with a window from the fault to the
// recovery plus a grace period: Redis stopped and started again on the
// same port (the sessions are lost: the users log in again), and an isolate
// worker killed with SIGKILL (the supervisor starts another). Every 5 s it
// samples the showcase's RSS, goroutines and open fds, the request rate and
// the 5xx count.
//
// At the end it waits for the server to settle and checks: goroutines and
// open fds back near where they were before the load, RSS flat, no file left
// in the upload temp dir, no 5xx and no wrong answer outside the fault
// windows, one access-log line per request that reached the server, the
// showcase and Redis healthy, and a clean exit (status 0) on SIGTERM within
// the shutdown grace. It writes the report as Markdown (-report), the RSS
// chart as SVG (-svg) and a summary on stdout, and exits with status 1 when a
// check fails.
//
//	go build -o /tmp/showcase ./examples/showcase
//	go run ./bench/soak -showcase /tmp/showcase -work "$(mktemp -d)" -duration 30s
package main

import (
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// config holds the command line.
type config struct {
	showcase, redisBin, work string
	duration, think          time.Duration
	conns                    int
	maxUpload                string
	password                 string
	grace, redisDown         time.Duration
	faults                   int
	badLogins                int
	report, svg              string
	gSlack, fdSlack          int
	settle                   time.Duration
	rssLimit                 float64
	unlogged                 string
}

func main() {
	var c config
	flag.StringVar(&c.showcase, "showcase", "", "the built showcase binary (required)")
	flag.StringVar(&c.redisBin, "redis-server", "redis-server", "the redis-server program")
	flag.StringVar(&c.work, "work", "", "a directory for Redis, the showcase's data and logs (required)")
	flag.DurationVar(&c.duration, "duration", 5*time.Minute, "how long the load runs")
	flag.IntVar(&c.conns, "conns", 256, "virtual users, one connection each")
	flag.DurationVar(&c.think, "think", 100*time.Millisecond, "each user pauses a random time from 0 to this between actions")
	flag.StringVar(&c.maxUpload, "max-upload", "1MiB", "the showcase's -max-upload")
	flag.StringVar(&c.password, "password", "soak-demo-password", "the demo user's password")
	flag.DurationVar(&c.grace, "grace", 3*time.Second, "the grace period after each fault's recovery")
	flag.DurationVar(&c.redisDown, "redis-down", 10*time.Second, "how long Redis stays stopped (at most a sixth of the run)")
	flag.IntVar(&c.faults, "faults", 0, "faults of each kind; 0 means one per 100 s of run, 1 to 3")
	flag.IntVar(&c.badLogins, "bad-logins", 20, "bad logins over the whole run (the client's brute-force limit is 50 in 15 minutes)")
	flag.StringVar(&c.report, "report", "bench/soak-report.md", "the Markdown report to write")
	flag.StringVar(&c.svg, "svg", "bench/soak-rss.svg", "the RSS chart to write; empty for none")
	flag.IntVar(&c.gSlack, "goroutine-slack", 4, "allowed growth of goroutines after the load")
	flag.IntVar(&c.fdSlack, "fd-slack", -1, "allowed growth of open fds after the load; -1 means 2 Redis pools of 10 per CPU, plus 10")
	flag.DurationVar(&c.settle, "settle", 90*time.Second, "the longest wait for goroutines and fds to settle after the load")
	flag.Float64Var(&c.rssLimit, "rss-limit", 0.20, "allowed RSS growth from the second minute to the last")
	flag.StringVar(&c.unlogged, "unlogged", "/healthz", "paths the showcase does not log by design (its logging filter's Skip), comma-separated")
	flag.Parse()
	if c.showcase == "" || c.work == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: soak -showcase BINARY -work DIR [-duration 5m] [-conns 256]")
		flag.PrintDefaults()
		os.Exit(2)
	}
	if c.duration < 10*time.Second || c.conns < 1 {
		log.Fatal("soak: -duration must be at least 10s and -conns at least 1")
	}
	if c.fdSlack < 0 {
		c.fdSlack = 2*10*runtime.NumCPU() + 10
	}
	log.SetFlags(log.Ltime)
	log.SetPrefix("soak: ")
	ok, err := run(c)
	if err != nil {
		log.Fatal(err)
	}
	if !ok {
		os.Exit(1)
	}
}

// parseSize reads 1048576, 1KiB, 1MiB or 1GiB.
func parseSize(s string) (int64, error) {
	mult := int64(1)
	for suffix, m := range map[string]int64{"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30} {
		if rest, ok := strings.CutSuffix(s, suffix); ok {
			s, mult = rest, m
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("bad size %q", s)
	}
	return n * mult, nil
}

// run does the whole soak; it returns whether every check passed, or an
// error when the soak could not be run.
func run(c config) (bool, error) {
	maxUpload, err := parseSize(c.maxUpload)
	if err != nil {
		return false, err
	}
	redisBin, err := exec.LookPath(c.redisBin)
	if err != nil {
		return false, fmt.Errorf("redis-server not found (apt-get install redis-server): %w", err)
	}
	// On SIGINT or SIGTERM, at any stage: stop the children and exit.
	var sigMu sync.Mutex
	var onSignal []func()
	atSignal := func(f func()) { sigMu.Lock(); onSignal = append(onSignal, f); sigMu.Unlock() }
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go func() {
		sig, ok := <-sigs
		if !ok {
			return
		}
		log.Printf("%v: stopping the showcase and Redis; no report", sig)
		sigMu.Lock()
		for i := len(onSignal) - 1; i >= 0; i-- {
			onSignal[i]()
		}
		os.Exit(130)
	}()

	// Redis.
	redisPort, err := freePort()
	if err != nil {
		return false, err
	}
	rd := &redisServer{bin: redisBin, dir: filepath.Join(c.work, "redis"), log: filepath.Join(c.work, "redis.log"), port: redisPort}
	if err := os.MkdirAll(rd.dir, 0o755); err != nil {
		return false, err
	}
	if err := rd.start(); err != nil {
		return false, err
	}
	defer func() { rd.p.stop(syscall.SIGTERM, 10*time.Second) }()
	atSignal(func() { rd.p.stop(syscall.SIGTERM, 5*time.Second) })

	// The showcase.
	debugPort, err := freePort()
	if err != nil {
		return false, err
	}
	data := filepath.Join(c.work, "data")
	tmp := filepath.Join(data, "tmp")
	accessLog := filepath.Join(c.work, "access.log")
	args := []string{
		"-addr", "127.0.0.1:0", "-redis", rd.addr(), "-data", data, "-tmp", tmp, "-workers", "2",
		"-password", c.password, "-access-log", accessLog,
		"-debug-addr", "127.0.0.1:" + strconv.Itoa(debugPort), "-max-upload", c.maxUpload,
	}
	log.Printf("starting %s %s", c.showcase, strings.Join(args, " "))
	show, err := startShowcase(c.showcase, args, filepath.Join(c.work, "showcase.out"), filepath.Join(c.work, "showcase.err"), filepath.Join(c.work, "showcase.pid"))
	if err != nil {
		return false, err
	}
	show.debug = "127.0.0.1:" + strconv.Itoa(debugPort)
	show.tmp = tmp
	defer func() { show.p.stop(syscall.SIGKILL, 5*time.Second) }()
	atSignal(func() { show.p.stop(syscall.SIGTERM, 5*time.Second) })
	log.Printf("showcase on %s (pid %d), redis on %s, debug on %s", show.base, show.p.pid(), rd.addr(), show.debug)

	g := newGen(show.base, show.password, show.token, maxUpload, c.think)
	g.start = time.Now()
	g.evidence = filepath.Join(c.work, "failures")
	if err := os.MkdirAll(g.evidence, 0o755); err != nil {
		return false, err
	}
	if c.badLogins > 0 {
		g.badEvery = c.duration / time.Duration(c.badLogins)
		g.nextBad.Store(int64(g.badEvery / 2))
	} else {
		g.nextBad.Store(int64(100 * c.duration))
	}

	// Before the load: the server is healthy, its workers up, and its
	// goroutines and fds at rest.
	if r := g.controlGet(KindHealth, "/healthz", checkHealth); r.Problem != "" {
		return false, fmt.Errorf("the showcase is not healthy before the load: %s", r.Problem)
	}
	if err := waitFor(30*time.Second, func() bool { return len(workers(show.p.pid())) == 2 }); err != nil {
		return false, fmt.Errorf("the showcase did not start 2 workers: %v", workers(show.p.pid()))
	}
	baseG, baseFD, err := steadyVars(show.debug)
	if err != nil {
		return false, err
	}
	log.Printf("before the load: %d goroutines, %d open fds", baseG, baseFD)
	saveGoroutines(show.debug, filepath.Join(c.work, "goroutines-before.txt"))

	// The load.
	n := c.faults
	if n == 0 {
		n = min(max(int((c.duration+50*time.Second)/(100*time.Second)), 1), 3)
	}
	down := min(c.redisDown, c.duration/6)
	plan := PlanFaults(c.duration, n, down)
	in := &injector{g: g, redis: rd, show: show, down: down, grace: c.grace}
	stopFaults := make(chan struct{})
	var bg sync.WaitGroup

	g.start = time.Now()
	samples := &sampler{g: g, show: show}
	stopSamples := make(chan struct{})
	bg.Add(1)
	go func() { defer bg.Done(); samples.run(stopSamples) }()
	bg.Add(1)
	go func() { defer bg.Done(); in.run(plan, stopFaults) }()

	users := make([]*vu, c.conns)
	var wg sync.WaitGroup
	for i := range users {
		users[i] = newVU(g, i+1)
		wg.Add(1)
		go func() { defer wg.Done(); users[i].run() }()
	}
	log.Printf("%d users for %v; faults: %v", c.conns, c.duration, plan)
	time.Sleep(c.duration)
	loadEnd := g.since()
	g.stopping.Store(true)
	close(stopFaults)
	if err := waitGroup(&wg, 2*time.Minute); err != nil {
		return false, errors.New("the users did not stop within 2 minutes of the end of the load")
	}
	close(stopSamples)
	bg.Wait()
	log.Printf("load done after %v; %d requests", loadEnd, len(g.records()))

	// After the load: let the server settle.
	closeIdle(users)
	quietStart := time.Now()
	var endG, endFD int
	waitFor(c.settle, func() bool {
		// Wait for the goroutines to come all the way back (the worker
		// proxy's idle connections close after a minute); the check
		// then allows the slack.
		endG, endFD, err = debugVars(show.debug)
		return err == nil && endG <= baseG && endFD <= baseFD+c.fdSlack
	})
	quiet := time.Since(quietStart)
	saveGoroutines(show.debug, filepath.Join(c.work, "goroutines-after.txt"))
	tmpFiles, tmpNames := countFiles(tmp)
	hr := g.controlGet(KindHealth, "/healthz", checkHealth)
	redisErr := redisPing(rd.addr())

	// Shut the showcase down.
	shutStart := time.Now()
	inTime := show.p.stop(syscall.SIGTERM, 15*time.Second)
	shutTook := time.Since(shutStart)
	exitErr := show.p.err
	rd.p.stop(syscall.SIGTERM, 10*time.Second)

	// The report.
	f, err := os.Open(accessLog)
	if err != nil {
		return false, err
	}
	alog, err := ParseAccessLog(f)
	f.Close()
	if err != nil {
		return false, fmt.Errorf("reading %s: %w", accessLog, err)
	}
	records := g.records()
	windows := in.Windows()
	if err := writeRecords(filepath.Join(c.work, "records.tsv"), records, windows); err != nil {
		return false, err
	}
	sum := Summarize(records, windows)
	rep := &Report{
		Machine:  machine(redisBin),
		Duration: loadEnd,
		Conns:    c.conns,
		Think:    c.think,
		Summary:  sum,
		Windows:  windows,
		Samples:  samples.samples,
		Settings: []string{
			fmt.Sprintf("showcase | -workers 2 -max-upload %s, sessions and brute-force counts in Redis, access log to a file, debug listener on", c.maxUpload),
			fmt.Sprintf("faults | Redis stopped for %v, %d times; an isolate worker killed, %d times; grace %v after each recovery; uploads dropped mid-body all along", down, n, n, c.grace),
		},
	}
	five := Check{Name: "no 5xx outside the fault windows", Pass: len(sum.FiveXXOutside) == 0}
	five.Detail = fmt.Sprintf("%d 5xx outside, %d requests excused inside the windows", len(sum.FiveXXOutside), sum.Outcomes[Fault])
	wrong := Check{Name: "every answer right outside the fault windows", Pass: len(sum.FailedOutside) == 0}
	wrong.Detail = fmt.Sprintf("%d wrong answers or broken connections outside the windows (5xx counted above); %d other answers explained (%s)",
		len(sum.FailedOutside), sum.Outcomes[Expected], excuses(records))
	rep.Checks = append(rep.Checks, five, wrong)
	rep.Checks = append(rep.Checks,
		SettleCheck("goroutines settle", baseG, endG, c.gSlack, goroutineSlackWhy),
		SettleCheck("open fds settle", baseFD, endFD, c.fdSlack, fdSlackWhy),
	)
	rep.Notes = append(rep.Notes, fmt.Sprintf("After the load the generator closed its connections and waited %s (at most %v) for the goroutines to come back to their count before the load and the fds within their slack. "+
		"The isolate workers' reverse proxy keeps idle connections to the workers for a minute (IdleConnTimeout), two goroutines and one fd each, so the wait is about a minute.", secs(quiet), c.settle))
	rep.Checks = append(rep.Checks, RSSCheck(samples.samples, loadEnd, c.rssLimit))
	tc := Check{Name: "no temp files left", Pass: tmpFiles == 0, Detail: fmt.Sprintf("%d files in the -tmp dir after the load", tmpFiles)}
	if tmpFiles > 0 {
		tc.Detail += ": " + strings.Join(tmpNames, ", ")
	}
	rep.Checks = append(rep.Checks, tc, AccessCheck(records, alog, strings.Split(c.unlogged, ",")))
	health := Check{Name: "healthy at the end", Pass: hr.Problem == "" && redisErr == nil}
	health.Detail = "showcase /healthz: " + orOK(hr.Problem) + "; Redis PING: " + orOK(errString(redisErr))
	rep.Checks = append(rep.Checks, health)
	exit := Check{Name: "clean exit on SIGTERM", Pass: inTime && exitErr == nil && shutTook <= 10*time.Second}
	exit.Detail = fmt.Sprintf("exited after %s (shutdown grace 10 s): %s", secs(shutTook), exitStatus(exitErr, inTime))
	rep.Checks = append(rep.Checks, exit)
	fc := Check{Name: "faults injected and recovered", Pass: len(in.errs) == 0 && len(windows) == 2*n}
	fc.Detail = fmt.Sprintf("%d windows of %d planned", len(windows), 2*n)
	if len(in.errs) > 0 {
		fc.Detail += ": " + strings.Join(in.errs, "; ")
	}
	rep.Checks = append(rep.Checks, fc)
	rep.Notes = append(rep.Notes, logNotes(records, alog, c.badLogins)...)

	if c.svg != "" {
		if err := os.WriteFile(c.svg, []byte(RSSChart(samples.samples, windows, loadEnd, "examples/showcase RSS under the soak")), 0o644); err != nil {
			return false, err
		}
		rep.SVG = filepath.Base(c.svg)
	}
	out, err := os.Create(c.report)
	if err != nil {
		return false, err
	}
	rep.WriteMarkdown(out)
	if err := out.Close(); err != nil {
		return false, err
	}
	rep.WriteSummary(os.Stdout)
	fmt.Printf("report: %s\n", c.report)
	return rep.Passed(), nil
}
