package harness

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/relix-lab/relix/results"
	"github.com/relix-lab/relix/results/resultstest"
)

// TestARerunDoesNotRebless alters a finished experiment's run files and
// checks that running again refuses, naming the file, and leaves the
// manifest as it was; deleting the run's directory redoes that run.
func TestARerunDoesNotRebless(t *testing.T) {
	want := referenceRun(t)
	for _, tc := range []struct {
		name  string
		alter func(t *testing.T, run string) string
	}{
		{"a shard's byte", func(t *testing.T, run string) string {
			path := filepath.Join(run, results.StepsFile)
			data, err := os.ReadFile(path)
			require.NoError(t, err)
			data[len(data)/2] ^= 1
			require.NoError(t, os.WriteFile(path, data, 0o644))
			return path
		}},
		{"a checkpoint edited", func(t *testing.T, run string) string {
			paths, err := filepath.Glob(filepath.Join(run, ckptDir, "*", "current", "*"))
			require.NoError(t, err)
			require.NotEmpty(t, paths)
			data, err := os.ReadFile(paths[0])
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(paths[0], append(data, ' '), 0o644))
			return paths[0]
		}},
		{"a shard gone", func(t *testing.T, run string) string {
			path := filepath.Join(run, results.RolloutsFile)
			require.NoError(t, os.Remove(path))
			return path
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, path := tiny(t)
			out := filepath.Join(t.TempDir(), "out")
			_, err := runTiny(t, s, path, out, 2, nil)
			require.NoError(t, err)
			manifest, err := os.ReadFile(filepath.Join(out, results.ManifestFile))
			require.NoError(t, err)

			altered := tc.alter(t, filepath.Join(out, "runs", "market", "seed-6"))
			_, err = runTiny(t, s, path, out, 2, nil)
			require.ErrorIs(t, err, errChanged)
			assert.Contains(t, err.Error(), altered)
			after, err := os.ReadFile(filepath.Join(out, results.ManifestFile))
			require.NoError(t, err)
			assert.Equal(t, string(manifest), string(after), "the manifest still records what relix wrote")

			require.NoError(t, os.RemoveAll(filepath.Join(out, "runs", "market", "seed-6")))
			_, err = runTiny(t, s, path, out, 2, nil)
			require.NoError(t, err, "a deleted run is redone")
			resultstest.SameFiles(t, want, resultstest.ParquetFiles(t, out))
		})
	}
}
