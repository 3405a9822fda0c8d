//go:build unix && !linux

package isolate

import "os/exec"

// startWorker starts cmd; the worker applies its limits itself
// (ServeWorker does).
func startWorker(cmd *exec.Cmd, _ Limits) error { return cmd.Start() }
