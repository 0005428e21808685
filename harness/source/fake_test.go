package source

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/relix-lab/relix/eval"
	"github.com/relix-lab/relix/experiment/dataset"
	"github.com/relix-lab/relix/experiment/seed"
	"github.com/relix-lab/relix/experiment/spec"
	"github.com/relix-lab/relix/runners"
)

// fake is a deterministic runner with a known success probability per
// prompt and checkpoint: p = σ(slope·(steps − centre) + hiddenSD·h_i +
// 0.5·n) at checkpoint "ck-n", h_i a standard normal drawn from the prompt's
// id (the part of its difficulty no feature reveals). A completion is
// truncated with probability truncRate, independently of being correct; the
// training reward ("zero") is therefore p·(1 − truncRate). Hidden states are
// a rolling hash of the checkpoint and the token prefix, as the sim's are.
type fake struct {
	slope, centre, hiddenSD, truncRate float64
	problems                           map[string]dataset.Problem
	wrong                              map[string]string

	generated atomic.Int64 // completions generated, for cost checks
	hidden    atomic.Int64 // Hidden calls
}

func newFake(pool *dataset.Set) *fake {
	f := &fake{slope: 3, centre: 4, hiddenSD: 0.5, truncRate: 0.1, problems: map[string]dataset.Problem{}, wrong: map[string]string{}}
	for _, p := range pool.Problems {
		f.problems[p.ID] = p
		f.wrong[p.ID] = dataset.WrongAnswer(p, seed.Stream(0, "fake wrong", p.ID))
	}
	return f
}

func (f *fake) level(ck string) (int, error) {
	n, err := strconv.Atoi(strings.TrimPrefix(ck, "ck-"))
	if err != nil || !strings.HasPrefix(ck, "ck-") {
		return 0, fmt.Errorf("fake: checkpoint %q: %w", ck, runners.ErrUnknownCheckpoint)
	}
	return n, nil
}

// correctP is P(the boxed answer is right) of a prompt at a checkpoint.
func (f *fake) correctP(ck, id string) (float64, error) {
	n, err := f.level(ck)
	if err != nil {
		return 0, err
	}
	p, ok := f.problems[id]
	if !ok {
		return 0, fmt.Errorf("fake: unknown prompt %q", id)
	}
	h := seed.Stream(0, "fake hidden", id).NormFloat64()
	return sigmoid(f.slope*(float64(p.Features.Steps)-f.centre) + f.hiddenSD*h + 0.5*float64(n)), nil
}

func (f *fake) Base() string { return "ck-0" }

func (f *fake) Generate(ctx context.Context, ck string, prompts []runners.Prompt, n int, s runners.Sampling) ([][]runners.Completion, error) {
	out := make([][]runners.Completion, len(prompts))
	for i, pr := range prompts {
		p, err := f.correctP(ck, pr.ID)
		if err != nil {
			return nil, err
		}
		out[i] = make([]runners.Completion, n)
		ps := seed.Derive(s.Seed, "fake", pr.ID)
		for j := range out[i] {
			r := rand.New(rand.NewPCG(ps, uint64(j)))
			correct, truncated := r.Float64() < p, r.Float64() < f.truncRate
			tokens := 50 + r.IntN(200)
			answer := f.problems[pr.ID].Answer
			if !correct {
				answer = f.wrong[pr.ID]
			}
			c := runners.Completion{Text: "Work.\n\\boxed{" + answer + "}", NumTokens: tokens, Finish: runners.FinishStop}
			if truncated {
				c.Finish, c.NumTokens = runners.FinishLength, s.MaxTokens
			}
			if s.Tokens {
				c.Tokens = make([]uint32, c.NumTokens)
				for k := range c.Tokens {
					c.Tokens[k] = uint32(r.IntN(1000))
				}
			}
			out[i][j] = c
		}
		f.generated.Add(int64(n))
	}
	return out, ctx.Err()
}

func (f *fake) Step(_ context.Context, ck string, groups []runners.Group, _ runners.Hyper) (string, runners.StepMetrics, error) {
	n, err := f.level(ck)
	if err != nil {
		return "", runners.StepMetrics{}, err
	}
	return "ck-" + strconv.Itoa(n+1), runners.StepMetrics{Groups: len(groups), Updated: true}, nil
}

