package sim

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"
	"testing"

	"github.com/relix-lab/relix/eval"
	"github.com/relix-lab/relix/experiment/dataset"
	"github.com/relix-lab/relix/experiment/seed"
	"github.com/relix-lab/relix/experiment/spec"
	"github.com/relix-lab/relix/runners"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// secondModels are the second model's mechanisms one at a time and
// together, at illustrative strengths (not the calibrated ones).
func secondModels() []struct {
	name string
	edit func(*spec.SimPolicy)
} {
	reach := func(p *spec.SimPolicy) { p.Reach = &spec.SimReach{StepSD: 0.7} }
	term := func(p *spec.SimPolicy) {
		p.Termination = &spec.SimTermination{Loop: -2, LoopWrong: 1.5, LoopDifficulty: 0.5, StopWrong: 1}
	}
	sharpen := func(p *spec.SimPolicy) { p.Sharpen = true }
	return []struct {
		name string
		edit func(*spec.SimPolicy)
	}{
		{"reach", reach},
		{"termination", term},
		{"sharpen", sharpen},
		{"all", func(p *spec.SimPolicy) { reach(p); term(p); sharpen(p) }},
		{"sharpen without reach", func(p *spec.SimPolicy) { term(p); sharpen(p) }},
	}
}

// secondFixture is newFixture's sets under a policy edited by edit.
func secondFixture(t testing.TB, edit func(*spec.SimPolicy)) fixture {
	t.Helper()
	f := newFixture(t)
	p := f.spec.Runner.Sim
	edit(&p)
	r, err := New(p, runners.Options{Problems: []*dataset.Set{f.train, f.heldout}})
	require.NoError(t, err)
	f.runner = r
	return f
}

func TestSecondModelGradientMatchesFiniteDifferences(t *testing.T) {
	t.Parallel()
	for _, m := range secondModels() {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			f := secondFixture(t, m.edit)
			r := f.runner
			base := r.Base()
			groups := inZoneGroups(t, f, base, 8, 8, 0.43, 3)
			moved, _, err := r.Step(ctx, base, groups, hyper(f, 20, base))
			require.NoError(t, err)
			ck := mustCheckpoint(t, r, moved)
			require.NotEqual(t, base, moved)
			h := hyper(f, 20, base)
			samples, err := r.samples(ck, mustCheckpoint(t, r, base), groups, h, &runners.StepMetrics{})
			require.NoError(t, err)
			assertGradientMatchesFiniteDifferences(t, r.cfg, ck.psi, samples, h)
		})
	}
}

// The oracle's chances are what sampling gives: success under both
// rewards and truncation, per problem, within sampling error.
func TestSecondModelOracleMatchesSampling(t *testing.T) {
	t.Parallel()
	for _, m := range secondModels() {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			f := secondFixture(t, m.edit)
			r := f.runner
			const n = 4000
			for _, p := range f.heldout.Problems[:6] {
				s := trainingSampling(seed.Derive(9, "oracle", p.ID))
				out, err := r.Generate(ctx, r.Base(), []runners.Prompt{prompt(p)}, n, s)
				require.NoError(t, err)
				var zero, grade, trunc float64
				for _, c := range out[0] {
					right := eval.Grade(c.Text, p.Answer, eval.GradeOptions{}).Correct
					if right {
						grade++
						if !c.Truncated() {
							zero++
						}
					}
					if c.Truncated() {
						trunc++
					}
				}
				for _, tc := range []struct {
					what    string
					sampled float64
					want    float64
				}{
					{"success, truncated zero", zero / n, mustSuccess(t, r, p, s, "zero")},
					{"success, truncated grade", grade / n, mustSuccess(t, r, p, s, "grade")},
					{"truncation", trunc / n, r.cfg.chances(mustCheckpoint(t, r, r.Base()).psi, r.cfg.problems[p.ID], s.Temperature, s.MaxTokens).truncation()},
				} {
					se := math.Sqrt(tc.want*(1-tc.want)/n) + 1e-9
					assert.InDelta(t, tc.want, tc.sampled, 4.5*se, "%s: %s", p.ID, tc.what)
				}
			}
		})
	}
}

func mustSuccess(t testing.TB, r *Runner, p dataset.Problem, s runners.Sampling, truncated string) float64 {
	t.Helper()
	x, err := r.SuccessProbability(ctx, r.Base(), prompt(p), s, truncated)
	require.NoError(t, err)
	return x
}

