// Package source is the contract every rollout source keeps: where each
// training step's rollout groups come from. The experiment holds everything
// else fixed, so a source is the only thing that differs between arms. The
// sources themselves live beside it, each in its own package:
//
//   - harness/uniform: one trainer draws prompts uniformly at random and,
//     with filter "dynamic" (DAPO's dynamic sampling), discards the groups
//     that fail the σ gate;
//   - harness/market: each step is a window that K miners race to fill and
//     a validator verifies.
//
// This package holds what they share, so that both account for compute the
// same way and a new source can be written against it alone: the Source
// interface and its Config and Batch, the reward (Rewarder), the exact
// compute account of a step (Account) and the fate of every generated
// completion (Rollout), the in-zone probe, and the cooldown. The σ gate
// itself is eval.InZone. README.md documents the contract and the
// accounting.
//
// Every random draw derives from (run seed, arm, step, purpose) through
// experiment/seed, never from call order or scheduling, so a source gives the
// same batches and the same deltas whatever GOMAXPROCS.
package source

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/relix-lab/relix/eval"
	"github.com/relix-lab/relix/experiment/dataset"
	"github.com/relix-lab/relix/experiment/spec"
	"github.com/relix-lab/relix/runners"
)

// Rewarder scores one completion of a problem: eval's grader and the spec's
// truncation rule. Rewards are always computed by the harness, never by a
// runner or a miner.
type Rewarder func(p *dataset.Problem, c runners.Completion) float64

// NewRewarder returns the training reward of r: 1 when eval.Grade finds the
// completion's answer correct, else 0; with truncated "zero" a truncated
// completion scores 0 whatever its answer (so stopping is learnable).
//
// The verdicts of distinct (answer, reference) pairs are remembered, up to
// rewardMemoSize of them: a policy boxes the same few answers to a problem
// again and again (the sim's always do), and comparing them is most of
// grading. Grade is ExtractAnswer, then that comparison, so a remembered
// verdict is the one Grade would give.
func NewRewarder(r spec.Reward) Rewarder {
	zeroTruncated := r.Truncated != "grade"
	memo := &verdictMemo{verdicts: map[answerPair]bool{}}
	return func(p *dataset.Problem, c runners.Completion) float64 {
		if zeroTruncated && c.Truncated() {
			return 0
		}
		answer, err := eval.ExtractAnswer(c.Text, eval.GradeOptions{})
		if err == nil && memo.equivalent(answer, p.Answer) {
			return 1
		}
		return 0
	}
}

// rewardMemoSize bounds a rewarder's remembered verdicts (about 100 bytes
// each, past the strings).
const rewardMemoSize = 1 << 16

type answerPair struct{ answer, reference string }

// verdictMemo is eval.Equivalent with a bounded memory, safe for
// concurrent use.
type verdictMemo struct {
	mu       sync.RWMutex
	verdicts map[answerPair]bool
}

func (m *verdictMemo) equivalent(answer, reference string) bool {
	k := answerPair{answer, reference}
	m.mu.RLock()
	v, ok := m.verdicts[k]
	m.mu.RUnlock()
	if ok {
		return v
	}
	v = eval.Equivalent(answer, reference)
	m.mu.Lock()
	if len(m.verdicts) < rewardMemoSize {
		m.verdicts[k] = v
	}
	m.mu.Unlock()
	return v
}

// Config is what a source is made with.
type Config struct {
	Arm   spec.Arm
	Train spec.Train
	// Seed is the run's seed (the experiment seed of this repetition);
	// every stream is seed.Derive(Seed, arm name, step, purpose, ...).
	Seed   uint64
	Pool   *dataset.Set // the training problems
	Runner runners.Runner
	// Reward scores completions; nil means NewRewarder(Train.Reward).
	Reward Rewarder
}

// Source produces the rollout groups of each training step.
type Source interface {
	// Next returns the groups to train on at step (0-based). current is the
	// trainer's checkpoint, published the last published one: market miners
	// generate with published, the uniform trainer with current. Steps are
	// expected in order, each once (a resumed run Restores first).
	Next(ctx context.Context, step int, current, published string) (*Batch, error)
	// Delta encodes what the last Next changed in the source's state (the
	// cooldowns it began, what its estimators learned) as a delta
	// (delta.go); the bytes are a deterministic function of the steps run.
	// Apply redoes the delta of step on a source made with the same
	// Config: applying the deltas of steps 0..k-1 in order to a new source
	// leaves it as it was after step k-1, so that Next(k) gives the same
	// batch. This is how a run resumes.
	Delta() ([]byte, error)
	Apply(step int, delta []byte) error
}

