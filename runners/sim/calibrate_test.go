package sim

import (
	"flag"
	"fmt"
	"math"
	"path/filepath"
	"testing"

	"github.com/relix-lab/relix/eval"
	"github.com/relix-lab/relix/experiment/dataset"
	"github.com/relix-lab/relix/experiment/spec"
	"github.com/relix-lab/relix/runners"
	"github.com/stretchr/testify/assert"
)

var calibrate = flag.Bool("calibrate", false, "search the base policy's constants for experiments/paired.yaml and print them")

// The reference base row (README.md, EXPERIMENTS.md) the base policy is calibrated to.
const (
	targetPass1      = 0.33
	targetPass4      = 0.70
	targetTruncation = 0.805
)

// expectation is the exact expected eval of a checkpoint on a problem set
// (no sampling noise): pass@k is the mean of 1 − (1 − p_i)^k, which is what
// the unbiased estimator averages to, truncation the mean of P(length).
type expectation struct {
	pass       map[int]float64
	truncation float64
	inZone     float64 // in-zone fraction under the training reward
}

func expected(r *Runner, ckID string, set *dataset.Set, s runners.Sampling, truncated string, ks []int,
	trainSampling runners.Sampling, trainTruncated string, groupSize int, sigmaMin float64) expectation {
	ck, err := r.checkpoint(ckID)
	if err != nil {
		panic(err)
	}
	e := expectation{pass: map[int]float64{}}
	n := float64(set.Len())
	for _, p := range set.Problems {
		pr := r.cfg.problems[p.ID]
		c := r.cfg.chances(ck.psi, pr, s.Temperature, s.MaxTokens)
		ps := c.success(truncated)
		for _, k := range ks {
			e.pass[k] += (1 - math.Pow(1-ps, float64(k))) / n
		}
		e.truncation += c.truncation() / n
		ct := r.cfg.chances(ck.psi, pr, trainSampling.Temperature, trainSampling.MaxTokens)
		e.inZone += eval.InZoneChance(ct.success(trainTruncated), groupSize, sigmaMin) / n
	}
	return e
}

