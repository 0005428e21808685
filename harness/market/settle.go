package market

import (
	"math"
	"slices"

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
	n := 0
	for _, a := range w.attempts {
		n += len(a.comps)
	}
	b.Rollouts = make([]source.Rollout, 0, n)
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
			acct.InFlightTokens += a.tokensBy(w.sealTime-a.start, w.m.mk.Timing, a.miner.spec.Throughput)
		case source.ReasonLate:
			ma.Late++
		case source.ReasonDuplicate:
			ma.Duplicate++
		case source.ReasonOutranked:
			ma.Outranked++
		case source.ReasonCarried:
			ma.Carried++
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
	for _, g := range w.lead {
		b.Groups = append(b.Groups, g)
		acct.AddUseful(g.Completions)
	}
	acct.CarriedIn, acct.Dropped = len(w.lead), w.dropped
	for _, a := range w.accepted {
		if w.hold {
			break
		}
		b.Groups = append(b.Groups, runners.Group{Prompt: source.Prompt(&cfg.Pool.Problems[a.prompt]),
			Completions: a.comps, Rewards: a.rewards, Checkpoint: w.published})
		acct.AddUseful(a.comps)
	}
	acct.Capped = len(b.Groups) < cfg.Train.GroupsPerStep
	acct.Finish()
	return b
}

// lesson is what a closed window teaches the market: every group generated
// (its miner, prompt and reward sum), in generation order, and which of them
// the validator accepted, in acceptance order. It is all a window changes in
// the market's state — the estimators learn from it and the accepted
// prompts begin their cooldown — and so it is the market's delta.
type lesson struct {
	groups   []lessonGroup
	accepted []int // indices into groups
	// ranked are an auction's admitted groups that did not win, which its
	// ranking at the deadline publishes with their claimed rewards (the
	// winners are in accepted): labels a race never gives.
	ranked []rankedGroup
	// carry and carryCkpt are what an auction with carry holds after the
	// window (Source.carry).
	carry     []carried
	carryCkpt string
}

// rankedGroup is an outranked group as the ranking shows it: its index in
// groups and the sum of the rewards its miner claimed. An admitted claim
// passed the rewards check against its completions, but not the proof:
// a forger's rewritten completions or a stale miner's old checkpoint make
// it a label of something the published policy did not do.
type rankedGroup struct {
	group   int
	claimed float64
}

// carried is a group a window won and an auction with carry holds: enough
// to generate it again (a completion is a function of the checkpoint, the
// prompt, its index and the seed, which names the window and the prompt).
type carried struct{ step, prompt, miner int }

type lessonGroup struct {
	miner, prompt int
	successes     float64 // the sum of the group's rewards
}

// lesson is the window's lesson.
func (w *window) lesson() lesson {
	l := lesson{groups: make([]lessonGroup, len(w.attempts)), accepted: make([]int, len(w.accepted))}
	for i, a := range w.attempts {
		var s float64
		for _, r := range a.rewards {
			s += r
		}
		l.groups[i] = lessonGroup{miner: a.miner.index, prompt: a.prompt, successes: s}
	}
	for i, a := range w.accepted {
		l.accepted[i] = a.index
	}
	if w.m.mk.Auctioned() {
		for _, a := range w.attempts {
			if a.fate != source.ReasonOutranked {
				continue
			}
			var s float64
			for _, r := range a.sub.rewards {
				s += r
			}
			l.ranked = append(l.ranked, rankedGroup{group: a.index, claimed: s})
		}
	}
	if w.carrying {
		l.carry = w.carryOut
		if len(l.carry) > 0 {
			l.carryCkpt = w.published
		}
	}
	return l
}

// learn applies window step's lesson: every estimator learns from the groups
// its miner generated (their rewards are the miner's own), then from the
// groups the validator accepted from others (published with their rewards)
// and, in an auction, from the others' groups its ranking showed (with the
// rewards claimed); the accepted prompts begin their cooldown. A live window and a resumed
// run's replay both come here, so that they cannot differ.
func (m *Source) learn(step int, l lesson) {
	g := float64(m.cfg.Train.GroupSize)
	obs := func(lg lessonGroup) observation {
		return observation{prompt: lg.prompt, successes: lg.successes, trials: g}
	}
	own := make([][]observation, len(m.miners))
	for _, lg := range l.groups {
		own[lg.miner] = append(own[lg.miner], obs(lg))
	}
	for _, mn := range m.miners {
		if mn.est == nil {
			continue
		}
		o := own[mn.index]
		for _, i := range l.accepted {
			if l.groups[i].miner != mn.index {
				o = append(o, obs(l.groups[i]))
			}
		}
		for _, r := range l.ranked {
			if lg := l.groups[r.group]; lg.miner != mn.index {
				o = append(o, observation{prompt: lg.prompt, successes: r.claimed, trials: g})
			}
		}
		mn.est.learn(o)
	}
	for _, i := range l.accepted {
		m.cool.Use(l.groups[i].prompt, step)
	}
	if m.mk.Auctioned() {
		m.clearings = append(m.clearings, clearingValue(l, m.cfg.Train.GroupSize, m.cfg.Train.GroupsPerStep, valueFuncs[m.mk.Auction.Value]))
		m.carry, m.carryCkpt = l.carry, l.carryCkpt
		if k := len(m.clearings) - m.mk.Auction.Memory; k > 0 {
			m.clearings = slices.Delete(m.clearings, 0, k)
		}
	}
}
