package eval

import (
	"math"
	"math/big"
	"testing"
)

func TestPassAtKAtOneIsTheShareCorrect(t *testing.T) {
	t.Parallel()
	for n := 1; n <= 32; n++ {
		for c := 0; c <= n; c++ {
			got, err := PassAtK(n, c, 1)
			if err != nil || got != float64(c)/float64(n) {
				t.Errorf("PassAtK(%d, %d, 1) = %v, %v; want %v", n, c, got, err, float64(c)/float64(n))
			}
		}
	}
}

func TestPassAtKIsMonotoneInK(t *testing.T) {
	t.Parallel()
	for n := 1; n <= 32; n++ {
		for c := 0; c <= n; c++ {
			prev := -1.0
			for k := 1; k <= n; k++ {
				got, err := PassAtK(n, c, k)
				if err != nil {
					t.Fatal(err)
				}
				if got < prev-1e-15 {
					t.Errorf("PassAtK(%d, %d, %d) = %v < pass@%d = %v", n, c, k, got, k-1, prev)
				}
				prev = got
			}
		}
	}
}

func TestPassAtKBounds(t *testing.T) {
	t.Parallel()
	for n := 1; n <= 32; n++ {
		for k := 1; k <= n; k++ {
			if got, _ := PassAtK(n, n, k); got != 1 {
				t.Errorf("PassAtK(%d, %d, %d) = %v, want 1 (all correct)", n, n, k, got)
			}
			if got, _ := PassAtK(n, 0, k); got != 0 {
				t.Errorf("PassAtK(%d, 0, %d) = %v, want 0 (none correct)", n, k, got)
			}
		}
	}
}

// TestPassAtKMatchesSubsetEnumeration checks the estimator against its
// definition: the share of the C(n, k) ways to choose k of the n samples
// that contain at least one correct sample, counted one subset at a time.
func TestPassAtKMatchesSubsetEnumeration(t *testing.T) {
	t.Parallel()
	for n := 1; n <= 12; n++ {
		for c := 0; c <= n; c++ {
			// Samples 0..c-1 are the correct ones.
			correct := uint32(1)<<c - 1
			for k := 1; k <= n; k++ {
				subsets, hits := 0, 0
				for mask := uint32(0); mask < 1<<n; mask++ {
					if popcount(mask) != k {
						continue
					}
					subsets++
					if mask&correct != 0 {
						hits++
					}
				}
				want := float64(hits) / float64(subsets)
				got, err := PassAtK(n, c, k)
				if err != nil || math.Abs(got-want) > 1e-12 {
					t.Errorf("PassAtK(%d, %d, %d) = %v, %v; enumeration gives %v", n, c, k, got, err, want)
				}
			}
		}
	}
}

func popcount(x uint32) int {
	n := 0
	for ; x != 0; x &= x - 1 {
		n++
	}
	return n
}

// TestPassAtKIsStableForLargeN compares the product form with the exact
// value 1 − C(n−c, k)/C(n, k) from big-integer binomial coefficients, at
// sizes where the coefficients overflow a float64.
func TestPassAtKIsStableForLargeN(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ n, c, k int }{
		{2000, 1, 100}, {2000, 3, 1000}, {1200, 600, 64}, {5000, 10, 2500}, {1100, 1, 1},
	} {
		exact := new(big.Rat).SetFrac(new(big.Int).Binomial(int64(tc.n-tc.c), int64(tc.k)), new(big.Int).Binomial(int64(tc.n), int64(tc.k)))
		want, _ := new(big.Rat).Sub(big.NewRat(1, 1), exact).Float64()
		got, err := PassAtK(tc.n, tc.c, tc.k)
		if err != nil || math.Abs(got-want) > 1e-12 {
			t.Errorf("PassAtK(%d, %d, %d) = %v, %v; exact %v", tc.n, tc.c, tc.k, got, err, want)
		}
	}
}

func TestPassAtKErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ n, c, k int }{
		{4, 1, 5}, {0, 0, 1}, {4, 5, 1}, {4, -1, 1}, {4, 1, 0},
	} {
		if _, err := PassAtK(tc.n, tc.c, tc.k); err == nil {
			t.Errorf("PassAtK(%d, %d, %d) gave no error", tc.n, tc.c, tc.k)
		}
	}
}

func TestMeanSE(t *testing.T) {
	t.Parallel()
	// 1, 2, 3, 4: mean 2.5; sample variance ((1.5² + 0.5²)·2)/3 = 5/3, so
	// SE = √(5/3)/√4 = 0.6454972243679028 (by hand).
	got := MeanSE([]float64{1, 2, 3, 4})
	if got.Mean != 2.5 || math.Abs(got.SE-0.6454972243679028) > 1e-15 || got.N != 4 {
		t.Errorf("MeanSE(1,2,3,4) = %+v", got)
	}
	if got := MeanSE([]float64{0.7}); got.Mean != 0.7 || !math.IsNaN(got.SE) {
		t.Errorf("MeanSE of one value = %+v, want its value and a NaN SE", got)
	}
}

func TestScore(t *testing.T) {
	t.Parallel()
	// Two problems with 4 samples each. Problem a: 1 correct, 2 truncated;
	// problem b: 4 correct, none truncated.
	var samples []Sample
	for i := 0; i < 4; i++ {
		samples = append(samples,
			Sample{Problem: "b", Sample: i, Correct: true},
			Sample{Problem: "a", Sample: i, Correct: i == 0, Truncated: i >= 2})
	}
	s, err := Score(samples, []int{1, 2})
	if err != nil {
		t.Fatal(err)
	}
	// pass@1: a 1/4, b 1; mean 0.625, SE = |1 − 0.25|/2 = 0.375 (for two
	// values the sample sd is |x−y|/√2, so SE = |x−y|/2).
	// pass@2: a 1 − C(3,2)/C(4,2) = 1 − 3/6 = 0.5, b 1; mean 0.75, SE 0.25.
	// truncation: a 0.5, b 0; mean 0.25, SE 0.25.
	want := []struct {
		name     string
		mean, se float64
		per      []float64
	}{
		{"pass@1", 0.625, 0.375, []float64{0.25, 1}},
		{"pass@2", 0.75, 0.25, []float64{0.5, 1}},
		{"truncation", 0.25, 0.25, []float64{0.5, 0}},
	}
	if len(s.Problems) != 2 || s.Problems[0] != "a" || s.Samples != 8 {
		t.Fatalf("problems %v, samples %d", s.Problems, s.Samples)
	}
	for i, m := range s.Metrics() {
		w := want[i]
		if m.Name != w.name || math.Abs(m.Mean-w.mean) > 1e-15 || math.Abs(m.SE-w.se) > 1e-15 ||
			m.PerProblem[0] != w.per[0] || m.PerProblem[1] != w.per[1] {
			t.Errorf("metric %d = %+v, want %+v", i, m, w)
		}
	}
	trunc, err := Truncation(samples)
	if err != nil || trunc.Mean != 0.25 {
		t.Errorf("Truncation = %+v, %v", trunc, err)
	}
}

func TestScoreErrors(t *testing.T) {
	t.Parallel()
	dup := []Sample{{Problem: "a", Sample: 0}, {Problem: "a", Sample: 0}}
	if _, err := Score(dup, []int{1}); err == nil {
		t.Error("a repeated (problem, sample) gave no error")
	}
	few := []Sample{{Problem: "a", Sample: 0}, {Problem: "a", Sample: 1}}
	if _, err := Score(few, []int{4}); err == nil || err.Error() != `problem "a" has 2 samples, fewer than k = 4` {
		t.Errorf("k > n: %v", err)
	}
	if _, err := Score(nil, []int{1}); err == nil {
		t.Error("no samples gave no error")
	}
}
