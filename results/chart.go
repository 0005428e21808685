package results

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Plot formats.
const (
	PNG = "png"
	SVG = "svg"
)

// Figure is one rendered plot.
type Figure struct {
	Name    string // file stem under plots/
	Title   string
	Caption string // what is drawn, for the page and the Markdown alt text
	PNG     []byte
	SVG     []byte // text set in a font family it names, not one it embeds
}

// The plots' geometry: a 7 × 4 inch figure, PNG at 128 dots per inch, the
// legend in a column to the right of the axes so it never covers data.
const (
	figWidth  = 7 * vg.Inch
	figHeight = 4 * vg.Inch
	pngDPI    = 128
)

var (
	gridGrey = color.NRGBA{0xdd, 0xdd, 0xdd, 0xff}
	refGrey  = color.NRGBA{0x77, 0x77, 0x77, 0xff}
)

func sans(size vg.Length) font.Font {
	return font.Font{Typeface: "Liberation", Variant: "Sans", Size: size}
}

// chart is a plot under construction with its own legend, drawn beside the
// axes rather than inside them. What it draws goes into layers, painted in
// order whatever order the arms came in: every band under every line, so no
// arm's band veils another's line, and the points with error bars (held-out
// results) above all lines.
type chart struct {
	p      *plot.Plot
	leg    plot.Legend
	layers [layerCount][]plot.Plotter
	ys     []float64 // every y value drawn, for fitting the axis
	done   bool      // the layers are on the plot
	// yLabel, when set, is the y axis label drawn by the chart itself:
	// gonum reserves room for its own label about the label's middle value,
	// which on a log axis lies far above the axis' middle, and shrinks the
	// axes to fit it.
	yLabel string
}

const (
	layerBands = iota
	layerFaint // unsmoothed values behind their smoothed line
	layerLines
	layerMarks
	layerCount
)

func newChart(title, xLabel, yLabel string) *chart {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font = sans(13)
	p.Title.Padding = vg.Points(8)
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font = sans(11)
		a.Tick.Label.Font = sans(10)
		a.Padding = vg.Points(4)
		a.Tick.Marker = cleanTicks{}
	}
	p.X.Label.Text, p.Y.Label.Text = xLabel, yLabel
	g := plotter.NewGrid()
	g.Vertical.Color, g.Horizontal.Color = gridGrey, gridGrey
	p.Add(g)
	leg := plot.NewLegend()
	leg.TextStyle.Font = sans(10)
	leg.Top, leg.Left = true, true
	leg.Padding = vg.Points(3)
	leg.ThumbnailWidth = vg.Points(22)
	return &chart{p: p, leg: leg}
}

func (c *chart) add(layer int, ps ...plot.Plotter) { c.layers[layer] = append(c.layers[layer], ps...) }

// track records values drawn on the y axis (NaN ignored).
func (c *chart) track(vs ...float64) {
	for _, v := range vs {
		if !math.IsNaN(v) {
			c.ys = append(c.ys, v)
		}
	}
}

// series is one line, optionally with a band (lo, hi) around it and the
// values it smooths (raw) drawn faint behind it.
type series struct {
	name   string
	color  color.NRGBA
	dash   int
	x, y   []float64
	lo, hi []float64 // nil: no band
	raw    []float64 // nil: the line is the values themselves
}

// addSeries draws the band (translucent polygon), the raw values faint,
// the line with point markers, and adds one legend entry showing band and
// line.
func (c *chart) addSeries(s series) error {
	if len(s.x) == 0 {
		return nil
	}
	var thumbs []plot.Thumbnailer
	if s.lo != nil {
		band, err := bandPolygon(s.x, s.lo, s.hi)
		if err != nil {
			return fmt.Errorf("%s band: %w", s.name, err)
		}
		band.Color = translucent(s.color)
		c.add(layerBands, band)
		c.track(s.lo...)
		c.track(s.hi...)
		thumbs = append(thumbs, band)
	}
	if s.raw != nil {
		faint, err := plotter.NewLine(xys(s.x, s.raw))
		if err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		faint.Color, faint.Width = faded(s.color), vg.Points(0.7)
		c.add(layerFaint, faint)
		c.track(s.raw...)
	}
	line, points, err := plotter.NewLinePoints(xys(s.x, s.y))
	if err != nil {
		return fmt.Errorf("%s: %w", s.name, err)
	}
	line.Color, line.Width, line.Dashes = s.color, vg.Points(1.6), dashes(s.dash)
	points.GlyphStyle = draw.GlyphStyle{Color: s.color, Radius: vg.Points(2), Shape: draw.CircleGlyph{}}
	if len(s.x) > 12 { // markers on a dense line hide it
		c.add(layerLines, line)
	} else {
		c.add(layerLines, line, points)
	}
	c.track(s.y...)
	c.leg.Add(s.name, append(thumbs, line)...)
	return nil
}

