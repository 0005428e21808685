//go:build unix

package spec

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestIncludeOfASpecialFile: an include naming a FIFO or a device is an
// error at once; opening a FIFO used to block relix validate forever.
func TestIncludeOfASpecialFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	require.NoError(t, syscall.Mkfifo(fifo, 0o644))
	for _, target := range []string{fifo, os.DevNull} {
		top := filepath.Join(dir, "top.yaml")
		require.NoError(t, os.WriteFile(top, []byte("include: "+target+"\nname: x\narms: [{name: a, source: uniform}]\n"), 0o644))
		_, err := Load(top)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "not a regular file")
	}
}

// TestIncludeOfATextFile: an included file that is not YAML is named, its
// contents are not printed.
func TestIncludeOfATextFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	secret := filepath.Join(dir, "shadow")
	require.NoError(t, os.WriteFile(secret, []byte("root:$6$saltsalt$hashhashhashhashhashhash:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n"), 0o600))
	top := filepath.Join(dir, "top.yaml")
	require.NoError(t, os.WriteFile(top, []byte("include: "+secret+"\nname: x\narms: [{name: a, source: uniform}]\n"), 0o644))
	_, err := Load(top)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "hashhash")
	assert.NotContains(t, err.Error(), "daemon")
	assert.Contains(t, err.Error(), secret+":1:1: a key of 59 bytes that is no field name")
}
