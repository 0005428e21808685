package results

import (
	"math"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// The page leads with the answer: the question the spec asks (its
// description), one line that answers it with the headline statistic and
// its interval, and the table that statistic comes from. Every number here
// is a summary or sweep row the tables already show, formatted by the same
// functions, so the answer can never disagree with its table.

// headlineKind names the headline table: a view of the paired table, not
// a table of its own in tables.md or EXPERIMENTS.md.
const headlineKind = "headline"

// specHead is what the page reads of the resolved spec: the question and
// the comparisons in the order the spec names them (the first is the one
// the experiment was built to answer).
type specHead struct {
	Description string      `yaml:"description"`
	Compare     [][2]string `yaml:"compare"`
}

// readSpecHead parses the manifest's copy of the spec. The spec is stored
// as its writer serialised it; one that does not parse as YAML costs the
// page its question, not the report.
func readSpecHead(m *Manifest) specHead {
	var h specHead
	if m == nil || m.Spec == "" {
		return h
	}
	if err := yaml.Unmarshal([]byte(m.Spec), &h); err != nil {
		return specHead{}
	}
	h.Description = strings.TrimSpace(h.Description)
	return h
}

// Answer is the page's one-line answer: what is measured, the headline
// value (shown strong) and its interval and basis.
type Answer struct {
	Subject, Value, Rest string
}

// lead is the top of the page: the headline table first, then the tables
// that belong with it; the other tables go to the detail section.
type lead struct {
	Question string
	Answer   *Answer
	Headline Table
	With     []Table // shown right after the headline table
	Detail   []Table // shown after the plots
}

// pageLead picks the headline of a run: the paired differences in the
// headline metric when the run compared arms, else the sweep's efficiency
// multipliers, else the first table it has.
func (r *Run) pageLead(tables []Table) lead {
	head := readSpecHead(r.Manifest)
	l := lead{Question: head.Description}
	byKind := func(kind string) (Table, bool) {
		i := slices.IndexFunc(tables, func(t Table) bool { return t.Kind == kind })
		if i < 0 {
			return Table{}, false
		}
		return tables[i], true
	}
	except := func(kinds ...string) []Table {
		var out []Table
		for _, t := range tables {
			if !slices.Contains(kinds, t.Kind) {
				out = append(out, t)
			}
		}
		return out
	}
	if paired, ok := byKind(KindPaired); ok {
		s := r.headlinePair(head.Compare)
		l.Headline = headlineTable(paired, s, head.Compare)
		l.Answer = r.pairedAnswer(s)
		if ref, ok := byKind(KindReference); ok {
			l.With = []Table{ref}
		}
		l.Detail = except(KindReference)
		return l
	}
	if _, ok := byKind(KindSweep); ok {
		l.Headline = r.sweepHeadlineTable()
		l.Answer = r.sweepAnswer()
		l.Detail = tables
		return l
	}
	if len(tables) > 0 {
		l.Headline, l.Detail = tables[0], tables[1:]
	}
	return l
}

// pairedAggregates are the summary's paired rows over every seed for the
// run as a whole: the rows of the paired table.
func (r *Run) pairedAggregates() []Summary {
	var out []Summary
	for _, s := range r.Summary {
		if s.Compare != "" && s.Seed == nil && s.Step == nil {
			out = append(out, s)
		}
	}
	return out
}

// headlinePair is the headline statistic: the spec's first comparison
// that has a result, in its first metric in table order (pass@1 before
// pass@k before truncation). Without a spec, the first row of the paired
// table stands in.
func (r *Run) headlinePair(compare [][2]string) Summary {
	rows := r.pairedAggregates()
	first := func(keep func(Summary) bool) (Summary, bool) {
		var best Summary
		found := false
		for _, s := range rows {
			if keep(s) && (!found || r.pairedOrder(s, best) < 0) {
				best, found = s, true
			}
		}
		return best, found
	}
	for _, c := range compare {
		if s, ok := first(func(s Summary) bool { return s.Arm == c[0] && s.Compare == c[1] }); ok {
			return s
		}
	}
	s, _ := first(func(Summary) bool { return true })
	return s
}

// headlineTable is the paired table cut to the headline metric, one row
// per comparison, the spec's comparisons first and in its order, so that
// the row the answer quotes is the first.
func headlineTable(paired Table, s Summary, compare [][2]string) Table {
	t := Table{Kind: headlineKind, Title: "Paired differences in " + s.Metric, Note: paired.Note, Labels: 1}
	t.Header = append([]string{paired.Header[0]}, paired.Header[2:]...)
	rank := func(label string) int {
		i := slices.IndexFunc(compare, func(c [2]string) bool { return c[0]+" − "+c[1] == label })
		if i < 0 {
			return len(compare)
		}
		return i
	}
	for _, row := range paired.Rows {
		if row[1] == s.Metric {
			t.Rows = append(t.Rows, append([]string{row[0]}, row[2:]...))
		}
	}
	slices.SortStableFunc(t.Rows, func(a, b []string) int { return rank(a[0]) - rank(b[0]) })
	return t
}

// sweepHeadlineTable is the sweep cut to what its answer quotes: at each
// in-zone target, the filter's waste and each market's efficiency
// multiplier over it, in-flight work counted in full. The waste of every
// selector with its interval stays in the sweep table below; one number a
// cell keeps a grid of fifteen targets and ten selectors on one screen.
func (r *Run) sweepHeadlineTable() Table {
	t := Table{Kind: headlineKind, Title: "Efficiency multiplier over the filter vs in-zone fraction",
		Note: "Useful rollouts per rollout generated, each market's over the reactive filter's (mean over seeds), " +
			"counting the groups still being generated when a window seals in full; the filter's own waste " +
			"beside. Intervals, and the waste of every selector, are in the tables below."}
	// Filters (their waste) first, then markets (their multiplier), each
	// in the sweep's own order.
	grid := r.sweepGrid()
	isFilter := func(sel string) bool {
		for _, p := range grid[sel] {
			return p.Kind == "filter"
		}
		return false
	}
	var filters, markets []string
	for _, sel := range r.selectors {
		if isFilter(sel) {
			filters = append(filters, sel)
		} else {
			markets = append(markets, sel)
		}
	}
	t.Header = []string{"in-zone target"}
	for _, sel := range filters {
		t.Header = append(t.Header, sel+" waste")
	}
	t.Header = append(t.Header, markets...)
	for _, target := range r.sweepTargets() {
		row := []string{Percent(target)}
		for i, sel := range append(filters, markets...) {
			p, ok := grid[sel][target]
			switch {
			case !ok:
				row = append(row, dash)
			case i < len(filters):
				row = append(row, Percent(p.Waste))
			default:
				row = append(row, times(p.Multiplier))
			}
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

// pairedAnswer states the headline difference as the table shows it:
// value, 95% interval, p-value, and what the interval is over.
func (r *Run) pairedAnswer(s Summary) *Answer {
	if s.Arm == "" {
		return nil
	}
	seeds := 0
	for _, row := range r.Summary {
		if row.Arm == s.Arm && row.Compare == s.Compare && row.Metric == s.Metric && row.Seed != nil && row.Step == nil {
			seeds++
		}
	}
	var stats []string
	if !math.IsNaN(s.CILow) && !math.IsNaN(s.CIHigh) {
		stats = append(stats, "95% CI "+ci(s.Metric, s.CILow, s.CIHigh, true))
	}
	if p := pValue(s.P); p != dash {
		if !strings.HasPrefix(p, "<") {
			p = "= " + p
		}
		stats = append(stats, "p "+p)
	}
	basis := strconv.FormatInt(s.N, 10) + " problems, one training seed (the interval leaves out the variance between training runs)"
	if seeds > 1 {
		basis = strconv.Itoa(seeds) + " training seeds × " + strconv.FormatInt(s.N, 10) + " problems"
	}
	rest := basis + "."
	if len(stats) > 0 {
		rest = strings.Join(stats, ", ") + "; " + rest
	}
	return &Answer{Subject: s.Arm + " − " + s.Compare + ", " + s.Metric, Value: diff(s.Metric, s.Value), Rest: rest}
}

// sweepAnswer names, at each end of the grid, the market with the highest
// efficiency multiplier over the filter (in-flight work counted in full,
// as in the headline table), with its interval: how much a market buys
// where the zone is scarce and where it is not.
func (r *Run) sweepAnswer() *Answer {
	targets := r.sweepTargets()
	if len(targets) == 0 {
		return nil
	}
	best := func(target float64) (SweepPoint, bool) {
		var top SweepPoint
		found := false
		for _, sel := range r.selectors {
			for _, p := range r.sweepPoints(sel) {
				if p.Target == target && p.Kind != "filter" && !math.IsNaN(p.Multiplier) && (!found || p.Multiplier > top.Multiplier) {
					top, found = p, true
				}
			}
		}
		return top, found
	}
	low, ok := best(targets[0])
	if !ok {
		return nil
	}
	a := &Answer{
		Subject: "Best market's efficiency over the filter at " + Percent(low.Target) + " in zone",
		Value:   low.Selector + " " + times(low.Multiplier),
		Rest:    "95% CI " + bracket(low.MultiplierLow, low.MultiplierHigh, times),
	}
	if high, ok := best(targets[len(targets)-1]); ok && len(targets) > 1 {
		a.Rest += "; at " + Percent(high.Target) + ", " + high.Selector + " " + times(high.Multiplier) + " " +
			bracket(high.MultiplierLow, high.MultiplierHigh, times)
	}
	a.Rest += " (useful rollouts per rollout generated, in-flight work counted in full)."
	return a
}
