// Package sourcetest holds what the tests of every rollout source share: a
// deterministic fake runner whose true success probabilities are known, the
// fixtures (pool, train block, arms) they run on, the identities every
// account must keep and the statistics they compare hit rates with. It is a
// package, not a _test file, because the uniform and market sources' tests
// both need it and must not each keep a copy.
package sourcetest

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/relix-lab/relix/experiment/dataset"
	"github.com/relix-lab/relix/experiment/seed"
	"github.com/relix-lab/relix/runners"
)

// Fake is a deterministic runner with a known success probability per
// prompt and checkpoint: p = σ(slope·(steps − centre) + hiddenSD·h_i +
// 0.5·n) at checkpoint "ck-n", h_i a standard normal drawn from the prompt's
// id (the part of its difficulty no feature reveals). A completion is
// truncated with probability truncRate, independently of being correct; the
// training reward ("zero") is therefore p·(1 − truncRate). Hidden states are
// a rolling hash of the checkpoint and the token prefix, as the sim's are.
type Fake struct {
	Slope, Centre, HiddenSD, TruncRate float64
	problems                           map[string]dataset.Problem
	wrong                              map[string]string

	generated atomic.Int64 // completions generated, for cost checks
	hidden    atomic.Int64 // Hidden calls
}

// NewFake is a fake for the problems of pool.
func NewFake(pool *dataset.Set) *Fake {
	f := &Fake{Slope: 3, Centre: 4, HiddenSD: 0.5, TruncRate: 0.1, problems: map[string]dataset.Problem{}, wrong: map[string]string{}}
	for _, p := range pool.Problems {
		f.problems[p.ID] = p
		f.wrong[p.ID] = dataset.WrongAnswer(p, seed.Stream(0, "fake wrong", p.ID))
	}
	return f
}

func (f *Fake) level(ck string) (int, error) {
	n, err := strconv.Atoi(strings.TrimPrefix(ck, "ck-"))
	if err != nil || !strings.HasPrefix(ck, "ck-") {
		return 0, fmt.Errorf("fake: checkpoint %q: %w", ck, runners.ErrUnknownCheckpoint)
	}
	return n, nil
}

// correctP is P(the boxed answer is right) of a prompt at a checkpoint.
func (f *Fake) correctP(ck, id string) (float64, error) {
	n, err := f.level(ck)
	if err != nil {
		return 0, err
	}
	p, ok := f.problems[id]
	if !ok {
		return 0, fmt.Errorf("fake: unknown prompt %q", id)
	}
	h := seed.Stream(0, "fake hidden", id).NormFloat64()
	return sigmoid(f.Slope*(float64(p.Features.Steps)-f.Centre) + f.HiddenSD*h + 0.5*float64(n)), nil
}

func (f *Fake) Base() string { return "ck-0" }

func (f *Fake) Generate(ctx context.Context, ck string, prompts []runners.Prompt, n int, s runners.Sampling) ([][]runners.Completion, error) {
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
			correct, truncated := r.Float64() < p, r.Float64() < f.TruncRate
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

func (f *Fake) Step(_ context.Context, ck string, groups []runners.Group, _ runners.Hyper) (string, runners.StepMetrics, error) {
	n, err := f.level(ck)
	if err != nil {
		return "", runners.StepMetrics{}, err
	}
	return "ck-" + strconv.Itoa(n+1), runners.StepMetrics{Groups: len(groups), Updated: true}, nil
}

// HiddenCalls is how many times Hidden has been called.
func (f *Fake) HiddenCalls() int64 { return f.hidden.Load() }

func (f *Fake) Hidden(_ context.Context, ck string, tokens []uint32, positions []int) ([][]float32, error) {
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
		h = seed.Mix(h ^ uint64(tokens[t]) ^ uint64(t)<<32)
		prefix[t] = h
	}
	out := make([][]float32, len(positions))
	for i, p := range positions {
		v := make([]float32, 32)
		for k := range v {
			u := float32(int32(uint32(seed.Mix(prefix[p]+uint64(k+1)*0x9e3779b97f4a7c15)))) / (1 << 31)
			v[k] = 4 * u * u * u
		}
		out[i] = v
	}
	return out, nil
}

func (f *Fake) Save(context.Context, string, string) error   { return nil }
func (f *Fake) Load(context.Context, string) (string, error) { return "", nil }
func (f *Fake) Close() error                                 { return nil }

func (f *Fake) SuccessProbability(_ context.Context, ck string, pr runners.Prompt, _ runners.Sampling, truncated string) (float64, error) {
	p, err := f.correctP(ck, pr.ID)
	if truncated == "zero" {
		p *= 1 - f.TruncRate
	}
	return p, err
}

var (
	_ runners.Runner = (*Fake)(nil)
	_ runners.Oracle = (*Fake)(nil)
)

// NoOracle hides a runner's Oracle, as a GPU worker has none.
type NoOracle struct{ runners.Runner }

// The market has these too, unexported; sourcetest cannot import the
// market, whose tests import sourcetest.

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// Batching is a Fake that also answers several generate calls in one round
// trip (GenerateMany), call by call as a worker answers a batch, and
// counts the round trips and the groups asked for.
type Batching struct {
	*Fake
	Trips, Groups int
}

func (b *Batching) GenerateMany(ctx context.Context, calls []runners.GenerateCall) ([][][]runners.Completion, []error) {
	b.Trips++
	out, errs := make([][][]runners.Completion, len(calls)), make([]error, len(calls))
	for i, c := range calls {
		b.Groups += len(c.Prompts)
		out[i], errs[i] = b.Fake.Generate(ctx, c.Checkpoint, c.Prompts, c.N, c.Sampling)
	}
	return out, errs
}
