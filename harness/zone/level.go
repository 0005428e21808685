package zone

import (
	"context"
	"fmt"
	"math"

	"github.com/relix-lab/relix/eval"
	"github.com/relix-lab/relix/experiment/dataset"
	"github.com/relix-lab/relix/experiment/spec"
	"github.com/relix-lab/relix/runners"
)

// Level is the training pool put at one grid point: a sim runner whose
// base checkpoint gives the pool the target in-zone fraction.
type Level struct {
	Target float64 // the grid's in-zone fraction
	// Achieved is the pool's exact in-zone fraction at the level's base
	// checkpoint: the mean over every training prompt of the chance that a
	// group of G at its true success probability passes the σ gate.
	Achieved float64
	// Shift is the runner.sim.difficulty_shift that achieves it, and
	// Offset its difference from the spec's.
	Shift, Offset float64
	// Runners is how many runners the search built (one per offset tried).
	Runners int
}

// levelTolerance is how close the search brings a level's in-zone fraction
// to its target, relative to the target: 1% becomes 1% ± 1e-6.
const levelTolerance = 1e-4

// maxOffset bounds the search for a level's difficulty offset (logit units
// of the success probability before temperature).
const maxOffset = 64

// findLevel searches the difficulty offset at which the pool's in-zone
// fraction is target and returns the level with its runner.
//
// The in-zone fraction f(Δ) is computed exactly from the runner's true
// success probabilities (runners.Oracle). It falls as the offset Δ makes
// every problem harder whenever the success probabilities stay on the near
// side of the gate's peak (p ≤ 1/2: with truncated completions scoring 0 the
// sim's calibrated policy succeeds at most σ(stop/T) ≈ 0.2 of the time), so
// the search brackets a root of logit f(Δ) − logit(target), doubling its step
// from Δ = 0, then closes in by regula falsi with the Illinois modification
// (Dowell and Jarratt 1971), which on this smooth curve needs a handful of
// runners per level.
func findLevel(ctx context.Context, backends runners.Backends, base spec.Runner, train spec.Train, pool *dataset.Set, target float64) (Level, runners.Runner, error) {
	if !(target > 0 && target < 1) {
		return Level{}, nil, fmt.Errorf("zone: in-zone target %g; want 0 < target < 1", target)
	}
	if base.Kind != "sim" {
		return Level{}, nil, fmt.Errorf("zone: runner.kind is %q; the sweep sets the pool's in-zone fraction through runner.sim.difficulty_shift, so it needs runner kind sim", base.Kind)
	}
	lv := Level{Target: target}
	var best runners.Runner
	bestErr := math.Inf(1)
	goal := logit(target)
	// eval builds the runner at offset d and returns logit f(d) − logit(target).
	eval := func(d float64) (float64, error) {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		cfg := base
		cfg.Sim.DifficultyShift = base.Sim.DifficultyShift + d
		r, err := backends.New(ctx, cfg, runners.Options{Problems: []*dataset.Set{pool}})
		if err != nil {
			return 0, err
		}
		lv.Runners++
		f, err := inZoneFraction(ctx, r, train, pool)
		if err != nil {
			r.Close()
			return 0, err
		}
		if e := math.Abs(f/target - 1); e < bestErr {
			if best != nil {
				best.Close()
			}
			best, bestErr = r, e
			lv.Achieved, lv.Offset, lv.Shift = f, d, cfg.Sim.DifficultyShift
		} else {
			r.Close()
		}
		return logit(f) - goal, nil
	}
	fail := func(err error) (Level, runners.Runner, error) {
		if best != nil {
			best.Close()
		}
		return Level{}, nil, err
	}

	a, ha := 0.0, 0.0
	var err error
	if ha, err = eval(a); err != nil {
		return fail(err)
	}
	if bestErr <= levelTolerance {
		return lv, best, nil
	}
	// f falls with the offset: too high a fraction (ha > 0) needs harder
	// problems, a positive offset.
	dir := 1.0
	if ha < 0 {
		dir = -1
	}
	b, hb := a, ha
	for step := 0.5; (ha > 0) == (hb > 0); step *= 2 {
		if step > maxOffset {
			return fail(fmt.Errorf("zone: no difficulty offset within ±%d gives the pool an in-zone fraction of %g (the nearest reached was %.4g at offset %+.3g)",
				maxOffset, target, lv.Achieved, lv.Offset))
		}
		a, ha = b, hb
		b = dir * step
		if hb, err = eval(b); err != nil {
			return fail(err)
		}
		if bestErr <= levelTolerance {
			return lv, best, nil
		}
	}
	// Illinois: the secant through the bracket's ends; an end that stays
	// twice in a row has its value halved, so the bracket shrinks from both
	// sides. At a pool all out of (or all in) the zone the value is infinite
	// and the step falls back to bisection.
	for range 100 {
		x := (a*hb - b*ha) / (hb - ha)
		if math.IsNaN(x) || math.IsInf(x, 0) || x == a || x == b {
			x = (a + b) / 2
		}
		hx, err := eval(x)
		if err != nil {
			return fail(err)
		}
		if bestErr <= levelTolerance {
			return lv, best, nil
		}
		if (hx > 0) != (hb > 0) {
			a, ha = b, hb
		} else {
			ha /= 2
		}
		b, hb = x, hx
	}
	return fail(fmt.Errorf("zone: the search for an in-zone fraction of %g did not converge (nearest %.6g at offset %+.6g)", target, lv.Achieved, lv.Offset))
}

// inZoneFraction is the pool's exact in-zone fraction at the runner's base
// checkpoint under the training sampling and reward: the mean over every
// prompt of eval.InZoneChance at its true success probability, as the
// sources' oracle probe computes it on a sample.
func inZoneFraction(ctx context.Context, r runners.Runner, train spec.Train, pool *dataset.Set) (float64, error) {
	o, ok := r.(runners.Oracle)
	if !ok {
		return 0, fmt.Errorf("zone: runner %T does not know true success probabilities (runners.Oracle)", r)
	}
	s := runners.Sampling{Temperature: train.Sampling.Temperature, TopP: train.Sampling.TopP, MaxTokens: train.Sampling.MaxTokens}
	prompts := make([]runners.Prompt, len(pool.Problems))
	for i := range pool.Problems {
		prompts[i] = runners.Prompt{ID: pool.Problems[i].ID, Text: pool.Problems[i].Statement}
	}
	ps, err := runners.SuccessProbabilities(ctx, o, r.Base(), prompts, s, train.Reward.Truncated)
	if err != nil {
		return 0, err
	}
	var sum float64
	for _, p := range ps {
		sum += eval.InZoneChance(p, train.GroupSize, train.SigmaMin)
	}
	return sum / float64(len(pool.Problems)), nil
}

func logit(p float64) float64 { return math.Log(p / (1 - p)) }
