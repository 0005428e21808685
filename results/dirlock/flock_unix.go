//go:build unix

package dirlock

import (
	"errors"
	"os"
	"syscall"
)

var errWouldBlock = syscall.EWOULDBLOCK

func openLockFile(path string, create bool) (*os.File, error) {
	// O_NOFOLLOW: a results directory may come from someone else, and a
	// lock file that is a link would have relix truncate the link's target.
	flags := os.O_RDWR | syscall.O_NOFOLLOW
	if create {
		flags |= os.O_CREATE
	}
	return os.OpenFile(path, flags, 0o644)
}

func lockFile(f *os.File, mode Mode) error {
	how := syscall.LOCK_EX
	if mode == Shared {
		how = syscall.LOCK_SH
	}
	for {
		err := syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}

// closeLockFile lets the lock go before it closes f. A child gets a copy of
// every descriptor at fork and keeps it until its exec closes it; a flock
// belongs to the open file, which that copy shares, so closing f alone
// would leave the lock held for as long as some other goroutine's child
// takes to reach exec. Unlocking through f takes it from the open file
// itself, copies and all.
func closeLockFile(f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	return f.Close()
}
