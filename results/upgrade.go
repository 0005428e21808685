package results

import "fmt"

// usefulFromGroups fills rollouts.useful, which schema version 1 did not
// have, from the rows of each group: the group was trained on (accepted)
// and its rewards are not all equal. That is the harness's rule (a reward
// std of at least train.grpo.std_epsilon) for the binary rewards relix
// gives whenever std_epsilon is below the smallest non-zero std of a group,
// √(G−1)/G (0.33 at G = 8), as its default 1e-8 is; a version-1 file does
// not say which std_epsilon its run had.
//
// A group's rows are held until the group ends, so memory stays bounded by
// one group. relix writes a group's rows together; a file whose rows of
// one group are apart is refused rather than given a wrong column.
func usefulFromGroups(version int, fn func(Rollout) error) (func(Rollout) error, func() error) {
	if version >= 2 {
		return fn, func() error { return nil }
	}
	g := &groupRows{fn: fn}
	return g.add, g.flush
}

// groupRows holds the rows of the group being read.
type groupRows struct {
	fn   func(Rollout) error
	rows []Rollout
	// seen are the groups of the current arm, seed and step already
	// handed on.
	seen map[int32]bool
}

func (g *groupRows) add(r Rollout) error {
	if len(g.rows) > 0 && !sameGroup(&g.rows[0], &r) {
		if !sameStep(&g.rows[0], &r) {
			clear(g.seen)
		}
		if err := g.flush(); err != nil {
			return err
		}
	}
	if len(g.rows) == 0 {
		if g.seen == nil {
			g.seen = map[int32]bool{}
		}
		if g.seen[r.Group] {
			return fmt.Errorf("the rows of group %d of %s, seed %d, step %d are not together: a version-1 rollouts table relix wrote keeps them together, and useful is derived from them",
				r.Group, r.Arm, r.Seed, r.Step)
		}
		g.seen[r.Group] = true
	}
	g.rows = append(g.rows, r)
	return nil
}

// flush hands on the group held, with its useful column.
func (g *groupRows) flush() error {
	varied := false
	for i := range g.rows {
		varied = varied || g.rows[i].Reward != g.rows[0].Reward
	}
	for i := range g.rows {
		g.rows[i].Useful = g.rows[i].Accepted && varied
		if err := g.fn(g.rows[i]); err != nil {
			return err
		}
	}
	g.rows = g.rows[:0]
	return nil
}

func sameStep(a, b *Rollout) bool {
	return a.Arm == b.Arm && a.Seed == b.Seed && a.Step == b.Step
}

func sameGroup(a, b *Rollout) bool { return sameStep(a, b) && a.Group == b.Group }