func (f *fake) Hidden(_ context.Context, ck string, tokens []uint32, positions []int) ([][]float32, error) {
	if _, err := f.level(ck); err != nil {
		return nil, err
	}
	f.hidden.Add(1)
	sum := sha256.Sum256([]byte(ck))
	h := binary.LittleEndian.Uint64(sum[:])
	last := -1
	for _, p := range positions {
		if p < 0 || p >= len(tokens) {
			return nil, fmt.Errorf("fake: position %d of %d tokens", p, len(tokens))
		}
		last = max(last, p)
	}
	prefix := make([]uint64, last+1)
	for t := 0; t <= last; t++ {
		h = mix64(h ^ uint64(tokens[t]) ^ uint64(t)<<32)
		prefix[t] = h
	}
	out := make([][]float32, len(positions))
	for i, p := range positions {
		v := make([]float32, 32)
		for k := range v {
			u := float32(int32(uint32(mix64(prefix[p]+uint64(k+1)*0x9e3779b97f4a7c15)))) / (1 << 31)
			v[k] = 4 * u * u * u
		}
		out[i] = v
	}
	return out, nil
}

func (f *fake) Save(context.Context, string, string) error   { return nil }
func (f *fake) Load(context.Context, string) (string, error) { return "", nil }
func (f *fake) Close() error                                 { return nil }

func (f *fake) SuccessProbability(_ context.Context, ck string, pr runners.Prompt, _ runners.Sampling, truncated string) (float64, error) {
	p, err := f.correctP(ck, pr.ID)
	if truncated == "zero" {
		p *= 1 - f.truncRate
	}
	return p, err
}

var (
	_ runners.Runner = (*fake)(nil)
	_ runners.Oracle = (*fake)(nil)
)

// noOracle hides the fake's Oracle, as a GPU worker has none.
type noOracle struct{ runners.Runner }

var (
	poolOnce sync.Once
	pool     *dataset.Set
)

// testPool is 1,500 generated training problems.
func testPool(t testing.TB) *dataset.Set {
	poolOnce.Do(func() {
		var err error
		pool, err = dataset.Generate(dataset.GeneratorConfig{Size: 1500, Seed: 5}, dataset.Train)
		if err != nil {
			panic(err)
		}
	})
	return pool
}

// testTrain is the reference protocol at a small scale: N = 8, G = 8,
// σ_min = 0.43, a 2048-token cap, cooldown 0 (the pool stays the same, so
// statistical tests compare like with like).
func testTrain() spec.Train {
	return spec.Train{
		GroupsPerStep: 8, GroupSize: 8, SigmaMin: 0.43,
		Sampling:     spec.Sampling{Temperature: 0.9, TopP: 1, MaxTokens: 2048},
		PublishEvery: 10, Cooldown: 0, Reward: spec.Reward{Truncated: "zero"}, ProbeEvery: 1,
	}
}

func miners(count int, behaviour, kind string) spec.MinerGroup {
	return spec.MinerGroup{Count: count, Behaviour: behaviour, Throughput: 1000, Latency: 0.5,
		Estimator: spec.Estimator{Kind: kind, Decay: 0.9, LR: 0.1, L2: 1e-3, Explore: 0.1}}
}

func marketArm(name string, groups ...spec.MinerGroup) spec.Arm {
	return spec.Arm{Name: name, Source: "market", Market: &spec.Market{Miners: groups, Candidates: 16, ProbeSize: 256, ProofBase: 8}}
}

func filterArm(name string) spec.Arm {
	return spec.Arm{Name: name, Source: "uniform", Filter: "dynamic", MaxGenRounds: 50}
}

// exactInZone is the in-zone fraction of the whole pool at a checkpoint.
func exactInZone(t testing.TB, f *fake, p *dataset.Set, tr spec.Train, ck string) float64 {
	z := eval.NewZone(tr.GroupSize, tr.SigmaMin)
	var sum float64
	for _, pr := range p.Problems {
		q, err := f.SuccessProbability(context.Background(), ck, problemPrompt(&pr), runners.Sampling{}, tr.Reward.Truncated)
		if err != nil {
			t.Fatal(err)
		}
		sum += z.Chance(q)
	}
	return sum / float64(p.Len())
}

func mustNew(t testing.TB, cfg Config) Source {
	t.Helper()
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
