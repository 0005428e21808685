package results

import (
	"math"
	"slices"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
)

// cleanTicks are gonum's default ticks labelled with as few digits as the
// value needs (75, not 75.00).
type cleanTicks struct{}

func (cleanTicks) Ticks(lo, hi float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(lo, hi)
	for i := range ticks {
		if ticks[i].Label != "" {
			v := math.Round(ticks[i].Value*1e9) / 1e9
			ticks[i].Label = strconv.FormatFloat(v, 'f', -1, 64)
		}
	}
	return ticks
}

// fixedTicks labels every step from lo up to hi with a minor tick halfway,
// so a [0, 1] axis reads 0.0, 0.2, ... rather than 0, 0.5, 1.
func fixedTicks(lo, hi, step float64, prec int) plot.ConstantTicks {
	var ticks plot.ConstantTicks
	n := int(math.Floor((hi-lo)/step + 1e-9))
	for i := 0; i <= n; i++ {
		v := lo + float64(i)*step
		ticks = append(ticks, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', prec, 64)})
		if v+step/2 <= hi {
			ticks = append(ticks, plot.Tick{Value: v + step/2})
		}
	}
	return ticks
}

// niceStep is the 1, 2 or 5 × 10^k nearest raw (in ratio).
func niceStep(raw float64) float64 {
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	best := p
	for _, m := range []float64{2, 5, 10} {
		if math.Abs(math.Log(m*p/raw)) < math.Abs(math.Log(best/raw)) {
			best = m * p
		}
	}
	return best
}

// roundTo rounds v to prec decimals, so that 3 × 0.1 is 0.3 again.
func roundTo(v float64, prec int) float64 {
	k := math.Pow(10, float64(prec))
	return math.Round(v*k) / k
}

// decimals is how many digits after the point a tick step needs.
func decimals(step float64) int {
	return max(0, int(-math.Floor(math.Log10(step)+1e-9)))
}

// bounds are the values a quantity can take; an axis is not padded past
// them (0.97 is not padded to 1.02 for a share).
type bounds struct{ lo, hi float64 }

var (
	shareBounds   = bounds{0, 1}
	percentBounds = bounds{0, 100}
	noBounds      = bounds{math.Inf(-1), math.Inf(1)}
)

// dataRange is the range of vs, a flat one widened by 10% of its value
// (at least 0.001) each way so that an axis has room; ok is false for no
// values.
func dataRange(vs []float64) (mn, mx float64, ok bool) {
	if len(vs) == 0 {
		return 0, 0, false
	}
	mn, mx = slices.Min(vs), slices.Max(vs)
	if mn == mx {
		d := math.Max(math.Abs(mx)*0.1, 1e-3)
		mn, mx = mn-d, mx+d
	}
	return mn, mx, true
}

// fitLinear sets a to the range of vs padded by 5% of it at each end,
// rounded out to a tick step that gives about five labels, and kept within
// b where the data are. Data that come within a third of their largest
// value of zero keep zero on the axis, since leaving it out would gain
// little; a range further from zero is shown without it, and the caption
// must say so (zeroNote).
func fitLinear(a *plot.Axis, vs []float64, b bounds) {
	mn, mx, ok := dataRange(vs)
	if !ok {
		return
	}
	anchorLo, anchorHi := mn > 0 && mn <= mx/3, mx < 0 && mx >= mn/3
	if anchorLo {
		mn = 0
	}
	if anchorHi {
		mx = 0
	}
	step := niceStep(1.1 * (mx - mn) / 5)
	prec := decimals(step)
	pad := 0.05 * (mx - mn)
	lo, hi := mn, mx
	if !anchorLo {
		lo = math.Max(math.Min(roundTo(math.Floor((mn-pad)/step+1e-9)*step, prec), mn), math.Min(b.lo, mn))
	}
	if !anchorHi {
		hi = math.Min(math.Max(roundTo(math.Ceil((mx+pad)/step-1e-9)*step, prec), mx), math.Max(b.hi, mx))
	}
	a.Min, a.Max = lo, hi
	first := roundTo(math.Ceil(lo/step-1e-9)*step, prec)
	a.Tick.Marker = fixedTicks(first, a.Max, step, prec)
}

// fitPadded sets a to the range of vs padded by 5% at each end, not
// rounded out (a narrow panel has no room to spare), with ticks at
// multiples of a 1-2-5 step whose labels fit side by side in width.
func fitPadded(a *plot.Axis, vs []float64, width vg.Length) {
	mn, mx, ok := dataRange(vs)
	if !ok {
		return
	}
	pad := 0.05 * (mx - mn)
	a.Min, a.Max = mn-pad, mx+pad
	for step := niceStep((a.Max - a.Min) / 8); ; step = niceStep(2.2 * step) {
		prec := decimals(step)
		ticks := fixedTicks(roundTo(math.Ceil(a.Min/step-1e-9)*step, prec), a.Max, step, prec)
		var labels, widest vg.Length
		for _, t := range ticks {
			if t.Label != "" {
				w := a.Tick.Label.Width(t.Label) + vg.Points(5)
				labels, widest = labels+w, max(widest, w)
			}
		}
		// Labels are centred on their ticks, a step apart: each needs a
		// step's width.
		if widest*vg.Length((a.Max-a.Min)/step) <= width || labels == 0 {
			a.Tick.Marker = ticks
			return
		}
	}
}

// zeroNote is the sentence a caption adds when an axis fitted by
// fitLinear leaves zero out, with the end nearest zero as format writes it.
func zeroNote(a plot.Axis, which string, format func(float64) string) string {
	switch {
	case a.Min > 0:
		return " The " + which + " axis starts at " + format(a.Min) + ", not at zero."
	case a.Max < 0:
		return " The " + which + " axis ends at " + format(a.Max) + ", not at zero."
	}
	return ""
}

func formatPercent(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) + "%" }
func formatPlain(v float64) string   { return strconv.FormatFloat(v, 'f', -1, 64) }

// fitLog puts a on a log scale over the positive values of vs, padded by
// 5% of their span in log terms (at least 5%) at each end.
func fitLog(a *plot.Axis, vs []float64) {
	var pos []float64
	for _, v := range vs {
		if v > 0 && !math.IsInf(v, 1) {
			pos = append(pos, v)
		}
	}
	if len(pos) == 0 {
		return
	}
	mn, mx := slices.Min(pos), slices.Max(pos)
	pad := math.Max(math.Pow(mx/mn, 0.05), 1.05)
	a.Min, a.Max = mn/pad, mx*pad
	a.Scale = plot.LogScale{}
	a.Tick.Marker = logTicks{}
}

// logTicks label 1, 2 and 5 × 10^k, with minor ticks at the other
// integers × 10^k; a range too narrow for two labels labels every integer.
type logTicks struct{}

func (logTicks) Ticks(lo, hi float64) []plot.Tick {
	var ticks []plot.Tick
	labelled := 0
	for e := math.Floor(math.Log10(lo)); math.Pow(10, e) <= hi; e++ {
		p := math.Pow(10, e)
		for m := 1.0; m <= 9; m++ {
			v := math.Round(m*p*1e9) / 1e9
			if v < lo || v > hi {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 || m == 2 || m == 5 {
				t.Label = formatPlain(v)
				labelled++
			}
			ticks = append(ticks, t)
		}
	}
	if labelled < 2 {
		for i := range ticks {
			ticks[i].Label = formatPlain(ticks[i].Value)
		}
	}
	return ticks
}
