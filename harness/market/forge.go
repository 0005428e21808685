package market

import (
	"context"
	"slices"

	"github.com/relix-lab/relix/eval"
	"github.com/relix-lab/relix/experiment/dataset"
	"github.com/relix-lab/relix/harness/market/proof"
	"github.com/relix-lab/relix/runners"
)

// Forgery modes; a forger draws one per group from the group's stream.
const (
	forgeRewards = "rewards" // claims rewards it did not earn: the rewards check catches it
	forgeTokens  = "tokens"  // edits completions and their tokens after committing: the proof catches it
)

// forge is a forger's submission of its group. A forger always forges (an
// honest group from it would be accepted, and its whole point is to be paid
// for work it did not do): it claims a reward vector that passes the σ gate
// and differs from the truth in at least one completion (forgeClaim). In
// "rewards" mode it submits the completions as generated with those
// rewards, so the harness's rewards disagree. In "tokens" mode it rewrites
// each completion whose reward it changed so that the grader agrees — the
// reference answer boxed where it claims 1, a plausible wrong one where it
// claims 0, ending cleanly — and edits that completion's token ids from a
// position in its first quarter on, as splicing in new text would; the
// rewards check passes, and the proof fails, because the forger's
// commitment was bound to the tokens it generated.
func (w *window) forge(a *attempt) *submission {
	cfg := &w.m.cfg
	prob := &cfg.Pool.Problems[a.prompt]
	claimed := forgeClaim(a.rewards, w.m.zone)
	sub := w.honestSubmission(a)
	sub.rewards = claimed
	sub.forgery = forgeRewards
	if a.rng.IntN(2) == 0 {
		return sub
	}
	sub.forgery = forgeTokens
	comps := slices.Clone(a.comps)
	splice := map[int]int{}
	for j := range comps {
		if claimed[j] == a.rewards[j] {
			continue
		}
		answer := prob.Answer
		if claimed[j] == 0 {
			answer = dataset.WrongAnswer(*prob, a.rng)
		}
		c := comps[j]
		c.Text = "Let me work through this step by step.\nSo the final answer is $\\boxed{" + answer + "}$."
		c.Finish = runners.FinishStop
		comps[j] = c
		claimed[j] = cfg.Reward(prob, c)
		splice[j] = a.rng.IntN(max(1, c.NumTokens/4))
	}
	sub.completions = comps
	sub.materialize = func(ctx context.Context, hidden proof.HiddenFunc) ([][]uint32, []proof.Opener, error) {
		generated, err := w.replay(ctx, a)
		if err != nil {
			return nil, nil, err
		}
		openers := w.provers(a, generated, hidden) // bound to what it really generated
		submitted := make([][]uint32, len(generated))
		for j, t := range generated {
			p, edited := splice[j]
			if !edited {
				submitted[j] = t
				continue
			}
			submitted[j] = spliceTokens(t, p)
		}
		return submitted, openers, nil
	}
	return sub
}

// spliceTokens returns tokens with every id from position p on replaced by
// the id that followed it (a garbled splice that keeps ids in the
// vocabulary); if that changes nothing (a run of one id), the id at p has
// its low bit flipped.
func spliceTokens(t []uint32, p int) []uint32 {
	out := slices.Clone(t)
	n := len(t)
	for i := p; i < n; i++ {
		out[i] = t[(i+1)%n]
	}
	if slices.Equal(out, t) && n > 0 {
		out[p] ^= 1
	}
	return out
}

// forgeClaim is a reward vector that differs from the true binary rewards
// in at least one completion and passes the gate when any can: a group in
// the zone has one success and one failure swapped; one out of it has the
// fewest rewards flipped that bring it in.
func forgeClaim(rewards []float64, z eval.Zone) []float64 {
	c := slices.Clone(rewards)
	var ones, zeros []int
	for j, r := range rewards {
		if r == 1 {
			ones = append(ones, j)
		} else {
			zeros = append(zeros, j)
		}
	}
	k, g := len(ones), z.GroupSize()
	if z.In(k) && k > 0 && len(zeros) > 0 {
		c[ones[0]], c[zeros[0]] = 0, 1
		return c
	}
	for d := 1; d <= g; d++ {
		switch {
		case k+d <= g && z.In(k+d):
			for _, j := range zeros[:d] {
				c[j] = 1
			}
			return c
		case k-d >= 0 && z.In(k-d):
			for _, j := range ones[:d] {
				c[j] = 0
			}
			return c
		}
	}
	c[0] = 1 - c[0]
	return c
}
