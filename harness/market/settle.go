package market

import (
	"math"

	"github.com/relix-lab/relix/harness/source"
	"github.com/relix-lab/relix/runners"
)

// Settling a closed window is the same whatever mechanism closed it: every
// attempt is counted by its fate, the accepted groups become the batch, and
// every estimator learns from what its miner saw.

// batch builds the window's batch and account.
func (w *window) batch() *source.Batch {
	cfg := &w.m.cfg
	b := &source.Batch{Account: source.Account{Step: w.step, Source: "market", Checkpoint: w.published, Rounds: 1,
		SealTime: w.sealTime, UpperBound: w.m.upper}}
	acct := &b.Account
	acct.Miners = make([]source.MinerAccount, len(w.m.miners))
	for i, mn := range w.m.miners {
		ma := &acct.Miners[i]
		ma.Name, ma.Behaviour = mn.name, mn.spec.Behaviour
		if mn.est != nil {
			ma.Estimator = mn.est.kind()
		}
	}
	for _, a := range w.attempts {
		acct.AddGroup(a.comps, a.rewards, a.inZone, a.fate)
		ma := &acct.Miners[a.miner.index]
		ma.GeneratedGroups++
		ma.GeneratedRollouts += len(a.comps)
		ma.GeneratedTokens += a.tokens
		ma.Busy += math.Min(a.done, w.sealTime) - a.start
		if a.inZone {
			ma.InZoneGroups++
		}
		if a.submitted {
			ma.Submitted++
		}
		switch a.fate {
		case source.ReasonAccepted:
			ma.Accepted++
		case source.ReasonMissed:
			ma.Missed++
		case source.ReasonInFlight:
			ma.InFlight++
			acct.InFlightTokens += min(a.tokens, int64((w.sealTime-a.start)*a.miner.spec.Throughput))
		case source.ReasonLate:
			ma.Late++
		case source.ReasonDuplicate:
			ma.Duplicate++
		default:
			ma.Rejected++
		}
		arrival := math.NaN()
		if a.submitted {
			arrival = a.arrival
		}
		claimed := a.rewards
		if a.sub != nil {
			claimed = a.sub.rewards
		}
		prompt := cfg.Pool.Problems[a.prompt].ID
		for j, c := range a.comps {
			b.Rollouts = append(b.Rollouts, source.Rollout{
				Window: w.step, Miner: a.miner.name, Round: a.seq, Group: a.index, Prompt: prompt, Checkpoint: a.ckpt,
				Completion: j, Reward: a.rewards[j], Claimed: claimed[j], Tokens: c.NumTokens, Truncated: c.Truncated(),
				InZone: a.inZone, Accepted: a.fate == source.ReasonAccepted, Reason: a.fate, Arrival: arrival,
			})
		}
	}
	acct.Capped = len(w.accepted) < cfg.Train.GroupsPerStep
	for _, a := range w.accepted {
		b.Groups = append(b.Groups, runners.Group{Prompt: source.Prompt(&cfg.Pool.Problems[a.prompt]),
			Completions: a.comps, Rewards: a.rewards, Checkpoint: w.published})
		acct.AddUseful(a.comps)
	}
	acct.Finish()
	return b
}

// teach gives every estimator the window's observations: the groups its
// miner generated (their rewards are the miner's own), then the groups the
// validator accepted from others (published with their rewards).
func (w *window) teach() {
	g := float64(w.m.cfg.Train.GroupSize)
	obs := func(a *attempt) observation {
		var s float64
		for _, r := range a.rewards {
			s += r
		}
		return observation{prompt: a.prompt, successes: s, trials: g}
	}
	own := make([][]observation, len(w.m.miners))
	for _, a := range w.attempts {
		own[a.miner.index] = append(own[a.miner.index], obs(a))
	}
	for _, mn := range w.m.miners {
		if mn.est == nil {
			continue
		}
		o := own[mn.index]
		for _, a := range w.accepted {
			if a.miner != mn {
				o = append(o, obs(a))
			}
		}
		mn.est.learn(o)
	}
}
