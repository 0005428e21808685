package sourcetest

import (
	"sync"
	"testing"

	"github.com/relix-lab/relix/experiment/dataset"
	"github.com/relix-lab/relix/experiment/spec"
	"github.com/relix-lab/relix/runners"
	"github.com/relix-lab/relix/runners/sim"
)

// The sim tests run the sources on the embedded simulator with the
// calibrated base policy and the training pool of experiments/paired-first-model.yaml (the first model),
// read relative to the test's directory: a source's package two levels
// below the repository root.

var (
	pairedOnce sync.Once
	paired     *spec.Spec
	pairedPool *dataset.Set
	pairedErr  error
)

// loadPaired is experiments/paired-first-model.yaml and its training pool, loaded once
// per test binary.
func loadPaired(t testing.TB) (*spec.Spec, *dataset.Set) {
	t.Helper()
	pairedOnce.Do(func() {
		paired, pairedErr = spec.Load("../../experiments/paired-first-model.yaml")
		if pairedErr != nil {
			return
		}
		g := paired.Dataset.Train.Generated
		pairedPool, pairedErr = dataset.Generate(dataset.GeneratorConfig{Size: g.Size, Seed: g.Seed, Mix: g.Mix, Levels: g.Levels}, dataset.Train)
	})
	if pairedErr != nil {
		t.Fatal(pairedErr)
	}
	return paired, pairedPool
}

// NewSim is a sim runner of the paired experiment, with its spec and pool.
func NewSim(t testing.TB) (*spec.Spec, *dataset.Set, *sim.Runner) {
	t.Helper()
	s, p := loadPaired(t)
	r, err := sim.New(s.Runner.Sim, runners.Options{Problems: []*dataset.Set{p}})
	if err != nil {
		t.Fatal(err)
	}
	return s, p, r
}
