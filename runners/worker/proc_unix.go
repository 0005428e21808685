//go:build unix

package worker

import (
	"os/exec"
	"syscall"
)

// setProcessGroup puts the worker in a process group of its own, so that
// killing it also kills what it started (a vLLM engine, a data loader).
// Where the system has a parent-death signal (Linux), the worker is also
// killed when relix dies, even by SIGKILL: a hung worker on a GPU box
// would otherwise keep the GPU's memory.
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	dieWithParent(cmd.SysProcAttr)
}

func killProcessGroup(cmd *exec.Cmd) {
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	_ = cmd.Process.Kill()
}
