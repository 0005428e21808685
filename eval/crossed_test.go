package eval

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// crossedCase is a seeds × problems table of differences, arm b nonzero so
// that the arms' means are checked as well.
type crossedCase struct {
	name string
	a, b [][]float64
	// Hand-computed (see each case) and, for the t quantile and p,
	// mpmath at 30 digits from p = I_{ν/(ν+t²)}(ν/2, 1/2).
	diff, se, df, t, p, ciLow, ciHigh float64
	msSeed, msProblem, msResid        float64
	varSeed, varProblem, varResid     float64
}

func TestPairedCrossedTwoWayANOVA(t *testing.T) {
	t.Parallel()
	for _, c := range []crossedCase{
		{
			// d = [[1 2 6] [4 3 8]]: D = 4, seed means 3 and 5, problem
			// means 2.5, 2.5, 7, residuals ±0.5 and 0.
			// MS_seed = 3·(1+1)/1 = 6, MS_problem = 2·(2.25+2.25+9)/2 = 13.5,
			// MS_resid = 1/2. Var(D) = (6 + 13.5 − 0.5)/6 = 19/6;
			// DF = 19² / (6²/1 + 13.5²/2 + 0.5²/2) = 361/127.25.
			name: "both components",
			a:    [][]float64{{2, 3, 7}, {4, 5, 9}},
			b:    [][]float64{{1, 1, 1}, {0, 2, 1}},
			diff: 4, se: 1.77951304200521853513525399427, df: 361 / 127.25,
			t: 2.24780594779606551806558399276, p: 0.115255581216190501661061088983,
			ciLow: -1.85188498806866944951241469352, ciHigh: 9.85188498806866944951241469352,
			msSeed: 6, msProblem: 13.5, msResid: 0.5,
			varSeed: 11.0 / 6, varProblem: 6.5, varResid: 0.5,
		},
		{
			// d = [[1 2 6] [3 2 4]]: both seeds' means are 3, so MS_seed = 0
			// < MS_resid = 4/2 and σ̂²_seed clamps to 0; Var(D) is then
			// MS_problem/(S·n) = 6/6 with n − 1 = 2 df: the paired SE of
			// the problems' seed means [2 2 5].
			name: "seed component clamped",
			a:    [][]float64{{1, 2, 6}, {3, 2, 4}},
			b:    [][]float64{{0, 0, 0}, {0, 0, 0}},
			diff: 3, se: 1, df: 2, t: 3, p: 0.0954659662667091348491041068892,
			ciLow: -1.30265272974946385232094389262, ciHigh: 7.30265272974946385232094389262,
			msSeed: 0, msProblem: 6, msResid: 2,
			varSeed: 0, varProblem: 2, varResid: 2,
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := PairedCrossed(c.a, c.b, 0.95)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range []struct {
				name      string
				got, want float64
			}{
				{"diff", got.Diff, c.diff}, {"se", got.SE, c.se}, {"df", got.DF, c.df},
				{"t", got.T, c.t}, {"p", got.P, c.p}, {"ci low", got.CILow, c.ciLow}, {"ci high", got.CIHigh, c.ciHigh},
				{"ms seed", got.MSSeed, c.msSeed}, {"ms problem", got.MSProblem, c.msProblem}, {"ms resid", got.MSResid, c.msResid},
				{"var seed", got.VarSeed, c.varSeed}, {"var problem", got.VarProblem, c.varProblem}, {"var resid", got.VarResid, c.varResid},
				{"mean a − mean b", got.MeanA - got.MeanB, c.diff},
			} {
				if math.Abs(f.got-f.want) > 1e-9 {
					t.Errorf("%s = %.15g, want %.15g", f.name, f.got, f.want)
				}
			}
			if got.Seeds != len(c.a) || got.N != len(c.a[0]) || len(got.PerSeed) != len(c.a) {
				t.Errorf("seeds %d, n %d, %d per-seed comparisons", got.Seeds, got.N, len(got.PerSeed))
			}
			for s := range c.a {
				want, _ := Paired(c.a[s], c.b[s], 0.95)
				if got.PerSeed[s] != want {
					t.Errorf("seed %d: %+v, want %+v", s, got.PerSeed[s], want)
				}
			}
		})
	}
}

