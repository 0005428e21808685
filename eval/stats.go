package eval

import (
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"slices"

	"gonum.org/v1/gonum/stat/distuv"
)

// Z95 is the standard normal quantile for a two-sided 95% interval.
const Z95 = 1.959963984540054

// DefaultBootstrapDraws is the number of resamples relix uses unless told.
const DefaultBootstrapDraws = 30000

// The bootstrap's limits: it keeps one value a draw, and resamples every
// problem in every draw. 10^7 draws are 80 MB; 2^33 resamplings are about
// 30 seconds of one core, for each metric of each comparison.
const (
	MaxBootstrapDraws = 10_000_000
	MaxBootstrapWork  = 1 << 33
)

// PairedDiff is the paired comparison of two arms on the same problems.
type PairedDiff struct {
	N            int     // problems
	MeanA, MeanB float64 // the arms' means
	Diff         float64 // mean of the per-problem differences a_i − b_i
	SE           float64 // sd(d)/√N, sample sd
	Confidence   float64 // of the interval, e.g. 0.95
	CILow        float64 // Diff ∓ t_{N−1} quantile × SE
	CIHigh       float64
	T            float64 // Diff / SE
	DF           int     // N − 1
	P            float64 // two-sided, from Student's t with DF degrees of freedom
}

// Paired compares arm a with arm b on the same problems (a[i] and b[i] are
// one problem's metric in each arm): the mean difference, its standard
// error, a Student-t confidence interval and the two-sided p-value of a
// paired t-test. confidence 0 means 0.95.
//
// When every difference is the same (SE = 0) the test degenerates: T is 0
// and P is 1 if that difference is 0, and T is ±Inf and P is 0 otherwise.
func Paired(a, b []float64, confidence float64) (PairedDiff, error) {
	if confidence == 0 {
		confidence = 0.95
	}
	switch {
	case len(a) != len(b):
		return PairedDiff{}, fmt.Errorf("paired comparison needs the same problems in both arms: %d values against %d", len(a), len(b))
	case len(a) < 2:
		return PairedDiff{}, fmt.Errorf("paired comparison needs at least 2 problems, got %d", len(a))
	case !(confidence > 0 && confidence < 1):
		return PairedDiff{}, fmt.Errorf("confidence %v outside (0, 1)", confidence)
	}
	d := make([]float64, len(a))
	for i := range a {
		d[i] = a[i] - b[i]
	}
	est := MeanSE(d)
	r := PairedDiff{
		N: len(a), MeanA: MeanSE(a).Mean, MeanB: MeanSE(b).Mean,
		Diff: est.Mean, SE: est.SE, Confidence: confidence, DF: len(a) - 1,
	}
	r.CILow, r.CIHigh, r.T, r.P = studentT(r.Diff, r.SE, float64(r.DF), confidence)
	return r, nil
}

// studentT is the two-sided confidence interval, t statistic and p-value of
// a difference with standard error se and df degrees of freedom. With no
// spread at all the interval is the point, and the difference is either
// certainly zero (p 1) or certainly not (p 0).
func studentT(diff, se, df, confidence float64) (low, high, t, p float64) {
	if se == 0 {
		if diff == 0 {
			return diff, diff, 0, 1
		}
		return diff, diff, math.Copysign(math.Inf(1), diff), 0
	}
	dist := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: df}
	half := dist.Quantile(1-(1-confidence)/2) * se
	t = diff / se
	return diff - half, diff + half, t, math.Min(1, 2*dist.Survival(math.Abs(t)))
}

// Bootstrap is a paired bootstrap of the mean difference between two arms.
type Bootstrap struct {
	Draws int
	Seed  uint64
	// Low and High bound the 95% percentile interval of the resampled mean
	// differences.
	Low, High float64
	// ShareAWins is the share of draws in which arm a's mean is above b's.
	ShareAWins float64
}

// PairedBootstrap resamples whole problems with replacement draws times and
// reports the 95% percentile interval of the mean difference a − b and the
// share of draws in which a beats b. The same seed gives the same result:
// the draws come from a PCG source seeded with seed, never a global one.
func PairedBootstrap(a, b []float64, draws int, seed uint64) (Bootstrap, error) {
	out, err := PairedBootstraps([][]float64{a}, [][]float64{b}, draws, seed)
	if err != nil {
		return Bootstrap{}, err
	}
	return out[0], nil
}

