//go:build unix && !linux

package isolate

import (
	"os/exec"
	"syscall"
)

// startWorker starts cmd in a process group of its own, so that the
// processes it starts are stopped with it; the worker applies its limits
// itself (ServeWorker does).
func startWorker(cmd *exec.Cmd, _ Limits) error {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return cmd.Start()
}
