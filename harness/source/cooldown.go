package source

import (
	"fmt"

	"github.com/relix-lab/relix/experiment/dataset"
	"github.com/relix-lab/relix/experiment/spec"
)

// Cooldown remembers when each prompt was last trained on. A prompt used at
// step s may be drawn again from step s + c + 1 (c = train.cooldown; never
// with spec.Forever). Only groups that are trained on start a cooldown: a
// discarded or missed prompt may be drawn again. It is shared so that every
// arm of an experiment follows the same rule, whichever source it has.
type Cooldown struct {
	steps spec.Cooldown
	last  map[int]int // pool index → last step it was trained on
}

// NewCooldown starts with no prompt cooling down.
func NewCooldown(c spec.Cooldown) *Cooldown { return &Cooldown{steps: c, last: map[int]int{}} }

func (c *Cooldown) cooling(i, step int) bool {
	s, used := c.last[i]
	if !used {
		return false
	}
	return c.steps == spec.Forever || step-s <= int(c.steps)
}

// Available lists the pool indices that may be drawn at step, ascending.
func (c *Cooldown) Available(pool int, step int) []int {
	out := make([]int, 0, pool-min(len(c.last), pool))
	for i := range pool {
		if !c.cooling(i, step) {
			out = append(out, i)
		}
	}
	return out
}

// CoolingAt is the set of pool indices cooling down at step: what the
// market's validator checks a submitted prompt against.
func (c *Cooldown) CoolingAt(step int) map[int]bool {
	out := map[int]bool{}
	for i := range c.last {
		if c.cooling(i, step) {
			out[i] = true
		}
	}
	return out
}

// Use starts pool index i's cooldown at step.
func (c *Cooldown) Use(i, step int) { c.last[i] = step }

// PoolIndex maps problem ids to their index in the pool: submissions name
// prompts by id, sources index them by position.
func PoolIndex(pool *dataset.Set) map[string]int {
	m := make(map[string]int, pool.Len())
	for i, p := range pool.Problems {
		m[p.ID] = i
	}
	return m
}

// PoolExhausted reports a pool too small for its cooldown, in the same words
// whichever source ran out.
func PoolExhausted(pool *dataset.Set, step, available, need int, c spec.Cooldown) error {
	return fmt.Errorf("source: training pool %s exhausted at step %d: %d of %d problems may be drawn (cooldown %s), %d needed per step; use a larger train set or a finite train.cooldown",
		pool.Name, step+1, available, pool.Len(), c, need)
}