// PairedBootstraps is PairedBootstrap(a[m], b[m], draws, seed) for every m:
// several metrics of the same problems, bootstrapped with one seed. The
// same seed draws the same problems, so where the metrics have as many
// problems each, every draw is made once for all of them; the results are
// exactly those of the separate calls.
func PairedBootstraps(a, b [][]float64, draws int, seed uint64) ([]Bootstrap, error) {
	if len(a) != len(b) {
		return nil, fmt.Errorf("paired bootstrap needs the same metrics in both arms: %d against %d", len(a), len(b))
	}
	for m := range a {
		switch {
		case len(a[m]) != len(b[m]):
			return nil, fmt.Errorf("paired bootstrap needs the same problems in both arms: %d values against %d", len(a[m]), len(b[m]))
		case len(a[m]) == 0:
			return nil, fmt.Errorf("paired bootstrap needs at least one problem")
		case draws < 1:
			return nil, fmt.Errorf("paired bootstrap needs at least one draw, got %d", draws)
		case draws > MaxBootstrapDraws:
			return nil, fmt.Errorf("%d bootstrap draws are more than the limit of %d", draws, MaxBootstrapDraws)
		case int64(draws)*int64(len(a[m])) > MaxBootstrapWork:
			return nil, fmt.Errorf("%d bootstrap draws × %d problems is %d resamplings, more than the limit of %d; use fewer draws",
				draws, len(a[m]), int64(draws)*int64(len(a[m])), int64(MaxBootstrapWork))
		}
	}
	out := make([]Bootstrap, 0, len(a))
	for lo := 0; lo < len(a); {
		// The longest run of metrics from lo with the same problem count.
		hi := lo + 1
		for hi < len(a) && len(a[hi]) == len(a[lo]) {
			hi++
		}
		out = append(out, bootstrap(a[lo:hi], b[lo:hi], draws, seed)...)
		lo = hi
	}
	return out, nil
}

// bootstrap is PairedBootstraps of metrics of n problems each.
func bootstrap(a, b [][]float64, draws int, seed uint64) []Bootstrap {
	n, k := len(a[0]), len(a)
	// d[i*k+m] is problem i's difference in metric m: a draw's k values lie
	// together.
	d := make([]float64, n*k)
	for m := range a {
		for i := range n {
			d[i*k+m] = a[m][i] - b[m][i]
		}
	}
	// The second PCG word names this stream, so that the same seed used for
	// another purpose draws different numbers.
	src := rand.NewPCG(seed, 0x626f6f7473747270) // "bootstrp"
	means := make([]float64, draws*k)            // metric m's at [m*draws:(m+1)*draws]
	wins := make([]int, k)
	sums := make([]float64, k)
	for j := range draws {
		clear(sums)
		for range n {
			p := d[intN(src, n)*k:][:k]
			for m, v := range p {
				sums[m] += v
			}
		}
		for m, sum := range sums {
			mean := sum / float64(n)
			means[m*draws+j] = mean
			if mean > 0 {
				wins[m]++
			}
		}
	}
	return summarizeDraws(means, wins, draws, seed)
}

// summarizeDraws is each metric's bootstrap from its draws' means (metric
// m's at [m*draws:(m+1)*draws], sorted in place) and how many were positive.
func summarizeDraws(means []float64, wins []int, draws int, seed uint64) []Bootstrap {
	out := make([]Bootstrap, len(wins))
	for m := range out {
		ms := means[m*draws : (m+1)*draws]
		slices.Sort(ms)
		out[m] = Bootstrap{
			Draws: draws, Seed: seed,
			Low: percentile(ms, 0.025), High: percentile(ms, 0.975),
			ShareAWins: float64(wins[m]) / float64(draws),
		}
	}
	return out
}

// intN is rand.New(src).IntN(n), number for number (Lemire's multiply and
// reject, as math/rand/v2 draws it on every platform), without a call
// through the Source interface for each of a bootstrap's millions of draws.
func intN(src *rand.PCG, n int) int {
	u := uint64(n)
	if u&(u-1) == 0 {
		return int(src.Uint64() & (u - 1))
	}
	hi, lo := bits.Mul64(src.Uint64(), u)
	if lo < u {
		thresh := -u % u
		for lo < thresh {
			hi, lo = bits.Mul64(src.Uint64(), u)
		}
	}
	return int(hi)
}

// percentile of sorted values, interpolating linearly between order
// statistics (Hyndman and Fan's type 7, the default of R and NumPy).
func percentile(sorted []float64, p float64) float64 {
	h := p * float64(len(sorted)-1)
	lo := int(math.Floor(h))
	if lo+1 >= len(sorted) {
		return sorted[len(sorted)-1]
	}
	return sorted[lo] + (h-float64(lo))*(sorted[lo+1]-sorted[lo])
}

// Wilson is the Wilson score interval for a proportion of successes out of
// n at the normal quantile z (Z95 for 95%): (p + z²/2n ± z√(p(1−p)/n +
// z²/4n²)) / (1 + z²/n) with p = successes/n (Wilson 1927).
func Wilson(successes, n int, z float64) (low, high float64, err error) {
	switch {
	case n < 1:
		return 0, 0, fmt.Errorf("wilson interval needs at least one trial, got %d", n)
	case successes < 0 || successes > n:
		return 0, 0, fmt.Errorf("wilson interval: %d successes outside 0..%d", successes, n)
	case !(z > 0) || math.IsInf(z, 0):
		return 0, 0, fmt.Errorf("wilson interval: z must be positive, got %v", z)
	}
	nf := float64(n)
	p := float64(successes) / nf
	z2 := z * z
	denom := 1 + z2/nf
	center := (p + z2/(2*nf)) / denom
	half := z / denom * math.Sqrt(p*(1-p)/nf+z2/(4*nf*nf))
	return math.Max(0, center-half), math.Min(1, center+half), nil
}