// firstModelDigest hashes what the first model produces on the paired
// sets: completions of the base policy and of the checkpoints of a few
// steps, their traces and the checkpoint ids.
func firstModelDigest(t *testing.T, p spec.SimPolicy) string {
	f := newFixture(t)
	r, err := New(p, runners.Options{Problems: []*dataset.Set{f.train, f.heldout}})
	require.NoError(t, err)
	f.runner = r
	h := sha256.New()
	ck := r.Base()
	for step := range 3 {
		groups := inZoneGroups(t, f, ck, 4, 8, 0.43, uint64(10+step))
		for _, g := range groups {
			for _, c := range g.Completions {
				h.Write([]byte(c.Text))
				var b [8]byte
				binary.LittleEndian.PutUint64(b[:], uint64(c.NumTokens))
				h.Write(b[:])
				for _, x := range c.Trace {
					binary.LittleEndian.PutUint64(b[:], math.Float64bits(x))
					h.Write(b[:])
				}
			}
		}
		next, m, err := r.Step(ctx, ck, groups, hyper(f, step+1, r.Base()))
		require.NoError(t, err)
		h.Write([]byte(next))
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], math.Float64bits(m.Loss))
		h.Write(b[:])
		ck = next
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// With every second-model mechanism off the sim is the first model, bit
// for bit: the digest was taken from the first model's code before the
// second model existed.
func TestSecondModelOffIsTheFirstModel(t *testing.T) {
	t.Parallel()
	p := spec.DefaultSimPolicy()
	p.Reach, p.Termination, p.Sharpen = nil, nil, false
	assert.Equal(t, "27b3668d0a93da4545b2574c17e413c3", firstModelDigest(t, p))
}

func TestSecondModelMechanisms(t *testing.T) {
	t.Parallel()
	f := secondFixture(t, secondModels()[3].edit)
	r := f.runner
	ck := mustCheckpoint(t, r, r.Base())
	c := r.cfg
	t.Run("a chain's chance at T = 1 is the first model's", func(t *testing.T) {
		for _, p := range f.heldout.Problems[:50] {
			pr := c.problems[p.ID]
			want := sigmoid(c.policy.Ability - pr.difficulty)
			assert.InDelta(t, want, c.at(ck.psi, pr, 1).p, 1e-9*math.Max(want, 1e-300)+1e-12, p.ID)
			assert.Len(t, pr.chain, min(pr.steps, maxChain))
		}
	})
	t.Run("a wrong answer loops more and stops less", func(t *testing.T) {
		for _, p := range f.heldout.Problems[:50] {
			a := c.at(ck.psi, c.problems[p.ID], 0.9)
			assert.Greater(t, a.loop.pWrong, a.loop.pRight)
			assert.Less(t, a.qWrong, a.q)
		}
	})
	t.Run("harder problems loop more", func(t *testing.T) {
		easy, hard := c.problems[f.heldout.Problems[0].ID], c.problems[f.heldout.Problems[1].ID]
		if easy.difficulty > hard.difficulty {
			easy, hard = hard, easy
		}
		assert.Less(t, c.at(ck.psi, easy, 0.9).loop.pRight, c.at(ck.psi, hard, 0.9).loop.pRight)
	})
	t.Run("sharpening concentrates each problem's chance", func(t *testing.T) {
		psi := append(params(nil), ck.psi...)
		psi[c.kappaIndex()] = 1 // β = e
		for _, p := range f.heldout.Problems[:50] {
			pr := c.problems[p.ID]
			before, after := c.at(ck.psi, pr, 0.9), c.at(psi, pr, 0.9)
			for s := range before.steps {
				// Every step moves away from one half, towards 0 or 1.
				assert.GreaterOrEqual(t, math.Abs(after.stepP[s]-0.5), math.Abs(before.stepP[s]-0.5)-1e-15)
			}
		}
	})
	t.Run("a looped completion has no answer and runs to the cap", func(t *testing.T) {
		out, err := r.Generate(ctx, r.Base(), []runners.Prompt{prompt(f.heldout.Problems[1])}, 400, trainingSampling(5))
		require.NoError(t, err)
		loops := 0
		for _, comp := range out[0] {
			ch, ok := c.parseTrace(comp.Trace)
			require.True(t, ok)
			if ch.looped {
				loops++
				assert.Equal(t, 8192, comp.NumTokens)
				assert.True(t, comp.Truncated())
				assert.NotContains(t, comp.Text, `\boxed`)
				assert.Contains(t, comp.Text, textLoop)
			}
		}
		assert.Positive(t, loops)
	})
}

func TestLevelDifficultySeparatesThePools(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	flat := secondFixture(t, func(*spec.SimPolicy) {})
	steep := secondFixture(t, func(p *spec.SimPolicy) { p.LevelDifficulty = 2 })
	for _, p := range f.train.Problems[:200] {
		require.NotZero(t, p.Level, "a generated problem knows its level")
		want := flat.runner.cfg.problems[p.ID].difficulty + 2*float64(p.Level-3)
		assert.InDelta(t, want, steep.runner.cfg.problems[p.ID].difficulty, 1e-12, p.ID)
	}
}
