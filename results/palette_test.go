package results

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestKnownStylesAreDistinct(t *testing.T) {
	t.Parallel()
	owner := map[lineStyle]string{}
	for name, s := range knownStyles {
		other, dup := owner[s]
		assert.False(t, dup, "%s and %s share a style", name, other)
		owner[s] = name
	}
	for _, s := range spareStyles() {
		_, known := owner[s]
		assert.False(t, known, "spare style %v belongs to %s", s, owner[s])
	}
}

func TestPalette(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		names []string
		want  map[string]lineStyle
	}{
		{"known names whatever the order", []string{"market", "uniform", "base"}, map[string]lineStyle{
			"market": {okabeVermillion, solid}, "uniform": {okabeBlue, solid}, "base": {okabeBlack, solid}}},
		{"the paired arms differ", []string{"base", "uniform", "filter", "market", "auction"}, map[string]lineStyle{
			"uniform": {okabeBlue, solid}, "filter": {okabeSkyBlue, solid}, "auction": {okabeOrange, solid}}},
		{"a selector never wears an arm's style", []string{"filter", "oracle-noise-1", "oracle-noise-0.5"}, map[string]lineStyle{
			"oracle-noise-1": {okabePurple, dotted}, "oracle-noise-0.5": {okabePurple, dashed}}},
		{"unknown names take spare styles in order", []string{"x", "market", "y"}, map[string]lineStyle{
			"x": {okabeGreen, dashed}, "market": {okabeVermillion, solid}, "y": {okabeSkyBlue, dashed}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPalette(tc.names)
			for n, want := range tc.want {
				assert.Equal(t, want, p[n], n)
			}
		})
	}

	// More unknown names than spare styles: they come round again.
	spare := spareStyles()
	var many []string
	for i := 0; i <= len(spare); i++ {
		many = append(many, string(rune('a'+i%26))+string(rune('a'+i/26)))
	}
	p := newPalette(many)
	assert.Equal(t, p[many[0]], p[many[len(spare)]])
	assert.Equal(t, okabeYellow, p[many[len(spare)-1]].color, "yellow last")
}

func TestSwatches(t *testing.T) {
	t.Parallel()
	r := &Run{Manifest: &Manifest{Arms: []string{"base", "filter", "market"}},
		Sweep: []SweepPoint{{Selector: "filter", Kind: "filter"}, {Selector: "oracle-noise-1", Kind: "market"}}}
	r.index()
	assert.Equal(t, []Swatch{
		{Name: "base", Color: "#000000"},
		{Name: "filter", Color: "#56b4e9"},
		{Name: "market", Color: "#d55e00"},
		{Name: "oracle-noise-1", Color: "#cc79a7", Dash: "1.5 2"},
	}, r.Swatches())

	sweep, err := Load(sweepData)
	require.NoError(t, err)
	for _, s := range sweep.Swatches() {
		assert.Equal(t, sweep.pal[s.Name], knownStyles[s.Name], "%s: the committed experiments' names are all known", s.Name)
	}
}
