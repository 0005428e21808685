package harness

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/relix-lab/relix/eval"
	"github.com/relix-lab/relix/experiment/seed"
	"github.com/relix-lab/relix/experiment/spec"
	"github.com/relix-lab/relix/results"
)

// The summary table's methods: how a row's interval was computed. The
// method column's documentation (results/schema.go) lists exactly these,
// which TestDocumentedEnumerations checks.
const (
	MethodNormalProblems = "normal over problems"           // mean ± 1.96 SE over problems
	MethodSeedMeans      = eval.SeriesOverSeeds             // a per-step series: t over the seeds' means (eval.SeriesMean)
	MethodBatchMeans     = eval.SeriesBatchMeans            // a per-step series of one seed: t over 10 batches of steps
	MethodNoInterval     = "too few steps"                  // a per-step series too short for batch means
	MethodPairedT        = "paired t"                       // Student's t on the per-problem differences
	MethodPairedTSeeds   = "paired t over seeds × problems" // the crossed seeds × problems design (eval.PairedCrossed)
	MethodTotal          = "total"                          // a count or sum: no interval
)

// Methods lists the summary methods.
func Methods() []string {
	return []string{MethodNormalProblems, MethodSeedMeans, MethodBatchMeans, MethodNoInterval, MethodPairedT, MethodPairedTSeeds, MethodTotal}
}

// z95 is the two-sided 95% normal quantile, for intervals over many problems.
const z95 = 1.959963984540054

// summarize computes every statistic the tables and plots show from the
// eval and steps rows of the runs: per arm (per seed and over seeds), per
// evaluated step, the paired comparisons of s.Compare, and each trained
// arm's waste breakdown.
func summarize(s *spec.Spec, evals []results.Eval, steps []results.Step) ([]results.Summary, error) {
	var out []results.Summary
	bySeries := groupEvals(evals)
	final := map[string]map[uint64]eval.Scores{} // arm → seed → scores of its last checkpoint
	for _, arm := range s.Arms {
		final[arm.Name] = map[uint64]eval.Scores{}
		stepsOf := bySeries.steps(arm.Name)
		perStep := map[int32]map[uint64]eval.Scores{}
		for _, sd := range s.Seeds {
			for _, st := range stepsOf {
				samples := bySeries[seriesKey{arm.Name, sd, st}]
				if len(samples) == 0 {
					continue
				}
				sc, err := eval.Score(samples, s.Eval.K)
				if err != nil {
					return nil, fmt.Errorf("arm %s seed %d step %d: %w", arm.Name, sd, st, err)
				}
				if perStep[st] == nil {
					perStep[st] = map[uint64]eval.Scores{}
				}
				perStep[st][sd] = sc
			}
		}
		if len(stepsOf) == 0 {
			continue
		}
		last := stepsOf[len(stepsOf)-1]
		final[arm.Name] = perStep[last]
		// Final rows: per seed, then over seeds.
		for _, sd := range s.Seeds {
			if sc, ok := perStep[last][sd]; ok {
				out = append(out, metricRows(arm.Name, ptr(sd), nil, sc.Metrics())...)
			}
		}
		out = append(out, metricRows(arm.Name, nil, nil, overSeeds(perStep[last], s.Seeds))...)
		// Per-step rows for arms that train (the base arm has one checkpoint).
		if arm.Source != "none" {
			for _, st := range stepsOf {
				for _, sd := range s.Seeds {
					if sc, ok := perStep[st][sd]; ok {
						out = append(out, metricRows(arm.Name, ptr(sd), ptr(st), sc.Metrics())...)
					}
				}
				out = append(out, metricRows(arm.Name, nil, ptr(st), overSeeds(perStep[st], s.Seeds))...)
			}
		}
	}
	for _, pair := range s.Compare {
		bootSeed := seed.Derive(s.Eval.Seed, "bootstrap", pair[0], pair[1])
		if seeds := pairedSeeds(final[pair[0]], final[pair[1]], s.Seeds); len(seeds) >= 2 {
			rows, err := crossedRows(pair, final[pair[0]], final[pair[1]], seeds, s.Eval.Bootstrap, bootSeed)
			if err != nil {
				return nil, fmt.Errorf("compare %s: %w", pair, err)
			}
			out = append(out, rows...)
			continue
		}
		a, b := overSeeds(final[pair[0]], s.Seeds), overSeeds(final[pair[1]], s.Seeds)
		if a == nil || b == nil {
			continue
		}
		rows, err := compareRows(pair, a, b, s.Eval.Bootstrap, bootSeed)
		if err != nil {
			return nil, fmt.Errorf("compare %s: %w", pair, err)
		}
		out = append(out, rows...)
	}
	out = append(out, wasteRows(s, steps)...)
	return out, nil
}