// Ahead is a Source that can start on a step's batch before Next asks for
// it. The trainer calls Ahead with the arguments of the next Next as soon
// as it knows them, before it evaluates and commits the step, and Close
// when it is done with the source. Next must return what it would have
// without the call: Ahead only lets the source work while the trainer
// does.
type Ahead interface {
	Source
	Ahead(ctx context.Context, step int, current, published string)
	Close() error
}

// AheadOfStep is an Ahead source whose batch depends on the published
// checkpoint alone, never on the trainer's current one (a market's miners
// generate with what was published). When the trainer's step will publish
// nothing, it knows the next Next's published checkpoint before it steps,
// and calls AheadOfStep then instead of Ahead after, so that the source
// works while the trainer steps as well.
type AheadOfStep interface {
	Ahead
	AheadOfStep(ctx context.Context, step int, published string)
}

// Batch is one step's groups, its account and every generated completion
// with its fate.
type Batch struct {
	// Groups are the groups to train on, at most N: for the market in
	// acceptance order, for uniform in draw order. Uniform without a filter
	// includes zero-variance groups (they carry no gradient, as in vanilla
	// GRPO). Each group's Checkpoint is the checkpoint that generated it;
	// completions carry no token ids.
	Groups   []runners.Group
	Account  Account
	Rollouts []Rollout
}

// Check validates what every source needs of its Config and fills in the
// default Rewarder. Each source's constructor calls it first, so that a bad
// train block is reported the same way whichever source an arm has.
func (cfg *Config) Check() error {
	switch {
	case cfg.Pool == nil || cfg.Pool.Len() == 0:
		return errors.New("source: no training problems")
	case cfg.Runner == nil:
		return errors.New("source: no runner")
	case cfg.Train.GroupsPerStep < 1:
		return fmt.Errorf("source: train.groups_per_step is %d; want at least 1", cfg.Train.GroupsPerStep)
	case cfg.Train.GroupSize < 2:
		return fmt.Errorf("source: train.group_size is %d; want at least 2", cfg.Train.GroupSize)
	case !(cfg.Train.SigmaMin >= 0 && cfg.Train.SigmaMin < 0.5):
		return fmt.Errorf("source: train.sigma_min is %g; want 0 ≤ sigma_min < 0.5", cfg.Train.SigmaMin)
	case cfg.Train.Sampling.MaxTokens < 1:
		return fmt.Errorf("source: train.sampling.max_tokens is %d; want at least 1", cfg.Train.Sampling.MaxTokens)
	}
	if cfg.Reward == nil {
		cfg.Reward = NewRewarder(cfg.Train.Reward)
	}
	return nil
}

// Sampling is the training sampling with a seed. Every source and the probe
// generate with it, so that the only thing that differs between arms is the
// choice of prompts, not how their groups are sampled.
func Sampling(t spec.Train, seed uint64) runners.Sampling {
	return runners.Sampling{Temperature: t.Sampling.Temperature, TopP: t.Sampling.TopP, MaxTokens: t.Sampling.MaxTokens, Seed: seed}
}

// Prompt is a training problem as a runner prompt.
func Prompt(p *dataset.Problem) runners.Prompt {
	return runners.Prompt{ID: p.ID, Text: p.Statement}
}

// CheckShape checks that a runner returned g completions for every prompt.
// Sources index completions by prompt and position, so a runner that breaks
// its contract must fail the step loudly instead of misattributing rewards.
func CheckShape(comps [][]runners.Completion, prompts []runners.Prompt, g int) error {
	if len(comps) != len(prompts) {
		return fmt.Errorf("runner returned completions for %d prompts, want %d", len(comps), len(prompts))
	}
	for i, c := range comps {
		if len(c) != g {
			return fmt.Errorf("runner returned %d completions of %s, want %d", len(c), prompts[i].ID, g)
		}
	}
	return nil
}
