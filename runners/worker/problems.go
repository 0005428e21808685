package worker

import (
	"encoding/json"
	"slices"
	"sync"

	"github.com/relix-lab/relix/experiment/dataset"
)

// problemsBody is the problems request's params, encoded once: a worker
// that needs the problem sets is sent the same megabytes at every start
// and restart, and every run of an experiment starts one with the same
// sets.
type problemsBody struct {
	once sync.Once
	sets []*dataset.Set
	body json.RawMessage
	err  error
}

// get returns the encoding, waiting for it when another goroutine has
// begun it.
func (b *problemsBody) get() (json.RawMessage, error) {
	b.once.Do(func() {
		b.body, b.err = json.Marshal(ProblemsParams{Problems: mergeProblems(b.sets)})
	})
	return b.body, b.err
}

// mergeProblems is the sets' problems, the first set naming a problem
// winning, as in the sim.
func mergeProblems(sets []*dataset.Set) []dataset.Problem {
	var out []dataset.Problem
	seen := map[string]bool{}
	for _, set := range sets {
		for _, p := range set.Problems {
			if !seen[p.ID] {
				seen[p.ID] = true
				out = append(out, p)
			}
		}
	}
	return out
}

// lastProblems is the body of the sets the last runner was given. An
// experiment loads its sets once and hands the same ones to every run,
// so one entry spares each later run's encoding; sets are not changed
// once loaded, so the same sets mean the same body.
var lastProblems struct {
	sync.Mutex
	b *problemsBody
}

// problemsOf returns the body of sets, shared with the last runner's when
// the sets are the same ones.
func problemsOf(sets []*dataset.Set) *problemsBody {
	lastProblems.Lock()
	defer lastProblems.Unlock()
	if b := lastProblems.b; b != nil && slices.Equal(b.sets, sets) {
		return b
	}
	b := &problemsBody{sets: slices.Clone(sets)}
	lastProblems.b = b
	return b
}
