package results

import (
	"fmt"
	"image/color"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot/vg"
)

// Okabe–Ito, the colour-blind-safe palette (Okabe & Ito, "Color Universal
// Design", 2002).
var (
	okabeBlack      = color.NRGBA{0x00, 0x00, 0x00, 0xff}
	okabeOrange     = color.NRGBA{0xe6, 0x9f, 0x00, 0xff}
	okabeSkyBlue    = color.NRGBA{0x56, 0xb4, 0xe9, 0xff}
	okabeGreen      = color.NRGBA{0x00, 0x9e, 0x73, 0xff}
	okabeYellow     = color.NRGBA{0xf0, 0xe4, 0x42, 0xff}
	okabeBlue       = color.NRGBA{0x00, 0x72, 0xb2, 0xff}
	okabeVermillion = color.NRGBA{0xd5, 0x5e, 0x00, 0xff}
	okabePurple     = color.NRGBA{0xcc, 0x79, 0xa7, 0xff}
)

// Dash patterns, the second channel once eight colours are not enough.
const (
	solid = iota
	dashed
	dotted
	dashDot
	dashPatterns // how many there are
)

// dashLengths are the on/off lengths of each pattern (nil: solid).
var dashLengths = [dashPatterns][]vg.Length{
	solid:   nil,
	dashed:  {vg.Points(6), vg.Points(3)},
	dotted:  {vg.Points(1.5), vg.Points(2)},
	dashDot: {vg.Points(6), vg.Points(2), vg.Points(1.5), vg.Points(2)},
}

func dashes(d int) []vg.Length { return dashLengths[d%dashPatterns] }

// lineStyle is how one name (an arm or a sweep selector) is drawn.
type lineStyle struct {
	color color.NRGBA
	dash  int
}

// knownStyles fixes the style of every arm and selector of the committed
// experiments, so that a colour and dash mean one name in every plot of
// every run and on every page. No two names share a style. Eight colours
// cannot tell thirteen names apart, so a colour is a family and the dash the
// member: black the untrained base; blue the choices that know nothing of
// difficulty (uniform sampling, the market's random estimator); sky blue the
// reactive filter; vermillion the race market and its learned estimator;
// orange the auction; reddish purple the oracle and its noisier copies;
// bluish green the history estimator. Yellow, faint on white, is left for
// names not listed here.
var knownStyles = map[string]lineStyle{
	"base":             {okabeBlack, solid},
	"uniform":          {okabeBlue, solid},
	"random":           {okabeBlue, dashed},
	"filter":           {okabeSkyBlue, solid},
	"market":           {okabeVermillion, solid},
	"learned":          {okabeVermillion, dashed},
	"auction":          {okabeOrange, solid},
	"auction-learned":  {okabeOrange, dashed},
	"auction-oracle":   {okabeOrange, dotted},
	"oracle":           {okabePurple, solid},
	"oracle-noise-0.5": {okabePurple, dashed},
	"oracle-noise-1":   {okabePurple, dotted},
	"history":          {okabeGreen, solid},
}

// spareColors are handed out, with each dash pattern in turn, to names
// knownStyles does not list; yellow only once the others are spent, and
// black never (it is the base model's, and the untrained reference lines').
var spareColors = []color.NRGBA{okabeOrange, okabeGreen, okabeSkyBlue, okabePurple, okabeVermillion, okabeBlue}

// spareStyles are the styles no known name has, in the order they are
// handed out.
func spareStyles() []lineStyle {
	taken := func(s lineStyle) bool {
		for _, k := range knownStyles {
			if k == s {
				return true
			}
		}
		return false
	}
	var out, yellow []lineStyle
	for d := range dashPatterns {
		for _, c := range spareColors {
			if s := (lineStyle{c, d}); !taken(s) {
				out = append(out, s)
			}
		}
		yellow = append(yellow, lineStyle{okabeYellow, d})
	}
	return append(out, yellow...)
}

// palette is the style of every name a run's plots draw, arms and
// selectors alike, the same in every plot of the run.
type palette map[string]lineStyle

// newPalette gives known names their fixed style and the others, in the
// order given, the spare styles (again from the first when all are used).
func newPalette(names []string) palette {
	p := palette{}
	spare := spareStyles()
	i := 0
	for _, n := range names {
		if _, ok := p[n]; ok {
			continue
		}
		if s, ok := knownStyles[n]; ok {
			p[n] = s
			continue
		}
		p[n] = spare[i%len(spare)]
		i++
	}
	return p
}

func (p palette) color(name string) color.NRGBA {
	if s, ok := p[name]; ok {
		return s.color
	}
	return okabeBlack
}

func (p palette) dash(name string) int { return p[name].dash }

// Swatch is the colour and dash pattern a name is drawn with in every plot
// of a run, for a page that marks the same names (a legend, a table's
// header) to match.
type Swatch struct {
	Name  string
	Color string // CSS hex colour, "#d55e00"
	Dash  string // an SVG or CSS stroke-dasharray in points; "" when solid
}

// Swatches are the run's arms, then its sweep selectors that are not arms,
// each with its style, in display order.
func (r *Run) Swatches() []Swatch {
	var out []Swatch
	for _, n := range append(slices.Clone(r.arms), r.selectors...) {
		if slices.ContainsFunc(out, func(s Swatch) bool { return s.Name == n }) {
			continue
		}
		c := r.pal.color(n)
		var lengths []string
		for _, l := range dashes(r.pal.dash(n)) {
			lengths = append(lengths, strconv.FormatFloat(l.Points(), 'g', -1, 64))
		}
		out = append(out, Swatch{Name: n, Color: fmt.Sprintf("#%02x%02x%02x", c.R, c.G, c.B), Dash: strings.Join(lengths, " ")})
	}
	return out
}

// translucent is c at the opacity used for bands.
func translucent(c color.NRGBA) color.NRGBA {
	c.A = 0x38
	return c
}

// faded is c at the opacity used for the unsmoothed values behind a
// smoothed line: visible, but not to be read for the line.
func faded(c color.NRGBA) color.NRGBA {
	c.A = 0x50
	return c
}