func TestPairedCrossedOneSeedIsPaired(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		a, b []float64
	}{
		{"sleep data", sleepDrug1, sleepDrug2},
		{"identical", []float64{1, 0, 1}, []float64{1, 0, 1}},
		{"constant difference", []float64{1, 1, 1}, []float64{0, 0, 0}},
	} {
		want, err := Paired(tc.a, tc.b, 0.95)
		if err != nil {
			t.Fatal(err)
		}
		got, err := PairedCrossed([][]float64{tc.a}, [][]float64{tc.b}, 0.95)
		if err != nil {
			t.Fatal(err)
		}
		// Exactly, bit for bit: one seed must report what the problem-only
		// comparison always has.
		if got.Diff != want.Diff || got.SE != want.SE || got.CILow != want.CILow || got.CIHigh != want.CIHigh ||
			got.T != want.T || got.P != want.P || got.DF != float64(want.DF) || got.N != want.N ||
			got.MeanA != want.MeanA || got.MeanB != want.MeanB {
			t.Errorf("%s: %+v, want %+v", tc.name, got, want)
		}
	}
}

func TestPairedCrossedErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		a, b [][]float64
	}{
		{"no seeds", nil, nil},
		{"seed counts differ", [][]float64{{1, 2}, {1, 2}}, [][]float64{{1, 2}}},
		{"problem counts differ", [][]float64{{1, 2}, {1, 2, 3}}, [][]float64{{1, 2}, {1, 2, 3}}},
		{"one problem", [][]float64{{1}, {2}}, [][]float64{{0}, {0}}},
	} {
		if _, err := PairedCrossed(tc.a, tc.b, 0.95); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}

// seedDominated simulates S training runs of two arms whose difference
// moves with the run far more than with the problem: the seed effect's sd
// is 0.05, each problem's 0.01 around it.
func seedDominated(S, n int, rng *rand.Rand) (a, b [][]float64) {
	a, b = make([][]float64, S), make([][]float64, S)
	for s := range S {
		shift := 0.02 + 0.05*rng.NormFloat64()
		a[s], b[s] = make([]float64, n), make([]float64, n)
		for i := range n {
			b[s][i] = rng.Float64()
			a[s][i] = b[s][i] + shift + 0.01*rng.NormFloat64()
		}
	}
	return a, b
}

func seedMeans(x [][]float64) []float64 {
	out := make([]float64, len(x[0]))
	for _, row := range x {
		for i, v := range row {
			out[i] += v
		}
	}
	for i := range out {
		out[i] /= float64(len(x))
	}
	return out
}

func TestPairedCrossedWiderWhenSeedsVary(t *testing.T) {
	t.Parallel()
	a, b := seedDominated(3, 200, rand.New(rand.NewPCG(7, 8)))
	crossed, err := PairedCrossed(a, b, 0.95)
	if err != nil {
		t.Fatal(err)
	}
	problems, err := Paired(seedMeans(a), seedMeans(b), 0.95)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(crossed.Diff-problems.Diff) > 1e-12 {
		t.Errorf("the same cells give another mean: %v against %v", crossed.Diff, problems.Diff)
	}
	// Three runs pin a seed effect of sd 0.05 to within ≈ 0.05/√3, a
	// problem-only SE of ≈ 0.01/√600 does not see it.
	if w, w0 := crossed.CIHigh-crossed.CILow, problems.CIHigh-problems.CILow; !(w > 10*w0) {
		t.Errorf("crossed interval %.4g wide, problems only %.4g: want the seeds' spread in it", w, w0)
	}
	if crossed.DF > 3 || crossed.DF < 1.9 {
		t.Errorf("DF = %v, want about S − 1 = 2 when the seeds dominate", crossed.DF)
	}
	const draws = 4000
	boot, err := CrossedBootstraps([][][]float64{a}, [][][]float64{b}, draws, 42)
	if err != nil {
		t.Fatal(err)
	}
	boot0, err := PairedBootstraps([][]float64{seedMeans(a)}, [][]float64{seedMeans(b)}, draws, 42)
	if err != nil {
		t.Fatal(err)
	}
	if w, w0 := boot[0].High-boot[0].Low, boot0[0].High-boot0[0].Low; !(w > 10*w0) {
		t.Errorf("crossed bootstrap %.4g wide, problems only %.4g", w, w0)
	}
}

