package eval

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// Student's sleep data (Cushny and Peebles 1905, as analysed by Student in
// 1908; R's datasets::sleep): extra hours of sleep of ten patients under two
// drugs.
var (
	sleepDrug1 = []float64{0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0}
	sleepDrug2 = []float64{1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4}
)

func TestPairedReproducesStudentsSleepData(t *testing.T) {
	t.Parallel()
	got, err := Paired(sleepDrug1, sleepDrug2, 0.95)
	if err != nil {
		t.Fatal(err)
	}
	// Expected values: R's t.test(extra ~ group, data = sleep, paired = TRUE)
	// prints t = -4.0621, df = 9, p-value = 0.002833, 95 percent confidence
	// interval -2.4598858 -0.7001142, mean difference -1.58. The digits
	// below were recomputed with mpmath at 30 digits from the definitions
	// (p = I_{ν/(ν+t²)}(ν/2, 1/2), the t quantile by root finding).
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"diff", got.Diff, -1.58},
		{"se", got.SE, 0.388958723888395243805398316871},
		{"t", got.T, -4.06212768338203610965978559482},
		{"p", got.P, 0.00283289019738427274033502686586},
		{"ci low", got.CILow, -2.45988576327698279871448011266},
		{"ci high", got.CIHigh, -0.700114236723017201285519887343},
		{"mean a", got.MeanA, 0.75},
		{"mean b", got.MeanB, 2.33},
	} {
		if math.Abs(c.got-c.want) > 1e-9 {
			t.Errorf("%s = %.12g, want %.12g", c.name, c.got, c.want)
		}
	}
	if got.DF != 9 || got.N != 10 {
		t.Errorf("df %d, n %d; want 9, 10", got.DF, got.N)
	}
	// Swapping the arms negates the difference and keeps p.
	rev, _ := Paired(sleepDrug2, sleepDrug1, 0)
	if rev.Diff != -got.Diff || math.Abs(rev.P-got.P) > 1e-15 || rev.Confidence != 0.95 {
		t.Errorf("swapped arms: %+v", rev)
	}
}

func TestPairedDegenerate(t *testing.T) {
	t.Parallel()
	same, err := Paired([]float64{1, 0, 1}, []float64{1, 0, 1}, 0.95)
	if err != nil || same.Diff != 0 || same.T != 0 || same.P != 1 || same.CILow != 0 || same.CIHigh != 0 {
		t.Errorf("identical arms: %+v, %v", same, err)
	}
	shifted, err := Paired([]float64{1, 1, 1}, []float64{0, 0, 0}, 0.95)
	if err != nil || shifted.Diff != 1 || !math.IsInf(shifted.T, 1) || shifted.P != 0 {
		t.Errorf("constant difference: %+v, %v", shifted, err)
	}
	for _, tc := range []struct {
		a, b []float64
		conf float64
	}{
		{[]float64{1}, []float64{0}, 0.95},
		{[]float64{1, 2}, []float64{0}, 0.95},
		{[]float64{1, 2}, []float64{0, 1}, 1.5},
	} {
		if _, err := Paired(tc.a, tc.b, tc.conf); err == nil {
			t.Errorf("Paired(%v, %v, %v) gave no error", tc.a, tc.b, tc.conf)
		}
	}
}

func TestPairedBootstrapIsDeterministicForASeed(t *testing.T) {
	t.Parallel()
	first, err := PairedBootstrap(sleepDrug1, sleepDrug2, 5000, 7)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := PairedBootstrap(sleepDrug1, sleepDrug2, 5000, 7)
	if first != again {
		t.Errorf("same seed, different results: %+v and %+v", first, again)
	}
	other, _ := PairedBootstrap(sleepDrug1, sleepDrug2, 5000, 8)
	if other == first {
		t.Errorf("seeds 7 and 8 gave the same result %+v", first)
	}
	// Pinned so that a change in the random stream (and with it every
	// published bootstrap interval) cannot pass unnoticed.
	if math.Abs(first.Low - -2.37) > 1e-9 || math.Abs(first.High - -0.95) > 1e-9 || first.ShareAWins != 0 {
		t.Errorf("seed 7: %+v; want the pinned interval [-2.37, -0.95] and no wins", first)
	}
}

