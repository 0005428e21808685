package eval

import "math"

// The σ gate decides which rollout groups carry a GRPO gradient worth
// training on. It lives here, at the bottom, because both sides of the
// experiment must apply the very same gate: the rollout sources (filter,
// validator, probe) and the simulator's calibration, which cannot import the
// harness.

// InZone is the σ gate: the population standard deviation of the rewards is
// positive and at least sigmaMin (σ_min = 0.43 with G = 8 admits
// 2 to 6 correct of 8; σ_min = 0 admits any variance).
func InZone(rewards []float64, sigmaMin float64) bool {
	if len(rewards) == 0 {
		return false
	}
	_, std := MeanStd(rewards)
	return std > 0 && std >= sigmaMin
}

// MeanStd returns the mean and the population standard deviation of xs:
// the statistics of GRPO's advantages and of the σ gate, computed once.
func MeanStd(xs []float64) (mean, std float64) {
	if len(xs) == 0 {
		return 0, 0
	}
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	var ss float64
	for _, x := range xs {
		ss += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(ss / float64(len(xs)))
}

// Zone is the σ gate on G binary rewards as a table, so that the hot paths
// (a miner rating candidates, the probe) do not rebuild a reward vector per
// question. Each entry is decided by InZone on an actual k-of-G vector, not
// by a closed form for its std: at a σ_min that falls exactly on a k-of-G
// boundary the two round differently, and the table must agree with the gate
// applied to real groups.
type Zone struct {
	in   []bool    // in[k]: k correct of G pass the gate
	coef []float64 // coef[k]: C(G, k)
}

// NewZone tabulates the gate for groups of groupSize at sigmaMin.
func NewZone(groupSize int, sigmaMin float64) Zone {
	z := Zone{in: make([]bool, groupSize+1), coef: make([]float64, groupSize+1)}
	r := make([]float64, groupSize)
	for k := range z.in {
		for j := range r {
			r[j] = 0
			if j < k {
				r[j] = 1
			}
		}
		z.in[k] = InZone(r, sigmaMin)
		z.coef[k] = binomial(groupSize, k)
	}
	return z
}

// GroupSize is the G the table was made for.
func (z Zone) GroupSize() int { return len(z.in) - 1 }

// In reports whether k correct of G pass the gate (0 ≤ k ≤ G).
func (z Zone) In(k int) bool { return z.in[k] }

// Chance is the probability that a group of G binary rewards, each 1 with
// probability p, passes the gate.
func (z Zone) Chance(p float64) float64 {
	g := len(z.in) - 1
	var c float64
	for k, in := range z.in {
		if in {
			c += z.coef[k] * powInt(p, k) * powInt(1-p, g-k)
		}
	}
	return c
}

// powInt is math.Pow(x, float64(n)) for n ≥ 0, bit for bit: for a finite
// positive x it takes math.Pow's own path for an integer exponent
// (squarings of the mantissa, the exponent counted apart, one Ldexp),
// without the special cases and the split of the exponent into whole and
// fractional parts that cannot apply; anything else goes to math.Pow. A
// miner rates every candidate prompt with Chance, and math.Pow was most of
// picking. TestPowIntMatchesPow compares the two.
func powInt(x float64, n int) float64 {
	switch {
	case n == 0 || x == 1:
		return 1
	case n == 1:
		return x
	case !(x > 0 && x <= math.MaxFloat64) || n < 0:
		return math.Pow(x, float64(n))
	}
	a1, ae := 1.0, 0
	x1, xe := math.Frexp(x)
	for i := n; i != 0; i >>= 1 {
		if xe < -1<<12 || 1<<12 < xe {
			ae += xe
			break
		}
		if i&1 == 1 {
			a1 *= x1
			ae += xe
		}
		x1 *= x1
		xe <<= 1
		if x1 < .5 {
			x1 += x1
			xe--
		}
	}
	return math.Ldexp(a1, ae)
}

func binomial(n, k int) float64 {
	b := 1.0
	for i := 1; i <= k; i++ {
		b = b * float64(n-k+i) / float64(i)
	}
	return b
}

// InZoneChance is the probability that a group of groupSize completions,
// each rewarded 1 with probability p, passes the σ gate: for sigmaMin 0 it
// is 1 − p^G − (1−p)^G. The in-zone fraction of a pool is its mean over the
// pool's prompts.
func InZoneChance(p float64, groupSize int, sigmaMin float64) float64 {
	return NewZone(groupSize, sigmaMin).Chance(p)
}