func TestCrossedBootstrapsDeterministic(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	a1, b1 := seedDominated(3, 40, rng)
	a2, b2 := seedDominated(3, 40, rng)
	a, b := [][][]float64{a1, a2}, [][][]float64{b1, b2}
	first, err := CrossedBootstraps(a, b, 2000, 99)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := CrossedBootstraps(a, b, 2000, 99)
	other, _ := CrossedBootstraps(a, b, 2000, 100)
	for m := range first {
		if first[m] != again[m] {
			t.Errorf("metric %d: %+v then %+v with the same seed", m, first[m], again[m])
		}
		if first[m] == other[m] {
			t.Errorf("metric %d: seeds 99 and 100 drew the same", m)
		}
	}
	// Every metric is resampled by the same draws: alone, a metric gets
	// what it got with the other.
	alone, _ := CrossedBootstraps(a[1:], b[1:], 2000, 99)
	if alone[0] != first[1] {
		t.Errorf("metric 1 alone %+v, with metric 0 %+v", alone[0], first[1])
	}
	// And on every platform and release: the draws are pinned.
	pa, pb := make([][]float64, 3), make([][]float64, 3)
	for s := range pa {
		pa[s], pb[s] = make([]float64, 7), make([]float64, 7)
		for i := range pa[s] {
			pa[s][i] = float64((s*7+i*3)%5) / 4
			pb[s][i] = float64((i*i)%3) / 2
		}
	}
	pinned, _ := CrossedBootstraps([][][]float64{pa}, [][][]float64{pb}, 1000, 2024)
	if got := fmt.Sprintf("%.17g %.17g %.17g", pinned[0].Low, pinned[0].High, pinned[0].ShareAWins); got != pinnedCrossed {
		t.Errorf("pinned draws give %s, want %s", got, pinnedCrossed)
	}
}

const pinnedCrossed = "-0.035714285714285712 0.5 0.93400000000000005"

func TestCrossedBootstrapsOneSeedIsPairedBootstraps(t *testing.T) {
	t.Parallel()
	a := [][][]float64{{sleepDrug1}, {sleepDrug2}}
	b := [][][]float64{{sleepDrug2}, {sleepDrug1}}
	got, err := CrossedBootstraps(a, b, 3000, 5)
	if err != nil {
		t.Fatal(err)
	}
	want, err := PairedBootstraps([][]float64{sleepDrug1, sleepDrug2}, [][]float64{sleepDrug2, sleepDrug1}, 3000, 5)
	if err != nil {
		t.Fatal(err)
	}
	for m := range want {
		if got[m] != want[m] {
			t.Errorf("metric %d: %+v, want %+v", m, got[m], want[m])
		}
	}
}

func TestCrossedBootstrapsErrors(t *testing.T) {
	t.Parallel()
	ok := [][][]float64{{{1, 2}, {3, 4}}}
	for _, tc := range []struct {
		name  string
		a, b  [][][]float64
		draws int
	}{
		{"metric counts differ", ok, nil, 10},
		{"no draws", ok, ok, 0},
		{"seed counts differ", ok, [][][]float64{{{1, 2}}}, 10},
		{"problem counts differ", ok, [][][]float64{{{1, 2}, {3}}}, 10},
		{"no problems", [][][]float64{{{}}}, [][][]float64{{{}}}, 10},
	} {
		if _, err := CrossedBootstraps(tc.a, tc.b, tc.draws, 1); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}

func TestNestedBootstraps(t *testing.T) {
	t.Parallel()
	const draws = 40000
	for _, tc := range []struct {
		name string
		d    [][]float64 // seeds × problems; arm b is d's negative half
		// Hand-computed: the draw's mean takes a few values with known
		// probabilities, and both 2.5% tails sit on its extreme values.
		low, high, share float64
		// CrossedBootstraps's share on the same data, where it differs.
		crossedShare float64
	}{
		{
			name: "constant", d: [][]float64{{0.5, 0.5}, {0.5, 0.5}},
			low: 0.5, high: 0.5, share: 1, crossedShare: 1,
		},
		{
			// Each problem alike within its seed: the mean is −1, 1 or 3
			// as the two seeds drawn are both the first, one of each or
			// both the second, with probabilities 1/4, 1/2, 1/4.
			name: "seeds only", d: [][]float64{{-1, -1}, {3, 3}},
			low: -1, high: 3, share: 0.75, crossedShare: 0.75,
		},
		{
			// Every seed alike: the nested draw takes 2 problems in each
			// of 2 seeds, 4 independent coin flips between −1 and 1, and
			// its mean is above 0 when 3 or 4 are 1: 5/16. The crossed
			// draw takes 2 problems for both seeds, above 0 only when both
			// are the second: 1/4.
			name: "problems only", d: [][]float64{{-1, 1}, {-1, 1}},
			low: -1, high: 1, share: 5.0 / 16, crossedShare: 0.25,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := make([][]float64, len(tc.d)), make([][]float64, len(tc.d))
			for s, row := range tc.d {
				a[s], b[s] = make([]float64, len(row)), make([]float64, len(row))
				for i, v := range row {
					a[s][i], b[s][i] = v/2, -v/2
				}
			}
			got, err := NestedBootstraps([][][]float64{a}, [][][]float64{b}, draws, 3)
			if err != nil {
				t.Fatal(err)
			}
			// 40,000 draws pin a share to within about 0.0025 (one SE).
			g := got[0]
			if g.Low != tc.low || g.High != tc.high || math.Abs(g.ShareAWins-tc.share) > 0.01 || g.Draws != draws || g.Seed != 3 {
				t.Errorf("%+v, want interval (%v, %v) and share %.4f", g, tc.low, tc.high, tc.share)
			}
			crossed, err := CrossedBootstraps([][][]float64{a}, [][][]float64{b}, draws, 3)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(crossed[0].ShareAWins-tc.crossedShare) > 0.01 {
				t.Errorf("crossed share %.4f, want %.4f", crossed[0].ShareAWins, tc.crossedShare)
			}
		})
	}
}

