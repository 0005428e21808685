package spec

import "fmt"

// Trains reports whether any arm trains (has a rollout source).
func (s *Spec) Trains() bool {
	for _, a := range s.Arms {
		if a.Source != "none" {
			return true
		}
	}
	return false
}

// PoolNeeded is the smallest training pool that can never run out during
// the run: a prompt trained on at step s may be drawn again from step
// s + cooldown + 1, and a step may train on groups_per_step prompts (a
// uniform arm always does), so at the last step up to
// groups_per_step · min(cooldown, steps − 1) prompts are cooling down and
// groups_per_step more must be free.
func (t Train) PoolNeeded() int {
	cooling := t.Steps - 1
	if int(t.Cooldown) < cooling {
		cooling = int(t.Cooldown)
	}
	return t.GroupsPerStep * (cooling + 1)
}

// PoolShortfall says why a pool of size problems is too small (size <
// PoolNeeded).
func (t Train) PoolShortfall(size int) string {
	why := fmt.Sprintf("up to %d prompts cool down at once (cooldown %s)", t.PoolNeeded()-t.GroupsPerStep, t.Cooldown)
	if t.Cooldown == Forever {
		why = "each prompt is trained on at most once (cooldown forever)"
	}
	return fmt.Sprintf("%d training problems cannot supply %d fresh prompts a step for %d steps: %s, so the pool needs at least %d; use a larger training set, fewer steps or a shorter train.cooldown",
		size, t.GroupsPerStep, t.Steps, why, t.PoolNeeded())
}

// GeneratedPoolShortfall is PoolShortfall of the training pool when it is
// generated, an arm trains and the pool is too small for the run (relix
// run refuses it before any work; a sweep does not need it), else "". A
// pool read from files is checked when it is loaded.
func (s *Spec) GeneratedPoolShortfall() string {
	g := s.Dataset.Train.Generated
	if g == nil || !s.Trains() || g.Size >= s.Train.PoolNeeded() {
		return ""
	}
	return s.Train.PoolShortfall(g.Size)
}