type seriesKey struct {
	arm  string
	seed uint64
	step int32
}

type evalSeries map[seriesKey][]eval.Sample

func groupEvals(rows []results.Eval) evalSeries {
	out := evalSeries{}
	for _, r := range rows {
		k := seriesKey{r.Arm, r.Seed, r.Step}
		out[k] = append(out[k], eval.Sample{Problem: r.Problem, Sample: int(r.Sample), Correct: r.Correct, Truncated: r.Truncated, Tokens: int(r.Tokens)})
	}
	return out
}

// steps are the evaluated steps of arm, ascending.
func (es evalSeries) steps(arm string) []int32 {
	var out []int32
	for k := range es {
		if k.arm == arm && !slices.Contains(out, k.step) {
			out = append(out, k.step)
		}
	}
	slices.Sort(out)
	return out
}

// overSeeds averages each problem's metric over the seeds that scored it:
// the unit of an arm's statistics stays the problem, and seeds only reduce
// the noise of each problem's value. A comparison of arms trained with two
// or more seeds is made over seeds and problems instead (crossedRows), as
// the difference varies with the training run too.
func overSeeds(bySeed map[uint64]eval.Scores, seeds []uint64) []eval.Metric {
	var first *eval.Scores
	var n int
	var sum []eval.Metric
	for _, sd := range seeds {
		sc, ok := bySeed[sd]
		if !ok {
			continue
		}
		ms := sc.Metrics()
		if first == nil {
			first = &sc
			sum = make([]eval.Metric, len(ms))
			for i, m := range ms {
				sum[i] = eval.Metric{Name: m.Name, K: m.K, PerProblem: slices.Clone(m.PerProblem)}
			}
			n = 1
			continue
		}
		if !slices.Equal(sc.Problems, first.Problems) {
			continue // a seed scored on other problems cannot be averaged per problem
		}
		for i, m := range ms {
			for j, v := range m.PerProblem {
				sum[i].PerProblem[j] += v
			}
		}
		n++
	}
	for i := range sum {
		for j := range sum[i].PerProblem {
			sum[i].PerProblem[j] /= float64(n)
		}
		sum[i].Estimate = eval.MeanSE(sum[i].PerProblem)
	}
	return sum
}

func metricRows(arm string, sd *uint64, step *int32, ms []eval.Metric) []results.Summary {
	var out []results.Summary
	for _, m := range ms {
		out = append(out, results.Summary{
			Arm: arm, Seed: sd, Step: step, Metric: m.Name,
			Value: m.Mean, StdErr: m.SE,
			CILow: m.Mean - z95*m.SE, CIHigh: m.Mean + z95*m.SE, Method: MethodNormalProblems,
			P: math.NaN(), BootLow: math.NaN(), BootHigh: math.NaN(), ShareGreater: math.NaN(),
			N: int64(m.N),
		})
	}
	return out
}

func compareRows(pair spec.Pair, a, b []eval.Metric, draws int, bootSeed uint64) ([]results.Summary, error) {
	var out []results.Summary
	var perA, perB [][]float64
	for i := range a {
		if a[i].Name != b[i].Name || len(a[i].PerProblem) != len(b[i].PerProblem) {
			return nil, fmt.Errorf("arms were not scored on the same problems and metrics")
		}
		d, err := eval.Paired(a[i].PerProblem, b[i].PerProblem, 0.95)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", a[i].Name, err)
		}
		out = append(out, results.Summary{
			Arm: pair[0], Compare: pair[1], Metric: a[i].Name,
			Value: d.Diff, StdErr: d.SE, CILow: d.CILow, CIHigh: d.CIHigh, Method: MethodPairedT,
			P: d.P, BootLow: math.NaN(), BootHigh: math.NaN(), ShareGreater: math.NaN(), N: int64(d.N),
		})
		perA, perB = append(perA, a[i].PerProblem), append(perB, b[i].PerProblem)
	}
	if draws > 0 {
		// Every metric of the pair is bootstrapped with the pair's seed, so
		// the resampled problems are drawn once for all of them.
		boots, err := eval.PairedBootstraps(perA, perB, draws, bootSeed)
		if err != nil {
			return nil, err
		}
		withBootstraps(out, boots)
	}
	return out, nil
}

