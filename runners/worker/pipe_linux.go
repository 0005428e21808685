//go:build linux

package worker

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// pipeSize is the buffer asked for each of a worker's pipes: the kernel's
// default maximum for an unprivileged process (/proc/sys/fs/pipe-max-size).
const pipeSize = 1 << 20

// widenPipe asks the kernel for a pipe buffer of size bytes. Refused (a
// lower pipe-max-size, a user over its pipe quota), the pipe keeps its
// 64 KiB: only speed depends on it.
func widenPipe(f syscall.Conn, size int) {
	raw, err := f.SyscallConn()
	if err != nil {
		return
	}
	_ = raw.Control(func(fd uintptr) {
		_, _ = unix.FcntlInt(fd, unix.F_SETPIPE_SZ, size)
	})
}
