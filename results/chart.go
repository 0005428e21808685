package results

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"slices"
	"strconv"

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
// axes rather than inside them.
type chart struct {
	p   *plot.Plot
	leg plot.Legend
}

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

// fixedTicks labels every step from lo to hi (inclusive) with a minor tick
// halfway, so a [0, 1] axis reads 0.0, 0.2, ... rather than 0, 0.5, 1.
func fixedTicks(lo, hi, step float64, prec int) plot.ConstantTicks {
	var ticks plot.ConstantTicks
	n := int(math.Round((hi - lo) / step))
	for i := 0; i <= n; i++ {
		v := lo + float64(i)*step
		ticks = append(ticks, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', prec, 64)})
		if i < n {
			ticks = append(ticks, plot.Tick{Value: v + step/2})
		}
	}
	return ticks
}

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

// share01 and percent100 fix an axis to [0, 1] or [0, 100] with even ticks.
func share01(a *plot.Axis) {
	a.Min, a.Max = 0, 1
	a.Tick.Marker = fixedTicks(0, 1, 0.2, 1)
}

func percent100(a *plot.Axis) {
	a.Min, a.Max = 0, 100
	a.Tick.Marker = fixedTicks(0, 100, 20, 0)
}

// series is one line, optionally with a band (lo, hi) around it.
type series struct {
	name   string
	color  color.NRGBA
	dash   int
	x, y   []float64
	lo, hi []float64 // nil: no band
}

// addSeries draws the band first (translucent polygon), then the line with
// point markers, and adds one legend entry showing both.
func (c *chart) addSeries(s series) error {
	if len(s.x) == 0 {
		return nil
	}
	var thumbs []plot.Thumbnailer
	if s.lo != nil {
		ring := make(plotter.XYs, 0, 2*len(s.x))
		for i := range s.x {
			ring = append(ring, plotter.XY{X: s.x[i], Y: s.lo[i]})
		}
		for i := len(s.x) - 1; i >= 0; i-- {
			ring = append(ring, plotter.XY{X: s.x[i], Y: s.hi[i]})
		}
		band, err := plotter.NewPolygon(ring)
		if err != nil {
			return fmt.Errorf("%s band: %w", s.name, err)
		}
		band.Color = translucent(s.color)
		band.LineStyle.Width = 0
		c.p.Add(band)
		thumbs = append(thumbs, band)
	}
	xys := make(plotter.XYs, len(s.x))
	for i := range s.x {
		xys[i] = plotter.XY{X: s.x[i], Y: s.y[i]}
	}
	line, points, err := plotter.NewLinePoints(xys)
	if err != nil {
		return fmt.Errorf("%s: %w", s.name, err)
	}
	line.Color, line.Width, line.Dashes = s.color, vg.Points(1.6), dashes(s.dash)
	points.GlyphStyle = draw.GlyphStyle{Color: s.color, Radius: vg.Points(2), Shape: draw.CircleGlyph{}}
	if len(s.x) > 12 { // markers on a dense line hide it (and the held-out points)
		c.p.Add(line)
	} else {
		c.p.Add(line, points)
	}
	c.leg.Add(s.name, append(thumbs, line)...)
	return nil
}

// addReference draws a grey dashed line through pts with a legend entry.
func (c *chart) addReference(name string, col color.NRGBA, pts ...plotter.XY) error {
	line, err := plotter.NewLine(plotter.XYs(pts))
	if err != nil {
		return err
	}
	line.Color, line.Width, line.Dashes = col, vg.Points(1.2), []vg.Length{vg.Points(5), vg.Points(3)}
	c.p.Add(line)
	c.leg.Add(name, line)
	return nil
}

// addErrorPoints draws points with 95% error bars (lo ≤ y ≤ hi).
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
	sc, err := plotter.NewScatter(pts)
	if err != nil {
		return err
	}
	sc.GlyphStyle = draw.GlyphStyle{Color: col, Radius: vg.Points(3.2), Shape: draw.CircleGlyph{}}
	c.p.Add(bars, sc)
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

// render draws the chart on a figure of fixed size: the axes on the left,
// the legend in its own column on the right, top-aligned with the axes.
func (c *chart) render(format string) ([]byte, error) {
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

	r := c.leg.Rectangle(draw.Canvas{})
	legW := r.Max.X - r.Min.X + vg.Points(14)
	c.p.Draw(draw.Crop(dc, 0, -legW, 0, 0))
	titleH := c.p.Title.TextStyle.Rectangle(c.p.Title.Text).Size().Y + c.p.Title.Padding
	c.leg.Draw(draw.Crop(dc, figWidth-legW+vg.Points(6), 0, 0, -(titleH + vg.Points(6))))

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

// figure renders the chart in both formats.
func (c *chart) figure(name, caption string) (Figure, error) {
	f := Figure{Name: name, Title: c.p.Title.Text, Caption: caption}
	var err error
	if f.PNG, err = c.render(PNG); err != nil {
		return f, fmt.Errorf("plot %s: %w", name, err)
	}
	if f.SVG, err = c.render(SVG); err != nil {
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
