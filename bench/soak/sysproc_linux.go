package main

import "syscall"

// sysProcAttr makes a child get SIGTERM when the generator dies, so no
// Redis or showcase outlives an interrupted run.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