// pairedSpec loads experiments/paired.yaml and makes its held-out set and a
// sim runner for it.
func pairedSpec(t testing.TB) (*spec.Spec, *dataset.Set) {
	t.Helper()
	s, err := spec.Load(filepath.Join("..", "..", "experiments", "paired.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	g := s.Dataset.Heldout.Generated
	set, err := dataset.Generate(dataset.GeneratorConfig{Size: g.Size, Seed: g.Seed, Mix: g.Mix}, dataset.HeldOut)
	if err != nil {
		t.Fatal(err)
	}
	if s.Eval.Problems > 0 {
		set = set.First(s.Eval.Problems)
	}
	return s, set
}

func evalSampling(s *spec.Spec) runners.Sampling {
	return runners.Sampling{Temperature: s.Eval.Sampling.Temperature, TopP: s.Eval.Sampling.TopP, MaxTokens: s.Eval.Sampling.MaxTokens}
}

func trainSampling(s *spec.Spec) runners.Sampling {
	return runners.Sampling{Temperature: s.Train.Sampling.Temperature, TopP: s.Train.Sampling.TopP, MaxTokens: s.Train.Sampling.MaxTokens}
}

func expectedBase(t testing.TB, s *spec.Spec, set *dataset.Set, p spec.SimPolicy) expectation {
	r, err := New(p, runners.Options{Problems: []*dataset.Set{set}})
	if err != nil {
		t.Fatal(err)
	}
	return expected(r, r.Base(), set, evalSampling(s), s.Eval.Truncated, []int{1, 4},
		trainSampling(s), s.Train.Reward.Truncated, s.Train.GroupSize, s.Train.SigmaMin)
}

// bisect finds x in [lo, hi] with f(x) = target for a monotone f.
func bisect(f func(float64) float64, target, lo, hi float64) float64 {
	increasing := f(hi) > f(lo)
	for range 60 {
		mid := (lo + hi) / 2
		if (f(mid) < target) == increasing {
			lo = mid
		} else {
			hi = mid
		}
	}
	return (lo + hi) / 2
}

// TestCalibrate is the calibration procedure of EXPERIMENTS.md ("Calibrating
// the sim's base policy"). Run it with
//
//	go test ./runners/sim -run TestCalibrate -calibrate -v
//
// It keeps the a-priori constants of paired.yaml (skills, ability,
// verbosity, length_sd, tokens_per_step, lr_scale) and solves, on the
// exact expectations over the held-out set, for
//   - the difficulty spread S (difficulty_scale = S/(√2·sd(o)), hidden_sd =
//     S/√2: features and hidden part explain equal shares) and
//     difficulty_shift, so that pass@1 = 0.33 and pass@4 = 0.70;
//   - stop, so that truncation = 0.805.
func TestCalibrate(t *testing.T) {
	if !*calibrate {
		t.Skip("run with -calibrate")
	}
	s, set := pairedSpec(t)
	var so, so2 float64
	for _, p := range set.Problems {
		o := observableDifficulty(p.Features)
		so += o
		so2 += o * o
	}
	n := float64(set.Len())
	sdO := math.Sqrt(so2/n - (so/n)*(so/n))
	p := s.Runner.Sim
	withSpread := func(S float64) {
		p.DifficultyScale = S / (math.Sqrt2 * sdO)
		p.HiddenSD = S / math.Sqrt2
	}
	solveShift := func() {
		p.DifficultyShift = bisect(func(x float64) float64 {
			q := p
			q.DifficultyShift = x
			return expectedBase(t, s, set, q).pass[1]
		}, targetPass1, -10, 10)
	}
	S := bisect(func(S float64) float64 {
		withSpread(S)
		solveShift()
		return expectedBase(t, s, set, p).pass[4]
	}, targetPass4, 0, 5)
	withSpread(S)
	solveShift()
	p.Stop = bisect(func(x float64) float64 {
		q := p
		q.Stop = x
		return expectedBase(t, s, set, q).truncation
	}, targetTruncation, -10, 10)
	e := expectedBase(t, s, set, p)
	fmt.Printf("sd(o) = %.4f on the held-out set, spread S = %.4f\n", sdO, S)
	fmt.Printf("difficulty_scale: %.4f\ndifficulty_shift: %.4f\nhidden_sd: %.4f\nstop: %.4f\n",
		p.DifficultyScale, p.DifficultyShift, p.HiddenSD, p.Stop)
	fmt.Printf("expected: pass@1 %.4f pass@4 %.4f truncation %.4f in-zone (training reward) %.4f\n",
		e.pass[1], e.pass[4], e.truncation, e.inZone)
}

// TestCommittedConstantsAreCalibrated checks that the base policy committed
// in experiments/paired.yaml (and mirrored by spec.DefaultSimPolicy) still
// sits on the reference base row in expectation, so a change to the model
// that moves it is caught here, before any sampled evaluation.
func TestCommittedConstantsAreCalibrated(t *testing.T) {
	t.Parallel()
	s, set := pairedSpec(t)
	e := expectedBase(t, s, set, s.Runner.Sim)
	assert.InDelta(t, targetPass1, e.pass[1], 0.002, "pass@1")
	assert.InDelta(t, targetPass4, e.pass[4], 0.002, "pass@4")
	assert.InDelta(t, targetTruncation, e.truncation, 0.002, "truncation")
	assert.Equal(t, spec.DefaultSimPolicy(), s.Runner.Sim, "spec.DefaultSimPolicy mirrors paired.yaml's runner.sim")
	t.Logf("expected: pass@1 %.4f pass@4 %.4f truncation %.4f; in-zone fraction under the training reward %.4f",
		e.pass[1], e.pass[4], e.truncation, e.inZone)
}
