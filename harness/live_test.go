package harness

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/relix-lab/relix/results"
)

// The live steps file holds a line per complete step while the run goes,
// and ends as the run's steps shard in NDJSON, however often the run was
// killed — here between a step's commit and its line.
func TestLiveStepsFile(t *testing.T) {
	s, path := tiny(t)
	out := filepath.Join(t.TempDir(), "out")
	opts := Options{Backends: simOnly, SpecPath: path, Out: out, Jobs: 1, Now: fixedClock, Arms: []string{"market"}, Seeds: []uint64{5}, NoMerge: true}
	run := filepath.Join(out, "runs", "market", "seed-5")
	opts.failpoint = func(p string) error {
		if p == "step 3: journal" {
			return errKilled
		}
		return nil
	}
	_, err := Run(t.Context(), s, opts)
	require.ErrorIs(t, err, errKilled)
	mid, err := os.ReadFile(filepath.Join(run, liveStepsFile))
	require.NoError(t, err)
	assert.Equal(t, 2, countLines(mid), "steps 1 and 2 while step 3's line was lost to the kill")

	opts.failpoint = nil
	_, err = Run(t.Context(), s, opts)
	require.NoError(t, err)
	steps, err := results.Read[results.Step](filepath.Join(run, results.StepsFile))
	require.NoError(t, err)
	live, err := os.ReadFile(filepath.Join(run, liveStepsFile))
	require.NoError(t, err)
	assert.Equal(t, string(results.AppendNDJSON(nil, steps)), string(live))
	assert.Equal(t, s.Train.Steps, countLines(live))
}

func countLines(b []byte) int {
	n := 0
	for _, c := range b {
		if c == '\n' {
			n++
		}
	}
	return n
}
