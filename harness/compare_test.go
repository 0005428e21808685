package harness

import (
	"context"
	"math"
	"path/filepath"
	"testing"

	"github.com/relix-lab/relix/experiment/spec"
	"github.com/relix-lab/relix/results"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCompareAgainstAHandComputation runs a two-experiment multirun and
// checks compare's paired difference of one arm against the mean of the
// per-(seed, problem) differences computed from the eval rows by hand.
func TestCompareAgainstAHandComputation(t *testing.T) {
	_, path := tiny(t)
	root := filepath.Join(t.TempDir(), "mr")
	var members []Member
	for _, steps := range []string{"2", "4"} {
		sets := []string{"train.steps=" + steps, "seeds=[1,2]"}
		s, err := spec.Load(path, sets...)
		require.NoError(t, err)
		members = append(members, Member{Name: "steps=" + steps, Spec: s, Sets: sets, Swept: sets[:1]})
	}
	_, err := Multirun(context.Background(), root, members, Options{Backends: simOnly, SpecPath: path, Jobs: 2, Now: fixedClock})
	require.NoError(t, err)

	targets, err := CompareTargets([]string{root})
	require.NoError(t, err)
	require.Len(t, targets, 2)
	c, err := Compare(targets)
	require.NoError(t, err)
	assert.Empty(t, c.Notes)

	// pass@1 of one (seed, problem) is the share of its samples correct.
	pass1 := func(dir string) map[[2]any]float64 {
		rows, err := results.Read[results.Eval](filepath.Join(dir, results.EvalFile))
		require.NoError(t, err)
		last := map[string]int32{}
		for _, r := range rows {
			if r.Arm == "uniform" {
				last[r.Arm] = max(last[r.Arm], r.Step)
			}
		}
		sum, n := map[[2]any]float64{}, map[[2]any]float64{}
		for _, r := range rows {
			if r.Arm != "uniform" || r.Step != last["uniform"] {
				continue
			}
			k := [2]any{r.Seed, r.Problem}
			n[k]++
			if r.Correct {
				sum[k]++
			}
		}
		share := map[[2]any]float64{}
		for k := range n {
			share[k] = sum[k] / n[k]
		}
		return share
	}
	a, b := pass1(targets[1].Dir), pass1(targets[0].Dir)
	require.Equal(t, len(a), len(b))
	var want float64
	for k, v := range a {
		want += v - b[k]
	}
	want /= float64(len(a))

	var got *results.ComparedDifference
	for i, d := range c.Differences {
		if d.Summary.Arm == "uniform" && d.Summary.Metric == "pass@1" {
			got = &c.Differences[i]
		}
	}
	require.NotNil(t, got)
	assert.Equal(t, "steps=4", got.Experiment)
	assert.Equal(t, "steps=2", got.Summary.Compare)
	assert.Equal(t, 2, got.Seeds)
	assert.Equal(t, MethodPairedTSeeds, got.Summary.Method)
	assert.InDelta(t, want, got.Summary.Value, 1e-12)
	assert.False(t, math.IsNaN(got.Summary.CILow))
	assert.LessOrEqual(t, got.Summary.CILow, got.Summary.Value)

	// Every experiment's values of the shared metrics, in one table.
	tables := c.Tables()
	require.Len(t, tables, 2)
	assert.Equal(t, []string{"arm", "metric", "steps=2", "steps=4"}, tables[0].Header)
}
