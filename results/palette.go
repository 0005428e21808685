package results

import (
	"image/color"
	"slices"
)

// Okabe–Ito, the colour-blind-safe palette (Okabe & Ito, "Color Universal
// Design", 2002), in the order colours are handed out.
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

// fixedColors pins the colours of the names every experiment uses, so the
// market is vermillion and the uniform baseline blue in every plot of every
// run; the sweep's filter is the uniform baseline's colour.
var fixedColors = map[string]color.NRGBA{
	"base":    okabeBlack,
	"uniform": okabeBlue,
	"filter":  okabeBlue,
	"market":  okabeVermillion,
}

// The colours other names get, in order (yellow last: it is faint on white).
var freeColors = []color.NRGBA{okabeOrange, okabeGreen, okabeSkyBlue, okabePurple, okabeVermillion, okabeBlue, okabeBlack, okabeYellow}

// palette assigns each name (an arm, or a sweep selector) a colour and, when
// the colours run out, a dash pattern, the same for every plot of a report.
type palette struct {
	colors map[string]color.NRGBA
	dashes map[string]int
}

// newPalette gives fixed names their colour and the others, in the order
// given, the free colours not already taken.
func newPalette(names []string) palette {
	p := palette{colors: map[string]color.NRGBA{}, dashes: map[string]int{}}
	var taken []color.NRGBA
	for _, n := range names {
		if c, ok := fixedColors[n]; ok {
			p.colors[n] = c
			taken = append(taken, c)
		}
	}
	var free []color.NRGBA
	for _, c := range freeColors {
		if !slices.Contains(taken, c) {
			free = append(free, c)
		}
	}
	i := 0
	for _, n := range names {
		if _, ok := p.colors[n]; ok {
			continue
		}
		p.colors[n] = free[i%len(free)]
		p.dashes[n] = i / len(free)
		i++
	}
	return p
}

func (p palette) color(name string) color.NRGBA {
	if c, ok := p.colors[name]; ok {
		return c
	}
	return okabeBlack
}

// translucent is c at the opacity used for bands.
func translucent(c color.NRGBA) color.NRGBA {
	c.A = 0x38
	return c
}
