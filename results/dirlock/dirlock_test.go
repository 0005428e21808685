package dirlock

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A flock belongs to an open file, so two Acquires in one process conflict
// as two processes would.
func TestModesConflict(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no flock")
	}
	for _, tc := range []struct {
		name          string
		first, second Mode
		conflict      bool
	}{
		{"exclusive then exclusive", Exclusive, Exclusive, true},
		{"exclusive then shared", Exclusive, Shared, true},
		{"shared then exclusive", Shared, Exclusive, true},
		{"shared then shared", Shared, Shared, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			a, err := Acquire(dir, tc.first, "relix run first")
			require.NoError(t, err)
			b, err := Acquire(dir, tc.second, "relix run second")
			if !tc.conflict {
				require.NoError(t, err)
				require.NoError(t, b.Release())
				require.NoError(t, a.Release())
				return
			}
			require.ErrorIs(t, err, ErrInUse)
			var inUse *InUseError
			require.ErrorAs(t, err, &inUse)
			assert.Equal(t, os.Getpid(), inUse.Holder.PID)
			assert.Contains(t, err.Error(), fmt.Sprintf("in use by pid %d (relix run first) since ", os.Getpid()))
			require.NoError(t, a.Release())
			b, err = Acquire(dir, tc.second, "relix run second")
			require.NoError(t, err, "a released lock is free")
			require.NoError(t, b.Release())
		})
	}
}

func TestChange(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no flock")
	}
	dir := t.TempDir()
	driver, err := Acquire(dir, Exclusive, "relix run driver")
	require.NoError(t, err)
	require.NoError(t, driver.Change(Shared))
	task, err := Acquire(dir, Shared, "relix run task")
	require.NoError(t, err, "tasks share the directory with a driver that waits")
	require.ErrorIs(t, driver.Change(Exclusive), ErrInUse, "nothing merges while a task writes")
	require.NoError(t, task.Release())
	require.NoError(t, driver.Change(Exclusive))
	_, err = Acquire(dir, Shared, "relix run late task")
	require.ErrorIs(t, err, ErrInUse)
	require.NoError(t, driver.Release())
}

func TestLockFileIsNotFollowed(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no O_NOFOLLOW")
	}
	dir := t.TempDir()
	target := filepath.Join(t.TempDir(), "precious")
	require.NoError(t, os.WriteFile(target, []byte("keep me"), 0o644))
	require.NoError(t, os.Symlink(target, filepath.Join(dir, File)))
	_, err := Acquire(dir, Exclusive, "relix run")
	require.Error(t, err)
	b, _ := os.ReadFile(target)
	assert.Equal(t, "keep me", string(b))
}

func TestHolderRoundTrip(t *testing.T) {
	h := Holder{PID: 42, Host: "node-7", Command: "relix run\n--force x.yaml", Since: time.Date(2026, 12, 2, 3, 4, 5, 0, time.UTC)}
	got := parseHolder(h.encode())
	h.Command = "relix run --force x.yaml"
	assert.Equal(t, h, got)
	assert.Equal(t, Holder{}, parseHolder([]byte("garbage\x00\npid -3\n")))
}

// A lock whose holder was killed is free at once: the kernel dropped it.
func TestKilledHolderLeavesNoLock(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no flock")
	}
	if dir := os.Getenv("DIRLOCK_HOLD"); dir != "" {
		if _, err := Acquire(dir, Exclusive, "relix run (held by a test)"); err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		fmt.Println("held")
		time.Sleep(time.Minute)
		os.Exit(0)
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKilledHolderLeavesNoLock$")
	cmd.Env = append(os.Environ(), "DIRLOCK_HOLD="+dir)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "held\n", line)

	_, err = Acquire(dir, Shared, "relix report")
	var inUse *InUseError
	require.ErrorAs(t, err, &inUse)
	assert.Equal(t, cmd.Process.Pid, inUse.Holder.PID)

	require.NoError(t, cmd.Process.Kill())
	_ = cmd.Wait()
	l, err := Acquire(dir, Exclusive, "relix run")
	require.NoError(t, err, "the dead holder's lock is taken over")
	b, _ := os.ReadFile(filepath.Join(dir, File))
	assert.Equal(t, os.Getpid(), parseHolder(b).PID, "and the file names the new holder")
	require.NoError(t, l.Release())
}

func TestAcquireIfLockedMakesNoFile(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no flock")
	}
	dir := t.TempDir()
	l, err := AcquireIfLocked(dir, Shared, "relix report --check")
	require.NoError(t, err)
	assert.Nil(t, l)
	require.NoError(t, l.Release())
	_, err = os.Stat(filepath.Join(dir, File))
	assert.ErrorIs(t, err, os.ErrNotExist)

	w, err := Acquire(dir, Exclusive, "relix run")
	require.NoError(t, err)
	_, err = AcquireIfLocked(dir, Shared, "relix report --check")
	assert.ErrorIs(t, err, ErrInUse)
	require.NoError(t, w.Release())
	l, err = AcquireIfLocked(dir, Shared, "relix report --check")
	require.NoError(t, err)
	require.NotNil(t, l)
	require.NoError(t, l.Release())
}

// Between fork and exec a child holds a copy of every descriptor, the lock
// file's too, and with it the flock. A lock released while another
// goroutine starts a program must still be free the moment Release
// returns.
func TestReleaseIsNotKeptByAStartingChild(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no flock")
	}
	truePath, err := exec.LookPath("true")
	if err != nil {
		t.Skip("no true(1) to start")
	}
	dir := t.TempDir()
	stop := make(chan struct{})
	done := make(chan struct{})
	for range 2 {
		go func() {
			defer func() { done <- struct{}{} }()
			for {
				select {
				case <-stop:
					return
				default:
				}
				_ = exec.Command(truePath).Run()
			}
		}()
	}
	defer func() {
		close(stop)
		<-done
		<-done
	}()
	for i := range 300 {
		a, err := Acquire(dir, Exclusive, "relix report")
		require.NoError(t, err, "round %d", i)
		require.NoError(t, a.Release())
		b, err := Acquire(dir, Shared, "relix report --check")
		require.NoError(t, err, "round %d: a released lock is free", i)
		require.NoError(t, b.Release())
	}
}
