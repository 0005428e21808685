// Package source holds relix's rollout sources: where each training step's
// rollout groups come from. The experiment holds everything else fixed, so
// a source is the only thing that differs between arms:
//
//   - Uniform: one trainer draws prompts uniformly at random among those not
//     cooling down and generates a group for each with the current
//     checkpoint; with filter "dynamic" (DAPO's dynamic sampling) groups that
//     fail the σ gate are discarded and generation continues until N pass or
//     the round cap is reached.
//   - Market: each step is a window that K miners race to fill. Miners pick
//     prompts with their own estimators, generate with the last published
//     checkpoint and submit; a validator takes submissions in virtual-time
//     arrival order, verifies them (window, checkpoint, dataset, cooldown,
//     rewards, σ gate, GRAIL-style proof, distinctness) and seals the window
//     at the N-th acceptance.
//
// Every source returns, besides the groups, an exact account of the compute
// spent to get them (Account) and the fate of every generated completion
// (Rollout). README.md documents the race, the checks, the estimators, the
// accounting and the cap behaviour.
//
// Every random draw derives from (run seed, arm, step, purpose) through
// experiment/seed, never from call order or scheduling, so a source gives the
// same batches and the same State bytes whatever GOMAXPROCS.
package source

import (
	"context"
	"errors"
	"fmt"

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
func NewRewarder(r spec.Reward) Rewarder {
	zeroTruncated := r.Truncated != "grade"
	return func(p *dataset.Problem, c runners.Completion) float64 {
		if zeroTruncated && c.Truncated() {
			return 0
		}
		if eval.Grade(c.Text, p.Answer, eval.GradeOptions{}).Correct {
			return 1
		}
		return 0
	}
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
	// State serializes everything needed to resume after the last step
	// Next returned (cooldowns, estimator state); the bytes are a
	// deterministic function of the steps run. Restore loads them into a
	// source made with the same Config.
	State() ([]byte, error)
	Restore([]byte) error
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

// New makes the source of cfg.Arm: uniform or market.
func New(cfg Config) (Source, error) {
	if err := check(&cfg); err != nil {
		return nil, err
	}
	switch cfg.Arm.Source {
	case "uniform":
		return NewUniform(cfg)
	case "market":
		return NewMarket(cfg)
	}
	return nil, fmt.Errorf("source: arm %q has source %q; want uniform or market", cfg.Arm.Name, cfg.Arm.Source)
}

func check(cfg *Config) error {
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

// sampling is the training sampling with a seed.
func sampling(t spec.Train, seed uint64) runners.Sampling {
	return runners.Sampling{Temperature: t.Sampling.Temperature, TopP: t.Sampling.TopP, MaxTokens: t.Sampling.MaxTokens, Seed: seed}
}