func TestPairedBootstrapAgreesWithTheory(t *testing.T) {
	t.Parallel()
	// Every difference equal: every resample has the same mean.
	a := []float64{1, 1, 1, 1}
	b := []float64{0.5, 0.5, 0.5, 0.5}
	got, err := PairedBootstrap(a, b, 1000, 1)
	if err != nil || got.Low != 0.5 || got.High != 0.5 || got.ShareAWins != 1 {
		t.Errorf("constant difference: %+v, %v", got, err)
	}
	// 400 problems whose difference is +1 or −1, half each: a resampled
	// mean is (2·Binomial(400, 1/2) − 400)/400, with sd 1/√400 = 0.05, so
	// the percentile interval is close to ±1.96 × 0.05 = ±0.098 and a wins
	// in P(Binomial(400, 1/2) > 200) = (1 − P(= 200))/2 ≈ 0.480 of draws.
	a, b = make([]float64, 400), make([]float64, 400)
	for i := range a {
		a[i] = float64(i % 2)
		b[i] = float64(1 - i%2)
	}
	got, err = PairedBootstrap(a, b, 30000, 1)
	if err != nil || math.Abs(got.Low - -0.098) > 0.006 || math.Abs(got.High-0.098) > 0.006 || math.Abs(got.ShareAWins-0.480) > 0.01 {
		t.Errorf("symmetric differences: %+v, %v", got, err)
	}
	if _, err := PairedBootstrap(a, b[:3], 10, 1); err == nil {
		t.Error("unpaired arms gave no error")
	}
	if _, err := PairedBootstrap(a, b, 0, 1); err == nil {
		t.Error("zero draws gave no error")
	}
}

func TestPercentile(t *testing.T) {
	t.Parallel()
	// Type 7 on 1..5: h = p·4; p = 0.1 gives 1.4, p = 0.975 gives 4.9.
	xs := []float64{1, 2, 3, 4, 5}
	for _, c := range []struct{ p, want float64 }{{0, 1}, {0.1, 1.4}, {0.5, 3}, {0.975, 4.9}, {1, 5}} {
		if got := percentile(xs, c.p); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("percentile(%v) = %v, want %v", c.p, got, c.want)
		}
	}
}

func TestWilson(t *testing.T) {
	t.Parallel()
	// Expected values from an independent derivation: the Wilson bounds are
	// the roots π of (p̂ − π)² = z²π(1 − π)/n, that is of
	// (1 + z²/n)π² − (2p̂ + z²/n)π + p̂² = 0, solved here with the
	// quadratic formula rather than Wilson's closed form.
	for _, tc := range []struct {
		s, n int
		z    float64
	}{
		{0, 10, Z95}, {10, 10, Z95}, {3, 10, Z95}, {61, 100, Z95}, {47, 100, 1.645}, {1, 1, 2.576},
	} {
		nf, p := float64(tc.n), float64(tc.s)/float64(tc.n)
		qa, qb, qc := 1+tc.z*tc.z/nf, -(2*p + tc.z*tc.z/nf), p*p
		disc := math.Sqrt(qb*qb - 4*qa*qc)
		wantLow, wantHigh := (-qb-disc)/(2*qa), (-qb+disc)/(2*qa)
		low, high, err := Wilson(tc.s, tc.n, tc.z)
		if err != nil || math.Abs(low-wantLow) > 1e-12 || math.Abs(high-wantHigh) > 1e-12 {
			t.Errorf("Wilson(%d, %d, %v) = [%v, %v], %v; want [%v, %v]", tc.s, tc.n, tc.z, low, high, err, wantLow, wantHigh)
		}
	}
	// And by hand: with no successes the lower bound is 0 and the upper
	// z²/(n + z²) = 3.841459/13.841459 = 0.277532 for n = 10.
	_, high, _ := Wilson(0, 10, Z95)
	if math.Abs(high-Z95*Z95/(10+Z95*Z95)) > 1e-15 || math.Abs(high-0.277532) > 1e-6 {
		t.Errorf("Wilson(0, 10) upper = %v", high)
	}
	for _, tc := range []struct {
		s, n int
		z    float64
	}{{1, 0, Z95}, {3, 2, Z95}, {-1, 2, Z95}, {1, 2, 0}, {1, 2, math.NaN()}} {
		if _, _, err := Wilson(tc.s, tc.n, tc.z); err == nil {
			t.Errorf("Wilson(%d, %d, %v) gave no error", tc.s, tc.n, tc.z)
		}
	}
}

