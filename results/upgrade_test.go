package results

import (
	"errors"
	"math"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// v1Dir holds tables a relix of schema version 1 wrote (testdata/v1/spec.yaml).
const v1Dir = "testdata/v1"

type stepKey struct {
	arm  string
	seed uint64
	step int32
}

// TestReadsVersion1Rollouts: a version-1 rollouts table reads, with useful
// derived from its groups, and the derived column accounts for the steps
// table's useful_rollouts exactly as a version-2 file's does.
func TestReadsVersion1Rollouts(t *testing.T) {
	t.Parallel()
	var rows []Rollout
	fi, err := Scan(filepath.Join(v1Dir, RolloutsFile), ReadOptions{BatchRows: 7}, func(r Rollout) error {
		rows = append(rows, r)
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, 1, fi.SchemaVersion)
	require.NotEmpty(t, rows)
	steps, err := Read[Step](filepath.Join(v1Dir, StepsFile))
	require.NoError(t, err)

	useful := map[stepKey]int64{}
	zeroVarianceTrained := 0
	for _, r := range rows {
		if r.Useful {
			useful[stepKey{r.Arm, r.Seed, r.Step}]++
			assert.True(t, r.Accepted, "useful implies accepted")
		}
		if r.Accepted && !r.Useful {
			zeroVarianceTrained++
		}
	}
	assert.Positive(t, zeroVarianceTrained, "the uniform arm trains on zero-variance groups")
	const groupSize = 4
	carriedIn := 0
	for _, s := range steps {
		k := stepKey{s.Arm, s.Seed, s.Step}
		assert.Equal(t, s.UsefulRollouts, useful[k]+int64(s.CarriedInGroups)*groupSize, "%v", k)
		waste := 1 - float64(useful[k]+int64(s.CarriedInGroups)*groupSize)/float64(s.GeneratedRollouts)
		assert.InDelta(t, s.Waste, waste, 1e-12, "%v", k)
		carriedIn += int(s.CarriedInGroups)
	}
	assert.Positive(t, carriedIn, "the fixture trains carried groups")

	// Another batch size gives the same rows: groups span batches.
	again, err := Read[Rollout](filepath.Join(v1Dir, RolloutsFile))
	require.NoError(t, err)
	assert.Equal(t, len(rows), len(again))
	for i := range rows {
		assert.Equal(t, rows[i].Useful, again[i].Useful, "row %d", i)
	}
}

// TestUsefulFromGroups: the rule and its refusal of scattered groups, on rows
// made for it.
func TestUsefulFromGroups(t *testing.T) {
	t.Parallel()
	row := func(step, group int32, reward float64, accepted bool) Rollout {
		return Rollout{Arm: "a", Seed: 1, Step: step, Group: group, Reward: reward, Accepted: accepted, Arrival: math.NaN()}
	}
	for _, c := range []struct {
		name string
		in   []Rollout
		want []bool
		err  string
	}{
		{"varied and trained", []Rollout{row(1, 0, 0, true), row(1, 0, 1, true)}, []bool{true, true}, ""},
		{"all equal", []Rollout{row(1, 0, 1, true), row(1, 0, 1, true)}, []bool{false, false}, ""},
		{"not trained", []Rollout{row(1, 0, 0, false), row(1, 0, 1, false)}, []bool{false, false}, ""},
		{"groups in turn", []Rollout{row(1, 0, 0, true), row(1, 0, 1, true), row(1, 1, 1, true), row(2, 0, 1, true), row(2, 0, 0, true)},
			[]bool{true, true, false, true, true}, ""},
		{"a group apart", []Rollout{row(1, 0, 0, true), row(1, 1, 1, true), row(1, 0, 1, true)}, nil, "rows of group 0 of a, seed 1, step 1 are not together"},
	} {
		var got []bool
		emit, flush := usefulFromGroups(1, func(r Rollout) error {
			got = append(got, r.Useful)
			return nil
		})
		var err error
		for _, r := range c.in {
			if err = emit(r); err != nil {
				break
			}
		}
		if err == nil {
			err = flush()
		}
		if c.err != "" {
			assert.ErrorContains(t, err, c.err, c.name)
			continue
		}
		require.NoError(t, err, c.name)
		assert.Equal(t, c.want, got, c.name)
	}

	// A callback's error stops the reading and comes back as it is.
	stop := errors.New("stop")
	emit, flush := usefulFromGroups(1, func(Rollout) error { return stop })
	require.NoError(t, emit(row(1, 0, 1, true)))
	assert.ErrorIs(t, flush(), stop)
}

// TestReadsVersion1Tables: every version-1 table of the fixture reads; a
// column added since is null (eval.text: no text kept).
func TestReadsVersion1Tables(t *testing.T) {
	t.Parallel()
	evals, err := Read[Eval](filepath.Join(v1Dir, EvalFile))
	require.NoError(t, err)
	require.NotEmpty(t, evals)
	for _, e := range evals {
		assert.Empty(t, e.Text, "a version-1 eval table kept no text")
	}
	steps, err := Read[Step](filepath.Join(v1Dir, StepsFile))
	require.NoError(t, err)
	require.NotEmpty(t, steps)
	fi, err := Inspect[Step](filepath.Join(v1Dir, StepsFile))
	require.NoError(t, err)
	assert.Equal(t, 1, fi.SchemaVersion)
}
