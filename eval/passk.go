package eval

import (
	"fmt"
	"math"
	"sort"
)

// PassAtK is the unbiased estimate of pass@k for one problem from n samples
// of which c are correct: 1 − C(n−c, k)/C(n, k) (Chen et al. 2021,
// "Evaluating Large Language Models Trained on Code", eq. 1), computed in
// that paper's numerically stable product form 1 − ∏_{i=n−c+1}^{n} (1 − k/i),
// which never forms a binomial coefficient. pass@1 is exactly c/n.
func PassAtK(n, c, k int) (float64, error) {
	switch {
	case n < 1:
		return 0, fmt.Errorf("pass@k needs at least one sample, got n = %d", n)
	case c < 0 || c > n:
		return 0, fmt.Errorf("pass@k: correct count %d outside 0..%d", c, n)
	case k < 1:
		return 0, fmt.Errorf("pass@k: k must be at least 1, got %d", k)
	case k > n:
		return 0, fmt.Errorf("pass@%d needs at least %d samples per problem, got %d", k, k, n)
	case k == 1:
		return float64(c) / float64(n), nil
	case n-c < k:
		return 1, nil
	}
	miss := 1.0
	for i := n - c + 1; i <= n; i++ {
		miss *= 1 - float64(k)/float64(i)
	}
	return 1 - miss, nil
}

// Estimate is a mean over problems with its standard error.
type Estimate struct {
	Mean float64
	// SE is the sample standard deviation over problems divided by √N; NaN
	// when N < 2.
	SE float64
	N  int
}

// MeanSE is the mean of xs and its standard error sd/√n, with the sample
// standard deviation (n − 1 in the denominator).
func MeanSE(xs []float64) Estimate {
	n := len(xs)
	if n == 0 {
		return Estimate{Mean: math.NaN(), SE: math.NaN()}
	}
	var sum float64
	for _, x := range xs {
		sum += x
	}
	mean := sum / float64(n)
	if n < 2 {
		return Estimate{Mean: mean, SE: math.NaN(), N: n}
	}
	var ss float64
	for _, x := range xs {
		ss += (x - mean) * (x - mean)
	}
	return Estimate{Mean: mean, SE: math.Sqrt(ss/float64(n-1)) / math.Sqrt(float64(n)), N: n}
}

// Sample is one graded completion of one problem: the record that score
// reads and that the harness writes to the eval table.
type Sample struct {
	Problem   string
	Sample    int
	Correct   bool
	Truncated bool // finish reason "length": hit the token cap without ending
	Tokens    int
	// FinishUnknown marks a record without a finish reason (a grader's
	// output, a harness that logs none): a set with one reports no
	// truncation rather than a wrong one.
	FinishUnknown bool
}

// ProblemCounts tallies one problem's samples.
type ProblemCounts struct {
	Problem   string
	N         int
	Correct   int
	Truncated int
}

// CountByProblem tallies samples per problem, in problem order (sorted by
// id). A (problem, sample) pair that appears twice is an error.
func CountByProblem(samples []Sample) ([]ProblemCounts, error) {
	type key struct {
		problem string
		sample  int
	}
	seen := make(map[key]struct{}, len(samples))
	index := make(map[string]int)
	var counts []ProblemCounts
	for _, s := range samples {
		if _, dup := seen[key{s.Problem, s.Sample}]; dup {
			return nil, fmt.Errorf("problem %q sample %d appears twice", s.Problem, s.Sample)
		}
		seen[key{s.Problem, s.Sample}] = struct{}{}
		i, ok := index[s.Problem]
		if !ok {
			i = len(counts)
			index[s.Problem] = i
			counts = append(counts, ProblemCounts{Problem: s.Problem})
		}
		counts[i].N++
		if s.Correct {
			counts[i].Correct++
		}
		if s.Truncated {
			counts[i].Truncated++
		}
	}
	sort.Slice(counts, func(i, j int) bool { return counts[i].Problem < counts[j].Problem })
	return counts, nil
}

// PassAtKByProblem is pass@k for each problem. Every problem needs at least
// k samples.
func PassAtKByProblem(counts []ProblemCounts, k int) ([]float64, error) {
	out := make([]float64, len(counts))
	for i, pc := range counts {
		if pc.N < k {
			return nil, fmt.Errorf("problem %q has %d samples, fewer than k = %d", pc.Problem, pc.N, k)
		}
		v, err := PassAtK(pc.N, pc.Correct, k)
		if err != nil {
			return nil, fmt.Errorf("problem %q: %w", pc.Problem, err)
		}
		out[i] = v
	}
	return out, nil
}

// TruncationByProblem is, for each problem, the share of its samples that
// were truncated (finish reason "length").
func TruncationByProblem(counts []ProblemCounts) []float64 {
	out := make([]float64, len(counts))
	for i, pc := range counts {
		out[i] = float64(pc.Truncated) / float64(pc.N)
	}
	return out
}

// Truncation is the share of truncated samples, averaged over problems, with
// its standard error over problems.
func Truncation(samples []Sample) (Estimate, error) {
	counts, err := CountByProblem(samples)
	if err != nil {
		return Estimate{}, err
	}
	return MeanSE(TruncationByProblem(counts)), nil
}

// Metric is one number reported for an arm: its estimate over problems and
// the per-problem values it averages (aligned with Scores.Problems), which
// paired comparisons need.
type Metric struct {
	Name string // "pass@1", "pass@4", "truncation"
	K    int    // k for pass@k; 0 for truncation
	Estimate
	PerProblem []float64
}

// Scores are an arm's metrics on a problem set.
type Scores struct {
	Problems   []string // sorted
	Samples    int
	PassAtK    []Metric // one per k, in the order asked for
	Truncation Metric   // Name "" when a sample's finish reason is unknown
}

// Score computes pass@k for each k and truncation from per-sample records.
func Score(samples []Sample, ks []int) (Scores, error) {
	if len(samples) == 0 {
		return Scores{}, fmt.Errorf("no samples")
	}
	counts, err := CountByProblem(samples)
	if err != nil {
		return Scores{}, err
	}
	s := Scores{Samples: len(samples), Problems: make([]string, len(counts))}
	for i, pc := range counts {
		s.Problems[i] = pc.Problem
	}
	for _, k := range ks {
		per, err := PassAtKByProblem(counts, k)
		if err != nil {
			return Scores{}, err
		}
		s.PassAtK = append(s.PassAtK, Metric{Name: fmt.Sprintf("pass@%d", k), K: k, Estimate: MeanSE(per), PerProblem: per})
	}
	for _, sm := range samples {
		if sm.FinishUnknown {
			return s, nil // truncation unknown: not reported
		}
	}
	per := TruncationByProblem(counts)
	s.Truncation = Metric{Name: "truncation", Estimate: MeanSE(per), PerProblem: per}
	return s, nil
}

// Metrics lists pass@k for each k, then truncation where it is known.
func (s Scores) Metrics() []Metric {
	if s.Truncation.Name == "" {
		return append([]Metric(nil), s.PassAtK...)
	}
	return append(append([]Metric(nil), s.PassAtK...), s.Truncation)
}
