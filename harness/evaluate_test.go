package harness

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/relix-lab/relix/harness/cluster"

	"github.com/relix-lab/relix/eval"
	"github.com/relix-lab/relix/experiment/dataset"
	"github.com/relix-lab/relix/experiment/seed"
	"github.com/relix-lab/relix/experiment/spec"
	"github.com/relix-lab/relix/runners"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func loadExperiment(t *testing.T, name string, sets ...string) *spec.Spec {
	t.Helper()
	s, err := spec.Load(filepath.Join("..", "experiments", name), sets...)
	require.NoError(t, err)
	return s
}

// TestBasePolicyScoresTheReferenceBaseRow is issue 4's acceptance check:
// `relix eval experiments/paired.yaml` scores the calibrated base policy at
// the reference base row (pass@1 0.33, pass@4 0.70, truncation 80.5%, each
// ± 0.02), identically on every run.
func TestBasePolicyScoresTheReferenceBaseRow(t *testing.T) {
	t.Parallel()
	s := loadExperiment(t, "paired.yaml")
	first, err := EvaluateCheckpoint(context.Background(), s, EvalTarget{Backends: simOnly, SpecDir: "../experiments"})
	require.NoError(t, err)
	sc := first.Scores
	require.Len(t, sc.PassAtK, 4) // k = 1, 2, 4, 8
	require.Equal(t, []int{1, 2, 4, 8}, []int{sc.PassAtK[0].K, sc.PassAtK[1].K, sc.PassAtK[2].K, sc.PassAtK[3].K})
	assert.Equal(t, 500, len(sc.Problems))
	assert.Equal(t, 4000, sc.Samples)
	assert.InDelta(t, 0.33, sc.PassAtK[0].Mean, 0.02, "pass@1")
	assert.InDelta(t, 0.70, sc.PassAtK[2].Mean, 0.02, "pass@4")
	assert.InDelta(t, 0.805, sc.Truncation.Mean, 0.02, "truncation")
	assert.InDelta(t, 0.15, first.TrainInZone, 0.005, "the training pool's in-zone fraction")
	t.Logf("pass@1 %.4f ± %.4f, pass@4 %.4f ± %.4f, truncation %.4f ± %.4f, training pool in-zone %.4f",
		sc.PassAtK[0].Mean, sc.PassAtK[0].SE, sc.PassAtK[2].Mean, sc.PassAtK[2].SE, sc.Truncation.Mean, sc.Truncation.SE, first.TrainInZone)

	again, err := EvaluateCheckpoint(context.Background(), s, EvalTarget{Backends: simOnly, SpecDir: "../experiments"})
	require.NoError(t, err)
	assert.Equal(t, first, again, "the same numbers, sample for sample, on every run")
}

// trainedCheckpoint trains the experiment's sim for a few steps on groups
// with reward variance and saves the result where a run keeps its
// trainer's checkpoint.
func trainedCheckpoint(t *testing.T, s *spec.Spec, out string, id cluster.Run) string {
	t.Helper()
	ctx := context.Background()
	sets, err := LoadProblemSets(s, "")
	require.NoError(t, err)
	r, err := simOnly.New(ctx, s.Runner, runners.Options{Problems: []*dataset.Set{sets.Train, sets.Heldout}})
	require.NoError(t, err)
	ck := r.Base()
	rng := seed.Stream(1, "test")
	for step := 0; step < 30; step++ {
		var groups []runners.Group
		for len(groups) < 4 {
			p := sets.Train.Problems[rng.IntN(sets.Train.Len())]
			pr := runners.Prompt{ID: p.ID, Text: p.Statement}
			cs, err := r.Generate(ctx, ck, []runners.Prompt{pr}, 8, runners.Sampling{Temperature: 0.9, TopP: 1, MaxTokens: 8192, Seed: rng.Uint64()})
			require.NoError(t, err)
			g := runners.Group{Prompt: pr, Completions: cs[0]}
			for _, c := range cs[0] {
				r := 0.0
				if !c.Truncated() && eval.Grade(c.Text, p.Answer, eval.GradeOptions{}).Correct {
					r = 1
				}
				g.Rewards = append(g.Rewards, r)
			}
			if _, std := eval.MeanStd(g.Rewards); std > 0 {
				groups = append(groups, g)
			}
		}
		ck, _, err = r.Step(ctx, ck, groups, runners.NewHyper(s.Train.GRPO, step, 30, r.Base()))
		require.NoError(t, err)
	}
	dir := filepath.Join(id.Dir(out), "ckpt", "000030", "current")
	require.NoError(t, r.Save(ctx, ck, dir))
	return ck
}

func TestEvaluateAnArmsLatestCheckpoint(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := loadExperiment(t, "paired.yaml", "dataset.train.generated.size=400", "train.cooldown=40", "eval.problems=100")
	out := t.TempDir()
	_, err := EvaluateCheckpoint(ctx, s, EvalTarget{Backends: simOnly, Arm: "uniform", Out: out})
	assert.ErrorIs(t, err, ErrNoCheckpoint)
	assert.ErrorContains(t, err, "does not exist; run the experiment first")
	_, err = EvaluateCheckpoint(ctx, s, EvalTarget{Backends: simOnly, Arm: "nope", Out: out})
	assert.ErrorIs(t, err, ErrNoCheckpoint)
	_, err = EvaluateCheckpoint(ctx, s, EvalTarget{Backends: simOnly, Seed: 99})
	assert.ErrorIs(t, err, ErrNoCheckpoint)

	id := cluster.Run{Arm: "uniform", Seed: s.Seeds[0]}
	want := trainedCheckpoint(t, s, out, id)
	arm, err := EvaluateCheckpoint(ctx, s, EvalTarget{Backends: simOnly, Arm: "uniform", Out: out})
	require.NoError(t, err)
	assert.Equal(t, want, arm.Checkpoint)
	assert.Equal(t, "uniform", arm.Arm)

	dir, err := EvaluateCheckpoint(ctx, s, EvalTarget{Backends: simOnly, Checkpoint: filepath.Join(id.Dir(out), "ckpt", "000030", "current")})
	require.NoError(t, err)
	assert.Equal(t, arm.Scores, dir.Scores)

	base, err := EvaluateCheckpoint(ctx, s, EvalTarget{Backends: simOnly, Arm: "base", Out: out})
	require.NoError(t, err)
	assert.NotEqual(t, arm.Checkpoint, base.Checkpoint)
	assert.NotEqual(t, arm.Scores.PassAtK[0].PerProblem, base.Scores.PassAtK[0].PerProblem)
	// Common random numbers: the same problems, the same sampling seeds.
	assert.Equal(t, base.Scores.Problems, arm.Scores.Problems)
}
