package market

import (
	"context"
	"slices"
	"strings"

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
	sub.materialize = func(ctx context.Context, hidden proof.SequenceHiddenFunc, _ bool) ([]proof.Sequence, []proof.Opener, error) {
		generated, err := w.replay(ctx, a) // the ids, which it edits
		if err != nil {
			return nil, nil, err
		}
		openers := w.provers(a, tokenSequences(generated), hidden) // bound to what it really generated
		submitted := make([][]uint32, len(generated))
		for j, t := range generated {
			p, edited := splice[j]
			if !edited {
				submitted[j] = t
				continue
			}
			submitted[j] = spliceTokens(t, p)
		}
		return tokenSequences(submitted), openers, nil
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

// pad is a padder's submission: its group as generated, with every
// completion shorter than the sampling's token cap padded to the cap after
// the miner committed to it — filler text after the answer (whitespace, so
// the answer and the reward stay) and filler ids repeating its last id —
// so that the group's token count, and with it the auction's first
// tie-break, is the most a group can claim. Its commitments are those it
// made while generating: a position past what it generated opens the last
// state it has, which the validator's state of the padded sequence there is
// not. The proof catches it at any challenged position in the padding.
// (A padder that ran its model over the padded sequence before submitting
// could commit to it honestly; telling sampled tokens from appended ones
// would take a sampling check, which relix does not model.)
func (w *window) pad(a *attempt) *submission {
	cfg := &w.m.cfg
	sub := w.honestSubmission(a)
	limit := a.sample.MaxTokens
	comps := slices.Clone(a.comps)
	padded := false
	for j, c := range comps {
		if c.NumTokens >= limit || c.NumTokens == 0 {
			continue
		}
		c.Text += strings.Repeat(" ", limit-c.NumTokens)
		c.NumTokens, c.Finish = limit, runners.FinishLength
		comps[j], padded = c, true
	}
	prob := &cfg.Pool.Problems[a.prompt]
	rewards := make([]float64, len(comps))
	for j, c := range comps {
		rewards[j] = cfg.Reward(prob, c) // what the validator will find: the padder gains nothing by lying too
	}
	if !padded || !eval.InZone(rewards, w.gate) {
		// Nothing to pad, or padding would cost the group its gate (a
		// truncated completion scoring zero): it submits as generated.
		return sub
	}
	sub.completions, sub.rewards, sub.padded = comps, rewards, true
	sub.materialize = func(ctx context.Context, hidden proof.SequenceHiddenFunc, _ bool) ([]proof.Sequence, []proof.Opener, error) {
		generated, err := w.replay(ctx, a) // the ids, which it pads
		if err != nil {
			return nil, nil, err
		}
		honest := w.provers(a, tokenSequences(generated), hidden)
		submitted := make([][]uint32, len(generated))
		openers := make([]proof.Opener, len(generated))
		for j, t := range generated {
			submitted[j], openers[j] = t, honest[j]
			if n := len(t); n > 0 && n < limit {
				out := slices.Grow(slices.Clone(t), limit-n)
				for range limit - n {
					out = append(out, t[n-1])
				}
				submitted[j] = out
				openers[j] = clampedOpener{honest[j], n - 1}
			}
		}
		return tokenSequences(submitted), openers, nil
	}
	return sub
}

// clampedOpener opens positions past last at last: a commitment made for
// fewer tokens than were submitted.
type clampedOpener struct {
	proof.Opener
	last int
}

func (o clampedOpener) Open(ctx context.Context, positions []int) ([]proof.Commitment, error) {
	at := make([]int, len(positions))
	for i, p := range positions {
		at[i] = min(p, o.last)
	}
	return o.Opener.Open(ctx, at)
}
