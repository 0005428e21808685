// Package uniform is vanilla GRPO's rollout source, the market's baseline:
// one trainer draws prompts uniformly at random and generates their groups
// with the current checkpoint, optionally screening them with DAPO's
// reactive filter. README.md documents both and their cap.
package uniform

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/relix-lab/relix/eval"
	"github.com/relix-lab/relix/experiment/seed"
	"github.com/relix-lab/relix/harness/source"
	"github.com/relix-lab/relix/runners"
)

// Source is vanilla GRPO's source: one trainer draws prompts uniformly at
// random among those not cooling down and generates a group of each with
// the current checkpoint.
//
// With filter "none" it generates N groups and trains on all of them, zero-
// variance groups included. With filter "dynamic" (DAPO's dynamic sampling)
// a group that fails the σ gate is discarded; each further round draws as
// many new prompts as groups are still missing, so the step never generates
// more than it needs and its expected waste is exactly 1 − the in-zone
// fraction of what it draws from. At the cap — max_gen_rounds·N groups
// generated, DAPO's max_num_gen_batches batches' worth — the step trains on
// the groups that passed, fewer than N or none (Account.Capped); it neither
// pads with failed groups (they would carry no gradient anyway) nor fails.
type Source struct {
	cfg   source.Config
	cool  *source.Cooldown
	probe *source.Probe
	used  []int // the prompts the last step trained on (Delta)
}

var _ source.Source = (*Source)(nil)

// New makes a uniform source.
func New(cfg source.Config) (*Source, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	if cfg.Arm.Source != "uniform" {
		return nil, fmt.Errorf("source: arm %q has source %q, not uniform", cfg.Arm.Name, cfg.Arm.Source)
	}
	switch cfg.Arm.Filter {
	case "", "none":
	case "dynamic":
		if cfg.Arm.MaxGenRounds < 1 {
			return nil, fmt.Errorf("source: arm %q: max_gen_rounds is %d; want at least 1 with filter dynamic", cfg.Arm.Name, cfg.Arm.MaxGenRounds)
		}
	default:
		return nil, fmt.Errorf("source: arm %q has filter %q; want none or dynamic", cfg.Arm.Name, cfg.Arm.Filter)
	}
	u := &Source{cfg: cfg, cool: source.NewCooldown(cfg.Train.Cooldown)}
	u.probe = source.NewProbe(&u.cfg, source.DefaultProbeSize, eval.NewZone(cfg.Train.GroupSize, cfg.Train.SigmaMin))
	return u, nil
}

func (u *Source) dynamic() bool { return u.cfg.Arm.Filter == "dynamic" }

// Next draws, generates and (with the filter) screens the step's groups.
func (u *Source) Next(ctx context.Context, step int, current, _ string) (*source.Batch, error) {
	cfg := &u.cfg
	n, g := cfg.Train.GroupsPerStep, cfg.Train.GroupSize
	rest := u.cool.Available(cfg.Pool.Len(), step)
	if len(rest) < n {
		return nil, source.PoolExhausted(cfg.Pool, step, len(rest), n, cfg.Train.Cooldown)
	}
	budget := n
	if u.dynamic() {
		budget = cfg.Arm.MaxGenRounds * n
	}
	b := &source.Batch{Account: source.Account{Step: step, Source: "uniform", Filter: "none", Checkpoint: current}}
	if u.dynamic() {
		b.Account.Filter = "dynamic"
	}
	acct := &b.Account
	var used []int
	var ahead *roundAhead
	for round := 0; acct.GeneratedGroups < budget && len(b.Groups) < n && len(rest) > 0; round++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		want := min(n-len(b.Groups), budget-acct.GeneratedGroups, len(rest))
		drawn := drawRound(rest, want, u.drawStream(step, round))
		rest = rest[want:]
		prompts := u.prompts(drawn)
		var comps [][]runners.Completion
		if ahead != nil && ahead.round == round && want <= len(ahead.drawn) && slices.Equal(ahead.drawn[:want], drawn) {
			comps, ahead = ahead.comps[:want], nil
		} else {
			var err error
			comps, ahead, err = u.generateRound(ctx, step, round, current, prompts,
				min(want, budget-acct.GeneratedGroups-want, len(rest)), rest)
			if err != nil {
				return nil, err
			}
		}
		if err := source.CheckShape(comps, prompts, g); err != nil {
			return nil, err
		}
		acct.Rounds++
		for i, k := range drawn {
			prob := &cfg.Pool.Problems[k]
			rewards := make([]float64, g)
			for j, c := range comps[i] {
				rewards[j] = cfg.Reward(prob, c)
			}
			in := eval.InZone(rewards, cfg.Train.SigmaMin)
			reason := source.ReasonAccepted
			if u.dynamic() && !in {
				reason = source.ReasonDiscarded
			}
			index := acct.GeneratedGroups
			acct.AddGroup(comps[i], rewards, in, reason)
			if reason == source.ReasonAccepted {
				b.Groups = append(b.Groups, runners.Group{Prompt: prompts[i], Completions: comps[i], Rewards: rewards, Checkpoint: current})
				used = append(used, k)
				acct.AddUseful(comps[i])
			}
			for j, c := range comps[i] {
				b.Rollouts = append(b.Rollouts, source.Rollout{
					Window: step, Round: round, Group: index, Prompt: prob.ID, Checkpoint: current,
					Completion: j, Reward: rewards[j], Claimed: rewards[j], Tokens: c.NumTokens, Truncated: c.Truncated(),
					InZone: in, Accepted: reason == source.ReasonAccepted, Reason: reason, Arrival: math.NaN(),
				})
			}
		}
	}
	acct.Capped = len(b.Groups) < n
	for _, k := range used {
		u.cool.Use(k, step)
	}
	u.used = used
	if err := u.probe.Measure(ctx, step, current, acct); err != nil {
		return nil, err
	}
	acct.Finish()
	return b, nil
}

