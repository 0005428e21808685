//go:build unix

package results

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestVerifyStaysInside: a handed-over manifest's entries are checked
// before anything is read: a path outside the directory, a symlink, a
// FIFO or a device is refused at once (it used to hash /dev/zero forever
// and print /etc/passwd's size and hash).
func TestVerifyStaysInside(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "a.txt"), []byte("hello"), 0o644))
	require.NoError(t, os.Symlink("/etc/hostname", filepath.Join(dir, "link")))
	fifo := filepath.Join(dir, "fifo")
	require.NoError(t, syscall.Mkfifo(fifo, 0o644))
	m := &Manifest{Files: []File{
		{Path: "../../../../../dev/zero", Size: 1},
		{Path: "/etc/passwd", Size: 1},
		{Path: "link", Size: 1},
		{Path: "fifo", Size: 1},
		{Path: "a.txt", Size: 4},
	}}
	err := m.Verify(dir)
	require.Error(t, err)
	msg := err.Error()
	for _, want := range []string{
		`"../../../../../dev/zero", a path outside the results directory`,
		`"/etc/passwd", a path outside the results directory`,
		"link: not a regular file",
		"fifo: not a regular file",
		"a.txt: 5 bytes; manifest.json records 4 bytes",
	} {
		assert.Contains(t, msg, want)
	}
	assert.False(t, strings.Contains(msg, "sha256"), "nothing was hashed: %s", msg)
}
