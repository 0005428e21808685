package spec

import (
	"fmt"

	"github.com/relix-lab/relix/eval"
)

// Limits on the work a spec implies. Each field has its own bounds; these
// bound their products, which is where a spec that validates would
// otherwise exhaust memory or never end. Each is far above what the
// committed experiments need (the comments say how far) and is checked
// before any work, naming the field to change.
const (
	// MaxEvalSamples bounds the samples of one evaluation, held-out
	// problems × eval.samples: an evaluation holds its samples in memory
	// (about 0.8 KiB each with the sim), so 2^24 is about 13 GiB.
	// paired.yaml evaluates 500 × 8.
	MaxEvalSamples = 1 << 24
	// MaxRunCompletions bounds the training completions of one run,
	// steps × groups_per_step × group_size × generation rounds: each is a
	// row of rollouts.parquet. 2^32 rows is a file of tens of GiB and
	// days of a GPU's time; paired.yaml's filter arm makes at most
	// 300 × 8 × 8 × 10.
	MaxRunCompletions = 1 << 32
	// MaxSweepWindows bounds a sweep's windows, sweep.windows × grid points
	// × selectors × seeds: at the zone sweep's 23 ms of one core a window,
	// about 6 hours on one core. The zone sweep simulates 10 × 15 × 9 × 3.
	MaxSweepWindows = 1_000_000
	// MaxBootstrapWork bounds one paired bootstrap, draws × problems
	// resampled (the bootstrap's own limit).
	MaxBootstrapWork = eval.MaxBootstrapWork
)

// EvalProblems is how many held-out problems an evaluation scores, of a
// held-out set of heldout problems.
func (s *Spec) EvalProblems(heldout int) int {
	if s.Eval.Problems > 0 && s.Eval.Problems < heldout {
		return s.Eval.Problems
	}
	return heldout
}

// RunCompletions is the most training completions one run generates: the
// reactive filter's arms generate up to max_gen_rounds rounds a step.
func (s *Spec) RunCompletions() int64 {
	rounds := 1
	for _, a := range s.Arms {
		rounds = max(rounds, a.MaxGenRounds)
	}
	return int64(s.Train.Steps) * int64(s.Train.GroupsPerStep) * int64(s.Train.GroupSize) * int64(rounds)
}

// SweepWindows is the number of windows relix sweep simulates.
func (s *Spec) SweepWindows() int64 {
	sw := s.Sweep
	return int64(sw.Windows) * int64(len(sw.Grid)) * int64(len(sw.Selectors)) * int64(max(len(sw.Seeds), 1))
}

// HeldoutLimit says why a held-out set of n problems is too large for the
// spec's evaluation, or "". A generated set is checked at validation; a
// set read from a file, once it is loaded.
func (s *Spec) HeldoutLimit(n int) (field, why string) {
	problems := s.EvalProblems(n)
	if samples := int64(problems) * int64(s.Eval.Samples); samples > MaxEvalSamples {
		return "eval.samples", fmt.Sprintf("%d samples × %d held-out problems is %d samples an evaluation, more than the %d one evaluation may hold in memory; use fewer eval.samples or set eval.problems",
			s.Eval.Samples, problems, samples, MaxEvalSamples)
	}
	if work := int64(problems) * int64(s.Eval.Bootstrap); work > MaxBootstrapWork {
		return "eval.bootstrap", fmt.Sprintf("%d draws × %d held-out problems is %d resamplings a comparison, more than the limit of %d; use fewer draws",
			s.Eval.Bootstrap, problems, work, int64(MaxBootstrapWork))
	}
	return "", ""
}

// limits checks the products of fields against the limits above.
func (v *validator) limits(s *Spec) {
	if g := s.Dataset.Heldout.Generated; g != nil {
		if field, why := s.HeldoutLimit(g.Size); why != "" {
			v.failf(field, "%s", why)
		}
	}
	if s.Trains() {
		if n := s.RunCompletions(); n > MaxRunCompletions {
			v.failf("train.steps", "%d steps × %d groups × %d completions (× the filter's rounds) is %d training completions a run, more than the limit of %d",
				s.Train.Steps, s.Train.GroupsPerStep, s.Train.GroupSize, n, int64(MaxRunCompletions))
		}
	}
	if n := s.SweepWindows(); n > MaxSweepWindows {
		v.failf("sweep.windows", "%d windows × %d grid points × %d selectors × %d seeds is %d windows, more than the limit of %d",
			s.Sweep.Windows, len(s.Sweep.Grid), len(s.Sweep.Selectors), max(len(s.Sweep.Seeds), 1), n, MaxSweepWindows)
	}
}