func TestIntNDrawsWhatRandIntNDraws(t *testing.T) {
	t.Parallel()
	for _, n := range []int{1, 2, 3, 7, 8, 500, 1000, 1<<20 + 1, 1<<31 - 1, 1 << 40, 1<<62 + 3, math.MaxInt} {
		ours, theirs := rand.NewPCG(uint64(n), 9), rand.New(rand.NewPCG(uint64(n), 9))
		for i := range 2000 {
			if got, want := intN(ours, n), theirs.IntN(n); got != want {
				t.Fatalf("n %d, draw %d: %d, want %d", n, i, got, want)
			}
		}
	}
}

// referenceBootstrap is PairedBootstrap as first written, one metric at a
// time through rand.Rand: the numbers every published interval came from.
func referenceBootstrap(a, b []float64, draws int, seed uint64) Bootstrap {
	n := len(a)
	d := make([]float64, n)
	for i := range a {
		d[i] = a[i] - b[i]
	}
	rng := rand.New(rand.NewPCG(seed, 0x626f6f7473747270))
	means := make([]float64, draws)
	wins := 0
	for j := range means {
		var sum float64
		for range n {
			sum += d[rng.IntN(n)]
		}
		means[j] = sum / float64(n)
		if means[j] > 0 {
			wins++
		}
	}
	slices.Sort(means)
	return Bootstrap{Draws: draws, Seed: seed, Low: percentile(means, 0.025), High: percentile(means, 0.975), ShareAWins: float64(wins) / float64(draws)}
}

func TestPairedBootstrapsAreTheSeparateBootstraps(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	metric := func(n int) []float64 {
		xs := make([]float64, n)
		for i := range xs {
			xs[i] = float64(rng.IntN(9)) / 8
		}
		return xs
	}
	// Three metrics of 50 problems, then two of 7: draws are shared within
	// each run of equal lengths only.
	var a, b [][]float64
	for _, n := range []int{50, 50, 50, 7, 7} {
		a, b = append(a, metric(n)), append(b, metric(n))
	}
	got, err := PairedBootstraps(a, b, 3000, 11)
	if err != nil {
		t.Fatal(err)
	}
	for m := range a {
		if want := referenceBootstrap(a[m], b[m], 3000, 11); got[m] != want {
			t.Errorf("metric %d: %+v, want %+v", m, got[m], want)
		}
	}
	if _, err := PairedBootstraps(a, b[:4], 10, 1); err == nil {
		t.Error("unpaired metrics gave no error")
	}
}

// BenchmarkPairedBootstraps bootstraps one compared pair of paired.yaml:
// three metrics of 500 problems, 30,000 draws. "reference" is one metric
// at a time through rand.Rand, as PairedBootstrap first drew them; "shared"
// is PairedBootstraps, with the same results.
func BenchmarkPairedBootstraps(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	var as, bs [][]float64
	for range 3 {
		x, y := make([]float64, 500), make([]float64, 500)
		for i := range x {
			x[i], y[i] = float64(rng.IntN(9))/8, float64(rng.IntN(9))/8
		}
		as, bs = append(as, x), append(bs, y)
	}
	b.Run("reference", func(b *testing.B) {
		for b.Loop() {
			for m := range as {
				referenceBootstrap(as[m], bs[m], DefaultBootstrapDraws, 7)
			}
		}
	})
	b.Run("shared", func(b *testing.B) {
		for b.Loop() {
			if _, err := PairedBootstraps(as, bs, DefaultBootstrapDraws, 7); err != nil {
				b.Fatal(err)
			}
		}
	})
}