// pairedSeeds are the seeds, in spec order, at which both arms were scored
// on the same problems as at the first of them: the runs that pair by seed
// as well as by problem.
func pairedSeeds(a, b map[uint64]eval.Scores, seeds []uint64) []uint64 {
	var out []uint64
	var problems []string
	for _, sd := range seeds {
		sa, okA := a[sd]
		sb, okB := b[sd]
		if !okA || !okB || !slices.Equal(sa.Problems, sb.Problems) {
			continue
		}
		if problems == nil {
			problems = sa.Problems
		} else if !slices.Equal(sa.Problems, problems) {
			continue
		}
		out = append(out, sd)
	}
	return out
}

// crossedRows compare two arms trained with two or more seeds over seeds
// and problems (eval.PairedCrossed, eval.CrossedBootstraps): the unit of
// replication is then the training run as well as the problem, so a
// difference the runs disagree on is not mistaken for one the problems
// agree on. Each seed's own paired comparison over problems comes first,
// as rows with the seed set, for the spread of the runs.
func crossedRows(pair spec.Pair, a, b map[uint64]eval.Scores, seeds []uint64, draws int, bootSeed uint64) ([]results.Summary, error) {
	var perA, perB [][][]float64 // metric, seed, problem
	var names []string
	for j, sd := range seeds {
		ma, mb := a[sd].Metrics(), b[sd].Metrics()
		if len(ma) != len(mb) || (j > 0 && len(ma) != len(names)) {
			return nil, fmt.Errorf("arms were not scored on the same problems and metrics")
		}
		for m := range ma {
			if j == 0 {
				names = append(names, ma[m].Name)
				perA, perB = append(perA, nil), append(perB, nil)
			}
			if ma[m].Name != names[m] || mb[m].Name != names[m] {
				return nil, fmt.Errorf("arms were not scored on the same problems and metrics")
			}
			perA[m], perB[m] = append(perA[m], ma[m].PerProblem), append(perB[m], mb[m].PerProblem)
		}
	}
	var perSeed, out []results.Summary
	for m, name := range names {
		d, err := eval.PairedCrossed(perA[m], perB[m], 0.95)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		out = append(out, results.Summary{
			Arm: pair[0], Compare: pair[1], Metric: name,
			Value: d.Diff, StdErr: d.SE, CILow: d.CILow, CIHigh: d.CIHigh, Method: MethodPairedTSeeds,
			P: d.P, BootLow: math.NaN(), BootHigh: math.NaN(), ShareGreater: math.NaN(), N: int64(d.N),
		})
		for j, p := range d.PerSeed {
			perSeed = append(perSeed, results.Summary{
				Arm: pair[0], Compare: pair[1], Seed: ptr(seeds[j]), Metric: name,
				Value: p.Diff, StdErr: p.SE, CILow: p.CILow, CIHigh: p.CIHigh, Method: MethodPairedT,
				P: p.P, BootLow: math.NaN(), BootHigh: math.NaN(), ShareGreater: math.NaN(), N: int64(p.N),
			})
		}
	}
	if draws > 0 {
		boots, err := eval.CrossedBootstraps(perA, perB, draws, bootSeed)
		if err != nil {
			return nil, err
		}
		withBootstraps(out, boots)
	}
	// Seed by seed, then over seeds, as the arms' own rows are.
	slices.SortStableFunc(perSeed, func(x, y results.Summary) int { return slices.Index(seeds, *x.Seed) - slices.Index(seeds, *y.Seed) })
	return append(perSeed, out...), nil
}

