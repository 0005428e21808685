package worker

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestWorkerDiesWithRelix starts a process that starts a worker which
// never reads its stdin (sleep), then SIGKILLs that process: the worker
// must go too, as a hung GPU worker must not outlive relix.
func TestWorkerDiesWithRelix(t *testing.T) {
	if _, err := exec.LookPath("sleep"); err != nil {
		t.Skip("no sleep command")
	}
	pidFile := filepath.Join(t.TempDir(), "worker.pid")
	parent := exec.Command(os.Args[0], "-test.run=^TestWorkerParentHelper$")
	parent.Env = append(os.Environ(), "RELIX_WORKER_PARENT="+pidFile)
	if err := parent.Run(); err == nil {
		t.Fatal("the helper was to kill itself")
	}
	data, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatalf("the helper wrote no worker pid: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for syscall.Kill(pid, 0) == nil {
		if time.Now().After(deadline) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("worker %d outlived its parent", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestWorkerParentHelper runs only in the process started above.
func TestWorkerParentHelper(t *testing.T) {
	pidFile := os.Getenv("RELIX_WORKER_PARENT")
	if pidFile == "" {
		t.Skip("helper process for TestWorkerDiesWithRelix")
	}
	p, err := startProc([]string{"sleep", "60"}, os.Environ(), newLogTail(io.Discard), DefaultMaxMessage)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pidFile, []byte(strconv.Itoa(p.cmd.Process.Pid)), 0o644); err != nil {
		t.Fatal(err)
	}
	self, _ := os.FindProcess(os.Getpid())
	_ = self.Kill() // SIGKILL: nothing of relix runs after this
	select {}
}
