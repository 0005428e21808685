package eval

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// CrossedDiff is the paired comparison of two arms trained with the same
// seeds and scored on the same problems: the differences d_si (seed s,
// problem i) form a crossed seeds × problems design, and a difference
// between two training runs is known no better than the runs vary.
type CrossedDiff struct {
	Seeds, N     int     // S seeds, n problems
	MeanA, MeanB float64 // the arms' means over seeds and problems
	Diff         float64 // D, the mean of d_si over seeds and problems
	SE           float64 // √Var̂(D), see PairedCrossed
	Confidence   float64
	CILow        float64 // Diff ∓ t_DF quantile × SE
	CIHigh       float64
	T            float64 // Diff / SE
	DF           float64 // Satterthwaite's degrees of freedom of SE²
	P            float64 // two-sided, from Student's t with DF degrees of freedom
	// The two-way ANOVA mean squares, with S−1, n−1 and (S−1)(n−1)
	// degrees of freedom.
	MSSeed, MSProblem, MSResid float64
	// The variance components σ²_seed, σ²_problem and σ²_resid estimated
	// from them, each at least 0.
	VarSeed, VarProblem, VarResid float64
	// PerSeed[s] is the paired comparison over problems within seed s.
	PerSeed []PairedDiff
}

// PairedCrossed compares arm a with arm b where a[s][i] and b[s][i] are
// problem i's metric in the runs trained with seed s. The model is
// d_si = μ + seed_s + problem_i + e_si with independent random effects, so
//
//	Var(D) = σ²_seed/S + σ²_problem/n + σ²_resid/(S·n).
//
// The components come from the two-way ANOVA mean squares:
// σ̂²_seed = (MS_seed − MS_resid)/n, σ̂²_problem = (MS_problem − MS_resid)/S,
// σ̂²_resid = MS_resid, each clamped at 0, because a variance is never
// negative and an estimate below 0 says the component is too small to see.
// Unclamped, Var̂(D) = (MS_seed + MS_problem − MS_resid)/(S·n), which is
// unbiased but can be negative; clamped, it never falls below the one-way
// estimates MS_problem/(S·n) (the paired SE² of the problems' seed-mean
// differences) and MS_seed/(S·n) (of the seeds' problem-mean
// differences) that the zero components reduce it to. The interval and
// p-value use Student's t with Satterthwaite's degrees of freedom for the
// linear combination of mean squares that Var̂(D) is after clamping.
//
// With one seed there is no seed variance to estimate, nor a residual to
// tell from the problems' (those fields are NaN, MSProblem the mean square
// of the differences), and the result is Paired(a[0], b[0]) exactly
// (PerSeed holds it too). confidence 0 means 0.95.
func PairedCrossed(a, b [][]float64, confidence float64) (CrossedDiff, error) {
	if confidence == 0 {
		confidence = 0.95
	}
	S := len(a)
	switch {
	case S != len(b):
		return CrossedDiff{}, fmt.Errorf("crossed comparison needs the same seeds in both arms: %d against %d", S, len(b))
	case S == 0:
		return CrossedDiff{}, fmt.Errorf("crossed comparison needs at least one seed")
	}
	n := len(a[0])
	per := make([]PairedDiff, S)
	for s := range S {
		if len(a[s]) != n || len(b[s]) != n {
			return CrossedDiff{}, fmt.Errorf("crossed comparison needs the same problems in every seed and arm: seed %d has %d and %d values, seed 0 %d", s, len(a[s]), len(b[s]), n)
		}
		var err error
		if per[s], err = Paired(a[s], b[s], confidence); err != nil {
			return CrossedDiff{}, fmt.Errorf("seed %d: %w", s, err)
		}
	}
	if S == 1 {
		p := per[0]
		return CrossedDiff{
			Seeds: 1, N: n, MeanA: p.MeanA, MeanB: p.MeanB, Diff: p.Diff, SE: p.SE, Confidence: confidence,
			CILow: p.CILow, CIHigh: p.CIHigh, T: p.T, DF: float64(p.DF), P: p.P,
			MSSeed: math.NaN(), MSProblem: p.SE * p.SE * float64(n), MSResid: math.NaN(),
			VarSeed: math.NaN(), VarProblem: math.NaN(), VarResid: math.NaN(),
			PerSeed: per,
		}, nil
	}

	d := make([]float64, S*n) // d[s*n+i]
	seedMean := make([]float64, S)
	probMean := make([]float64, n)
	var grand, sumA, sumB float64
	for s := range S {
		for i := range n {
			v := a[s][i] - b[s][i]
			d[s*n+i] = v
			seedMean[s] += v
			probMean[i] += v
			grand += v
			sumA += a[s][i]
			sumB += b[s][i]
		}
	}
	Sf, nf := float64(S), float64(n)
	grand /= Sf * nf
	for s := range seedMean {
		seedMean[s] /= nf
	}
	for i := range probMean {
		probMean[i] /= Sf
	}
	var ssSeed, ssProb, ssRes float64
	for _, m := range seedMean {
		ssSeed += (m - grand) * (m - grand)
	}
	for _, m := range probMean {
		ssProb += (m - grand) * (m - grand)
	}
	for s := range S {
		for i := range n {
			e := d[s*n+i] - seedMean[s] - probMean[i] + grand
			ssRes += e * e
		}
	}
	dfSeed, dfProb := Sf-1, nf-1
	dfRes := dfSeed * dfProb
	r := CrossedDiff{
		Seeds: S, N: n, MeanA: sumA / (Sf * nf), MeanB: sumB / (Sf * nf), Diff: grand, Confidence: confidence,
		MSSeed: nf * ssSeed / dfSeed, MSProblem: Sf * ssProb / dfProb, MSResid: ssRes / dfRes,
		PerSeed: per,
	}
	r.VarSeed = math.Max(0, (r.MSSeed-r.MSResid)/nf)
	r.VarProblem = math.Max(0, (r.MSProblem-r.MSResid)/Sf)
	r.VarResid = r.MSResid

	// S·n·Var̂(D) as Σ c_k MS_k: the mean squares a clamped component no
	// longer cancels against.
	var terms []struct{ c, ms, df float64 }
	seedIn, probIn := r.MSSeed > r.MSResid, r.MSProblem > r.MSResid
	if seedIn {
		terms = append(terms, struct{ c, ms, df float64 }{1, r.MSSeed, dfSeed})
	}
	if probIn {
		terms = append(terms, struct{ c, ms, df float64 }{1, r.MSProblem, dfProb})
	}
	// MS_resid enters once for σ²_resid and leaves once for each component
	// estimated above zero.
	cRes := 1.0
	if seedIn {
		cRes--
	}
	if probIn {
		cRes--
	}
	if cRes != 0 {
		terms = append(terms, struct{ c, ms, df float64 }{cRes, r.MSResid, dfRes})
	}
	var v, den float64
	for _, t := range terms {
		v += t.c * t.ms
		den += (t.c * t.ms) * (t.c * t.ms) / t.df
	}
	v = math.Max(0, v) // rounding only: every clamped combination is ≥ 0
	r.SE = math.Sqrt(v / (Sf * nf))
	if r.SE == 0 {
		r.DF = dfRes
	} else {
		r.DF = v * v / den
	}
	r.CILow, r.CIHigh, r.T, r.P = studentT(r.Diff, r.SE, r.DF, confidence)
	return r, nil
}

