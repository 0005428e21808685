package source

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/relix-lab/relix/experiment/dataset"
	"github.com/relix-lab/relix/experiment/spec"
)

// cooldown remembers when each prompt was last trained on. A prompt used at
// step s may be drawn again from step s + c + 1 (c = train.cooldown; never
// with spec.Forever). Only groups that are trained on start a cooldown: a
// discarded or missed prompt may be drawn again.
type cooldown struct {
	steps spec.Cooldown
	last  map[int]int // pool index → last step it was trained on
}

func newCooldown(c spec.Cooldown) *cooldown { return &cooldown{steps: c, last: map[int]int{}} }

func (c *cooldown) cooling(i, step int) bool {
	s, used := c.last[i]
	if !used {
		return false
	}
	return c.steps == spec.Forever || step-s <= int(c.steps)
}

// available lists the pool indices that may be drawn at step, ascending.
func (c *cooldown) available(pool int, step int) []int {
	out := make([]int, 0, pool-min(len(c.last), pool))
	for i := range pool {
		if !c.cooling(i, step) {
			out = append(out, i)
		}
	}
	return out
}

func (c *cooldown) use(i, step int) { c.last[i] = step }

// cooldownEntry is one prompt's last use, as State stores it.
type cooldownEntry struct {
	Prompt string `json:"prompt"`
	Step   int    `json:"step"`
}

func (c *cooldown) state(pool *dataset.Set) []cooldownEntry {
	out := make([]cooldownEntry, 0, len(c.last))
	for i, s := range c.last {
		out = append(out, cooldownEntry{Prompt: pool.Problems[i].ID, Step: s})
	}
	slices.SortFunc(out, func(a, b cooldownEntry) int { return cmp.Compare(a.Prompt, b.Prompt) })
	return out
}

func (c *cooldown) restore(pool *dataset.Set, index map[string]int, entries []cooldownEntry) error {
	c.last = make(map[int]int, len(entries))
	for _, e := range entries {
		i, ok := index[e.Prompt]
		if !ok {
			return fmt.Errorf("source state: prompt %q is not in the training pool %s", e.Prompt, pool.Name)
		}
		c.last[i] = e.Step
	}
	return nil
}

// poolIndex maps problem ids to their index in the pool.
func poolIndex(pool *dataset.Set) map[string]int {
	m := make(map[string]int, pool.Len())
	for i, p := range pool.Problems {
		m[p.ID] = i
	}
	return m
}

// errExhausted reports a pool too small for its cooldown.
func errExhausted(pool *dataset.Set, step, available, need int, c spec.Cooldown) error {
	return fmt.Errorf("source: training pool %s exhausted at step %d: %d of %d problems may be drawn (cooldown %s), %d needed per step; use a larger train set or a finite train.cooldown",
		pool.Name, step+1, available, pool.Len(), c, need)
}
