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
	// targetTrainInZone is the second model's training pool's in-zone
	// fraction at the base checkpoint: the top of the reference's 1–15%
	// band, where it says its experiment sat.
	targetTrainInZone = 0.15
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

// specSets loads experiments/NAME and makes its held-out set (the first
// eval.problems) and training pool.
func specSets(t testing.TB, name string) (*spec.Spec, *dataset.Set, *dataset.Set) {
	t.Helper()
	s, err := spec.Load(filepath.Join("..", "..", "experiments", name))
	if err != nil {
		t.Fatal(err)
	}
	gen := func(g *spec.Generated, split dataset.Split) *dataset.Set {
		set, err := dataset.Generate(dataset.GeneratorConfig{Size: g.Size, Seed: g.Seed, Mix: g.Mix, Levels: g.Levels}, split)
		if err != nil {
			t.Fatal(err)
		}
		return set
	}
	heldout := gen(s.Dataset.Heldout.Generated, dataset.HeldOut)
	if s.Eval.Problems > 0 {
		heldout = heldout.First(s.Eval.Problems)
	}
	return s, heldout, gen(s.Dataset.Train.Generated, dataset.Train)
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
// the sim's base policy"), for experiments/paired.yaml (the second model) and
// experiments/paired-first-model.yaml. Run it with
//
//	go test ./runners/sim -run TestCalibrate -calibrate -v
//
// It keeps each file's a-priori constants and solves, on the exact
// expectations at the base checkpoint (no sampling noise), for
//   - the difficulty spread S (difficulty_scale = S/(√2·sd(o)), hidden_sd =
//     S/√2: features and hidden part explain equal shares) and
//     difficulty_shift, so that held-out pass@1 = 0.33 and pass@4 = 0.70;
//   - the second model only: level_difficulty, so that the training pool's
//     in-zone fraction under the training reward is 15% (difficulty_shift
//     re-solved with it, so the held-out row stays put);
//   - stop, so that held-out truncation = 0.805.
func TestCalibrate(t *testing.T) {
	if !*calibrate {
		t.Skip("run with -calibrate")
	}
	for _, name := range []string{"paired.yaml", "paired-first-model.yaml"} {
		fmt.Printf("%s:\n", name)
		s, set, train := specSets(t, name)
		p := calibrated(t, s, set, train)
		e := expectedBase(t, s, set, p)
		fmt.Printf("difficulty_scale: %.4f\ndifficulty_shift: %.4f\nhidden_sd: %.4f\nstop: %.4f\n",
			p.DifficultyScale, p.DifficultyShift, p.HiddenSD, p.Stop)
		if p.LevelDifficulty != 0 {
			fmt.Printf("level_difficulty: %.4f\n", p.LevelDifficulty)
		}
		fmt.Printf("expected: pass@1 %.4f pass@4 %.4f truncation %.4f; training pool in-zone %.4f\n\n",
			e.pass[1], e.pass[4], e.truncation, trainInZone(t, s, train, p))
	}
}

// calibrated solves the base constants of s's policy (TestCalibrate).
func calibrated(t testing.TB, s *spec.Spec, set, train *dataset.Set) spec.SimPolicy {
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
		}, targetPass1, -20, 20)
	}
	S := bisect(func(S float64) float64 {
		withSpread(S)
		solveShift()
		return expectedBase(t, s, set, p).pass[4]
	}, targetPass4, 0, 5)
	withSpread(S)
	solveShift()
	if p.SecondModel() {
		p.LevelDifficulty = bisect(func(x float64) float64 {
			p.LevelDifficulty = x
			solveShift()
			return trainInZone(t, s, train, p)
		}, targetTrainInZone, 0, 10)
		solveShift()
	}
	p.Stop = bisect(func(x float64) float64 {
		q := p
		q.Stop = x
		return expectedBase(t, s, set, q).truncation
	}, targetTruncation, -10, 10)
	return p
}

// trainInZone is the training pool's exact in-zone fraction at the base
// checkpoint under the training sampling and reward.
func trainInZone(t testing.TB, s *spec.Spec, train *dataset.Set, p spec.SimPolicy) float64 {
	r, err := New(p, runners.Options{Problems: []*dataset.Set{train}})
	if err != nil {
		t.Fatal(err)
	}
	ck, _ := r.checkpoint(r.Base())
	ts := trainSampling(s)
	var sum float64
	for _, q := range train.Problems {
		c := r.cfg.chances(ck.psi, r.cfg.problems[q.ID], ts.Temperature, ts.MaxTokens)
		sum += eval.InZoneChance(c.success(s.Train.Reward.Truncated), s.Train.GroupSize, s.Train.SigmaMin)
	}
	return sum / float64(train.Len())
}

// TestCommittedConstantsAreCalibrated checks that the base policies
// committed in experiments/paired.yaml (the second model) and
// experiments/paired-first-model.yaml still sit on their targets in
// expectation, so a change to the model that moves them is caught here,
// before any sampled evaluation.
func TestCommittedConstantsAreCalibrated(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"paired.yaml", "paired-first-model.yaml"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s, set, train := specSets(t, name)
			e := expectedBase(t, s, set, s.Runner.Sim)
			assert.InDelta(t, targetPass1, e.pass[1], 0.002, "pass@1")
			assert.InDelta(t, targetPass4, e.pass[4], 0.002, "pass@4")
			assert.InDelta(t, targetTruncation, e.truncation, 0.002, "truncation")
			if s.Runner.Sim.SecondModel() {
				assert.InDelta(t, targetTrainInZone, trainInZone(t, s, train, s.Runner.Sim), 0.002, "training pool in-zone")
			} else {
				assert.Equal(t, spec.DefaultSimPolicy(), s.Runner.Sim, "spec.DefaultSimPolicy mirrors the first model's calibrated runner.sim")
			}
			t.Logf("expected: pass@1 %.4f pass@4 %.4f truncation %.4f; training pool in-zone %.4f",
				e.pass[1], e.pass[4], e.truncation, trainInZone(t, s, train, s.Runner.Sim))
		})
	}
}

// The zone sweep puts the main job's training pool, under its policy and
// reward, at each in-zone fraction, so its spec copies them: this keeps the
// copies equal.
func TestSweepSharesThePairedPolicy(t *testing.T) {
	t.Parallel()
	paired, _, _ := specSets(t, "paired.yaml")
	sweep, err := spec.Load(filepath.Join("..", "..", "experiments", "zone-sweep.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	assert.Equal(t, paired.Runner.Sim, sweep.Runner.Sim, "runner.sim")
	assert.Equal(t, paired.Dataset.Train, sweep.Dataset.Train, "the training pool")
	assert.Equal(t, paired.Train.Reward, sweep.Train.Reward, "the training reward")
}
