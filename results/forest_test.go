package results

import (
	"math"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

func TestPairedChart(t *testing.T) {
	t.Parallel()
	r, err := Load(pairedData)
	require.NoError(t, err)
	d, name, caption, err := r.pairedChart()
	require.NoError(t, err)
	assert.Equal(t, "paired_differences", name)
	assert.Contains(t, caption, "95% interval of tables.md's paired table")
	f := d.(*forest)
	assert.Equal(t, []string{"market − uniform", "market − base"}, f.rows, "the pairs in the paired table's order")
	var titles []string
	for _, p := range f.panels {
		titles = append(titles, p.Title.Text)
	}
	assert.Equal(t, []string{"pass@1", "pass@4", "truncation (pp)"}, titles, "one panel per metric, pass@k by k")

	// The plot draws the table's numbers: the same rows, the same intervals.
	table := r.pairedTable()
	rows := r.pairedRows()
	require.Len(t, rows, len(table.Rows))
	for i, s := range rows {
		assert.Equal(t, table.Rows[i][0], s.Arm+" − "+s.Compare)
		lo, hi := interval(s)
		assert.Equal(t, table.Rows[i][4], ci(s.Metric, lo, hi, true), "row %d", i)
	}

	// Each panel's x axis holds zero and every interval, truncation in pp.
	for i, xs := range f.xs {
		a := f.panels[i].X
		assert.Contains(t, xs, 0.0)
		for _, x := range xs {
			assert.True(t, a.Min < x && x < a.Max, "%s: %g inside [%g, %g]", titles[i], x, a.Min, a.Max)
		}
	}
	assert.Contains(t, f.xs[2], 100*-0.107, "truncation's difference in percentage points")

	// No paired rows, no plot.
	empty := &Run{Summary: []Summary{{Arm: "market", Metric: "pass@1", Value: 0.5}}}
	empty.index()
	d, _, _, err = empty.pairedChart()
	require.NoError(t, err)
	assert.Nil(t, d)
}

func TestDiffGlyph(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		lo, hi float64
		filled bool
	}{
		{0.04, 0.24, true},
		{-0.15, -0.07, true},
		{-0.08, 0.08, false},
		{0, 0, false},
		{0, 0.1, false},
		{math.NaN(), math.NaN(), false},
	} {
		_, filled := diffGlyph(diffRow{lo: tc.lo, hi: tc.hi}).(draw.CircleGlyph)
		assert.Equal(t, tc.filled, filled, "["+strconv.FormatFloat(tc.lo, 'g', -1, 64)+", "+strconv.FormatFloat(tc.hi, 'g', -1, 64)+"]")
	}
}

func TestFitPadded(t *testing.T) {
	t.Parallel()
	r, err := Load(pairedData)
	require.NoError(t, err)
	d, _, _, err := r.pairedChart()
	require.NoError(t, err)
	a := d.(*forest).panels[0].X
	for _, tc := range []struct {
		width float64 // points
		want  []string
	}{
		{40, []string{"0.0"}},
		{60, []string{"0.0", "0.2", "0.4"}},
		{200, []string{"0.0", "0.1", "0.2", "0.3", "0.4"}},
	} {
		fitPadded(&a, []float64{0, -0.03, 0.45, 0.02}, vg.Points(tc.width))
		var labels []string
		for _, tick := range a.Tick.Marker.Ticks(a.Min, a.Max) {
			if tick.Label != "" {
				labels = append(labels, tick.Label)
			}
		}
		assert.Equal(t, tc.want, labels, "%g points wide", tc.width)
		assert.InDelta(t, -0.03-0.024, a.Min, 1e-12, "padded 5%%, not rounded out")
		assert.InDelta(t, 0.45+0.024, a.Max, 1e-12)
	}
}
