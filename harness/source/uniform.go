package source

import (
	"context"
	"encoding/json"
	"fmt"
	"math"

	"github.com/relix-lab/relix/eval"
	"github.com/relix-lab/relix/experiment/seed"
	"github.com/relix-lab/relix/runners"
)

// Uniform is vanilla GRPO's source: one trainer draws prompts uniformly at
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
type Uniform struct {
	cfg   Config
	zone  eval.Zone
	cool  *cooldown
	index map[string]int
	probe *probe
}

// NewUniform makes a uniform source.
func NewUniform(cfg Config) (*Uniform, error) {
	if err := check(&cfg); err != nil {
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
	u := &Uniform{cfg: cfg, zone: eval.NewZone(cfg.Train.GroupSize, cfg.Train.SigmaMin), cool: newCooldown(cfg.Train.Cooldown), index: poolIndex(cfg.Pool)}
	u.probe = newProbe(&u.cfg, DefaultProbeSize, u.zone)
	return u, nil
}

func (u *Uniform) dynamic() bool { return u.cfg.Arm.Filter == "dynamic" }

// Next draws, generates and (with the filter) screens the step's groups.
func (u *Uniform) Next(ctx context.Context, step int, current, _ string) (*Batch, error) {
	cfg := &u.cfg
	n, g := cfg.Train.GroupsPerStep, cfg.Train.GroupSize
	rest := u.cool.available(cfg.Pool.Len(), step)
	if len(rest) < n {
		return nil, errExhausted(cfg.Pool, step, len(rest), n, cfg.Train.Cooldown)
	}
	budget := n
	if u.dynamic() {
		budget = cfg.Arm.MaxGenRounds * n
	}
	b := &Batch{Account: Account{Step: step, Source: "uniform", Filter: "none", Checkpoint: current}}
	if u.dynamic() {
		b.Account.Filter = "dynamic"
	}
	acct := &b.Account
	var used []int
	for round := 0; acct.GeneratedGroups < budget && len(b.Groups) < n && len(rest) > 0; round++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		want := min(n-len(b.Groups), budget-acct.GeneratedGroups, len(rest))
		// A partial Fisher–Yates shuffle of the prompts not yet drawn this
		// step: want uniform draws without replacement.
		rng := seed.Stream(cfg.Seed, cfg.Arm.Name, step, "draw", round)
		for i := range want {
			j := i + rng.IntN(len(rest)-i)
			rest[i], rest[j] = rest[j], rest[i]
		}
		drawn := rest[:want:want]
		rest = rest[want:]
		prompts := make([]runners.Prompt, want)
		for i, k := range drawn {
			prompts[i] = problemPrompt(&cfg.Pool.Problems[k])
		}
		comps, err := cfg.Runner.Generate(ctx, current, prompts, g, sampling(cfg.Train, seed.Derive(cfg.Seed, cfg.Arm.Name, step, "generate", round)))
		if err != nil {
			return nil, err
		}
		if err := checkShape(comps, prompts, g); err != nil {
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
			reason := ReasonAccepted
			if u.dynamic() && !in {
				reason = ReasonDiscarded
			}
			index := acct.GeneratedGroups
			tallyGroup(acct, comps[i], rewards, in, reason)
			if reason == ReasonAccepted {
				b.Groups = append(b.Groups, runners.Group{Prompt: prompts[i], Completions: comps[i], Rewards: rewards, Checkpoint: current})
				used = append(used, k)
				countUseful(acct, comps[i])
			}
			for j, c := range comps[i] {
				b.Rollouts = append(b.Rollouts, Rollout{
					Window: step, Round: round, Group: index, Prompt: prob.ID, Checkpoint: current,
					Completion: j, Reward: rewards[j], Claimed: rewards[j], Tokens: c.NumTokens, Truncated: c.Truncated(),
					InZone: in, Accepted: reason == ReasonAccepted, Reason: reason, Arrival: math.NaN(),
				})
			}
		}
	}
	acct.Capped = len(b.Groups) < n
	for _, k := range used {
		u.cool.use(k, step)
	}
	var err error
	if acct.InZoneFraction, acct.InZoneMethod, err = u.probe.inZoneAt(ctx, step, current); err != nil {
		return nil, err
	}
	acct.ProbeSize = len(u.probe.prompts)
	acct.finish()
	return b, nil
}

// checkShape checks that a runner returned g completions for every prompt.
func checkShape(comps [][]runners.Completion, prompts []runners.Prompt, g int) error {
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

// tallyGroup counts one generated group and its fate.
func tallyGroup(a *Account, comps []runners.Completion, rewards []float64, in bool, reason string) {
	a.GeneratedGroups++
	a.GeneratedRollouts += len(comps)
	for _, c := range comps {
		a.GeneratedTokens += int64(c.NumTokens)
		if c.Truncated() {
			a.TruncatedRollouts++
		}
	}
	if in {
		a.InZoneGroups++
	}
	if zeroStd(rewards) {
		a.ZeroStdGroups++
	}
	switch reason {
	case ReasonAccepted:
		a.Accepted++
	case ReasonDiscarded:
		a.Discarded++
	case ReasonMissed:
		a.Missed++
	case ReasonInFlight:
		a.InFlight++
	case ReasonLate:
		a.Late++
	case ReasonDuplicate:
		a.Duplicate++
	default:
		a.Rejected++
		a.Rejections.add(reason[len(RejectedPrefix):])
	}
}

func countUseful(a *Account, comps []runners.Completion) {
	a.UsefulGroups++
	a.UsefulRollouts += len(comps)
	for _, c := range comps {
		a.UsefulTokens += int64(c.NumTokens)
	}
}

func zeroStd(r []float64) bool {
	for _, x := range r {
		if x != r[0] {
			return false
		}
	}
	return true
}

// uniformState is the uniform source's State.
type uniformState struct {
	Version  int             `json:"version"`
	Source   string          `json:"source"`
	Arm      string          `json:"arm"`
	Cooldown []cooldownEntry `json:"cooldown"`
}

const stateVersion = 1

// State returns the cooldowns.
func (u *Uniform) State() ([]byte, error) {
	return json.Marshal(uniformState{Version: stateVersion, Source: "uniform", Arm: u.cfg.Arm.Name, Cooldown: u.cool.state(u.cfg.Pool)})
}

// Restore loads a State.
func (u *Uniform) Restore(b []byte) error {
	var st uniformState
	if err := json.Unmarshal(b, &st); err != nil {
		return fmt.Errorf("source state: %w", err)
	}
	if st.Version != stateVersion || st.Source != "uniform" || st.Arm != u.cfg.Arm.Name {
		return fmt.Errorf("source state: version %d of a %s source of arm %q; want version %d of a uniform source of arm %q",
			st.Version, st.Source, st.Arm, stateVersion, u.cfg.Arm.Name)
	}
	return u.cool.restore(u.cfg.Pool, u.index, st.Cooldown)
}
