package results

import (
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOverStepsFallsBackToSeeds(t *testing.T) {
	t.Parallel()
	row := func(seed uint64, step int32, v float64) Summary {
		return Summary{Arm: "market", Metric: "pass@1", Seed: u64p(seed), Step: i32p(step), Value: v,
			StdErr: math.NaN(), CILow: math.NaN(), CIHigh: math.NaN()}
	}
	r := &Run{Summary: []Summary{row(2, 20, 0.5), row(1, 10, 0.2), row(2, 10, 0.4), row(1, 20, 0.7)}}
	x, y, lo, hi := r.overSteps("market", "pass@1")
	assert.Equal(t, []float64{10, 20}, x)
	assert.InDeltaSlice(t, []float64{0.3, 0.6}, y, 1e-12)
	assert.Equal(t, []float64{0.2, 0.5}, lo, "the band is the range across seeds")
	assert.Equal(t, []float64{0.4, 0.7}, hi)

	// With aggregate rows, those are drawn with their interval.
	agg := Summary{Arm: "market", Metric: "pass@1", Step: i32p(10), Value: 0.3, StdErr: 0.05, CILow: math.NaN(), CIHigh: math.NaN()}
	r.Summary = append(r.Summary, agg)
	x, y, lo, hi = r.overSteps("market", "pass@1")
	assert.Equal(t, []float64{10}, x)
	assert.Equal(t, []float64{0.3}, y)
	assert.InDeltaSlice(t, []float64{0.3 - 1.96*0.05}, lo, 1e-12, "±1.96 SE when no interval is given")
	assert.InDeltaSlice(t, []float64{0.3 + 1.96*0.05}, hi, 1e-12)

	// A single seed has no band.
	x, _, lo, hi = bandOverSeeds(map[uint64]map[int32]float64{1: {3: 1, 1: 2, 2: math.NaN()}})
	assert.Equal(t, []float64{1, 3}, x)
	assert.Nil(t, lo)
	assert.Nil(t, hi)
}

func TestFormatting(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		got, want string
	}{
		{valueSE("pass@1", 0.4704, 0.0213), "0.470 ± 0.021"},
		{valueSE("truncation", 0.732, 0.011), "73.2% ± 1.1%"},
		{valueSE("truncation", 0.732, math.NaN()), "73.2%"},
		{valueSE("pass@1", math.NaN(), 0.1), "—"},
		{num("pass@4", -0.0001, true), "+0.000"},
		{num("truncation", -0.107, true) + unit("truncation", true), "-10.7 pp"},
		{ci("pass@1", 0.042, 0.238, true), "[+0.042, +0.238]"},
		{ci("waste", -0.15, -0.07, true), "[-15.0, -7.0] pp"},
		{ci("pass@1", math.NaN(), 1, true), "—"},
		{pValue(0.00001), "< 0.0001"},
		{pValue(0.0123456), "0.0123"},
		{Percent(0.995), "99.5%"},
		{num("useful_groups", 1234, false), "1234"},
		{num("loss", 0.000123456, false), "0.0001235"},
		{valueSE("window_seconds", 756.2183, 9.43217), "756.2 ± 9.4"},
		{valueSE("trained_reward", 0.5261, 0.0061), "0.526 ± 0.006"},
		{valueSE("batch_filled", 0.443, 0.015), "44.3% ± 1.5%"},
	} {
		assert.Equal(t, tc.want, tc.got)
	}
}

// TestLayersPaintBandsLinesThenMarks adds held-out points before a line
// with a band and checks the SVG paints the band, then the line, then the
// points: no arm's band or line covers another's points.
func TestLayersPaintBandsLinesThenMarks(t *testing.T) {
	t.Parallel()
	c := newChart("t", "x", "y")
	require.NoError(t, c.addErrorPoints("held-out", okabeVermillion, []float64{5}, []float64{2}, []float64{1}, []float64{3}, true))
	x := make([]float64, 20)
	y := make([]float64, 20)
	for i := range x {
		x[i], y[i] = float64(i), 2
	}
	require.NoError(t, c.addSeries(series{name: "training", color: okabeBlue, x: x, y: y, lo: scale(y, 0.5), hi: scale(y, 1.5), raw: y}))
	svg, err := render(c, SVG)
	require.NoError(t, err)
	s := string(svg)
	band := strings.Index(s, "fill-opacity")
	faint := strings.Index(s, "stroke-opacity")
	line := strings.Index(s, "stroke:#0072B2;stroke-width:1.6")
	point := strings.Index(s, `style="fill:#D55E00"`)
	for name, i := range map[string]int{"band": band, "faint": faint, "line": line, "point": point} {
		require.GreaterOrEqual(t, i, 0, "%s not drawn", name)
	}
	assert.Less(t, band, faint)
	assert.Less(t, faint, line)
	assert.Less(t, line, point, "the points are painted last")
}

// TestPlotCaptions checks what each plot of the synthetic runs says about
// how it was drawn: smoothing, the points above the lines, the log scale
// (TestFitLinear covers the axes that leave zero out).
func TestPlotCaptions(t *testing.T) {
	t.Parallel()
	captions := map[string]string{}
	for _, dir := range []string{pairedData, sweepData} {
		r, err := Load(dir)
		require.NoError(t, err)
		figs, err := r.figures()
		require.NoError(t, err)
		for _, f := range figs {
			captions[f.Name] = f.Caption
		}
	}
	for _, tc := range []struct {
		plot string
		want []string
		not  []string
	}{
		{"waste_steps", []string{"moving average over 7 steps (3 either side", "faint: each step's own value"}, nil},
		{"truncation_steps", []string{"moving average over 7 steps", "drawn above the lines", "set a little apart sideways"}, nil},
		{"in_zone_steps", []string{"band: range across seeds."}, []string{"moving average"}},
		{"sweep_multiplier", []string{"log scale"}, nil},
	} {
		require.Contains(t, captions, tc.plot)
		for _, w := range tc.want {
			assert.Contains(t, captions[tc.plot], w, tc.plot)
		}
		for _, w := range tc.not {
			assert.NotContains(t, captions[tc.plot], w, tc.plot)
		}
	}
}

func TestHeldOutDodge(t *testing.T) {
	t.Parallel()
	r, err := Load(pairedData)
	require.NoError(t, err)
	d := r.heldOutDodge("truncation")
	assert.InDelta(t, -d["market"], d["uniform"], 1e-12, "centred on the step")
	assert.InDelta(t, 30.0/80, d["market"]-d["uniform"], 1e-12, "a marker apart on a 30-step axis")
	assert.NotContains(t, d, "base", "the base model has no per-step points")
}