// CrossedBootstraps is the two-way bootstrap of the mean difference a − b
// for every metric m, where a[m][s][i] is problem i's value in the run
// trained with seed s: each draw takes S seeds with replacement and,
// independently, n problems with replacement, and averages the differences
// over every (drawn seed, drawn problem) cell. Resampling problems alone
// would treat the seeds' training runs as fixed and read their differences
// as signal. Every metric needs the same seeds and problems, so each draw is
// made once for all of them. With one seed no seed is drawn and the result
// is exactly PairedBootstraps(a[m][0], b[m][0], draws, seed).
func CrossedBootstraps(a, b [][][]float64, draws int, seed uint64) ([]Bootstrap, error) {
	k, S, n, d, err := bootstrapDifferences("crossed", a, b, draws, func(S, n, s, i int) int { return i*S + s })
	if err != nil || k == 0 {
		return nil, err
	}
	// The stream PairedBootstraps draws from, so that one seed reduces to
	// it draw for draw.
	src := rand.NewPCG(seed, 0x626f6f7473747270) // "bootstrp"
	means := make([]float64, draws*k)
	wins := make([]int, k)
	sums := make([]float64, k)
	weight := make([]float64, S) // times each seed is drawn
	cells := float64(S * n)
	for j := range draws {
		clear(sums)
		if S > 1 {
			clear(weight)
			for range S {
				weight[intN(src, S)]++
			}
		} else {
			weight[0] = 1
		}
		for range n {
			p := d[intN(src, n)*S*k:][:S*k]
			for s, w := range weight {
				if w == 0 {
					continue
				}
				for m, v := range p[s*k : (s+1)*k] {
					sums[m] += w * v
				}
			}
		}
		for m, sum := range sums {
			mean := sum / cells
			means[m*draws+j] = mean
			if mean > 0 {
				wins[m]++
			}
		}
	}
	return summarizeDraws(means, wins, draws, seed), nil
}