// A filtered step's rounds follow one another: a round draws as many
// prompts as groups are still missing, which the round before decides.
// Over a worker's pipe each round is a round trip. A runner that answers
// several generate calls in one (generateMany) is therefore asked for the
// next round along with this one, drawn as if no group of this one passed:
// the next round draws fewer or as many, with its own stream, from the
// prompts this one leaves, so its real draw is a prefix of the one made
// ahead, and a completion is a function of (checkpoint, prompt, index,
// sampling seed) alone. Results cannot depend on it; a step that fills up
// only costs the round generated ahead.

// generateMany is a runner that answers several generate calls in one
// round trip (runners/worker's GenerateMany).
type generateMany interface {
	GenerateMany(ctx context.Context, calls []runners.GenerateCall) (out [][][]runners.Completion, errs []error)
}

// roundAhead is the next round, generated with this one.
type roundAhead struct {
	round int
	drawn []int
	comps [][]runners.Completion
}

// drawRound is a partial Fisher–Yates shuffle of rest's first want
// entries, in place: want uniform draws without replacement.
func drawRound(rest []int, want int, rng *rand.Rand) []int {
	for i := range want {
		j := i + rng.IntN(len(rest)-i)
		rest[i], rest[j] = rest[j], rest[i]
	}
	return rest[:want:want]
}

func (u *Source) drawStream(step, round int) *rand.Rand {
	return seed.Stream(u.cfg.Seed, u.cfg.Arm.Name, step, "draw", round)
}

func (u *Source) roundSampling(step, round int) runners.Sampling {
	return source.Sampling(u.cfg.Train, seed.Derive(u.cfg.Seed, u.cfg.Arm.Name, step, "generate", round))
}

func (u *Source) prompts(drawn []int) []runners.Prompt {
	prompts := make([]runners.Prompt, len(drawn))
	for i, k := range drawn {
		prompts[i] = source.Prompt(&u.cfg.Pool.Problems[k])
	}
	return prompts
}

// generateRound generates a round's groups, and with a batching runner
// the next round's, at most next prompts drawn from what rest leaves
// (next ≤ 0: no round can follow).
func (u *Source) generateRound(ctx context.Context, step, round int, current string, prompts []runners.Prompt, next int, rest []int) ([][]runners.Completion, *roundAhead, error) {
	g := u.cfg.Train.GroupSize
	many, _ := u.cfg.Runner.(generateMany)
	if many == nil || next <= 0 {
		comps, err := u.cfg.Runner.Generate(ctx, current, prompts, g, u.roundSampling(step, round))
		return comps, nil, err
	}
	ahead := &roundAhead{round: round + 1, drawn: drawRound(slices.Clone(rest), next, u.drawStream(step, round+1))}
	nextPrompts := u.prompts(ahead.drawn)
	out, errs := many.GenerateMany(ctx, []runners.GenerateCall{
		{Checkpoint: current, Prompts: prompts, N: g, Sampling: u.roundSampling(step, round)},
		{Checkpoint: current, Prompts: nextPrompts, N: g, Sampling: u.roundSampling(step, round+1)},
	})
	if errs[0] != nil {
		return nil, nil, errs[0]
	}
	if errs[1] != nil || source.CheckShape(out[1], nextPrompts, g) != nil {
		return out[0], nil, nil // the next round meets the failure itself, if it comes
	}
	ahead.comps = out[1]
	return out[0], ahead, nil
}

// deltaVersion changes whenever the encoding of Delta does, so that a run
// resumed by another build refuses a delta it would misread.
const deltaVersion = 1

// Delta is the prompts the last step trained on, which began their
// cooldown: a uniform source's only state.
func (u *Source) Delta() ([]byte, error) { return encodeDelta(u.used), nil }

func encodeDelta(used []int) []byte {
	e := source.NewDelta("uniform", deltaVersion)
	e.Uint(len(used))
	for _, k := range used {
		e.Uint(k)
	}
	return e.Bytes()
}

// Apply starts the cooldowns of step's delta.
func (u *Source) Apply(step int, delta []byte) error {
	used, err := decodeDelta(delta, u.cfg.Pool.Len())
	if err != nil {
		return err
	}
	for _, k := range used {
		u.cool.Use(k, step)
	}
	u.used = used
	return nil
}

// decodeDelta reads encodeDelta's bytes for a pool of pool prompts.
func decodeDelta(delta []byte, pool int) ([]int, error) {
	d := source.ReadDelta(delta, "uniform", deltaVersion)
	used := make([]int, d.Count(1))
	for i := range used {
		used[i] = d.Uint(pool)
	}
	return used, d.End()
}
