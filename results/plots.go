package results

import (
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
)

// builder makes one plot, or nil when the run has no data for it.
type builder func() (d drawing, name, caption string, err error)

// figures builds every plot the run has data for, in a fixed order.
func (r *Run) figures() ([]Figure, error) {
	builders := []builder{
		r.passAtKChart, r.pairedChart, r.pass1StepsChart, r.truncationStepsChart,
		r.stepsChart("in_zone_steps", "In-zone fraction of the training pool", "in-zone fraction (%)", false,
			func(s Step) float64 { return 100 * s.InZoneFraction }),
		r.stepsChart("waste_steps", "Waste per training step", "waste (% of generated rollouts)", true,
			func(s Step) float64 { return 100 * s.Waste }),
		r.sweepWasteChart("sweep_waste", sweepInFull), r.sweepWasteChart("sweep_waste_carried", sweepCarried),
		r.sweepMultiplierChart("sweep_multiplier", sweepInFull), r.sweepMultiplierChart("sweep_multiplier_carried", sweepCarried),
	}
	var figs []Figure
	for _, b := range builders {
		d, name, caption, err := b()
		if err != nil {
			return nil, err
		}
		if d == nil {
			continue
		}
		f, err := figure(d, name, caption)
		if err != nil {
			return nil, err
		}
		figs = append(figs, f)
	}
	return figs, nil
}

func (r *Run) passAtKChart() (drawing, string, string, error) {
	ks := r.passKs()
	arms := r.armsWith(func(s Summary) bool { return kOf(s.Metric) > 0 })
	if len(ks) == 0 || len(arms) == 0 {
		return nil, "", "", nil
	}
	c := newChart("pass@k on the held-out set", "", "pass@k (share of problems)")
	ticks := make(plot.ConstantTicks, len(ks))
	for i, k := range ks {
		ticks[i] = plot.Tick{Value: float64(i), Label: "pass@" + strconv.Itoa(k)}
	}
	c.p.X.Tick.Marker = ticks
	c.p.X.Min, c.p.X.Max = -0.5, float64(len(ks))-0.5
	width := math.Min(0.6, 0.18*float64(len(arms)))
	for ai, arm := range arms {
		var x, y, lo, hi []float64
		for ki, k := range ks {
			s, ok := r.final(arm, "pass@"+strconv.Itoa(k))
			if !ok {
				continue
			}
			off := 0.0
			if len(arms) > 1 {
				off = -width/2 + width*float64(ai)/float64(len(arms)-1)
			}
			l, h := interval(s)
			x, y, lo, hi = append(x, float64(ki)+off), append(y, s.Value), append(lo, l), append(hi, h)
		}
		if err := c.addErrorPoints(arm, r.pal.color(arm), x, y, lo, hi, true); err != nil {
			return nil, "", "", err
		}
	}
	fitLinear(&c.p.Y, c.ys, shareBounds)
	return c, "pass_at_k", "pass@k of each arm's final checkpoint on the held-out set; bars are 95% intervals." +
		zeroNote(c.p.Y, "y", formatPlain), nil
}

func (r *Run) pass1StepsChart() (drawing, string, string, error) {
	c := newChart("pass@1 over training", "training step", "pass@1 (share of problems)")
	any := false
	maxStep := 0.0
	for _, arm := range r.arms {
		x, y, lo, hi := r.overSteps(arm, "pass@1")
		if len(x) == 0 {
			continue
		}
		maxStep = math.Max(maxStep, x[len(x)-1])
		any = true
		if err := c.addSeries(series{name: arm, color: r.pal.color(arm), dash: r.pal.dash(arm), x: x, y: y, lo: lo, hi: hi}); err != nil {
			return nil, "", "", err
		}
	}
	if !any {
		return nil, "", "", nil
	}
	if err := r.addUntrained(c, "pass@1", maxStep, 1); err != nil {
		return nil, "", "", err
	}
	fitLinear(&c.p.Y, c.ys, shareBounds)
	c.p.X.Min = 0
	return c, "pass1_steps", "pass@1 on the held-out set at each evaluated checkpoint; the band is the 95% interval " +
		"(across seeds when several ran); dashed: arms that were not trained." + zeroNote(c.p.Y, "y", formatPlain), nil
}

