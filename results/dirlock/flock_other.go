//go:build !unix

package dirlock

import (
	"errors"
	"os"
)

// Without flock(2) there is no lock the system drops when its holder dies;
// relix documents that it locks results directories on Unix only.
var errWouldBlock = errors.New("would block")

func openLockFile(path string, create bool) (*os.File, error) {
	flags := os.O_RDWR
	if create {
		flags |= os.O_CREATE
	}
	return os.OpenFile(path, flags, 0o644)
}

func lockFile(*os.File, Mode) error { return nil }

func closeLockFile(f *os.File) error { return f.Close() }