func TestNestedBootstrapsDeterministic(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	a1, b1 := seedDominated(3, 40, rng)
	a2, b2 := seedDominated(3, 40, rng)
	a, b := [][][]float64{a1, a2}, [][][]float64{b1, b2}
	first, err := NestedBootstraps(a, b, 2000, 99)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := NestedBootstraps(a, b, 2000, 99)
	other, _ := NestedBootstraps(a, b, 2000, 100)
	crossed, _ := CrossedBootstraps(a, b, 2000, 99)
	for m := range first {
		if first[m] != again[m] {
			t.Errorf("metric %d: %+v then %+v with the same seed", m, first[m], again[m])
		}
		if first[m] == other[m] {
			t.Errorf("metric %d: seeds 99 and 100 drew the same", m)
		}
		if first[m] == crossed[m] {
			t.Errorf("metric %d: nested and crossed drew the same", m)
		}
	}
	// Every metric is resampled by the same draws.
	alone, _ := NestedBootstraps(a[1:], b[1:], 2000, 99)
	if alone[0] != first[1] {
		t.Errorf("metric 1 alone %+v, with metric 0 %+v", alone[0], first[1])
	}
	// And on every platform and release: the draws are pinned (the data
	// are TestCrossedBootstrapsDeterministic's).
	pa, pb := make([][]float64, 3), make([][]float64, 3)
	for s := range pa {
		pa[s], pb[s] = make([]float64, 7), make([]float64, 7)
		for i := range pa[s] {
			pa[s][i] = float64((s*7+i*3)%5) / 4
			pb[s][i] = float64((i*i)%3) / 2
		}
	}
	pinned, _ := NestedBootstraps([][][]float64{pa}, [][][]float64{pb}, 1000, 2024)
	if got := fmt.Sprintf("%.17g %.17g %.17g", pinned[0].Low, pinned[0].High, pinned[0].ShareAWins); got != pinnedNested {
		t.Errorf("pinned draws give %s, want %s", got, pinnedNested)
	}
}

const pinnedNested = "-0.011904761904761904 0.39315476190476162 0.96499999999999997"

func TestNestedBootstrapsOneSeedIsPairedBootstraps(t *testing.T) {
	t.Parallel()
	a := [][][]float64{{sleepDrug1}, {sleepDrug2}}
	b := [][][]float64{{sleepDrug2}, {sleepDrug1}}
	got, err := NestedBootstraps(a, b, 3000, 5)
	if err != nil {
		t.Fatal(err)
	}
	want, err := PairedBootstraps([][]float64{sleepDrug1, sleepDrug2}, [][]float64{sleepDrug2, sleepDrug1}, 3000, 5)
	if err != nil {
		t.Fatal(err)
	}
	for m := range want {
		if got[m] != want[m] {
			t.Errorf("metric %d: %+v, want %+v", m, got[m], want[m])
		}
	}
}

func TestNestedBootstrapsErrors(t *testing.T) {
	t.Parallel()
	ok := [][][]float64{{{1, 2}, {3, 4}}}
	for _, tc := range []struct {
		name  string
		a, b  [][][]float64
		draws int
	}{
		{"metric counts differ", ok, nil, 10},
		{"no draws", ok, ok, 0},
		{"seed counts differ", ok, [][][]float64{{{1, 2}}}, 10},
		{"problem counts differ", ok, [][][]float64{{{1, 2}, {3}}}, 10},
		{"no problems", [][][]float64{{{}}}, [][][]float64{{{}}}, 10},
		{"no seeds", [][][]float64{{}}, [][][]float64{{}}, 10},
		{"metrics' seeds differ", [][][]float64{{{1, 2}, {3, 4}}, {{1, 2}}}, [][][]float64{{{1, 2}, {3, 4}}, {{1, 2}}}, 10},
	} {
		if _, err := NestedBootstraps(tc.a, tc.b, tc.draws, 1); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
	if out, err := NestedBootstraps(nil, nil, 10, 1); out != nil || err != nil {
		t.Errorf("no metrics: %v, %v; want nothing", out, err)
	}
}
