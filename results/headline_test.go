package results

import (
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pairedRow is an aggregate paired row of the summary.
func pairedRow(arm, compare, metric string, v float64) Summary {
	return Summary{Arm: arm, Compare: compare, Metric: metric, Value: v, StdErr: 0.01,
		CILow: v - 0.02, CIHigh: v + 0.02, Method: "paired t", P: 0.003,
		BootLow: v - 0.021, BootHigh: v + 0.019, ShareGreater: 0.99, N: 500}
}

// leadOf builds the lead of an in-memory run whose manifest records spec.
func leadOf(spec string, arms []string, rows ...Summary) lead {
	r := &Run{Summary: rows, Manifest: &Manifest{Spec: spec, Arms: arms}}
	r.index()
	return r.pageLead(r.Tables())
}

func TestLeadAnswersTheSpecsFirstComparison(t *testing.T) {
	t.Parallel()
	rows := []Summary{
		pairedRow("uniform", "base", "pass@1", 0.30),
		pairedRow("uniform", "base", "truncation", -0.05),
		pairedRow("market", "uniform", "truncation", -0.08),
		pairedRow("market", "uniform", "pass@4", 0.02),
		pairedRow("market", "uniform", "pass@1", 0.11),
	}
	spec := "name: x\ndescription: >\n  Does the market\n  beat uniform?\ncompare:\n  - [market, uniform]\n  - [uniform, base]\n"
	l := leadOf(spec, []string{"base", "uniform", "market"}, rows...)

	assert.Equal(t, "Does the market beat uniform?", l.Question)
	require.NotNil(t, l.Answer)
	assert.Equal(t, "market − uniform, pass@1", l.Answer.Subject)
	assert.Equal(t, "Paired differences in pass@1", l.Headline.Title)
	// One row per comparison in the headline metric, the spec's first
	// comparison first, although the paired table puts uniform − base first.
	require.Len(t, l.Headline.Rows, 2)
	assert.Equal(t, "market − uniform", l.Headline.Rows[0][0])
	assert.Equal(t, "uniform − base", l.Headline.Rows[1][0])
	// The answer quotes the table's own cells.
	header, first := l.Headline.Header, l.Headline.Rows[0]
	cell := func(name string) string {
		for i, h := range header {
			if h == name {
				return first[i]
			}
		}
		t.Fatalf("no column %q in %v", name, header)
		return ""
	}
	assert.Equal(t, cell("difference"), l.Answer.Value)
	assert.Equal(t, "+0.110", l.Answer.Value)
	assert.Contains(t, l.Answer.Rest, "95% CI "+cell("95% CI")+", p = "+cell("p"))
	assert.Contains(t, l.Answer.Rest, "one training seed")
	// Every table the run has is still on the page: the full paired table
	// in the detail, the per-arm one with the headline.
	var kinds []string
	for _, tb := range append(l.With, l.Detail...) {
		kinds = append(kinds, tb.Kind)
	}
	assert.Equal(t, []string{KindPaired}, kinds)
}

func TestLeadWithoutASpec(t *testing.T) {
	t.Parallel()
	rows := []Summary{pairedRow("market", "uniform", "pass@1", 0.11), pairedRow("uniform", "base", "pass@1", 0.30)}
	for _, spec := range []string{"", "{not: [yaml", "name: x\n"} {
		l := leadOf(spec, []string{"base", "uniform", "market"}, rows...)
		assert.Empty(t, l.Question, "%q", spec)
		require.NotNil(t, l.Answer, "%q", spec)
		// The paired table's order decides: uniform comes before market.
		assert.Equal(t, "uniform − base, pass@1", l.Answer.Subject, "%q", spec)
		assert.Equal(t, "uniform − base", l.Headline.Rows[0][0], "%q", spec)
	}
}

func TestLeadOverSeveralSeeds(t *testing.T) {
	t.Parallel()
	s1, s2, s3 := uint64(1), uint64(2), uint64(3)
	perSeed := func(seed *uint64, v float64) Summary {
		s := pairedRow("market", "uniform", "pass@1", v)
		s.Seed = seed
		return s
	}
	agg := pairedRow("market", "uniform", "pass@1", 0.1)
	agg.P = 0.00001
	l := leadOf("", nil, perSeed(&s1, 0.09), perSeed(&s2, 0.1), perSeed(&s3, 0.11), agg)
	require.NotNil(t, l.Answer)
	assert.Equal(t, "95% CI [+0.080, +0.120], p < 0.0001; 3 training seeds × 500 problems.", l.Answer.Rest)
	assert.Equal(t, "+0.090, +0.100, +0.110", l.Headline.Rows[0][len(l.Headline.Rows[0])-1], "the per-seed column stays")
}

func TestLeadWithoutComparisons(t *testing.T) {
	t.Parallel()
	final := Summary{Arm: "base", Metric: "pass@1", Value: 0.3, StdErr: 0.01, CILow: 0.28, CIHigh: 0.32,
		P: math.NaN(), BootLow: math.NaN(), BootHigh: math.NaN(), ShareGreater: math.NaN(), N: 500}
	l := leadOf("description: How good is the base?\n", []string{"base"}, final)
	assert.Equal(t, "How good is the base?", l.Question)
	assert.Nil(t, l.Answer, "no comparison, no one-line answer")
	assert.Equal(t, KindReference, l.Headline.Kind)
	assert.Empty(t, l.Detail)
}

func TestLeadOfASweep(t *testing.T) {
	t.Parallel()
	r, err := Load(sweepData)
	require.NoError(t, err)
	l := r.pageLead(r.Tables())
	assert.Equal(t, headlineKind, l.Headline.Kind)
	assert.Equal(t, "in-zone target", l.Headline.Header[0])
	assert.Len(t, l.Headline.Rows, len(r.sweepTargets()), "one row per target")
	assert.Equal(t, r.Tables(), l.Detail, "every sweep table stays in the detail")
	assert.Equal(t, "How much does a market waste against the filter as the zone narrows?", l.Question)
	require.NotNil(t, l.Answer)

	// The answer names the market with the highest multiplier at each end
	// of the grid, as the sweep table shows it.
	targets := r.sweepTargets()
	best := func(target float64) SweepPoint {
		var top SweepPoint
		top.Multiplier = math.Inf(-1)
		for _, p := range r.Sweep {
			if p.Seed == nil && p.Target == target && p.Kind == "market" && p.Multiplier > top.Multiplier {
				top = p
			}
		}
		return top
	}
	low, high := best(targets[0]), best(targets[len(targets)-1])
	assert.Equal(t, "Best market's efficiency over the filter at "+Percent(targets[0])+" in zone", l.Answer.Subject)
	assert.Equal(t, low.Selector+" "+times(low.Multiplier), l.Answer.Value)
	assert.True(t, strings.HasPrefix(l.Answer.Rest, "95% CI ["+times(low.MultiplierLow)+", "+times(low.MultiplierHigh)+"]; at "+Percent(targets[len(targets)-1])+", "+high.Selector+" "+times(high.Multiplier)), l.Answer.Rest)
	for _, row := range l.Headline.Rows {
		if row[0] == Percent(targets[0]) {
			assert.Contains(t, strings.Join(row, " | "), times(low.Multiplier), "the table shows the multiplier quoted")
		}
	}
}

func TestCellHTML(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"0.470 ± 0.021":     `0.470<span class="pm"> ±` + "\u00a0" + `0.021</span>`,
		"98.9% ± 0.3 ×0.85": `98.9%<span class="pm"> ±` + "\u00a0" + `0.3` + "\u00a0" + `×0.85</span>`,
		"[+0.042, +0.238]":  `[+0.042,<span class="br"> +0.238]</span>`,
		"[-1.2 pp, +3 pp]":  `[-1.2 pp,<span class="br"> +3` + "\u00a0" + `pp]</span>`,
		"A > B":             `A &gt; B`,
		"<b> ± </b>":        `&lt;b&gt;<span class="pm"> ±` + "\u00a0" + `&lt;/b&gt;</span>`,
		"market − uniform":  `market − uniform`,
		"-10.7 pp ± 2.1 pp": `-10.7 pp<span class="pm"> ±` + "\u00a0" + `2.1` + "\u00a0" + `pp</span>`,
		"—":                 `—`,
	} {
		assert.Equal(t, want, string(cellHTML(in)), "%q", in)
	}
}

func TestAnswerLeavesOutWhatIsMissing(t *testing.T) {
	t.Parallel()
	s := pairedRow("market", "uniform", "truncation", -0.107)
	s.CILow, s.P = math.NaN(), math.NaN()
	l := leadOf("", nil, s)
	require.NotNil(t, l.Answer)
	assert.Equal(t, "-10.7 pp", l.Answer.Value)
	assert.Equal(t, "500 problems, one training seed (the interval leaves out the variance between training runs).", l.Answer.Rest)
}
