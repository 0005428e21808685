package eval

import (
	"math/rand/v2"
	"testing"
)

// TestCrossedIntervalCoverage measures how often each interval of a
// difference over seeds × problems covers the true difference when every
// seed is scored on the same problems: the data are drawn from the crossed
// model d_si = μ + a_s + b_i + e_si (a_s ~ N(0, σ²_seed), b_i ~
// N(0, σ²_problem), e_si ~ N(0, σ²_resid), all independent, μ = 0.3), and
// each replication's PairedCrossed t interval, CrossedBootstraps percentile
// interval and NestedBootstraps percentile interval, all 95%, either cover
// μ or do not. One setting draws each seed's problems afresh instead
// (b_si for b_i: a nested design, which relix's is not), where the nested
// bootstrap is the one that matches the design. eval/README.md ("Why the
// crossed bootstrap") reports the figures.
//
// The bounds are the shares that 3,000 replications measured, widened by
// about three Monte Carlo standard errors of the lighter run below
// (√(p(1−p)/200): 0.015 at 0.95, 0.03 at 0.75), so that they state what
// the measurement shows, not what one stream gave. What they show: the t
// interval is near nominal in every setting; the crossed bootstrap is near
// nominal unless the seeds dominate; the nested bootstrap counts the shared
// problems' effect S times as independent, so it under-covers when the
// problems dominate, and the more so the more seeds there are (about
// 2Φ(1.96/√S) − 1 when they are all there is); where the seeds dominate,
// both bootstraps see only S seeds and under-cover alike (with 3 seeds
// their intervals are about the seeds' range, which misses μ when all
// three fall on one side: 1/4 of the time). In the nested design every
// interval errs wide: there the problems are residual, which each
// bootstrap counts more than once.
func TestCrossedIntervalCoverage(t *testing.T) {
	t.Parallel()
	// 1,000 replications of 400 draws take about 2 s of one core for all
	// the settings; the race detector's run and -short take 200.
	reps, draws := 1000, 400
	if testing.Short() || raceEnabled {
		reps = 200
	}
	const mu = 0.3
	type bounds struct{ min, max float64 } // of the share covering μ
	for j, c := range []struct {
		name                       string
		S, n                       int
		sdSeed, sdProblem, sdResid float64
		ownProblems                bool // each seed its own problems
		t, crossed, nested         bounds
	}{
		{
			// Var(D)'s parts σ²_seed/S, σ²_problem/n, σ²_resid/(S·n): 0.0008,
			// 0.05, 0.0015.
			name: "problems dominate", S: 3, n: 20, sdSeed: 0.05, sdProblem: 1, sdResid: 0.3,
			t: bounds{0.90, 1}, crossed: bounds{0.88, 1}, nested: bounds{0.64, 0.84},
		},
		{
			name: "problems dominate, 5 seeds", S: 5, n: 20, sdSeed: 0.05, sdProblem: 1, sdResid: 0.3,
			t: bounds{0.90, 1}, crossed: bounds{0.88, 1}, nested: bounds{0.53, 0.73},
		},
		{
			// 0.33, 0.0001, 0.0015.
			name: "seeds dominate", S: 3, n: 20, sdSeed: 1, sdProblem: 0.05, sdResid: 0.3,
			t: bounds{0.90, 1}, crossed: bounds{0.65, 0.85}, nested: bounds{0.65, 0.85},
		},
		{
			// 0.0001, 0.0001, 0.017: both bootstraps err wide, the crossed
			// one counting σ²_resid/(S·n) about 2.25 times (with the seeds
			// drawn, with the problems drawn and with both: (S−1)/S +
			// (n−1)/n + (S−1)(n−1)/(S·n)), the nested one about 1.6 times
			// (with the seeds drawn, with their problems).
			name: "residual dominates", S: 3, n: 20, sdSeed: 0.02, sdProblem: 0.05, sdResid: 1,
			t: bounds{0.90, 1}, crossed: bounds{0.95, 1}, nested: bounds{0.92, 1},
		},
		{
			// 0.013, 0.0125, 0.004.
			name: "mixed", S: 3, n: 20, sdSeed: 0.2, sdProblem: 0.5, sdResid: 0.5,
			t: bounds{0.90, 1}, crossed: bounds{0.87, 1}, nested: bounds{0.74, 0.92},
		},
		{
			// The first setting's sizes, each seed with problems of its
			// own: 0.0008, 0.05/3, 0.0015.
			name: "each seed its own problems", S: 3, n: 20, sdSeed: 0.05, sdProblem: 1, sdResid: 0.3, ownProblems: true,
			t: bounds{0.93, 1}, crossed: bounds{0.95, 1}, nested: bounds{0.93, 1},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(2024, uint64(j)))
			d, zero := make([][]float64, c.S), make([][]float64, c.S)
			for s := range d {
				d[s], zero[s] = make([]float64, c.n), make([]float64, c.n)
			}
			b := make([]float64, c.n)
			var covT, covCrossed, covNested int
			var widthCrossed, widthNested float64
			for r := range reps {
				for s := range d {
					if s == 0 || c.ownProblems {
						for i := range b {
							b[i] = c.sdProblem * rng.NormFloat64()
						}
					}
					a := c.sdSeed * rng.NormFloat64()
					for i := range d[s] {
						d[s][i] = mu + a + b[i] + c.sdResid*rng.NormFloat64()
					}
				}
				pt, err := PairedCrossed(d, zero, 0.95)
				if err != nil {
					t.Fatal(err)
				}
				crossed, err := CrossedBootstraps([][][]float64{d}, [][][]float64{zero}, draws, uint64(r))
				if err != nil {
					t.Fatal(err)
				}
				nested, err := NestedBootstraps([][][]float64{d}, [][][]float64{zero}, draws, uint64(r))
				if err != nil {
					t.Fatal(err)
				}
				if pt.CILow <= mu && mu <= pt.CIHigh {
					covT++
				}
				if crossed[0].Low <= mu && mu <= crossed[0].High {
					covCrossed++
				}
				if nested[0].Low <= mu && mu <= nested[0].High {
					covNested++
				}
				widthCrossed += crossed[0].High - crossed[0].Low
				widthNested += nested[0].High - nested[0].Low
			}
			share := func(k int) float64 { return float64(k) / float64(reps) }
			t.Logf("%s: S %d, n %d, %d replications of %d draws: t %.3f, crossed %.3f, nested %.3f; nested width / crossed %.2f",
				c.name, c.S, c.n, reps, draws, share(covT), share(covCrossed), share(covNested), widthNested/widthCrossed)
			for _, m := range []struct {
				name string
				got  float64
				want bounds
			}{
				{"PairedCrossed's t interval", share(covT), c.t},
				{"CrossedBootstraps's interval", share(covCrossed), c.crossed},
				{"NestedBootstraps's interval", share(covNested), c.nested},
			} {
				if m.got < m.want.min || m.got > m.want.max {
					t.Errorf("%s covers μ in %.3f of %d replications, want %.2f to %.2f", m.name, m.got, reps, m.want.min, m.want.max)
				}
			}
		})
	}
}
