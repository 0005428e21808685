//go:build unix

package worker

import (
	"os/exec"
	"syscall"
)

// setProcessGroup puts the worker in a process group of its own, so that
// killing it also kills what it started (a vLLM engine, a data loader).
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

func killProcessGroup(cmd *exec.Cmd) {
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	_ = cmd.Process.Kill()
}
