package worker

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// A worker process's environment is the caller's (from relix's process
// state), then the spec's runner.env in key order; relix's own environment
// never leaks in behind the caller's back.
func TestWorkerEnvironment(t *testing.T) {
	t.Setenv("RELIX_NOT_PASSED", "1")
	inherited := []string{"PATH=/usr/bin", "HOME=/h"}
	got := environ(inherited, map[string]string{"B": "2", "A": "1"})
	assert.Equal(t, []string{"PATH=/usr/bin", "HOME=/h", "A=1", "B=2"}, got)
	assert.Equal(t, []string{"PATH=/usr/bin", "HOME=/h"}, inherited, "the caller's slice is not changed")
	assert.Equal(t, []string{"A=1"}, environ(nil, map[string]string{"A": "1"}))
}
