package harness

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/relix-lab/relix/harness/cluster"

	"github.com/relix-lab/relix/results/resultstest"

	"github.com/relix-lab/relix/experiment/spec"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const tinySpec = `name: tiny
seed: 5
seeds: [5, 6]
dataset:
  train: {generated: {size: 120, seed: 1}}
  heldout: {generated: {size: 30, seed: 2}}
train:
  steps: 4
  groups_per_step: 4
  group_size: 4
  publish_every: 2
  sampling: {max_tokens: 2048}
arms:
  - {name: base, source: none}
  - {name: uniform, source: uniform}
  - {name: filter, source: uniform, filter: dynamic, max_gen_rounds: 3}
  - name: market
    source: market
    market:
      candidates: 8
      probe_size: 16
      miners: [{count: 3, estimator: {kind: history}}, {count: 1, behaviour: forger}]
eval: {every: 2, samples: 4, k: [1, 2], sampling: {max_tokens: 2048}, bootstrap: 500}
compare: [[market, uniform], [uniform, base]]
`

func tiny(t *testing.T) (*spec.Spec, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tiny.yaml")
	require.NoError(t, os.WriteFile(path, []byte(tinySpec), 0o644))
	s, err := spec.Load(path)
	require.NoError(t, err)
	return s, path
}

var fixedClock = func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }

func runTiny(t *testing.T, s *spec.Spec, path, out string, jobs int, fp func(string) error) (*Outcome, error) {
	t.Helper()
	return Run(context.Background(), s, Options{Backends: simOnly, SpecPath: path, Out: out, Jobs: jobs, Now: fixedClock, failpoint: fp})
}

var (
	referenceOnce sync.Once
	reference     map[string][]byte
)

// referenceRun is an uninterrupted run of the tiny spec with one job.
func referenceRun(t *testing.T) map[string][]byte {
	referenceOnce.Do(func() {
		s, path := tiny(t)
		out := filepath.Join(t.TempDir(), "ref")
		_, err := runTiny(t, s, path, out, 1, nil)
		require.NoError(t, err)
		reference = resultstest.ParquetFiles(t, out)
	})
	require.NotNil(t, reference, "the reference run failed")
	return reference
}

func TestJobsDoNotChangeTheBytes(t *testing.T) {
	want := referenceRun(t)
	s, path := tiny(t)
	out := filepath.Join(t.TempDir(), "jobs4")
	oc, err := runTiny(t, s, path, out, 4, nil)
	require.NoError(t, err)
	assert.Len(t, oc.Runs, 8)
	resultstest.SameFiles(t, want, resultstest.ParquetFiles(t, out))
}

// TestInterruptedRunsResumeToTheSameBytes stops a run on either side of a
// step's commit point — after its checkpoints, before its journal entry;
// after the entry, before the previous checkpoints are pruned — in the
// middle of writing shards and before merging, and checks that running
// again gives exactly the files of an uninterrupted run.
func TestInterruptedRunsResumeToTheSameBytes(t *testing.T) {
	want := referenceRun(t)
	for _, point := range []string{"step 1: checkpoints", "step 1: journal", "step 3: checkpoints", "step 3: journal", "step 4: journal", "shards 2", "merge"} {
		t.Run(point, func(t *testing.T) {
			s, path := tiny(t)
			out := filepath.Join(t.TempDir(), "out")
			boom := errors.New("killed")
			hit := false
			var mu sync.Mutex
			_, err := runTiny(t, s, path, out, 2, func(p string) error {
				mu.Lock()
				defer mu.Unlock()
				if p == point && !hit {
					hit = true
					return boom
				}
				return nil
			})
			require.ErrorIs(t, err, boom)
			oc, err := runTiny(t, s, path, out, 2, nil)
			require.NoError(t, err)
			switch point {
			case "step 1: journal", "step 3: checkpoints", "step 3: journal":
				assert.NotEmpty(t, oc.Resumed, "a run with complete steps must resume, not restart")
			}
			resultstest.SameFiles(t, want, resultstest.ParquetFiles(t, out))
		})
	}
}

