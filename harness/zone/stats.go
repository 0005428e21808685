package zone

import (
	"math"

	"github.com/relix-lab/relix/experiment/spec"
	"gonum.org/v1/gonum/stat/distuv"
)

// Point is one row of the sweep table: one selector at one level, for one
// seed (Seed set) or aggregated over the seeds (Seed nil: the mean of the
// per-seed values, with a Student-t 95% interval across seeds).
type Point struct {
	Target, Achieved float64
	Selector, Kind   string
	Seed             *uint64
	Windows          int // measured windows per seed

	// Waste is 1 − useful / generated rollouts, counting the groups still
	// being generated at a market window's seal in full (the
	// definition in results/README.md, the steps table's): the primary figure.
	Waste, WasteStdErr, WasteCILow, WasteCIHigh float64
	// WasteCarried is the waste of a market whose miners carry the work
	// under way at a seal into the next window, as a persistent miner pool
	// does while the published checkpoint is unchanged: in the long run
	// every group generated is finished and checked, so
	// WasteCarried = 1 − hit rate × the share of submitted groups that
	// were accepted (README.md, "In-flight work"). The filter has no
	// in-flight work: its WasteCarried is its Waste.
	WasteCarried, WasteCarriedCILow, WasteCarriedCIHigh float64

	HitRate       float64 // in-zone groups / generated groups
	UsefulPer1000 float64 // useful rollouts per 1,000 generated
	// Shares of the generated groups (markets; NaN for the filter).
	LateShare, DuplicateShare, InFlightShare float64

	// Multiplier is the selector's useful rollouts per generated rollout ÷
	// the filter's at the same level (markets; NaN for the filter and when
	// the spec has no filter selector): on a seed's row the ratio of that
	// seed's rates; on the aggregate row the ratio of the mean rates over
	// seeds, with a 95% interval from the delta method on its logarithm
	// (ratioOf). MultiplierCarried is the same with the market's work
	// counted as WasteCarried counts it.
	Multiplier, MultiplierLow, MultiplierHigh                      float64
	MultiplierCarried, MultiplierCarriedLow, MultiplierCarriedHigh float64

	GeneratedGroups, UsefulGroups int64 // summed over seeds on aggregate rows
}

// perSeed are the statistics of one run.
type perSeed struct {
	waste, carried, hit, useful1000, late, dup, inflight float64
	usefulRate, usefulRateCarried                        float64
}

func statsOf(t Tally) perSeed {
	genGroups := float64(t.GeneratedGroups)
	// Of the groups submitted before a seal (for honest miners, the
	// finished groups in the zone), the share accepted.
	submitted := float64(t.Accepted + t.Duplicate + t.Late + t.Rejected)
	s := perSeed{
		usefulRate: float64(t.UsefulRollouts) / float64(t.GeneratedRollouts),
		hit:        float64(t.InZoneGroups) / genGroups,
		late:       float64(t.Late) / genGroups,
		dup:        float64(t.Duplicate) / genGroups,
		inflight:   float64(t.InFlight) / genGroups,
	}
	s.usefulRateCarried = s.hit * float64(t.Accepted) / submitted
	s.waste, s.carried, s.useful1000 = 1-s.usefulRate, 1-s.usefulRateCarried, 1000*s.usefulRate
	return s
}

