package harness

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/relix-lab/relix/experiment/spec"
	"github.com/relix-lab/relix/results"
)

// usefulSpec has every kind of arm that trains: uniform without a filter
// (it trains on zero-variance groups), the filter, a race with a forger and
// an auction with carry, whose windows carry and train carried groups.
const usefulSpec = `name: useful
seeds: [1]
dataset:
  train: {generated: {size: 120, seed: 21}}
  heldout: {generated: {size: 6, seed: 22}}
runner:
  # paired.yaml's sim, so that groups vary and windows fill in part
  sim: {skills: 8, ability: 0, difficulty_scale: 2.0644, difficulty_shift: -4.2104, hidden_sd: 0.7342, verbosity: 0, length_sd: 0.5,
        tokens_per_step: 600, stop: -0.4435, noise_choices: 32, lr_scale: 2000, reach: {step_sd: 0.5},
        termination: {loop: -3, loop_wrong: 2, loop_difficulty: 0.3, stop_wrong: 1}, sharpen: true, level_difficulty: 3.9944}
train:
  steps: 6
  groups_per_step: 4
  group_size: 4
  publish_every: 3
  sampling: {max_tokens: 8192}
  reward: {truncated: grade}
arms:
  - {name: uniform, source: uniform}
  - {name: filter, source: uniform, filter: dynamic, max_gen_rounds: 4}
  - name: race
    source: market
    market:
      candidates: 16
      probe_size: 16
      miners: [{count: 3, estimator: {kind: history}}, {count: 1, behaviour: forger}]
  - name: auction
    source: market
    market:
      kind: auction
      candidates: 16
      probe_size: 16
      timing: batch
      auction: {deadline: 150, sigma_min: 0.24, per_prompt: 10, carry: true}
      miners: [{count: 8, estimator: {kind: history}, throughput: 600, latency: 0.5}]
eval: {samples: 2, k: [1], sampling: {max_tokens: 8192}, bootstrap: 100}
`

// TestUsefulRowsAccountForTheSteps: summing rollouts.useful per arm, seed and
// step gives steps.useful_rollouts (less the carried-in groups an auction
// with carry trains, whose rows are an earlier window's) and so steps.waste,
// for every arm; useful rows are accepted ones, and the uniform arm's
// accepted zero-variance groups are not useful.
func TestUsefulRowsAccountForTheSteps(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "useful.yaml")
	require.NoError(t, os.WriteFile(path, []byte(usefulSpec), 0o644))
	s, err := spec.Load(path)
	require.NoError(t, err)
	out := filepath.Join(t.TempDir(), "out")
	_, err = Run(context.Background(), s, Options{Backends: simOnly, SpecPath: path, Out: out, Jobs: 2, Now: fixedClock})
	require.NoError(t, err)

	type key struct {
		arm  string
		step int32
	}
	useful := map[key]int64{}
	trainedFlat := map[string]int{} // accepted rows that carried no gradient
	rows, err := results.Read[results.Rollout](filepath.Join(out, results.RolloutsFile))
	require.NoError(t, err)
	for _, r := range rows {
		if r.Useful {
			require.True(t, r.Accepted, "a useful row is accepted: %+v", r)
			useful[key{r.Arm, r.Step}]++
		}
		if r.Accepted && !r.Useful {
			trainedFlat[r.Arm]++
		}
	}
	assert.Positive(t, trainedFlat["uniform"], "uniform without a filter trains on zero-variance groups")
	for _, arm := range []string{"filter", "race", "auction"} {
		assert.Zero(t, trainedFlat[arm], "%s trains only on groups that pass its σ gate", arm)
	}

	steps, err := results.Read[results.Step](filepath.Join(out, results.StepsFile))
	require.NoError(t, err)
	carriedIn := 0
	for _, st := range steps {
		k := key{st.Arm, st.Step}
		fromRows := useful[k] + int64(st.CarriedInGroups)*int64(s.Train.GroupSize)
		assert.Equal(t, st.UsefulRollouts, fromRows, "%s step %d", st.Arm, st.Step)
		assert.InDelta(t, st.Waste, 1-float64(fromRows)/float64(st.GeneratedRollouts), 1e-12, "%s step %d", st.Arm, st.Step)
		carriedIn += int(st.CarriedInGroups)
	}
	assert.Positive(t, carriedIn, "the auction trains carried groups")
}