// TestAJournalWithoutItsStateIsNotResumed checks that a run's journal
// entries count as its complete steps only under the state written before
// them: with the state gone, the run starts again, and entries and
// checkpoints left from before cannot pass for steps of the new run.
func TestAJournalWithoutItsStateIsNotResumed(t *testing.T) {
	want := referenceRun(t)
	s, path := tiny(t)
	out := filepath.Join(t.TempDir(), "out")
	boom := errors.New("killed")
	_, err := Run(context.Background(), s, Options{Backends: simOnly, SpecPath: path, Out: out, Jobs: 1, Now: fixedClock, Arms: []string{"market"}, Seeds: []uint64{5}, NoMerge: true,
		failpoint: func(p string) error {
			if p == "step 3: journal" {
				return boom
			}
			return nil
		}})
	require.ErrorIs(t, err, boom)
	run := filepath.Join(out, "runs", "market", "seed-5")
	require.NoError(t, os.Remove(filepath.Join(run, stateFile)))
	_, err = Run(context.Background(), s, Options{Backends: simOnly, SpecPath: path, Out: out, Jobs: 1, Now: fixedClock, Arms: []string{"market"}, Seeds: []uint64{5}, NoMerge: true,
		failpoint: func(p string) error {
			if p == "step 1: journal" {
				return boom
			}
			return nil
		}})
	require.ErrorIs(t, err, boom)
	completed, err := journal{run}.completed()
	require.NoError(t, err)
	assert.Equal(t, 1, completed, "the entries of the earlier steps 2 and 3 were removed")
	oc, err := runTiny(t, s, path, out, 2, nil)
	require.NoError(t, err)
	assert.Contains(t, oc.Resumed, cluster.Run{Arm: "market", Seed: 5})
	resultstest.SameFiles(t, want, resultstest.ParquetFiles(t, out))
}

func TestCancelledRunResumes(t *testing.T) {
	want := referenceRun(t)
	s, path := tiny(t)
	out := filepath.Join(t.TempDir(), "out")
	ctx, cancel := context.WithCancel(context.Background())
	steps := 0
	var mu sync.Mutex
	_, err := Run(ctx, s, Options{Backends: simOnly, SpecPath: path, Out: out, Jobs: 1, Now: fixedClock, failpoint: func(p string) error {
		mu.Lock()
		defer mu.Unlock()
		if strings.HasSuffix(p, ": journal") {
			if steps++; steps == 3 {
				cancel()
			}
		}
		return nil
	}})
	require.ErrorIs(t, err, context.Canceled)
	_, err = os.Stat(filepath.Join(out, "summary.parquet"))
	assert.True(t, os.IsNotExist(err), "an interrupted experiment has no summary yet")
	_, err = runTiny(t, s, path, out, 1, nil)
	require.NoError(t, err)
	resultstest.SameFiles(t, want, resultstest.ParquetFiles(t, out))
}

func TestFinishedExperimentIsSkipped(t *testing.T) {
	s, path := tiny(t)
	out := filepath.Join(t.TempDir(), "out")
	_, err := runTiny(t, s, path, out, 2, nil)
	require.NoError(t, err)
	oc, err := runTiny(t, s, path, out, 2, nil)
	require.NoError(t, err)
	assert.True(t, oc.Skipped)
	require.NotNil(t, oc.Rendered)
}

func TestAnotherSpecIsRefused(t *testing.T) {
	s, path := tiny(t)
	out := filepath.Join(t.TempDir(), "out")
	_, err := runTiny(t, s, path, out, 2, nil)
	require.NoError(t, err)
	other, err := spec.Load(path, "train.steps=3")
	require.NoError(t, err)
	_, err = runTiny(t, other, path, out, 2, nil)
	require.ErrorIs(t, err, ErrSpecChanged)
	_, err = Run(context.Background(), other, Options{Backends: simOnly, SpecPath: path, Out: out, Force: true, Now: fixedClock})
	require.NoError(t, err)
}

func TestPlanOrderAndRestriction(t *testing.T) {
	t.Parallel()
	s, _ := tiny(t)
	runs, err := Plan(s, nil, nil)
	require.NoError(t, err)
	require.Len(t, runs, 8)
	assert.Equal(t, cluster.Run{Arm: "base", Seed: 5}, runs[0])
	assert.Equal(t, cluster.Run{Arm: "base", Seed: 6}, runs[1])
	assert.Equal(t, cluster.Run{Arm: "market", Seed: 6}, runs[7])
	runs, err = Plan(s, []string{"market"}, []uint64{6})
	require.NoError(t, err)
	assert.Equal(t, []cluster.Run{{Arm: "market", Seed: 6}}, runs)
	_, err = Plan(s, []string{"markte"}, nil)
	assert.ErrorContains(t, err, `no arm named "markte"`)
	_, err = Plan(s, nil, []uint64{9})
	assert.ErrorContains(t, err, "seed 9 is not among")
}
