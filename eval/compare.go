package eval

import (
	"fmt"
	"slices"
)

// Comparison is the paired comparison of two arms on one metric.
type Comparison struct {
	Metric    string
	Paired    PairedDiff
	Bootstrap Bootstrap
}

// ComparePaired compares arm a with arm b, scored on the same problems with
// the same ks, on every metric: a paired t-test at 95% and a paired
// bootstrap of draws resamples. Every metric's bootstrap uses the same seed,
// so they resample the same problems.
func ComparePaired(a, b Scores, draws int, seed uint64) ([]Comparison, error) {
	if err := sameProblems(a.Problems, b.Problems); err != nil {
		return nil, err
	}
	// Metrics both arms report, in a's order: truncation is left out when
	// either arm's finish reasons are unknown.
	mb := map[string]Metric{}
	for _, m := range b.Metrics() {
		mb[m.Name] = m
	}
	var out []Comparison
	for _, ma := range a.Metrics() {
		other, ok := mb[ma.Name]
		if !ok {
			if ma.K > 0 {
				return nil, fmt.Errorf("arms were scored on different metrics: %s in the first only", ma.Name)
			}
			continue
		}
		paired, err := Paired(ma.PerProblem, other.PerProblem, 0.95)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", ma.Name, err)
		}
		boot, err := PairedBootstrap(ma.PerProblem, other.PerProblem, draws, seed)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", ma.Name, err)
		}
		out = append(out, Comparison{Metric: ma.Name, Paired: paired, Bootstrap: boot})
	}
	return out, nil
}

// sameProblems checks that two sorted problem lists are the same, and names
// a problem that is in one only when they are not.
func sameProblems(a, b []string) error {
	if slices.Equal(a, b) {
		return nil
	}
	for _, p := range a {
		if _, found := slices.BinarySearch(b, p); !found {
			return fmt.Errorf("arms are not paired: problem %q is scored in the first arm only (%d problems against %d)", p, len(a), len(b))
		}
	}
	for _, p := range b {
		if _, found := slices.BinarySearch(a, p); !found {
			return fmt.Errorf("arms are not paired: problem %q is scored in the second arm only (%d problems against %d)", p, len(a), len(b))
		}
	}
	return fmt.Errorf("arms are not paired: their problem lists differ")
}
