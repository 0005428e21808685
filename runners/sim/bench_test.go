package sim

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/relix-lab/relix/eval"
	"github.com/relix-lab/relix/runners"
)

// BenchmarkGenerateAndGrade measures simulated completions per second of
// one core: Generate (64 prompts × 8 completions per call, no token ids)
// and grading every completion with eval.Grade.
func BenchmarkGenerateAndGrade(b *testing.B) {
	f := newFixture(b)
	prompts := make([]runners.Prompt, 64)
	for i := range prompts {
		prompts[i] = prompt(f.train.Problems[i])
	}
	s := trainingSampling(0)
	b.ReportAllocs()
	b.ResetTimer()
	correct := 0
	for i := 0; i < b.N; i++ {
		s.Seed = uint64(i)
		out, err := f.runner.Generate(ctx, f.runner.Base(), prompts, 8, s)
		if err != nil {
			b.Fatal(err)
		}
		for pi, cs := range out {
			for _, c := range cs {
				if eval.Grade(c.Text, f.train.Problems[pi].Answer, eval.GradeOptions{}).Correct {
					correct++
				}
			}
		}
	}
	perSecond := float64(b.N*len(prompts)*8) / b.Elapsed().Seconds()
	b.ReportMetric(perSecond, "completions/s")
	b.ReportMetric(perSecond*60/1e6, "Mcompletions/min")
}

// BenchmarkStep measures one GRPO step of N = 8 groups of G = 8 with the
// reference protocol (one epoch, KL to a reference, off-policy ratios).
func BenchmarkStep(b *testing.B) {
	f := newFixture(b)
	base := f.runner.Base()
	groups := inZoneGroups(b, f, base, 8, 8, 0.43, 5)
	moved, _, err := f.runner.Step(ctx, base, groups, hyper(f, 20, base))
	if err != nil {
		b.Fatal(err)
	}
	h := hyper(f, 21, base)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, err := f.runner.Step(ctx, moved, groups, h); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHidden measures the hidden states of every position of an
// 8192-token completion: what a miner commits to for a proof.
func BenchmarkHidden(b *testing.B) {
	f := newFixture(b)
	tokens := tokenIDs(1, 8192)
	positions := make([]int, len(tokens))
	for i := range positions {
		positions[i] = i
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := f.runner.Hidden(ctx, f.runner.Base(), tokens, positions); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHiddenProof measures what a proof asks: 32 sorted positions of an
// 8192-token completion, the last near its end.
func BenchmarkHiddenProof(b *testing.B) {
	f := newFixture(b)
	tokens := tokenIDs(1, 8192)
	positions := make([]int, 32)
	for i := range positions {
		positions[i] = 255 + 256*i
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.runner.Hidden(ctx, f.runner.Base(), tokens, positions); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHiddenGroup is a proof burst: a group's 8 completions of 2,000
// to 8,192 tokens, 32 sorted positions each, one Hidden call per
// completion ("each") or one HiddenMany ("many").
func BenchmarkHiddenGroup(b *testing.B) {
	f := newFixture(b)
	rng := rand.New(rand.NewPCG(1, 1))
	tokens := make([][]uint32, 8)
	positions := make([][]int, len(tokens))
	for j := range tokens {
		n := 2000 + rng.IntN(6193)
		tokens[j] = tokenIDs(uint64(j), n)
		for range 32 {
			positions[j] = append(positions[j], rng.IntN(n))
		}
		slices.Sort(positions[j])
	}
	b.Run("each", func(b *testing.B) {
		for b.Loop() {
			for j := range tokens {
				if _, err := f.runner.Hidden(ctx, f.runner.Base(), tokens[j], positions[j]); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("many", func(b *testing.B) {
		for b.Loop() {
			if _, err := f.runner.HiddenMany(ctx, f.runner.Base(), tokens, positions); err != nil {
				b.Fatal(err)
			}
		}
	})
}
