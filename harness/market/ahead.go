package market

import (
	"context"

	"github.com/relix-lab/relix/experiment/seed"
	"github.com/relix-lab/relix/harness/source"
	"github.com/relix-lab/relix/runners"
)

// A window's groups are generated one at a time: a miner picks its next
// prompt only when its last group is done, with what it knows then, and the
// group's length decides when the miner is next done. In process that
// costs nothing; over a worker's pipe every group is a round trip, one
// after another. A runner that answers several generate calls in one round
// trip (generateMany) is therefore also asked, whenever a group must be
// generated, for every other miner's next group as the miner would pick it
// now. When that miner starts its group, its real pick is made as always;
// if it comes out the same prompt, the group generated ahead is the very
// group the runner would generate now — a completion is a function of
// (checkpoint, prompt, index, sampling seed) alone, and the checkpoint is
// the miner's behaviour's and the seed the mechanism's for that group — so
// results cannot depend on the lookahead. A pick that changed (in a race, a
// candidate accepted meanwhile) only costs the group generated ahead.

// generateMany is a runner that answers several generate calls in one
// round trip (runners/worker's GenerateMany): out[i] and errs[i] are what
// Generate gives for calls[i].
type generateMany interface {
	GenerateMany(ctx context.Context, calls []runners.GenerateCall) (out [][][]runners.Completion, errs []error)
}

// prefetched is what a mechanism keeps of the groups generated ahead, and how
// it generates a group.
type prefetched struct {
	many   generateMany  // nil: the runner answers one call a round trip, and nothing is generated ahead
	groups []*aheadGroup // per miner: its next group, generated ahead
	// sampling is the mechanism's sampling of group seq of miner mn on
	// prompt i.
	sampling func(mn *miner, seq, i int) runners.Sampling
	// wanted reports whether miner mn's next group is worth generating
	// ahead while a's is generated (nil: every miner's is): an auction
	// skips a miner whose next group would start after its deadline.
	wanted func(mn *miner, a *attempt) bool
}

func newPrefetched(r runners.Runner, miners int, sampling func(mn *miner, seq, i int) runners.Sampling, wanted func(mn *miner, a *attempt) bool) prefetched {
	many, _ := r.(generateMany)
	return prefetched{many: many, groups: make([]*aheadGroup, miners), sampling: sampling, wanted: wanted}
}

// aheadGroup is a miner's group generated before the miner started it.
type aheadGroup struct {
	seq, prompt int
	comps       [][]runners.Completion
}

// generateGroup generates attempt a's group: taken from what was generated
// ahead when a's miner picked the same prompt, otherwise in one round trip
// with every other miner's next group.
func (w *window) generateGroup(ctx context.Context, c *clock, ah *prefetched, a *attempt) error {
	s := ah.sampling(a.miner, a.seq, a.prompt)
	if ah.many == nil {
		return w.generate(ctx, a, s)
	}
	cfg := &w.m.cfg
	prompt := source.Prompt(&cfg.Pool.Problems[a.prompt])
	a.sample = s
	g := ah.groups[a.miner.index]
	ah.groups[a.miner.index] = nil
	if g != nil && g.seq == a.seq && g.prompt == a.prompt {
		return w.generated(a, prompt, g.comps)
	}
	calls := []runners.GenerateCall{{Checkpoint: a.ckpt, Prompts: []runners.Prompt{prompt}, N: cfg.Train.GroupSize, Sampling: a.sample}}
	next := w.lookahead(c, ah, a, &calls)
	out, errs := ah.many.GenerateMany(ctx, calls)
	if errs[0] != nil {
		return errs[0]
	}
	for i, n := range next {
		// A call that failed is left for the miner's own turn, which
		// meets the failure itself if it still asks for that group.
		if errs[i+1] == nil {
			n.group.comps = out[i+1]
			ah.groups[n.miner] = n.group
		}
	}
	return w.generated(a, prompt, out[0])
}

// pendingGroup is a group asked for ahead, and its miner.
type pendingGroup struct {
	miner int
	group *aheadGroup
}

// lookahead appends to calls the next group of every miner with none
// generated ahead, as the miner would pick it now, while the window may
// still start that many groups. A copycat's or a sybil follower's next
// prompt depends on what others do next, and is not guessed.
func (w *window) lookahead(c *clock, ah *prefetched, a *attempt, calls *[]runners.GenerateCall) []pendingGroup {
	cfg := &w.m.cfg
	var next []pendingGroup
	for _, mn := range w.m.miners {
		if len(next) >= c.cap-c.started {
			break
		}
		if ah.groups[mn.index] != nil || mn.spec.Behaviour == Copycat || mn.follower() || (ah.wanted != nil && !ah.wanted(mn, a)) {
			continue
		}
		ckpt := w.published
		if mn.spec.Behaviour == Stale {
			if w.published == w.base {
				continue
			}
			ckpt = w.base
		}
		seq := c.seq[mn.index]
		i, ok, err := w.pick(mn, seed.Stream(cfg.Seed, cfg.Arm.Name, w.step, "miner", mn.index, seq))
		if err != nil || !ok {
			continue // the miner's own pick meets it, if it comes
		}
		*calls = append(*calls, runners.GenerateCall{Checkpoint: ckpt, Prompts: []runners.Prompt{source.Prompt(&cfg.Pool.Problems[i])},
			N: cfg.Train.GroupSize, Sampling: ah.sampling(mn, seq, i)})
		next = append(next, pendingGroup{miner: mn.index, group: &aheadGroup{seq: seq, prompt: i}})
	}
	return next
}
