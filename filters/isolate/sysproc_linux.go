package isolate

import (
	"os/exec"
	"syscall"
	"unsafe"
)

// startWorker starts cmd in a process group of its own, so that the
// processes it starts are stopped with it, and so that it dies with this
// process; it sets its resource limits with prlimit right after it
// started, for commands that do not apply them themselves (ServeWorker
// does, before serving).
func startWorker(cmd *exec.Cmd, l Limits) error {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := cmd.Start(); err != nil {
		return err
	}
	pid := cmd.Process.Pid
	if l.AS > 0 {
		prlimit(pid, syscall.RLIMIT_AS, hardAbove(syscall.RLIMIT_AS, l.AS))
	}
	if l.CPU > 0 {
		prlimit(pid, syscall.RLIMIT_CPU, hardAbove(syscall.RLIMIT_CPU, l.CPU))
	}
	return nil
}

func prlimit(pid, resource int, lim syscall.Rlimit) {
	_, _, _ = syscall.RawSyscall6(syscall.SYS_PRLIMIT64, uintptr(pid), uintptr(resource),
		uintptr(unsafe.Pointer(&lim)), 0, 0, 0)
}
