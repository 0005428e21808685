package harness

import (
	"context"
	"fmt"
	"math"
	"path/filepath"

	"github.com/relix-lab/relix/experiment/dataset"
	"github.com/relix-lab/relix/experiment/spec"
	"github.com/relix-lab/relix/harness/cluster"
	"github.com/relix-lab/relix/harness/source"
	"github.com/relix-lab/relix/results"
	"github.com/relix-lab/relix/runners"
)

// difficultyTeller is a runner that can say how hard each problem is on its
// own scale: the sim, whose problems have a latent difficulty, in process
// or served over the worker protocol. Nil difficulties, or a runner that is
// not one, leave the problems table's difficulty null.
type difficultyTeller interface {
	Difficulties(ctx context.Context, prompts []runners.Prompt) ([]float64, error)
}

// problemsRun is the run that writes the problems table: the experiment's
// first in plan order. The pools are the experiment's, so one run's
// runner says all there is, whichever processes the runs are spread over.
func problemsRun(s *spec.Spec) cluster.Run {
	runs, _ := Plan(s, nil, nil)
	return runs[0]
}

// writeProblems writes the problems table of the experiment's pools, with
// what r says of each problem, to the run directory dir.
func (e *runEnv) writeProblems(ctx context.Context, r runners.Runner, dir string) error {
	rows, err := problemRows(ctx, r, e.spec, e.sets)
	if err != nil {
		return fmt.Errorf("the problems table: %w", err)
	}
	return results.WriteFile(filepath.Join(dir, results.ProblemsFile), rows, results.Options{SpecHash: e.spec.Hash()})
}

// problemRows are the training pool's rows, then the held-out set's, in
// set order.
func problemRows(ctx context.Context, r runners.Runner, s *spec.Spec, sets *ProblemSets) ([]results.Problem, error) {
	var rows []results.Problem
	for _, pool := range []struct {
		name     string
		set      *dataset.Set
		sampling spec.Sampling
		rule     string
	}{
		{results.PoolTrain, sets.Train, s.Train.Sampling, s.Train.Reward.Truncated},
		{results.PoolHeldout, sets.Heldout, s.Eval.Sampling, s.Eval.Truncated},
	} {
		prompts := make([]runners.Prompt, len(pool.set.Problems))
		for i := range pool.set.Problems {
			prompts[i] = source.Prompt(&pool.set.Problems[i])
		}
		difficulty, err := difficulties(ctx, r, prompts)
		if err != nil {
			return nil, err
		}
		sampling := runners.Sampling{Temperature: pool.sampling.Temperature, TopP: pool.sampling.TopP, MaxTokens: pool.sampling.MaxTokens}
		success, err := baseSuccess(ctx, r, prompts, sampling, pool.rule)
		if err != nil {
			return nil, err
		}
		for i := range pool.set.Problems {
			rows = append(rows, problemRow(&pool.set.Problems[i], pool.name, difficulty[i], success[i]))
		}
	}
	return rows, nil
}

// difficulties are the runner's latent difficulties of the prompts, NaN
// (null) each when it cannot say.
func difficulties(ctx context.Context, r runners.Runner, prompts []runners.Prompt) ([]float64, error) {
	t, ok := r.(difficultyTeller)
	if !ok {
		return nans(len(prompts)), nil
	}
	d, err := t.Difficulties(ctx, prompts)
	if err == nil && d == nil {
		return nans(len(prompts)), nil
	}
	if err == nil && len(d) != len(prompts) {
		err = fmt.Errorf("runner returned %d difficulties for %d prompts", len(d), len(prompts))
	}
	return d, err
}

// baseSuccess is the base checkpoint's exact chance of reward 1 on each
// prompt, NaN (null) each when the runner does not know it. It describes
// the problems and chooses nothing, so an oracle's number here makes no
// result an upper bound.
func baseSuccess(ctx context.Context, r runners.Runner, prompts []runners.Prompt, s runners.Sampling, truncated string) ([]float64, error) {
	o, ok := r.(runners.Oracle)
	if !ok {
		return nans(len(prompts)), nil
	}
	return runners.SuccessProbabilities(ctx, o, r.Base(), prompts, s, truncated)
}

func nans(n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = math.NaN()
	}
	return v
}

func problemRow(p *dataset.Problem, pool string, difficulty, success float64) results.Problem {
	f := &p.Features
	row := results.Problem{
		Problem: p.ID, Pool: pool, Topic: p.Topic, Statement: p.Statement, Answer: p.Answer,
		Chars: int32(f.Chars), Words: int32(f.Words), Numbers: int32(f.Numbers),
		MaxDigits: int32(f.MaxDigits), TotalDigits: int32(f.TotalDigits), Operators: int32(f.Operators),
		Unknowns: int32(f.Unknowns), Operations: int32(f.Operations), ReasoningSteps: int32(f.Steps),
		AnswerKind: f.AnswerKind.String(), AnswerDigits: int32(f.AnswerDigits),
		AnswerMagnitude: f.AnswerMagnitude, AnswerNegative: f.AnswerNegative,
		Difficulty: difficulty, BaseSuccess: success,
	}
	if p.Level > 0 {
		level := int32(p.Level)
		row.Level = &level
	}
	return row
}
