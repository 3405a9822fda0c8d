//go:build !linux

package main

import "syscall"

// sysProcAttr: nothing to set outside Linux (the soak needs /proc anyway).
func sysProcAttr() *syscall.SysProcAttr { return nil }
