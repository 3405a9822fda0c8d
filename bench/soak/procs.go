package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// proc is a child process the generator started.
type proc struct {
	name    string
	cmd     *exec.Cmd
	done    chan struct{} // closed when it exited
	err     error         // its Wait error, once done
	pidFile string
}

// start starts a child that dies with the generator, and writes its pid
// to pidFile (for bench/soak.sh's trap).
func start(name, pidFile string, cmd *exec.Cmd) (*proc, error) {
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, done: make(chan struct{}), pidFile: pidFile}
	if pidFile != "" {
		os.WriteFile(pidFile, []byte(strconv.Itoa(cmd.Process.Pid)+"\n"), 0o644)
	}
	go func() {
		p.err = cmd.Wait()
		if pidFile != "" {
			os.Remove(pidFile)
		}
		close(p.done)
	}()
	return p, nil
}

// stop sends sig and waits up to d for the process to exit. It returns
// whether it exited in time; it kills it otherwise.
func (p *proc) stop(sig os.Signal, d time.Duration) bool {
	select {
	case <-p.done:
		return true
	default:
	}
	p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
		return true
	case <-time.After(d):
		p.cmd.Process.Kill()
		<-p.done
		return false
	}
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

// redisServer is the generator's own Redis.
type redisServer struct {
	bin, dir, log string
	port          int
	p             *proc
}

// start starts Redis on its port and waits until it answers PING.
func (r *redisServer) start() error {
	logf, err := os.OpenFile(r.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(r.bin, "--port", strconv.Itoa(r.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", r.dir)
	cmd.Stdout, cmd.Stderr = logf, logf
	p, err := start("redis-server", filepath.Join(filepath.Dir(r.dir), "redis.pid"), cmd)
	if err != nil {
		return err
	}
	r.p = p
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if redisPing(r.addr()) == nil {
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("redis-server exited: %v (see %s)", p.err, r.log)
		case <-time.After(50 * time.Millisecond):
		}
	}
	return fmt.Errorf("redis-server on %s did not answer PING within 10s", r.addr())
}

func (r *redisServer) addr() string { return "127.0.0.1:" + strconv.Itoa(r.port) }

// redisPing sends PING and expects +PONG.
func redisPing(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := io.WriteString(c, "PING\r\n"); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if strings.TrimSpace(line) != "+PONG" {
		return fmt.Errorf("redis answered %q to PING", strings.TrimSpace(line))
	}
	return nil
}

// showcase is the app under test.
type showcase struct {
	p        *proc
	base     string // http://127.0.0.1:PORT
	password string
	token    string
	debug    string // the debug listener's address
	tmp      string // the upload temp dir
}

var (
	listeningRe = regexp.MustCompile(`^listening on (http://127\.0\.0\.1:\d+)/$`)
	passwordRe  = regexp.MustCompile(`^login as demo with password (\S+)$`)
	tokenRe     = regexp.MustCompile(`^API token: (\S+)$`)
)

// startShowcase starts the showcase and reads its start-up lines.
func startShowcase(bin string, args []string, stdoutPath, stderrPath, pidFile string) (*showcase, error) {
	cmd := exec.Command(bin, args...)
	errf, err := os.Create(stderrPath)
	if err != nil {
		return nil, err
	}
	cmd.Stderr = errf
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	p, err := start("showcase", pidFile, cmd)
	errf.Close()
	if err != nil {
		return nil, err
	}
	s := &showcase{p: p}
	outf, err := os.Create(stdoutPath)
	if err != nil {
		return nil, err
	}
	lines := make(chan string, 16)
	go func() {
		defer outf.Close()
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			fmt.Fprintln(outf, sc.Text())
			select {
			case lines <- sc.Text():
			default:
			}
		}
	}()
	timeout := time.After(30 * time.Second)
	for s.base == "" || s.password == "" || s.token == "" {
		select {
		case line, ok := <-lines:
			if !ok {
				p.stop(syscall.SIGKILL, time.Second)
				return nil, fmt.Errorf("showcase exited before its start-up lines (%v); see %s and %s", p.err, stdoutPath, stderrPath)
			}
			if m := listeningRe.FindStringSubmatch(line); m != nil {
				s.base = m[1]
			}
			if m := passwordRe.FindStringSubmatch(line); m != nil {
				s.password = m[1]
			}
			if m := tokenRe.FindStringSubmatch(line); m != nil {
				s.token = m[1]
			}
		case <-timeout:
			p.stop(syscall.SIGKILL, time.Second)
			return nil, fmt.Errorf("showcase printed no start-up lines within 30s; see %s and %s", stdoutPath, stderrPath)
		}
	}
	// Keep draining stdout.
	go func() {
		for range lines {
		}
	}()
	return s, nil
}

// children returns the pids of the process's children.
func children(pid int) []int {
	var out []int
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(f); err == nil {
				out = append(out, n)
			}
		}
	}
	return out
}

// workers returns the pids of the process's children that are isolate
// workers (WSAPI_ISOLATE_WORKER in their environment).
func workers(pid int) []int {
	var out []int
	for _, c := range children(pid) {
		env, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", c))
		if err != nil {
			continue
		}
		for _, kv := range bytes.Split(env, []byte{0}) {
			if bytes.HasPrefix(kv, []byte("WSAPI_ISOLATE_WORKER=")) {
				out = append(out, c)
				break
			}
		}
	}
	return out
}

// rss returns the process's VmRSS in bytes, 0 when unreadable.
func rss(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(rest)
			if len(f) >= 1 {
				kb, _ := strconv.ParseInt(f[0], 10, 64)
				return kb << 10
			}
		}
	}
	return 0
}

// debugClient asks the debug listener, without keep-alive: an idle
// connection would be one more goroutine and fd of the showcase's.
var debugClient = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

// debugVars reads goroutines and open_fds from the debug listener.
func debugVars(addr string) (goroutines, fds int, err error) {
	resp, err := debugClient.Get("http://" + addr + "/debug/vars")
	if err != nil {
		return -1, -1, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return -1, -1, fmt.Errorf("/debug/vars: %s", resp.Status)
	}
	var v struct {
		Goroutines *int `json:"goroutines"`
		FDs        *int `json:"open_fds"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		return -1, -1, fmt.Errorf("/debug/vars: %w", err)
	}
	if v.Goroutines == nil || v.FDs == nil {
		return -1, -1, errors.New("/debug/vars has no goroutines or open_fds")
	}
	return *v.Goroutines, *v.FDs, nil
}

// countFiles counts the files (not directories) under dir.
func countFiles(dir string) (n int, names []string) {
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
			if len(names) < 10 {
				names = append(names, p)
			}
		}
		return nil
	})
	return n, names
}

// freePort returns a port free on 127.0.0.1 now.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// machine describes this machine.
func machine(redisBin string) Machine {
	m := Machine{CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), Date: time.Now()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, redisBin, "--version").Output(); err == nil {
		m.Redis = strings.TrimSpace(string(out))
	}
	return m
}
