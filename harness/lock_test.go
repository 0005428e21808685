package harness

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/relix-lab/relix/results/dirlock"
)

// TestResultsDirectoryIsLocked checks who may write a results directory
// beside whom: a merging run excludes everyone, tasks (NoMerge) share the
// directory but never a run, and nothing is written by the one refused.
func TestResultsDirectoryIsLocked(t *testing.T) {
	for _, tc := range []struct {
		name    string
		held    func(out string) string // the directory whose lock another process holds
		mode    dirlock.Mode
		noMerge bool
		refused bool
	}{
		{"merging run beside a merging run", func(out string) string { return out }, dirlock.Exclusive, false, true},
		{"merging run beside a task", func(out string) string { return out }, dirlock.Shared, false, true},
		{"task beside a merging run", func(out string) string { return out }, dirlock.Exclusive, true, true},
		{"task beside another run's task", func(out string) string { return filepath.Join(out, "runs", "uniform", "seed-5") }, dirlock.Exclusive, true, false},
		{"task beside its own run's task", func(out string) string { return filepath.Join(out, "runs", "market", "seed-5") }, dirlock.Exclusive, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, path := tiny(t)
			out := filepath.Join(t.TempDir(), "out")
			held := tc.held(out)
			require.NoError(t, os.MkdirAll(held, 0o755))
			other, err := dirlock.Acquire(held, tc.mode, "relix run other.yaml")
			require.NoError(t, err)
			defer other.Release()
			if held != out {
				// The other task holds the directory shared, as tasks do.
				sharer, err := dirlock.Acquire(out, dirlock.Shared, "relix run other.yaml")
				require.NoError(t, err)
				defer sharer.Release()
			}
			opts := Options{Backends: simOnly, SpecPath: path, Out: out, Jobs: 1, Now: fixedClock, NoMerge: tc.noMerge, Command: "relix run tiny.yaml"}
			if tc.noMerge {
				opts.Arms, opts.Seeds = []string{"market"}, []uint64{5}
			}
			_, err = Run(context.Background(), s, opts)
			if !tc.refused {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, dirlock.ErrInUse)
			assert.Contains(t, err.Error(), "(relix run other.yaml) since")
			_, statErr := os.Stat(filepath.Join(out, "runs", "market", "seed-5", stateFile))
			assert.ErrorIs(t, statErr, os.ErrNotExist, "the refused run wrote nothing")
		})
	}
}
