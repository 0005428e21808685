package results

import (
	"errors"
	"io/fs"
	"os"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
)

// A full disk is reported against the file being written, not the
// temporary name it was written through.
func TestWriteErrorNamesTheFinalFile(t *testing.T) {
	tmp := "/r/runs/.relix-tmp-state.json-1"
	for _, err := range []error{
		&fs.PathError{Op: "write", Path: tmp, Err: syscall.ENOSPC},
		&os.LinkError{Op: "rename", Old: tmp, New: "/r/runs/state.json", Err: syscall.ENOSPC},
	} {
		got := writeError("/r/runs/state.json", tmp, err)
		assert.EqualError(t, got, "writing /r/runs/state.json: no space left on device")
		assert.True(t, errors.Is(got, syscall.ENOSPC))
	}
	other := &fs.PathError{Op: "open", Path: "/elsewhere", Err: syscall.EACCES}
	assert.EqualError(t, writeError("/r/x", tmp, other), "writing /r/x: open /elsewhere: permission denied")
}