// addUntrained draws, for each arm with a final value of metric but no
// per-step values (the base model), a dashed horizontal line from step 0.
func (r *Run) addUntrained(c *chart, metric string, maxStep, k float64) error {
	for _, arm := range r.arms {
		if x, _, _, _ := r.overSteps(arm, metric); len(x) > 0 {
			continue
		}
		s, ok := r.final(arm, metric)
		if !ok {
			continue
		}
		if err := c.addReference(arm+" (untrained)", r.pal.color(arm),
			plotter.XY{X: 0, Y: k * s.Value}, plotter.XY{X: math.Max(maxStep, 1), Y: k * s.Value}); err != nil {
			return err
		}
	}
	return nil
}

func (r *Run) truncationStepsChart() (drawing, string, string, error) {
	c := newChart("Truncation over training", "training step", "truncated completions (%)")
	truncation := func(s Step) float64 { return 100 * s.Truncation }
	h := r.smoothingFor(truncation)
	any := false
	maxStep := 0.0
	dodge := r.heldOutDodge("truncation")
	for _, arm := range r.arms {
		if s := r.stepSeries(arm, truncation, h); len(s.x) > 0 {
			any = true
			maxStep = math.Max(maxStep, s.x[len(s.x)-1])
			s.name = arm + " (training)"
			if err := c.addSeries(s); err != nil {
				return nil, "", "", err
			}
		}
		ex, ey, elo, ehi := r.overSteps(arm, "truncation")
		if len(ex) > 0 {
			any = true
			maxStep = math.Max(maxStep, ex[len(ex)-1])
			if err := c.addErrorPoints(arm+" (held-out)", r.pal.color(arm), shift(ex, dodge[arm]), scale(ey, 100), scale(elo, 100), scale(ehi, 100), true); err != nil {
				return nil, "", "", err
			}
		}
	}
	if !any {
		return nil, "", "", nil
	}
	if err := r.addUntrained(c, "truncation", maxStep, 100); err != nil {
		return nil, "", "", err
	}
	fitLinear(&c.p.Y, c.ys, percentBounds)
	c.p.X.Min = 0
	return c, "truncation_steps", "Share of completions that hit the token cap. Lines: the rollouts generated for each " +
		"training step, mean across seeds; " + smoothingNote(h) + "; band: range across seeds of the smoothed lines. " +
		"Points, drawn above the lines: the held-out evaluation, with 95% intervals, set a little apart sideways so " +
		"that arms evaluated at the same step do not cover each other; dashed: arms that were not trained." +
		zeroNote(c.p.Y, "y", formatPercent), nil
}

// heldOutDodge is how far sideways (in steps) each arm's held-out points
// of metric are drawn: arms evaluated at the same checkpoints get offsets
// about one marker apart, centred on the step.
func (r *Run) heldOutDodge(metric string) map[string]float64 {
	var arms []string
	last := 0.0
	for _, arm := range r.arms {
		if x, _, _, _ := r.overSteps(arm, metric); len(x) > 0 {
			arms = append(arms, arm)
			last = math.Max(last, x[len(x)-1])
		}
	}
	out := map[string]float64{}
	for i, arm := range arms {
		out[arm] = (float64(i) - float64(len(arms)-1)/2) * last / 80
	}
	return out
}

func shift(v []float64, d float64) []float64 {
	out := make([]float64, len(v))
	for i := range v {
		out[i] = v[i] + d
	}
	return out
}