func xys(x, y []float64) plotter.XYs {
	out := make(plotter.XYs, len(x))
	for i := range x {
		out[i] = plotter.XY{X: x[i], Y: y[i]}
	}
	return out
}

// bandPolygon is the region between lo and hi over x, without an outline.
func bandPolygon(x, lo, hi []float64) (*plotter.Polygon, error) {
	ring := make(plotter.XYs, 0, 2*len(x))
	for i := range x {
		ring = append(ring, plotter.XY{X: x[i], Y: lo[i]})
	}
	for i := len(x) - 1; i >= 0; i-- {
		ring = append(ring, plotter.XY{X: x[i], Y: hi[i]})
	}
	band, err := plotter.NewPolygon(ring)
	if err != nil {
		return nil, err
	}
	band.LineStyle.Width = 0
	return band, nil
}

// addReference draws a dashed line through pts with a legend entry.
func (c *chart) addReference(name string, col color.NRGBA, pts ...plotter.XY) error {
	line, err := plotter.NewLine(plotter.XYs(pts))
	if err != nil {
		return err
	}
	line.Color, line.Width, line.Dashes = col, vg.Points(1.2), []vg.Length{vg.Points(5), vg.Points(3)}
	c.add(layerLines, line)
	for _, p := range pts {
		c.track(p.Y)
	}
	c.leg.Add(name, line)
	return nil
}

// addErrorPoints draws points with 95% error bars (lo ≤ y ≤ hi) above
// every line, each on a white disc so that a line through it does not
// blur its edge.
func (c *chart) addErrorPoints(name string, col color.NRGBA, x, y, lo, hi []float64, legend bool) error {
	pts := make(errPoints, len(x))
	for i := range x {
		pts[i] = errPoint{x[i], y[i], y[i] - lo[i], hi[i] - y[i]}
	}
	bars, err := plotter.NewYErrorBars(pts)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	bars.Color, bars.Width, bars.CapWidth = col, vg.Points(1.4), vg.Points(7)
	halo, err := plotter.NewScatter(pts)
	if err != nil {
		return err
	}
	halo.GlyphStyle = draw.GlyphStyle{Color: color.White, Radius: vg.Points(4.4), Shape: draw.CircleGlyph{}}
	sc, err := plotter.NewScatter(pts)
	if err != nil {
		return err
	}
	sc.GlyphStyle = draw.GlyphStyle{Color: col, Radius: vg.Points(3.2), Shape: draw.CircleGlyph{}}
	c.add(layerMarks, halo, bars, sc)
	c.track(lo...)
	c.track(hi...)
	if legend {
		c.leg.Add(name, sc)
	}
	return nil
}

type errPoint struct{ x, y, lo, hi float64 }
type errPoints []errPoint

func (e errPoints) Len() int                        { return len(e) }
func (e errPoints) XY(i int) (float64, float64)     { return e[i].x, e[i].y }
func (e errPoints) YError(i int) (float64, float64) { return e[i].lo, e[i].hi }

// drawing is what a figure renders: a chart, or panels of them.
type drawing interface {
	title() string
	draw(dc draw.Canvas)
}

func (c *chart) title() string { return c.p.Title.Text }

// draw lays out the chart on the figure: the axes on the left, the legend
// in its own column on the right, top-aligned with the axes.
func (c *chart) draw(dc draw.Canvas) {
	if !c.done {
		for _, l := range c.layers {
			c.p.Add(l...)
		}
		c.done = true
	}
	r := c.leg.Rectangle(draw.Canvas{})
	legW := r.Max.X - r.Min.X + vg.Points(14)
	area := draw.Crop(dc, 0, -legW, 0, 0)
	if c.yLabel != "" {
		area = c.drawYLabel(area)
	}
	c.p.Draw(area)
	titleH := c.p.Title.TextStyle.Rectangle(c.p.Title.Text).Size().Y + c.p.Title.Padding
	c.leg.Draw(draw.Crop(dc, figWidth-legW+vg.Points(6), 0, 0, -(titleH + vg.Points(6))))
}

