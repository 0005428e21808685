// Package dirlock keeps two relix processes from writing one results
// directory at once.
//
// A lock is an advisory flock(2) on a file in the directory. The kernel
// drops it when the process that holds it exits, however it exits, so a
// lock left by a killed process is taken over by the next one without any
// check of pids or clocks: a stale lock cannot exist. On NFS, Linux maps
// flock to the server's byte-range locks, which a dead client loses when
// its lease ends.
//
// Who holds what: a process that writes the whole directory (a run that
// merges, a sweep, a report) holds it exclusively; a process that writes
// only some of its runs (a cluster task, `relix run --arm`) holds it
// shared, and each of its runs exclusively, so that tasks of one job run
// side by side while nothing merges or clears under them.
package dirlock

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// File is the name of the lock file in a locked directory.
const File = ".relix.lock"

// ErrInUse is returned, wrapped in an *InUseError, when another process
// holds the lock.
var ErrInUse = errors.New("in use")

// InUseError says who holds a directory, as far as its lock file tells.
type InUseError struct {
	Dir    string
	Holder Holder // zero when the holder wrote nothing yet
}

func (e *InUseError) Error() string {
	h := e.Holder
	if h.PID == 0 {
		return fmt.Sprintf("%s is in use by another relix process; wait for it to end, or stop it", e.Dir)
	}
	where := ""
	if host, _ := os.Hostname(); h.Host != "" && h.Host != host {
		where = " on " + h.Host
	}
	return fmt.Sprintf("%s is in use by pid %d%s (%s) since %s; wait for it to end, or stop it",
		e.Dir, h.PID, where, h.Command, h.Since.Format(time.RFC3339))
}

func (e *InUseError) Unwrap() error { return ErrInUse }

// Holder is what a lock's holder writes into the lock file once it holds
// the lock: for messages only, never for deciding who holds it.
type Holder struct {
	PID     int
	Host    string
	Command string
	Since   time.Time
}

func (h Holder) encode() []byte {
	return fmt.Appendf(nil, "pid %d\nhost %s\ncommand %s\nsince %s\n", h.PID, h.Host, oneLine(h.Command), h.Since.UTC().Format(time.RFC3339))
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// parseHolder reads what encode wrote; anything else gives a zero Holder.
func parseHolder(b []byte) Holder {
	var h Holder
	for _, line := range strings.Split(string(b), "\n") {
		key, value, _ := strings.Cut(line, " ")
		switch key {
		case "pid":
			h.PID, _ = strconv.Atoi(value)
		case "host":
			h.Host = value
		case "command":
			h.Command = value
		case "since":
			h.Since, _ = time.Parse(time.RFC3339, value)
		}
	}
	if h.PID <= 0 {
		return Holder{}
	}
	return h
}

// Mode is how a lock is held.
type Mode int

const (
	// Exclusive: nobody else holds the lock in any mode.
	Exclusive Mode = iota
	// Shared: others may hold it shared too, nobody exclusively.
	Shared
)

// Lock is a held lock; Release lets it go.
type Lock struct {
	f    *os.File
	dir  string
	mode Mode
	who  Holder
}

// Acquire takes the lock of dir, an existing directory, in mode without
// waiting: it fails with an *InUseError when another process holds it in
// a conflicting mode. command names the holder in others' messages.
func Acquire(dir string, mode Mode, command string) (*Lock, error) {
	return acquire(dir, mode, command, true)
}

// AcquireIfLocked is Acquire for a reader that must not write: where dir
// has no lock file yet, no relix ever wrote it to lock, and it returns a
// nil Lock (whose Release does nothing) without making one.
func AcquireIfLocked(dir string, mode Mode, command string) (*Lock, error) {
	return acquire(dir, mode, command, false)
}

func acquire(dir string, mode Mode, command string, create bool) (*Lock, error) {
	path := filepath.Join(dir, File)
	f, err := openLockFile(path, create)
	if !create && errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("locking %s: %w", dir, err)
	}
	if err := lockFile(f, mode); err != nil {
		f.Close()
		if errors.Is(err, errWouldBlock) {
			b, _ := os.ReadFile(path)
			return nil, &InUseError{Dir: dir, Holder: parseHolder(b)}
		}
		return nil, fmt.Errorf("locking %s: %w", dir, err)
	}
	host, _ := os.Hostname()
	l := &Lock{f: f, dir: dir, mode: mode, who: Holder{PID: os.Getpid(), Host: host, Command: command, Since: time.Now()}}
	l.note()
	return l, nil
}

// note writes who holds the lock into its file. Shared holders overwrite
// one another; a message then names one of them, which is enough.
func (l *Lock) note() {
	if err := l.f.Truncate(0); err == nil {
		_, _ = l.f.WriteAt(l.who.encode(), 0)
	}
}

// Change turns the lock into mode, without waiting. Going from exclusive
// to shared always succeeds; from shared to exclusive fails with an
// *InUseError while anyone else holds it shared. The kernel may drop the
// old mode before taking the new one, so a failed change leaves the lock
// not held at all: the caller must stop writing.
func (l *Lock) Change(mode Mode) error {
	if l.mode == mode {
		return nil
	}
	if err := lockFile(l.f, mode); err != nil {
		if errors.Is(err, errWouldBlock) {
			b, _ := os.ReadFile(filepath.Join(l.dir, File))
			return &InUseError{Dir: l.dir, Holder: parseHolder(b)}
		}
		return fmt.Errorf("locking %s: %w", l.dir, err)
	}
	l.mode = mode
	l.note()
	return nil
}

// Release lets the lock go. The file stays: removing it would let a
// process that opened it before the removal lock a file nobody else sees.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := closeLockFile(l.f)
	l.f = nil
	return err
}