// stepsChart plots one column of the steps table per arm: the mean across
// seeds with the range across seeds as a band, smoothed (with the raw mean
// faint behind) for columns sampled anew at each step.
func (r *Run) stepsChart(name, title, yLabel string, smooth bool, value func(Step) float64) builder {
	return func() (drawing, string, string, error) {
		c := newChart(title, "training step", yLabel)
		h := 0
		if smooth {
			h = r.smoothingFor(value)
		}
		any := false
		for _, arm := range r.arms {
			s := r.stepSeries(arm, value, h)
			if len(s.x) == 0 {
				continue
			}
			any = true
			if err := c.addSeries(s); err != nil {
				return nil, "", "", err
			}
		}
		if !any {
			return nil, "", "", nil
		}
		fitLinear(&c.p.Y, c.ys, percentBounds)
		c.p.X.Min = 0
		how := "band: range across seeds."
		if smooth {
			how = smoothingNote(h) + " (mean across seeds); band: range across seeds of the smoothed lines."
		}
		return c, name, title + " per arm, mean across seeds; " + how + zeroNote(c.p.Y, "y", formatPercent), nil
	}
}

// smoothingFor is the moving average's half-width for a column: one for
// every arm of the chart, so that the caption can name it.
func (r *Run) smoothingFor(value func(Step) float64) int {
	n := 0
	for _, arm := range r.arms {
		n = max(n, longestSeries(r.stepValues(arm, value)))
	}
	return smoothHalfWidth(n)
}

// stepSeries is one arm's column of the steps table as drawn: the mean
// across seeds and the range across seeds, or with h > 0 the same of each
// seed's moving average, over the unsmoothed mean drawn faint.
func (r *Run) stepSeries(arm string, value func(Step) float64, h int) series {
	perSeed := r.stepValues(arm, value)
	s := series{name: arm, color: r.pal.color(arm), dash: r.pal.dash(arm)}
	s.x, s.y, s.lo, s.hi = bandOverSeeds(perSeed)
	if h > 0 && len(s.x) > 0 {
		raw := s.y
		s.x, s.y, s.lo, s.hi = bandOverSeeds(smoothPerSeed(perSeed, h))
		s.raw = raw
	}
	return s
}

// stepValues collects value(step) per seed for one arm, skipping NaN.
func (r *Run) stepValues(arm string, value func(Step) float64) map[uint64]map[int32]float64 {
	out := map[uint64]map[int32]float64{}
	for _, s := range r.Steps {
		if s.Arm != arm {
			continue
		}
		v := value(s)
		if math.IsNaN(v) {
			continue
		}
		if out[s.Seed] == nil {
			out[s.Seed] = map[int32]float64{}
		}
		out[s.Seed][s.Step] = v
	}
	return out
}

// sweepAxis sets the x axis of the sweep plots to the grid's range in
// percent, with a tick at every grid point.
func (r *Run) sweepAxis(c *chart) {
	targets := r.sweepTargets()
	lo, hi := 100*targets[0], 100*targets[len(targets)-1]
	c.p.X.Min, c.p.X.Max = math.Max(0, lo-0.5), hi+0.5
	if len(targets) <= 16 {
		ticks := plot.ConstantTicks{}
		for _, t := range targets {
			ticks = append(ticks, plot.Tick{Value: 100 * t, Label: strconv.FormatFloat(100*t, 'g', 4, 64)})
		}
		c.p.X.Tick.Marker = ticks
	}
}