// wasteRows summarize each trained arm's steps: the mean over steps (and
// seeds) of each per-step share, with an interval that does not take
// successive steps for independent draws (eval.SeriesMean: over the seeds'
// means, or batch means of one seed; n is the seeds or batches), and group
// totals.
func wasteRows(s *spec.Spec, steps []results.Step) []results.Summary {
	var out []results.Summary
	for _, arm := range s.Arms {
		var rows []results.Step
		for _, st := range steps {
			if st.Arm == arm.Name {
				rows = append(rows, st)
			}
		}
		if len(rows) == 0 {
			continue
		}
		share := func(num, den int32) float64 {
			if den == 0 {
				return math.NaN()
			}
			return float64(num) / float64(den)
		}
		perStep := []struct {
			metric string
			value  func(results.Step) float64
		}{
			{"waste", func(r results.Step) float64 { return r.Waste }},
			{"zero_std_share", func(r results.Step) float64 { return r.ZeroStdShare }},
			{"late_share", func(r results.Step) float64 { return share(r.LateGroups, r.GeneratedGroups) }},
			{"duplicate_share", func(r results.Step) float64 { return share(r.DuplicateGroups, r.GeneratedGroups) }},
			{"invalid_share", func(r results.Step) float64 { return share(r.InvalidGroups, r.GeneratedGroups) }},
			{"in_flight_share", func(r results.Step) float64 { return share(r.InFlightGroups, r.GeneratedGroups) }},
			{"outranked_share", func(r results.Step) float64 { return share(r.OutrankedGroups, r.GeneratedGroups) }},
			{"batch_filled", func(r results.Step) float64 { return share(r.TrainedGroups, r.TrainedGroups+r.BurnedSlots) }},
			{"trained_reward", func(r results.Step) float64 { return r.TrainedReward }},
			{"window_seconds", func(r results.Step) float64 { return r.WindowSeconds }},
			{"in_zone_fraction", func(r results.Step) float64 { return r.InZoneFraction }},
		}
		for _, m := range perStep {
			// Each seed's series, in step order (a run's rows are).
			var perSeed [][]float64
			var xs []float64
			seedAt := map[uint64]int{}
			for _, r := range rows {
				at, ok := seedAt[r.Seed]
				if !ok {
					at = len(perSeed)
					seedAt[r.Seed] = at
					perSeed = append(perSeed, nil)
				}
				if v := m.value(r); !math.IsNaN(v) {
					perSeed[at] = append(perSeed[at], v)
					xs = append(xs, v)
				}
			}
			if len(xs) == 0 || (arm.Source != "market" && (m.metric == "late_share" || m.metric == "duplicate_share" || m.metric == "invalid_share" || m.metric == "in_flight_share")) {
				continue
			}
			if m.metric == "outranked_share" && (arm.Market == nil || !arm.Market.Auctioned()) {
				continue // only an auction outranks
			}
			e := eval.SeriesMean(perSeed, 0.95)
			method := cmp.Or(e.Method, MethodNoInterval)
			out = append(out, results.Summary{
				Arm: arm.Name, Metric: m.metric, Value: e.Mean, StdErr: e.SE,
				CILow: e.CILow, CIHigh: e.CIHigh, Method: method,
				P: math.NaN(), BootLow: math.NaN(), BootHigh: math.NaN(), ShareGreater: math.NaN(), N: int64(e.Units),
			})
		}
		var useful, generated int64
		for _, r := range rows {
			useful += int64(r.UsefulGroups)
			generated += int64(r.GeneratedGroups)
		}
		for _, t := range []struct {
			metric string
			v      int64
		}{{"useful_groups", useful}, {"generated_groups", generated}} {
			out = append(out, results.Summary{
				Arm: arm.Name, Metric: t.metric, Value: float64(t.v), StdErr: math.NaN(),
				CILow: math.NaN(), CIHigh: math.NaN(), Method: MethodTotal,
				P: math.NaN(), BootLow: math.NaN(), BootHigh: math.NaN(), ShareGreater: math.NaN(), N: int64(len(rows)),
			})
		}
	}
	return out
}

// withBootstraps fills each row's bootstrap columns from its metric's
// bootstrap (rows and boots in the same metric order).
func withBootstraps(rows []results.Summary, boots []eval.Bootstrap) {
	for i, boot := range boots {
		rows[i].BootLow, rows[i].BootHigh, rows[i].ShareGreater = boot.Low, boot.High, boot.ShareAWins
	}
}

func ptr[T any](v T) *T { return &v }
