package market

import (
	"context"

	"github.com/relix-lab/relix/experiment/seed"
	"github.com/relix-lab/relix/harness/source"
	"github.com/relix-lab/relix/runners"
)

// A race's groups are generated one at a time: a miner picks its next
// prompt only when its last group is done, with what it knows then, and the
// group's length decides when the miner is next done. In process that
// costs nothing; over a worker's pipe every group is a round trip, one
// after another. A runner that answers several generate calls in one round
// trip (generateMany) is therefore also asked, whenever a group must be
// generated, for every other miner's next group as the miner would pick it
// now. When that miner starts its group, its real pick is made as always;
// if it comes out the same prompt, the group generated ahead is the very
// group the runner would generate now — a completion is a function of
// (checkpoint, prompt, index, sampling seed) alone, and the checkpoint and
// seed are the miner's and the group number's — so results cannot depend
// on the lookahead. A pick that changed (a candidate accepted meanwhile)
// only costs the group generated ahead.

// generateMany is a runner that answers several generate calls in one
// round trip (runners/worker's GenerateMany): out[i] and errs[i] are what
// Generate gives for calls[i].
type generateMany interface {
	GenerateMany(ctx context.Context, calls []runners.GenerateCall) (out [][][]runners.Completion, errs []error)
}

// aheadGroup is a miner's group generated before the miner started it.
type aheadGroup struct {
	seq, prompt int
	comps       [][]runners.Completion
}

// generateGroup generates attempt a's group: taken from what was generated
// ahead when a's miner picked the same prompt, otherwise in one round trip
// with every other miner's next group.
func (r *race) generateGroup(ctx context.Context, a *attempt) error {
	if r.many == nil {
		return r.generate(ctx, a, r.sampling(a.miner, a.seq))
	}
	cfg := &r.m.cfg
	prompt := source.Prompt(&cfg.Pool.Problems[a.prompt])
	a.sample = r.sampling(a.miner, a.seq)
	g := r.ahead[a.miner.index]
	r.ahead[a.miner.index] = nil
	if g != nil && g.seq == a.seq && g.prompt == a.prompt {
		return r.generated(a, prompt, g.comps)
	}
	calls := []runners.GenerateCall{{Checkpoint: a.ckpt, Prompts: []runners.Prompt{prompt}, N: cfg.Train.GroupSize, Sampling: a.sample}}
	next := r.lookahead(&calls)
	out, errs := r.many.GenerateMany(ctx, calls)
	if errs[0] != nil {
		return errs[0]
	}
	for i, n := range next {
		// A call that failed is left for the miner's own turn, which
		// meets the failure itself if it still asks for that group.
		if errs[i+1] == nil {
			n.group.comps = out[i+1]
			r.ahead[n.miner] = n.group
		}
	}
	return r.generated(a, prompt, out[0])
}

// pendingGroup is a group asked for ahead, and its miner.
type pendingGroup struct {
	miner int
	group *aheadGroup
}

// lookahead appends to calls the next group of every miner with none
// generated ahead, as the miner would pick it now, while the window may
// still start that many groups. A copycat's next prompt depends on what is
// accepted next, and is not guessed.
func (r *race) lookahead(calls *[]runners.GenerateCall) []pendingGroup {
	cfg := &r.m.cfg
	var next []pendingGroup
	for _, mn := range r.m.miners {
		if len(next) >= r.cap-r.started {
			break
		}
		if r.ahead[mn.index] != nil || mn.spec.Behaviour == Copycat || mn.follower() {
			continue
		}
		ckpt := r.published
		if mn.spec.Behaviour == Stale {
			if r.published == r.base {
				continue
			}
			ckpt = r.base
		}
		seq := r.seq[mn.index]
		i, ok, err := r.pick(mn, seed.Stream(cfg.Seed, cfg.Arm.Name, r.step, "miner", mn.index, seq))
		if err != nil || !ok {
			continue // the miner's own pick meets it, if it comes
		}
		*calls = append(*calls, runners.GenerateCall{Checkpoint: ckpt, Prompts: []runners.Prompt{source.Prompt(&cfg.Pool.Problems[i])},
			N: cfg.Train.GroupSize, Sampling: r.sampling(mn, seq)})
		next = append(next, pendingGroup{miner: mn.index, group: &aheadGroup{seq: seq, prompt: i}})
	}
	return next
}