// sweepWasteChart plots the waste of every selector against the in-zone
// fraction, with in-flight work counted in full (sweepInFull) or carried
// over (sweepCarried).
func (r *Run) sweepWasteChart(name string, values sweepValues) builder {
	return func() (drawing, string, string, error) {
		if len(r.Sweep) == 0 {
			return nil, "", "", nil
		}
		title, how := "Waste vs in-zone fraction", "in-flight work at a seal counted in full"
		if name != "sweep_waste" {
			title, how = "Waste vs in-zone fraction, in-flight work carried over", "in-flight work at a seal carried into the next window"
		}
		c := newChart(title, "in-zone fraction of the pool (%)", "waste (% of generated rollouts)")
		r.sweepAxis(c)
		for _, sel := range r.selectors {
			pts := r.sweepPoints(sel)
			s := series{name: sel, color: r.pal.color(sel), dash: r.pal.dash(sel)}
			band := true
			for _, p := range pts {
				_, lo, hi, _, _, _ := values(p)
				band = band && !math.IsNaN(lo) && !math.IsNaN(hi)
			}
			for _, p := range pts {
				waste, lo, hi, _, _, _ := values(p)
				if math.IsNaN(waste) {
					continue
				}
				s.x, s.y = append(s.x, 100*p.Achieved), append(s.y, 100*waste)
				if band {
					s.lo, s.hi = append(s.lo, 100*lo), append(s.hi, 100*hi)
				}
			}
			if len(s.x) == 0 {
				continue
			}
			if len(s.lo) != len(s.x) {
				s.lo, s.hi = nil, nil
			}
			if err := c.addSeries(s); err != nil {
				return nil, "", "", err
			}
		}
		if err := c.addReference("1 − in-zone fraction", refGrey,
			plotter.XY{X: c.p.X.Min, Y: 100 - c.p.X.Min}, plotter.XY{X: c.p.X.Max, Y: 100 - c.p.X.Max}); err != nil {
			return nil, "", "", err
		}
		fitLinear(&c.p.Y, c.ys, percentBounds)
		return c, name, "Waste of each selector against the in-zone fraction it achieved, " + how + " (mean over seeds, " +
			"band: 95% interval); dashed: 1 − in-zone fraction, the reactive filter's expected waste." +
			zeroNote(c.p.Y, "y", formatPercent), nil
	}
}

// sweepMultiplierChart plots every market's efficiency multiplier over the
// filter against the in-zone fraction, with either accounting of in-flight
// work.
func (r *Run) sweepMultiplierChart(name string, values sweepValues) builder {
	return func() (drawing, string, string, error) {
		title, how := "Efficiency multiplier of the market over the filter", "in-flight work at a seal counted in full"
		if name != "sweep_multiplier" {
			title, how = "Efficiency multiplier, in-flight work carried over", "in-flight work at a seal carried into the next window"
		}
		c := newChart(title, "in-zone fraction of the pool (%)", "useful rollouts per compute (× filter, log scale)")
		any := false
		for _, sel := range r.selectors {
			pts := r.sweepPoints(sel)
			s := series{name: sel, color: r.pal.color(sel), dash: r.pal.dash(sel)}
			band := true
			for _, p := range pts {
				_, _, _, _, lo, hi := values(p)
				band = band && lo > 0 && hi > 0 // NaN fails too; a log axis has no place for 0
			}
			for _, p := range pts {
				_, _, _, mult, lo, hi := values(p)
				if !(mult > 0) {
					continue
				}
				s.x, s.y = append(s.x, 100*p.Achieved), append(s.y, mult)
				if band {
					s.lo, s.hi = append(s.lo, lo), append(s.hi, hi)
				}
			}
			if len(s.x) == 0 {
				continue
			}
			any = true
			if len(s.lo) != len(s.x) {
				s.lo, s.hi = nil, nil
			}
			if err := c.addSeries(s); err != nil {
				return nil, "", "", err
			}
		}
		if !any {
			return nil, "", "", nil
		}
		r.sweepAxis(c)
		if err := c.addReference("×1: no gain", refGrey, plotter.XY{X: c.p.X.Min, Y: 1}, plotter.XY{X: c.p.X.Max, Y: 1}); err != nil {
			return nil, "", "", err
		}
		c.logY()
		return c, name, "Useful rollouts per generated rollout of each market selector divided by the reactive " +
			"filter's at the same in-zone fraction, " + how + " (mean over seeds, band: 95% interval), on a log " +
			"scale, where ×2 and ×0.5 lie as far from ×1; dashed: ×1, no gain.", nil
	}
}
