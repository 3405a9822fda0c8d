//go:build !unix

package browsertest

import (
	"os"
	"os/exec"
)

// ownProcessGroup does nothing where process groups are not available.
func ownProcessGroup(cmd *exec.Cmd) {}

// interruptGroup asks cmd to shut down.
func interruptGroup(cmd *exec.Cmd) error {
	return cmd.Process.Signal(os.Interrupt)
}

// killGroup kills cmd.
func killGroup(cmd *exec.Cmd) error {
	return cmd.Process.Kill()
}
