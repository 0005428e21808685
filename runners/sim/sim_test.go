package sim

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/relix-lab/relix/eval"
	"github.com/relix-lab/relix/experiment/dataset"
	"github.com/relix-lab/relix/experiment/seed"
	"github.com/relix-lab/relix/experiment/spec"
	"github.com/relix-lab/relix/runners"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var ctx = context.Background()

// fixture is a runner over the problem sets of experiments/paired-first-model.yaml with
// its calibrated base policy.
type fixture struct {
	spec           *spec.Spec
	train, heldout *dataset.Set
	runner         *Runner
}

var (
	fixtureOnce sync.Once
	shared      fixture
)

func newFixture(t testing.TB) fixture {
	t.Helper()
	fixtureOnce.Do(func() {
		s, err := spec.Load(filepath.Join("..", "..", "experiments", "paired-first-model.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		// The sets of experiments/paired-first-model.yaml.
		gen := func(g *spec.Generated, split dataset.Split) *dataset.Set {
			set, err := dataset.Generate(dataset.GeneratorConfig{Size: g.Size, Seed: g.Seed, Mix: g.Mix}, split)
			if err != nil {
				t.Fatal(err)
			}
			return set
		}
		train, heldout := gen(s.Dataset.Train.Generated, dataset.Train), gen(s.Dataset.Heldout.Generated, dataset.HeldOut)
		shared = fixture{spec: s, train: train, heldout: heldout}
	})
	f := shared
	r, err := New(f.spec.Runner.Sim, runners.Options{Problems: []*dataset.Set{f.train, f.heldout}})
	require.NoError(t, err)
	f.runner = r
	return f
}

func prompt(p dataset.Problem) runners.Prompt { return runners.Prompt{ID: p.ID, Text: p.Statement} }

func trainingSampling(seed uint64) runners.Sampling {
	return runners.Sampling{Temperature: 0.9, TopP: 1, MaxTokens: 8192, Seed: seed}
}

// reward grades a completion as the harness does in training: the real
// grader, and a truncated completion scores 0.
func reward(c runners.Completion, p dataset.Problem) float64 {
	if c.Truncated() || !eval.Grade(c.Text, p.Answer, eval.GradeOptions{}).Correct {
		return 0
	}
	return 1
}

func group(t testing.TB, r *Runner, ck string, p dataset.Problem, n int, s runners.Sampling) runners.Group {
	t.Helper()
	out, err := r.Generate(ctx, ck, []runners.Prompt{prompt(p)}, n, s)
	require.NoError(t, err)
	g := runners.Group{Prompt: prompt(p), Completions: out[0], Checkpoint: ck}
	for _, c := range out[0] {
		g.Rewards = append(g.Rewards, reward(c, p))
	}
	return g
}

// inZoneGroups draws train problems in a seeded order and keeps the groups
// whose reward std is at least sigmaMin, until it has n of them.
func inZoneGroups(t testing.TB, f fixture, ck string, n, size int, sigmaMin float64, stream uint64) []runners.Group {
	t.Helper()
	rng := seed.Stream(stream, "test", "pick")
	var groups []runners.Group
	for tries := 0; len(groups) < n; tries++ {
		require.Less(t, tries, 100000, "no in-zone groups")
		p := f.train.Problems[rng.IntN(f.train.Len())]
		g := group(t, f.runner, ck, p, size, trainingSampling(seed.Derive(stream, "gen", tries)))
		if _, std := eval.MeanStd(g.Rewards); std >= sigmaMin {
			groups = append(groups, g)
		}
	}
	return groups
}

func hyper(f fixture, step int, reference string) runners.Hyper {
	return runners.NewHyper(f.spec.Train.GRPO, step, f.spec.Train.Steps, reference)
}

func TestCompletionsAreGradedByTheRealGrader(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	prompts := make([]runners.Prompt, 100)
	for i := range prompts {
		prompts[i] = prompt(f.heldout.Problems[i])
	}
	out, err := f.runner.Generate(ctx, f.runner.Base(), prompts, 16, trainingSampling(7))
	require.NoError(t, err)
	var correct, wrong, unanswered, stopped int
	for i, cs := range out {
		p := f.heldout.Problems[i]
		for _, c := range cs {
			ch, ok := f.runner.cfg.parseTrace(c.Trace)
			require.True(t, ok)
			v := eval.Grade(c.Text, p.Answer, eval.GradeOptions{})
			switch {
			case !ch.answered():
				unanswered++
				assert.Equal(t, runners.FinishLength, c.Finish)
				assert.Equal(t, 8192, c.NumTokens)
				assert.Equal(t, eval.ErrNoAnswer.Error(), v.Reason, c.Text)
			case ch.correct:
				correct++
				assert.True(t, v.Correct, "%s: %q", p.Answer, c.Text)
			default:
				wrong++
				assert.False(t, v.Correct, "%s: %q", p.Answer, c.Text)
				assert.Equal(t, eval.ErrNotEquivalent.Error(), v.Reason, c.Text)
			}
			if c.Finish == runners.FinishStop {
				stopped++
				assert.Less(t, c.NumTokens, 8192)
			}
			assert.Less(t, len(c.Text), 400, "the text is a short sketch")
			assert.Nil(t, c.Tokens, "token ids only when asked for")
		}
	}
	t.Logf("of 1600: %d correct, %d wrong, %d unanswered, %d stopped", correct, wrong, unanswered, stopped)
	assert.Positive(t, correct)
	assert.Positive(t, wrong)
	assert.Positive(t, unanswered)
	assert.Positive(t, stopped)
}

func TestGenerateIsDeterministicWhateverTheBatching(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	g := newFixture(t) // a second runner: nothing is shared but the inputs
	s := trainingSampling(42)
	s.Tokens = true
	prompts := []runners.Prompt{prompt(f.train.Problems[3]), prompt(f.train.Problems[5]), prompt(f.train.Problems[8])}
	all, err := f.runner.Generate(ctx, f.runner.Base(), prompts, 4, s)
	require.NoError(t, err)
	for i := len(prompts) - 1; i >= 0; i-- {
		one, err := g.runner.Generate(ctx, g.runner.Base(), prompts[i:i+1], 4, s)
		require.NoError(t, err)
		a, _ := json.Marshal(all[i])
		b, _ := json.Marshal(one[0])
		assert.Equal(t, string(a), string(b), "prompt %d", i)
	}
	for _, cs := range all {
		for _, c := range cs {
			assert.Len(t, c.Tokens, c.NumTokens)
		}
	}
	s.Seed = 43
	other, err := f.runner.Generate(ctx, f.runner.Base(), prompts, 4, s)
	require.NoError(t, err)
	assert.NotEqual(t, all, other, "another seed, other completions")
}

func TestTemperatureFlattensTheChoices(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ck, _ := f.runner.checkpoint(f.runner.Base())
	for _, p := range f.heldout.Problems[:50] {
		pr := f.runner.cfg.problems[p.ID]
		cold := f.runner.cfg.chances(ck.psi, pr, 0.5, 8192)
		hot := f.runner.cfg.chances(ck.psi, pr, 1.5, 8192)
		assert.Less(t, math.Abs(hot.correct-0.5), math.Abs(cold.correct-0.5)+1e-12)
		assert.Less(t, math.Abs(hot.stop-0.5), math.Abs(cold.stop-0.5))
	}
}

// surrogateAt evaluates the step's loss at psi.
func surrogateAt(c *config, psi params, samples []sample, h runners.Hyper) (float64, []float64) {
	grad := make([]float64, len(psi))
	v := c.surrogate(psi, samples, h, grad)
	return v.loss, grad
}

func TestGradientMatchesFiniteDifferences(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	r := f.runner
	base := r.Base()
	groups := inZoneGroups(t, f, base, 8, 8, 0.43, 1)
	// A checkpoint one step away: ratios against the behaviour (base) policy
	// and the KL to the reference are then not trivially 1.
	moved, _, err := r.Step(ctx, base, groups, hyper(f, 20, base))
	require.NoError(t, err)
	for _, tc := range []struct {
		name string
		edit func(*runners.Hyper)
	}{
		{"std advantages, sequence mean", func(*runners.Hyper) {}},
		{"mean advantages", func(h *runners.Hyper) { h.Advantage = "mean" }},
		{"token mean", func(h *runners.Hyper) { h.LossAgg = "token-mean" }},
		{"no KL", func(h *runners.Hyper) { h.KLBeta = 0 }},
		{"strong KL, tight clip", func(h *runners.Hyper) { h.KLBeta = 1; h.ClipLow, h.ClipHigh = 0.01, 0.01 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := hyper(f, 20, base)
			tc.edit(&h)
			ck, err := r.checkpoint(moved)
			require.NoError(t, err)
			samples, err := r.samples(ck, mustCheckpoint(t, r, base), groups, h, &runners.StepMetrics{})
			require.NoError(t, err)
			assertGradientMatchesFiniteDifferences(t, r.cfg, ck.psi, samples, h)
		})
	}
}

// assertGradientMatchesFiniteDifferences checks the surrogate's gradient at
// psi against central differences, parameter by parameter.
func assertGradientMatchesFiniteDifferences(t *testing.T, c *config, at params, samples []sample, h runners.Hyper) {
	t.Helper()
	psi := append(params(nil), at...)
	_, grad := surrogateAt(c, psi, samples, h)
	const step = 1e-6
	for i := range psi {
		plus := append(params(nil), psi...)
		minus := append(params(nil), psi...)
		plus[i] += step
		minus[i] -= step
		lp, _ := surrogateAt(c, plus, samples, h)
		lm, _ := surrogateAt(c, minus, samples, h)
		fd := (lp - lm) / (2 * step)
		assert.InDelta(t, fd, grad[i], 1e-6+1e-5*math.Abs(fd), "∂L/∂ψ_%d", i)
	}
}

func mustCheckpoint(t testing.TB, r *Runner, id string) *checkpoint {
	t.Helper()
	ck, err := r.checkpoint(id)
	require.NoError(t, err)
	return ck
}

func TestZeroVarianceGroupsMoveNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	r := f.runner
	base := r.Base()
	var flat []runners.Group
	for i := 0; len(flat) < 4; i++ {
		g := group(t, r, base, f.train.Problems[i], 8, trainingSampling(9))
		if _, std := eval.MeanStd(g.Rewards); std == 0 {
			flat = append(flat, g)
		}
	}
	next, m, err := r.Step(ctx, base, flat, hyper(f, 20, base))
	require.NoError(t, err)
	assert.Equal(t, base, next, "a step of zero-variance groups returns the checkpoint unchanged")
	assert.False(t, m.Updated)
	assert.Equal(t, 4, m.Skipped)
	assert.Zero(t, m.Sequences)

	// Mixed into a step, they change nothing either, bit for bit.
	signal := inZoneGroups(t, f, base, 4, 8, 0.43, 2)
	alone, _, err := r.Step(ctx, base, signal, hyper(f, 20, base))
	require.NoError(t, err)
	mixed, m, err := r.Step(ctx, base, slices.Concat(flat[:2], signal, flat[2:]), hyper(f, 20, base))
	require.NoError(t, err)
	assert.Equal(t, alone, mixed)
	assert.Equal(t, 4, m.Skipped)
	assert.NotEqual(t, base, alone)
}

func TestClipAndKLAtTheirEdges(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	r := f.runner
	base := r.Base()
	groups := inZoneGroups(t, f, base, 8, 8, 0.43, 3)

	// On-policy, first epoch: every ratio is 1, nothing is clipped, and a
	// reference equal to the policy adds exactly nothing.
	h := hyper(f, 20, base)
	withKL, m, err := r.Step(ctx, base, groups, h)
	require.NoError(t, err)
	assert.Zero(t, m.ClipFrac)
	assert.Zero(t, m.KL)
	h.KLBeta = 0
	withoutKL, _, err := r.Step(ctx, base, groups, h)
	require.NoError(t, err)
	assert.Equal(t, withoutKL, withKL)

	// Off-policy (the groups came from base, the policy has moved).
	moved := withKL
	for step := 21; step < 30; step++ {
		moved, _, err = r.Step(ctx, moved, groups, hyper(f, step, base))
		require.NoError(t, err)
	}
	ck := mustCheckpoint(t, r, moved)
	samplesFor := func(h runners.Hyper) []sample {
		s, err := r.samples(ck, mustCheckpoint(t, r, base), groups, h, &runners.StepMetrics{})
		require.NoError(t, err)
		return s
	}
	h = hyper(f, 30, base)
	h.ClipLow, h.ClipHigh = 0, 0
	v := r.cfg.surrogate(ck.psi, samplesFor(h), h, make([]float64, len(ck.psi)))
	assert.Positive(t, v.clipped, "with a zero clip range every ratio moved in its advantage's direction is clipped")
	assert.Positive(t, v.kl, "the policy has moved away from its reference")

	// A clipped sample contributes no policy gradient: with KL off and a
	// zero clip range, only samples whose ratio moved against their
	// advantage push.
	h.KLBeta = 0
	samples := samplesFor(h)
	checked := 0
	for _, s := range samples {
		at := r.cfg.at(ck.psi, s.pr, s.T)
		for u, un := range s.units {
			rho := math.Exp(at.logProb(un) - s.lpOld[u])
			one := sample{pr: s.pr, T: s.T, units: []unit{un}, lpOld: []float64{s.lpOld[u]}, adv: s.adv, weight: 1}
			_, g := surrogateAt(r.cfg, ck.psi, []sample{one}, h)
			if (s.adv > 0 && rho > 1) || (s.adv < 0 && rho < 1) {
				assert.Equal(t, make([]float64, len(g)), g, "clipped choice")
				checked++
			} else if rho != 1 {
				assert.NotEqual(t, make([]float64, len(g)), g, "unclipped choice")
			}
		}
	}
	assert.Positive(t, checked)
	// An unbounded clip range clips nothing.
	h.ClipLow, h.ClipHigh = 0.999999, 1e9
	v = r.cfg.surrogate(ck.psi, samplesFor(h), h, make([]float64, len(ck.psi)))
	assert.Zero(t, v.clipped)
	// No reference, no KL, whatever kl_beta.
	h.KLBeta, h.Reference = 1, ""
	v = r.cfg.surrogate(ck.psi, samplesFor(h), h, make([]float64, len(ck.psi)))
	assert.Zero(t, v.kl)
}

func TestStepsAreDeterministicAndCheckpointsRoundTrip(t *testing.T) {
	t.Parallel()
	train := func() (*Runner, []string) {
		f := newFixture(t)
		ck := f.runner.Base()
		ids := []string{ck}
		for step := 0; step < 5; step++ {
			groups := inZoneGroups(t, f, ck, 4, 8, 0.43, uint64(step))
			next, _, err := f.runner.Step(ctx, ck, groups, hyper(f, step, ids[0]))
			require.NoError(t, err)
			ck = next
			ids = append(ids, ck)
		}
		return f.runner, ids
	}
	r1, ids1 := train()
	r2, ids2 := train()
	assert.Equal(t, ids1, ids2)
	dir1, dir2 := t.TempDir(), t.TempDir()
	last := ids1[len(ids1)-1]
	require.NoError(t, r1.Save(ctx, last, dir1))
	require.NoError(t, r2.Save(ctx, last, dir2))
	b1, err := os.ReadFile(filepath.Join(dir1, checkpointFile))
	require.NoError(t, err)
	b2, err := os.ReadFile(filepath.Join(dir2, checkpointFile))
	require.NoError(t, err)
	assert.Equal(t, string(b1), string(b2), "same history, same checkpoint bytes")

	fresh := newFixture(t).runner
	id, err := fresh.Load(ctx, dir1)
	require.NoError(t, err)
	assert.Equal(t, last, id)
	s := trainingSampling(5)
	p := []runners.Prompt{prompt(shared.heldout.Problems[0])}
	a, err := r1.Generate(ctx, last, p, 8, s)
	require.NoError(t, err)
	b, err := fresh.Generate(ctx, id, p, 8, s)
	require.NoError(t, err)
	assert.Equal(t, a, b)

	other := shared.spec.Runner.Sim
	other.Stop++
	stranger, err := New(other, runners.Options{Problems: []*dataset.Set{shared.train}})
	require.NoError(t, err)
	_, err = stranger.Load(ctx, dir1)
	assert.ErrorContains(t, err, "other constants")
	_, err = fresh.Generate(ctx, "sim-0000000000000000", p, 1, s)
	assert.ErrorIs(t, err, runners.ErrUnknownCheckpoint)
}

func TestHiddenStatesTieTokensToTheCheckpoint(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	r := f.runner
	base := r.Base()
	next, _, err := r.Step(ctx, base, inZoneGroups(t, f, base, 4, 8, 0.43, 4), hyper(f, 20, base))
	require.NoError(t, err)
	s := trainingSampling(11)
	s.Tokens = true
	out, err := r.Generate(ctx, base, []runners.Prompt{prompt(f.train.Problems[0])}, 1, s)
	require.NoError(t, err)
	tokens := out[0][0].Tokens
	positions := []int{0, 1, 100, len(tokens) / 2, len(tokens) - 1}

	h1, err := r.Hidden(ctx, base, tokens, positions)
	require.NoError(t, err)
	h2, err := newFixture(t).runner.Hidden(ctx, base, tokens, positions)
	require.NoError(t, err)
	assert.Equal(t, h1, h2, "a function of (checkpoint, prefix) only")
	for _, v := range h1 {
		assert.Len(t, v, HiddenSize)
	}

	other, err := r.Hidden(ctx, next, tokens, positions)
	require.NoError(t, err)
	for i := range positions {
		assert.NotEqual(t, h1[i], other[i], "another checkpoint, position %d", positions[i])
	}

	edited := slices.Clone(tokens)
	edited[100] = (edited[100] + 1) % vocabSize
	he, err := r.Hidden(ctx, base, edited, positions)
	require.NoError(t, err)
	assert.Equal(t, h1[:2], he[:2], "positions before the edit keep their state")
	for i := 2; i < len(positions); i++ {
		assert.NotEqual(t, h1[i], he[i], "position %d after the edit", positions[i])
	}
	_, err = r.Hidden(ctx, base, tokens, []int{len(tokens)})
	assert.Error(t, err)
}

// TestTrainingOnInZoneGroupsRaisesHeldOutPass1 is the sanity check of the
// dynamics: the reference protocol (N = 8 groups of G = 8, lr 5e-6 ×
// lr_scale, warm-up then cosine, KL to a reference published every 10
// steps) trained for 300 steps on groups that are always in the zone.
func TestTrainingOnInZoneGroupsRaisesHeldOutPass1(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("300 training steps")
	}
	f := newFixture(t)
	r := f.runner
	s := f.spec
	ck, published := r.Base(), r.Base()
	evalS := runners.Sampling{Temperature: 0.9, TopP: 1, MaxTokens: 8192}
	measure := func(id string) expectation {
		return expected(r, id, f.heldout, evalS, "grade", []int{1, 4}, evalS, "zero", 8, 0.43)
	}
	before := measure(ck)
	for step := 0; step < s.Train.Steps; step++ {
		groups := inZoneGroups(t, f, published, s.Train.GroupsPerStep, s.Train.GroupSize, s.Train.SigmaMin, uint64(1000+step))
		next, _, err := r.Step(ctx, ck, groups, runners.NewHyper(s.Train.GRPO, step, s.Train.Steps, published))
		require.NoError(t, err)
		ck = next
		if (step+1)%s.Train.PublishEvery == 0 {
			published = ck
		}
	}
	after := measure(ck)
	t.Logf("held-out (expected): pass@1 %.3f → %.3f, pass@4 %.3f → %.3f, truncation %.3f → %.3f, in-zone %.3f → %.3f",
		before.pass[1], after.pass[1], before.pass[4], after.pass[4], before.truncation, after.truncation, before.inZone, after.inZone)
	assert.Greater(t, after.pass[1], before.pass[1]+0.05)
	assert.Less(t, after.truncation, before.truncation)
}

func TestBackendMakesTheSim(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	r, err := Backend(ctx, f.spec.Runner, runners.Options{Problems: []*dataset.Set{f.heldout}})
	require.NoError(t, err)
	assert.Equal(t, f.runner.Base(), r.Base(), "the base id depends on the constants only")
	_, err = r.Generate(ctx, r.Base(), []runners.Prompt{{ID: "p-missing"}}, 1, trainingSampling(1))
	assert.ErrorContains(t, err, "not in the runner's problem sets")
	require.NoError(t, r.Close())
}
