package results

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"gonum.org/v1/plot"
)

func TestFitLinear(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		vs       []float64
		b        bounds
		min, max float64
		format   func(float64) string
		note     string
	}{
		{"the sweep's waste: 80–99% of a percentage", []float64{80.5, 99.5, 92}, percentBounds, 75, 100, formatPercent, " The y axis starts at 75%, not at zero."},
		{"data near zero keep zero", []float64{4.5, 18}, percentBounds, 0, 20, formatPercent, ""},
		{"a share padded no further than 1", []float64{0.33, 0.997}, shareBounds, 0, 1, formatPlain, ""},
		{"pass@1 over training", []float64{0.332, 0.88}, shareBounds, 0.3, 1, formatPlain, " The y axis starts at 0.3, not at zero."},
		{"data past their bounds are still shown", []float64{90, 100.4}, percentBounds, 88, 100.4, formatPercent, " The y axis starts at 88%, not at zero."},
		{"negative data", []float64{-8, -6}, noBounds, -8.5, -5.5, formatPlain, " The y axis ends at -5.5, not at zero."},
		{"one value", []float64{50, 50}, percentBounds, 44, 56, formatPercent, " The y axis starts at 44%, not at zero."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := plot.New()
			fitLinear(&p.Y, tc.vs, tc.b)
			assert.Equal(t, tc.min, p.Y.Min, "min")
			assert.Equal(t, tc.max, p.Y.Max, "max")
			for _, v := range tc.vs {
				assert.True(t, p.Y.Min <= v && v <= p.Y.Max, "%g on the axis", v)
			}
			assert.Equal(t, tc.note, zeroNote(p.Y, "y", tc.format))
			for _, tick := range p.Y.Tick.Marker.Ticks(p.Y.Min, p.Y.Max) {
				assert.True(t, p.Y.Min <= tick.Value && tick.Value <= p.Y.Max, "tick %g inside the axis", tick.Value)
			}
		})
	}
}

func TestNiceStep(t *testing.T) {
	t.Parallel()
	for raw, want := range map[float64]float64{0.22: 0.2, 4.07: 5, 3.96: 5, 2.29: 2, 0.12: 0.1, 8: 10, 1: 1} {
		assert.Equal(t, want, niceStep(raw), "%g", raw)
	}
	assert.Equal(t, 1, decimals(0.2))
	assert.Equal(t, 2, decimals(0.05))
	assert.Equal(t, 0, decimals(5))
}

func TestLogAxis(t *testing.T) {
	t.Parallel()
	p := plot.New()
	fitLog(&p.Y, []float64{0.55, 1, 11.8, 0, -1})
	assert.IsType(t, plot.LogScale{}, p.Y.Scale)
	assert.Less(t, p.Y.Min, 0.55, "padded below the smallest positive value")
	assert.Greater(t, p.Y.Max, 11.8)
	var labels []string
	for _, tick := range p.Y.Tick.Marker.Ticks(p.Y.Min, p.Y.Max) {
		if tick.Label != "" {
			labels = append(labels, tick.Label)
		}
	}
	assert.Equal(t, []string{"0.5", "1", "2", "5", "10"}, labels)

	// Too narrow for two of 1, 2, 5: every integer is labelled.
	labels = nil
	for _, tick := range (logTicks{}).Ticks(0.9, 1.6) {
		labels = append(labels, tick.Label)
	}
	assert.Equal(t, []string{"0.9", "1"}, labels)
}