// drawYLabel writes yLabel up the left edge of area, centred on the axes'
// data area as gonum centres its own, and returns what is right of it.
func (c *chart) drawYLabel(area draw.Canvas) draw.Canvas {
	sty := c.p.Y.Label.TextStyle
	h := sty.Height(c.yLabel)
	rest := draw.Crop(area, h+c.p.Y.Label.Padding, 0, 0, 0)
	data := c.p.DataCanvas(rest)
	y := data.Center().Y
	sty.Rotation += math.Pi / 2
	area.FillText(sty, vg.Point{X: area.Min.X + h - sty.FontExtents().Descent, Y: y}, c.yLabel)
	return rest
}

// logY puts the y axis on a log scale fitted to the data, with the chart
// drawing its label.
func (c *chart) logY() {
	fitLog(&c.p.Y, c.ys)
	c.yLabel, c.p.Y.Label.Text = c.p.Y.Label.Text, ""
}

// render draws d on a white figure of fixed size in one format.
func render(d drawing, format string) ([]byte, error) {
	var cw vg.CanvasWriterTo
	switch format {
	case PNG:
		cw = vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(figWidth, figHeight), vgimg.UseDPI(pngDPI),
			vgimg.UseBackgroundColor(color.White))}
	case SVG:
		cw = vgsvg.NewWith(vgsvg.UseWH(figWidth, figHeight), vgsvg.EmbedFonts(false))
	default:
		return nil, fmt.Errorf("unknown plot format %q (want png or svg)", format)
	}
	dc := draw.New(cw)
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	d.draw(dc)

	var buf bytes.Buffer
	if _, err := cw.WriteTo(&buf); err != nil {
		return nil, err
	}
	if format == SVG {
		return svgFontFallbacks(buf.Bytes()), nil
	}
	return buf.Bytes(), nil
}

// svgFamily is the font vgsvg names on every text element, and
// svgFamilies what the SVG names instead. Embedding Liberation Sans cost
// about 540 kB a file; naming it costs nothing, and where a viewer lacks it
// Arial and Helvetica, whose advance widths it was drawn to match, set the
// text in the same width, so labels laid out with its metrics still fit.
const (
	svgFamily   = "font-family:Liberation Sans;"
	svgFamilies = "font-family:'Liberation Sans',Arial,Helvetica,sans-serif;"
)

func svgFontFallbacks(svg []byte) []byte {
	return bytes.ReplaceAll(svg, []byte(svgFamily), []byte(svgFamilies))
}

// figure renders d in both formats.
func figure(d drawing, name, caption string) (Figure, error) {
	f := Figure{Name: name, Title: d.title(), Caption: caption}
	var err error
	if f.PNG, err = render(d, PNG); err != nil {
		return f, fmt.Errorf("plot %s: %w", name, err)
	}
	if f.SVG, err = render(d, SVG); err != nil {
		return f, fmt.Errorf("plot %s: %w", name, err)
	}
	return f, nil
}

// bandOverSeeds turns per-seed series (seed → step → value) into the mean
// across seeds at each step and, with more than one seed, the range across
// seeds. Steps missing for some seed use the seeds that have them.
func bandOverSeeds(perSeed map[uint64]map[int32]float64) (x, mean, lo, hi []float64) {
	steps := map[int32][]float64{}
	for _, bySteps := range perSeed {
		for st, v := range bySteps {
			if !math.IsNaN(v) {
				steps[st] = append(steps[st], v)
			}
		}
	}
	keys := make([]int32, 0, len(steps))
	for st := range steps {
		keys = append(keys, st)
	}
	slices.Sort(keys)
	for _, st := range keys {
		vs := steps[st]
		slices.Sort(vs) // sum in a fixed order: map order must not change the bytes
		var s float64
		for _, v := range vs {
			s += v
		}
		x = append(x, float64(st))
		mean = append(mean, s/float64(len(vs)))
		lo = append(lo, vs[0])
		hi = append(hi, vs[len(vs)-1])
	}
	if len(perSeed) < 2 {
		lo, hi = nil, nil
	}
	return x, mean, lo, hi
}

func scale(v []float64, k float64) []float64 {
	if v == nil {
		return nil
	}
	out := make([]float64, len(v))
	for i := range v {
		out[i] = v[i] * k
	}
	return out
}

// interval is the 95% interval of a summary row: its ci columns, or
// ±1.96 SE when only the standard error is known, or the point itself.
func interval(s Summary) (lo, hi float64) {
	switch {
	case !math.IsNaN(s.CILow) && !math.IsNaN(s.CIHigh):
		return s.CILow, s.CIHigh
	case !math.IsNaN(s.StdErr):
		return s.Value - 1.96*s.StdErr, s.Value + 1.96*s.StdErr
	}
	return s.Value, s.Value
}
