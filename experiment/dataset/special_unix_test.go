//go:build unix

package dataset

import (
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A problem file that is a FIFO or a device is refused before it is
// opened: opening a FIFO blocks until a writer comes, and /dev/zero never
// ends.
func TestProblemFileMustBeRegular(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "problems.jsonl")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	for _, path := range []string{fifo, "/dev/zero"} {
		_, err := LoadJSONL(path, Columns{})
		assert.ErrorContains(t, err, "not a regular file")
		_, err = LoadParquet(path, Columns{})
		assert.ErrorContains(t, err, "not a regular file")
	}
}
