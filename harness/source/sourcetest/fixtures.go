package sourcetest

import (
	"context"
	"sync"
	"testing"

	"github.com/relix-lab/relix/eval"
	"github.com/relix-lab/relix/experiment/dataset"
	"github.com/relix-lab/relix/experiment/spec"
	"github.com/relix-lab/relix/harness/source"
	"github.com/relix-lab/relix/runners"
)

var (
	poolOnce sync.Once
	pool     *dataset.Set
)

// Pool is 1,500 generated training problems, made once per test binary.
func Pool(t testing.TB) *dataset.Set {
	poolOnce.Do(func() {
		var err error
		pool, err = dataset.Generate(dataset.GeneratorConfig{Size: 1500, Seed: 5}, dataset.Train)
		if err != nil {
			panic(err)
		}
	})
	return pool
}

// Train is the reference protocol at a small scale: N = 8, G = 8,
// σ_min = 0.43, a 2048-token cap, cooldown 0 (the pool stays the same, so
// statistical tests compare like with like).
func Train() spec.Train {
	return spec.Train{
		GroupsPerStep: 8, GroupSize: 8, SigmaMin: 0.43,
		Sampling:     spec.Sampling{Temperature: 0.9, TopP: 1, MaxTokens: 2048},
		PublishEvery: 10, Cooldown: 0, Reward: spec.Reward{Truncated: "zero"}, ProbeEvery: 1,
	}
}

// Miners is a group of count miners of a behaviour and estimator kind,
// 1,000 tokens/s with a 0.5 s latency.
func Miners(count int, behaviour, kind string) spec.MinerGroup {
	return spec.MinerGroup{Count: count, Behaviour: behaviour, Throughput: 1000, Latency: 0.5,
		Estimator: spec.Estimator{Kind: kind, Decay: 0.9, LR: 0.1, L2: 1e-3, Explore: 0.1}}
}

// MarketArm is a market arm of the miner groups.
func MarketArm(name string, groups ...spec.MinerGroup) spec.Arm {
	return spec.Arm{Name: name, Source: "market", Market: &spec.Market{Miners: groups, Candidates: 16, ProbeSize: 256, ProofBase: 8}}
}

// FilterArm is a uniform arm with DAPO's filter, capped at 50 rounds.
func FilterArm(name string) spec.Arm {
	return spec.Arm{Name: name, Source: "uniform", Filter: "dynamic", MaxGenRounds: 50}
}

// ExactInZone is the in-zone fraction of the whole pool at a checkpoint.
func ExactInZone(t testing.TB, f *Fake, p *dataset.Set, tr spec.Train, ck string) float64 {
	z := eval.NewZone(tr.GroupSize, tr.SigmaMin)
	var sum float64
	for _, pr := range p.Problems {
		q, err := f.SuccessProbability(context.Background(), ck, source.Prompt(&pr), runners.Sampling{}, tr.Reward.Truncated)
		if err != nil {
			t.Fatal(err)
		}
		sum += z.Chance(q)
	}
	return sum / float64(p.Len())
}

// Config is arm on a fresh fake at the Train protocol and the Pool: the
// fixed ground the statistical tests compare selectors on.
func Config(t testing.TB, arm spec.Arm, s uint64) source.Config {
	p := Pool(t)
	return source.Config{Arm: arm, Train: Train(), Seed: s, Pool: p, Runner: NewFake(p)}
}

// New makes a source with newSource, and fails the test if it cannot: every
// source's tests build theirs through their own package's constructor.
func New[S any](t testing.TB, newSource func(source.Config) (S, error), cfg source.Config) S {
	t.Helper()
	s, err := newSource(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
