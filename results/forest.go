package results

import (
	"fmt"
	"image/color"
	"math"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// forest is a figure of panels side by side that share their rows: one
// panel per metric, one row per pair of arms, each row a difference with
// its interval across a zero line. The row labels are drawn once, in a
// column left of the first panel.
type forest struct {
	heading, key string
	rows         []string // top to bottom
	panels       []*plot.Plot
	xs           [][]float64 // each panel's values, zero among them, for its x axis
}

func (f *forest) title() string { return f.heading }

// draw puts the heading and the key above the panels and the row labels
// beside them; the panels are aligned so that their data areas have the
// same size and the rows line up across them.
func (f *forest) draw(dc draw.Canvas) {
	heading := plot.New().Title.TextStyle
	heading.Font = sans(13)
	heading.XAlign, heading.YAlign = draw.XCenter, draw.YTop
	top := dc.Max.Y - vg.Points(8)
	dc.FillText(heading, vg.Point{X: (dc.Min.X + dc.Max.X) / 2, Y: top}, f.heading)
	top -= heading.Height(f.heading) + vg.Points(3)

	key := heading
	key.Font, key.Color = sans(9), refGrey
	dc.FillText(key, vg.Point{X: (dc.Min.X + dc.Max.X) / 2, Y: top}, f.key)
	top -= key.Height(f.key) + vg.Points(3)

	label := heading
	label.Font, label.XAlign, label.YAlign = sans(10), draw.XRight, draw.YCenter
	var labelW vg.Length
	for _, r := range f.rows {
		labelW = max(labelW, label.Width(r))
	}
	tiles := draw.Tiles{Rows: 1, Cols: len(f.panels), PadTop: dc.Max.Y - top + vg.Points(4),
		PadBottom: vg.Points(4), PadLeft: labelW + vg.Points(10), PadRight: vg.Points(12), PadX: vg.Points(14)}
	// Lay out, label each x axis with the ticks its data area has room
	// for, and lay out again with those labels.
	canvases := plot.Align([][]*plot.Plot{f.panels}, tiles, dc)
	for i, p := range f.panels {
		fitPadded(&p.X, f.xs[i], p.DataCanvas(canvases[0][i]).Size().X)
	}
	canvases = plot.Align([][]*plot.Plot{f.panels}, tiles, dc)
	for i, p := range f.panels {
		p.Draw(canvases[0][i])
	}
	first := f.panels[0]
	data := first.DataCanvas(canvases[0][0])
	for i, r := range f.rows {
		y := data.Y(first.Y.Norm(float64(len(f.rows) - 1 - i)))
		dc.FillText(label, vg.Point{X: data.Min.X - vg.Points(6), Y: y}, r)
	}
}

// pairedChart draws every paired difference of the final checkpoints, as
// tables.md's paired table gives them (value and its 95% interval), one
// panel per metric and one row per pair.
func (r *Run) pairedChart() (drawing, string, string, error) {
	rows := r.pairedRows()
	if len(rows) == 0 {
		return nil, "", "", nil
	}
	type pair struct{ arm, compare string }
	var pairs []pair
	var metrics []string
	for _, s := range rows {
		if p := (pair{s.Arm, s.Compare}); !slices.Contains(pairs, p) {
			pairs = append(pairs, p)
		}
		if !slices.Contains(metrics, s.Metric) {
			metrics = append(metrics, s.Metric)
		}
	}
	slices.SortFunc(metrics, metricLess)

	f := &forest{heading: "Paired differences A − B, 95% intervals",
		key: "● interval excludes 0   ○ interval includes 0   colour: arm A   grey line: no difference"}
	for _, p := range pairs {
		f.rows = append(f.rows, p.arm+" − "+p.compare)
	}
	for _, m := range metrics {
		var diffs []diffRow
		for _, s := range rows {
			if s.Metric == m && !math.IsNaN(s.Value) {
				lo, hi := interval(s)
				diffs = append(diffs, diffRow{row: slices.Index(pairs, pair{s.Arm, s.Compare}),
					value: s.Value, lo: lo, hi: hi, color: r.pal.color(s.Arm)})
			}
		}
		p, xs, err := diffPanel(m, len(pairs), diffs)
		if err != nil {
			return nil, "", "", err
		}
		f.panels, f.xs = append(f.panels, p), append(f.xs, xs)
	}
	return f, "paired_differences", "Each paired difference A − B of the final checkpoints on the held-out set " +
		"(rows: the pairs the spec compares; panels: metrics), with the 95% interval of tables.md's paired table: " +
		"Student's t over problems with one training seed, over seeds × problems with several. pass@k as a share " +
		"of problems, truncation in percentage points (lower is fewer truncated completions). Filled: the interval " +
		"excludes zero; open: it includes zero; colour: arm A. Each panel's axis spans its own differences and zero.", nil
}

// diffRow is one pair's difference in one metric, in the metric's units.
type diffRow struct {
	row           int
	value, lo, hi float64
	color         color.NRGBA
}

// diffPanel draws one metric's differences, row i at y = n − 1 − i so
// that the first pair is on top.
func diffPanel(metric string, n int, diffs []diffRow) (*plot.Plot, []float64, error) {
	p := plot.New()
	p.Title.Text = metric
	k := 1.0
	if formatOf(metric) == asPercent {
		p.Title.Text, k = metric+" (pp)", 100
	}
	p.Title.TextStyle.Font = sans(11)
	p.Title.Padding = vg.Points(4)
	p.X.Tick.Label.Font, p.Y.Tick.Label.Font = sans(9), sans(10)
	p.X.Padding, p.Y.Padding = vg.Points(2), 0

	var ticks plot.ConstantTicks
	for i := range n {
		ticks = append(ticks, plot.Tick{Value: float64(i)})
	}
	p.Y.Tick.Marker = ticks
	p.Y.Min, p.Y.Max = -0.6, float64(n)-0.4
	g := plotter.NewGrid()
	g.Vertical.Color, g.Horizontal.Color = gridGrey, gridGrey
	p.Add(g)

	zero, err := plotter.NewLine(plotter.XYs{{X: 0, Y: p.Y.Min}, {X: 0, Y: p.Y.Max}})
	if err != nil {
		return nil, nil, err
	}
	zero.Color, zero.Width = refGrey, vg.Points(1)
	p.Add(zero)

	xs := []float64{0}
	for _, d := range diffs {
		pt := xErrPoints{{x: k * d.value, y: float64(n - 1 - d.row), lo: k * (d.value - d.lo), hi: k * (d.hi - d.value)}}
		bars, err := plotter.NewXErrorBars(pt)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", metric, err)
		}
		bars.Color, bars.Width, bars.CapWidth = d.color, vg.Points(1.4), vg.Points(6)
		dot, err := plotter.NewScatter(pt)
		if err != nil {
			return nil, nil, err
		}
		dot.GlyphStyle = draw.GlyphStyle{Color: d.color, Radius: vg.Points(3), Shape: diffGlyph(d)}
		halo, err := plotter.NewScatter(pt)
		if err != nil {
			return nil, nil, err
		}
		halo.GlyphStyle = draw.GlyphStyle{Color: color.White, Radius: vg.Points(3), Shape: draw.CircleGlyph{}}
		p.Add(bars, halo, dot)
		xs = append(xs, k*d.lo, k*d.hi, k*d.value)
	}
	fitPadded(&p.X, xs, figWidth/8) // refitted to the panel's width when drawn
	return p, xs, nil
}

// diffGlyph is filled when the interval leaves zero out, a ring when it
// holds it (or is unknown).
func diffGlyph(d diffRow) draw.GlyphDrawer {
	if d.lo > 0 || d.hi < 0 {
		return draw.CircleGlyph{}
	}
	return draw.RingGlyph{}
}

type xErrPoint struct{ x, y, lo, hi float64 }
type xErrPoints []xErrPoint

func (e xErrPoints) Len() int                        { return len(e) }
func (e xErrPoints) XY(i int) (float64, float64)     { return e[i].x, e[i].y }
func (e xErrPoints) XError(i int) (float64, float64) { return e[i].lo, e[i].hi }