// points builds the table rows from the runs (in Sweep's order).
func points(levels []Level, sels []spec.Selector, seeds []uint64, runs []Run) []Point {
	filter := -1
	for i, sel := range sels {
		if sel.Kind == "filter" {
			filter = i
			break
		}
	}
	at := func(li, si, di int) *Run { return &runs[(li*len(sels)+si)*len(seeds)+di] }
	var out []Point
	for li, lv := range levels {
		for si, sel := range sels {
			market := sel.Kind == "market" || sel.Kind == "auction" // a market of either mechanism
			var (
				waste, carried, hit, u1000, late, dup, inflight []float64
				rate, rateCarried, filterRate                   []float64
				gen, use                                        int64
			)
			for di := range seeds {
				run := at(li, si, di)
				st := statsOf(run.Tally)
				p := Point{Target: lv.Target, Achieved: lv.Achieved, Selector: sel.Name, Kind: sel.Kind, Seed: &seeds[di], Windows: run.Windows,
					Waste: st.waste, WasteCarried: st.carried, HitRate: st.hit, UsefulPer1000: st.useful1000,
					GeneratedGroups: int64(run.GeneratedGroups), UsefulGroups: int64(run.UsefulGroups)}
				nan(&p.WasteStdErr, &p.WasteCILow, &p.WasteCIHigh, &p.WasteCarriedCILow, &p.WasteCarriedCIHigh,
					&p.LateShare, &p.DuplicateShare, &p.InFlightShare,
					&p.Multiplier, &p.MultiplierLow, &p.MultiplierHigh, &p.MultiplierCarried, &p.MultiplierCarriedLow, &p.MultiplierCarriedHigh)
				if market {
					p.LateShare, p.DuplicateShare, p.InFlightShare = st.late, st.dup, st.inflight
					late, dup, inflight = append(late, st.late), append(dup, st.dup), append(inflight, st.inflight)
					if filter >= 0 {
						base := statsOf(at(li, filter, di).Tally).usefulRate
						p.Multiplier, p.MultiplierCarried = st.usefulRate/base, st.usefulRateCarried/base
						rate, rateCarried, filterRate = append(rate, st.usefulRate), append(rateCarried, st.usefulRateCarried), append(filterRate, base)
					}
				}
				waste, carried, hit, u1000 = append(waste, st.waste), append(carried, st.carried), append(hit, st.hit), append(u1000, st.useful1000)
				gen, use = gen+p.GeneratedGroups, use+p.UsefulGroups
				out = append(out, p)
			}
			agg := Point{Target: lv.Target, Achieved: lv.Achieved, Selector: sel.Name, Kind: sel.Kind, Windows: out[len(out)-1].Windows,
				HitRate: mean(hit), UsefulPer1000: mean(u1000), GeneratedGroups: gen, UsefulGroups: use}
			e := estimateOf(waste)
			agg.Waste, agg.WasteStdErr, agg.WasteCILow, agg.WasteCIHigh = e.mean, e.se, e.low, e.high
			e = estimateOf(carried)
			agg.WasteCarried, agg.WasteCarriedCILow, agg.WasteCarriedCIHigh = e.mean, e.low, e.high
			agg.LateShare, agg.DuplicateShare, agg.InFlightShare = mean(late), mean(dup), mean(inflight)
			e = ratioOf(rate, filterRate)
			agg.Multiplier, agg.MultiplierLow, agg.MultiplierHigh = e.mean, e.low, e.high
			e = ratioOf(rateCarried, filterRate)
			agg.MultiplierCarried, agg.MultiplierCarriedLow, agg.MultiplierCarriedHigh = e.mean, e.low, e.high
			out = append(out, agg)
		}
	}
	return out
}

func nan(fs ...*float64) {
	for _, f := range fs {
		*f = math.NaN()
	}
}

// estimate is a mean across seeds with its standard error and 95% interval.
type estimate struct{ mean, se, low, high float64 }

// estimateOf is the mean of xs, its standard error sd/√n (sample sd) and
// the Student-t 95% interval mean ± t(0.975, n−1)·se; with one value the
// error and interval are NaN, and with none everything is.
func estimateOf(xs []float64) estimate {
	n := float64(len(xs))
	e := estimate{mean: mean(xs), se: math.NaN(), low: math.NaN(), high: math.NaN()}
	if len(xs) < 2 {
		return e
	}
	var ss float64
	for _, x := range xs {
		ss += (x - e.mean) * (x - e.mean)
	}
	e.se = math.Sqrt(ss/(n-1)) / math.Sqrt(n)
	half := tQuantile(0.975, n-1) * e.se
	e.low, e.high = e.mean-half, e.mean+half
	return e
}

// ratioOf is the ratio of the means of two independent samples over the
// same seeds, mean(a)/mean(b), with the 95% interval
// exp(log ratio ± t(0.975, n−1)·√(se_a²/mean_a² + se_b²/mean_b²)), the
// delta method on the logarithm (se the standard error of each mean). The
// degrees of freedom are those of one sample, the conservative end of
// Welch's range. With fewer than two seeds, or no samples, the interval is
// NaN (and so is the ratio without samples).
func ratioOf(a, b []float64) estimate {
	if len(a) == 0 || len(a) != len(b) {
		return estimate{math.NaN(), math.NaN(), math.NaN(), math.NaN()}
	}
	ea, eb := estimateOf(a), estimateOf(b)
	e := estimate{mean: ea.mean / eb.mean, se: math.NaN(), low: math.NaN(), high: math.NaN()}
	if len(a) < 2 {
		return e
	}
	rse := math.Sqrt(ea.se*ea.se/(ea.mean*ea.mean) + eb.se*eb.se/(eb.mean*eb.mean))
	half := tQuantile(0.975, float64(len(a)-1)) * rse
	e.se = e.mean * rse
	e.low, e.high = e.mean*math.Exp(-half), e.mean*math.Exp(half)
	return e
}

func tQuantile(p, df float64) float64 {
	return distuv.StudentsT{Mu: 0, Sigma: 1, Nu: df}.Quantile(p)
}

func mean(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	var s float64
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}
