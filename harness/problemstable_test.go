package harness

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/relix-lab/relix/experiment/dataset"
	"github.com/relix-lab/relix/results"
	"github.com/relix-lab/relix/runners"
)

// TestProblemsTable: a run leaves one problems table, the first run's copied
// out, with every problem of both pools in set order, the sim's difficulty
// and base success, and the manifest lists it.
func TestProblemsTable(t *testing.T) {
	t.Parallel()
	s, path := tiny(t)
	out := filepath.Join(t.TempDir(), "out")
	_, err := runTiny(t, s, path, out, 2, nil)
	require.NoError(t, err)

	rows, err := results.Read[results.Problem](filepath.Join(out, results.ProblemsFile))
	require.NoError(t, err)
	sets, err := LoadProblemSets(s, filepath.Dir(path))
	require.NoError(t, err)
	require.Len(t, rows, sets.Train.Len()+sets.Heldout.Len())
	for i, r := range rows {
		want, pool := sets.Train.Problems, results.PoolTrain
		j := i
		if i >= sets.Train.Len() {
			want, pool, j = sets.Heldout.Problems, results.PoolHeldout, i-sets.Train.Len()
		}
		assert.Equal(t, want[j].ID, r.Problem, "row %d", i)
		assert.Equal(t, pool, r.Pool, "row %d", i)
		assert.Equal(t, want[j].Answer, r.Answer)
		assert.Equal(t, want[j].Topic, r.Topic)
		assert.Equal(t, int32(want[j].Features.Steps), r.ReasoningSteps)
		require.NotNil(t, r.Level, "generated problems have a level")
		assert.Equal(t, int32(want[j].Level), *r.Level)
		assert.False(t, math.IsNaN(r.Difficulty), "the sim says its difficulty")
		assert.True(t, r.BaseSuccess >= 0 && r.BaseSuccess <= 1, "base success %v", r.BaseSuccess)
	}

	// Written once: the first run's directory holds the shard, no other.
	first := problemsRun(s)
	runs, err := Plan(s, nil, nil)
	require.NoError(t, err)
	for _, id := range runs {
		_, err := os.Stat(filepath.Join(id.Dir(out), results.ProblemsFile))
		assert.Equal(t, id == first, err == nil, "%s holds a problems shard", id)
	}
	m, err := results.ReadManifest(out)
	require.NoError(t, err)
	listed := false
	for _, f := range m.Files {
		listed = listed || f.Path == results.ProblemsFile
	}
	assert.True(t, listed, "the manifest lists %s", results.ProblemsFile)
}

// silentTeller is a worker runner whose worker does not serve difficulties:
// it has the method and returns nil.
type silentTeller struct{ runners.Runner }

func (silentTeller) Difficulties(context.Context, []runners.Prompt) ([]float64, error) {
	return nil, nil
}

// TestProblemRowsOfARunnerThatCannotSay: a runner with neither a difficulty
// nor an oracle (a GPU worker) leaves both columns null.
func TestProblemRowsOfARunnerThatCannotSay(t *testing.T) {
	t.Parallel()
	s, path := tiny(t)
	sets, err := LoadProblemSets(s, filepath.Dir(path))
	require.NoError(t, err)
	r, err := simOnly.New(context.Background(), s.Runner, runners.Options{Problems: []*dataset.Set{sets.Train, sets.Heldout}})
	require.NoError(t, err)
	defer r.Close()

	for _, c := range []struct {
		name  string
		r     runners.Runner
		knows bool
	}{{"sim", r, true}, {"opaque", struct{ runners.Runner }{r}, false}, {"a worker that cannot say", silentTeller{r}, false}} {
		rows, err := problemRows(context.Background(), c.r, s, sets)
		require.NoError(t, err, c.name)
		for _, row := range rows {
			assert.Equal(t, c.knows, !math.IsNaN(row.Difficulty), "%s: %s difficulty", c.name, row.Problem)
			assert.Equal(t, c.knows, !math.IsNaN(row.BaseSuccess), "%s: %s base success", c.name, row.Problem)
		}
	}
}
