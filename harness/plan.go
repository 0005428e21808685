// Package harness runs experiments: it plans arms × seeds, drives each run's
// step loop (rollout source → runner step → publish → evaluate), checkpoints
// every step so that a killed run resumes to byte-identical results, and
// merges the runs' shards into the tables of the results directory.
package harness

import (
	"fmt"
	"slices"

	"github.com/relix-lab/relix/harness/cluster"

	"github.com/relix-lab/relix/experiment/spec"
)

// Plan lists the runs of an experiment in canonical order — arms in spec
// order, then seeds in spec order — which is the order of every merged table.
// arms and seeds restrict the plan (nil: all); naming an arm or seed the
// spec does not have is an error.
func Plan(s *spec.Spec, arms []string, seeds []uint64) ([]cluster.Run, error) {
	for _, a := range arms {
		if !slices.ContainsFunc(s.Arms, func(x spec.Arm) bool { return x.Name == a }) {
			return nil, fmt.Errorf("no arm named %q in %s (arms: %s)", a, s.Name, armList(s))
		}
	}
	for _, sd := range seeds {
		if !slices.Contains(s.Seeds, sd) {
			return nil, fmt.Errorf("seed %d is not among the spec's seeds %v", sd, s.Seeds)
		}
	}
	var runs []cluster.Run
	for _, a := range s.Arms {
		if len(arms) > 0 && !slices.Contains(arms, a.Name) {
			continue
		}
		for _, sd := range s.Seeds {
			if len(seeds) > 0 && !slices.Contains(seeds, sd) {
				continue
			}
			runs = append(runs, cluster.Run{Arm: a.Name, Seed: sd})
		}
	}
	return runs, nil
}

func armList(s *spec.Spec) string {
	var names []string
	for _, a := range s.Arms {
		names = append(names, a.Name)
	}
	return fmt.Sprint(names)
}

func armOf(s *spec.Spec, name string) spec.Arm {
	for _, a := range s.Arms {
		if a.Name == name {
			return a
		}
	}
	panic("harness: no arm " + name)
}