// NestedBootstraps is the two-level bootstrap of the mean difference a − b
// for every metric m, laid out as CrossedBootstraps's: each draw takes S
// seeds with replacement and then, independently for each seed drawn, n of
// that seed's problems with replacement, and averages the S·n differences
// drawn. It is the bootstrap of a nested design, in which each seed is
// scored on problems of its own. Where every seed is scored on the same
// problems, as relix's are, the problems' effect is shared by the seeds,
// and drawing each seed's problems afresh counts it S times as
// independent: its variance σ²_problem/n comes out as σ²_problem/(S·n),
// and the interval too narrow when the problems dominate (eval/README.md
// measures by how much); use CrossedBootstraps there. With one seed no
// seed is drawn and the result is exactly PairedBootstraps(a[m][0],
// b[m][0], draws, seed).
func NestedBootstraps(a, b [][][]float64, draws int, seed uint64) ([]Bootstrap, error) {
	k, S, n, d, err := bootstrapDifferences("nested", a, b, draws, func(S, n, s, i int) int { return s*n + i })
	if err != nil || k == 0 {
		return nil, err
	}
	// The stream PairedBootstraps draws from, so that one seed reduces to
	// it draw for draw.
	src := rand.NewPCG(seed, 0x626f6f7473747270) // "bootstrp"
	means := make([]float64, draws*k)
	wins := make([]int, k)
	sums := make([]float64, k)
	cells := float64(S * n)
	for j := range draws {
		clear(sums)
		for range S {
			s := 0
			if S > 1 {
				s = intN(src, S)
			}
			rows := d[s*n*k : (s+1)*n*k]
			for range n {
				for m, v := range rows[intN(src, n)*k:][:k] {
					sums[m] += v
				}
			}
		}
		for m, sum := range sums {
			mean := sum / cells
			means[m*draws+j] = mean
			if mean > 0 {
				wins[m]++
			}
		}
	}
	return summarizeDraws(means, wins, draws, seed), nil
}

// bootstrapDifferences checks the shapes of a seeds × problems bootstrap
// (design names it in the errors) and lays out the differences A − B:
// d[at(S, n, s, i)*k+m] for seed s, problem i and metric m, so that what
// one draw picks lies together. No metrics gives k = 0 and no error.
func bootstrapDifferences(design string, a, b [][][]float64, draws int, at func(S, n, s, i int) int) (k, S, n int, d []float64, err error) {
	switch {
	case len(a) != len(b):
		return 0, 0, 0, nil, fmt.Errorf("%s bootstrap needs the same metrics in both arms: %d against %d", design, len(a), len(b))
	case len(a) == 0:
		return 0, 0, 0, nil, nil
	case draws < 1:
		return 0, 0, 0, nil, fmt.Errorf("%s bootstrap needs at least one draw, got %d", design, draws)
	case len(a[0]) == 0 || len(a[0][0]) == 0:
		return 0, 0, 0, nil, fmt.Errorf("%s bootstrap needs at least one seed and one problem", design)
	}
	k, S, n = len(a), len(a[0]), len(a[0][0])
	d = make([]float64, S*n*k)
	for m := range k {
		if len(a[m]) != S || len(b[m]) != S {
			return 0, 0, 0, nil, fmt.Errorf("%s bootstrap needs the same seeds in every metric and arm", design)
		}
		for s := range S {
			if len(a[m][s]) != n || len(b[m][s]) != n {
				return 0, 0, 0, nil, fmt.Errorf("%s bootstrap needs the same problems in every seed, metric and arm", design)
			}
			for i := range n {
				d[at(S, n, s, i)*k+m] = a[m][s][i] - b[m][s][i]
			}
		}
	}
	return k, S, n, d, nil
}
