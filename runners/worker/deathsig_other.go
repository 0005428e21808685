//go:build unix && !linux

package worker

import "syscall"

// dieWithParent does nothing where there is no parent-death signal: the
// worker then outlives a relix killed by SIGKILL.
func dieWithParent(*syscall.SysProcAttr) {}
