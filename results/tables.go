package results

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
)

// Table kinds: the names of the tables of a run, and of their sections in
// EXPERIMENTS.md (<experiment>/<kind>).
const (
	KindReference    = "reference"     // pass@k and truncation per arm, value ± SE
	KindPaired       = "paired"        // paired differences between arms
	KindWaste        = "waste"         // waste and its breakdown per arm
	KindSweep        = "sweep"         // waste per selector at each in-zone fraction (wide), in-flight work counted in full
	KindSweepCarried = "sweep-carried" // the same with in-flight work carried into the next window
	KindSweepDetail  = "sweep-detail"  // every sweep statistic per point (long)
	KindPlots        = "plots"         // Markdown image links to the plots (EXPERIMENTS.md only)
)

// Table is one rendered table: a header, rows of formatted cells, and a
// note that says what the numbers are.
type Table struct {
	Kind   string
	Title  string
	Note   string
	Header []string
	Rows   [][]string
	Labels int // leading columns that are labels, aligned left (at least 1)
}

// LabelColumns is the number of leading label columns (at least 1).
func (t Table) LabelColumns() int { return max(1, t.Labels) }

// Style is how a table is drawn.
type Style int

const (
	StyleBox      Style = iota // box-drawing borders, for a terminal
	StyleMarkdown              // GitHub-flavoured Markdown
	StyleASCII                 // borders of +, - and |
)

// Markdown renders the table as GitHub-flavoured Markdown: label columns
// left-aligned, numbers right-aligned.
func (t Table) Markdown() (string, error) {
	var buf bytes.Buffer
	if err := t.Render(&buf, StyleMarkdown); err != nil {
		return "", err
	}
	return buf.String(), nil
}

// Terminal renders the table with box-drawing borders.
func (t Table) Terminal(w io.Writer) error { return t.Render(w, StyleBox) }

// Render draws the table in a style: label columns left-aligned, numbers
// right-aligned.
func (t Table) Render(w io.Writer, style Style) error {
	align := make([]tw.Align, len(t.Header))
	for i := range align {
		align[i] = tw.AlignRight
	}
	for i := 0; i < t.LabelColumns() && i < len(align); i++ {
		align[i] = tw.AlignLeft
	}
	opts := []tablewriter.Option{
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithHeaderAutoWrap(tw.WrapNone),
		tablewriter.WithHeaderAlignmentConfig(tw.CellAlignment{PerColumn: align}),
		tablewriter.WithRowAlignmentConfig(tw.CellAlignment{PerColumn: align}),
	}
	switch style {
	case StyleMarkdown:
		opts = append(opts, tablewriter.WithRenderer(renderer.NewMarkdown()))
	case StyleASCII:
		opts = append(opts, tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{Symbols: tw.NewSymbols(tw.StyleASCII)})))
	}
	markdown := style == StyleMarkdown
	tbl := tablewriter.NewTable(w, opts...)
	tbl.Header(escapeCells(t.Header, markdown))
	for _, row := range t.Rows {
		if err := tbl.Append(escapeCells(row, markdown)); err != nil {
			return err
		}
	}
	return tbl.Render()
}

func escapeCells(cells []string, markdown bool) []string {
	if !markdown {
		return cells
	}
	out := make([]string, len(cells))
	for i, c := range cells {
		out[i] = strings.ReplaceAll(c, "|", `\|`)
	}
	return out
}

// metricLess orders metrics: pass@k by k, then truncation, then by name.
func metricLess(a, b string) int {
	ka, kb := kOf(a), kOf(b)
	switch {
	case ka > 0 && kb > 0:
		return ka - kb
	case ka > 0:
		return -1
	case kb > 0:
		return 1
	case a == b:
		return 0
	case a == "truncation":
		return -1
	case b == "truncation":
		return 1
	}
	return strings.Compare(a, b)
}

// Tables builds every table the run has data for, in a fixed order.
func (r *Run) Tables() []Table {
	var out []Table
	for _, t := range []Table{r.referenceTable(), r.pairedTable(), r.wasteTable(), r.sweepTable(), r.sweepCarriedTable(), r.sweepDetailTable()} {
		if len(t.Rows) > 0 {
			out = append(out, t)
		}
	}
	return out
}

func (r *Run) referenceTable() Table {
	ref := func(s Summary) bool { return kOf(s.Metric) > 0 || s.Metric == "truncation" }
	arms := r.armsWith(ref)
	t := Table{Kind: KindReference, Title: "Held-out results per arm",
		Note: "Final checkpoint of each arm on the held-out set: value ± standard error (over problems, seeds pooled)."}
	t.Header = append([]string{"metric"}, arms...)
	var metrics []string
	for _, s := range r.Summary {
		if s.Compare == "" && s.Seed == nil && s.Step == nil && ref(s) && !slices.Contains(metrics, s.Metric) {
			metrics = append(metrics, s.Metric)
		}
	}
	slices.SortFunc(metrics, metricLess)
	for _, m := range metrics {
		row := []string{m}
		for _, a := range arms {
			s, ok := r.final(a, m)
			if !ok {
				row = append(row, dash)
				continue
			}
			row = append(row, valueSE(m, s.Value, s.StdErr))
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

func (r *Run) armRank(a string) int {
	if i := slices.Index(r.arms, a); i >= 0 {
		return i
	}
	return len(r.arms)
}

// pairedRows are the paired differences of the run's final checkpoints
// (the aggregate rows: null seed and step) in the paired table's order:
// by arm A, then by arm B from the last, then by metric. The table and the
// plot of paired differences both draw these.
func (r *Run) pairedRows() []Summary {
	var rows []Summary
	for _, s := range r.Summary {
		if s.Compare != "" && s.Step == nil && s.Seed == nil {
			rows = append(rows, s)
		}
	}
	slices.SortStableFunc(rows, r.pairedOrder)
	return rows
}

func (r *Run) pairedTable() Table {
	t := Table{Kind: KindPaired, Title: "Paired comparisons",
		Note: "A − B over the same problems and sampling seeds: mean per-problem difference, its standard error, " +
			"95% interval and two-sided p-value, the paired bootstrap's 95% percentile interval and the share of " +
			"bootstrap draws in which A beats B; n problems. One training seed: the interval is over problems only, and " +
			"does not include the variance between training runs.",
		Labels: 2,
		Header: []string{"A − B", "metric", "difference", "SE", "95% CI", "p", "bootstrap 95% CI", "A > B", "n"}}
	rows := r.pairedRows()
	type key struct{ arm, compare, metric string }
	perSeed := map[key][]float64{}
	for _, s := range r.Summary {
		if s.Compare != "" && s.Step == nil && s.Seed != nil {
			k := key{s.Arm, s.Compare, s.Metric}
			perSeed[k] = append(perSeed[k], s.Value)
		}
	}
	if len(perSeed) > 0 {
		// Over several seeds the row is the crossed comparison, and the
		// runs' own differences show how far apart they are.
		t.Note = "A − B over the same training seeds, problems and sampling seeds: mean difference over seeds × problems, " +
			"its standard error from the seed, problem and residual variance components, the 95% interval and two-sided " +
			"p-value (Student's t, Satterthwaite's degrees of freedom), the bootstrap's 95% percentile interval resampling " +
			"seeds and problems, the share of bootstrap draws in which A beats B; n problems; each seed's own difference."
		t.Header = append(t.Header, "per seed")
	}
	for _, s := range rows {
		t.Rows = append(t.Rows, []string{
			s.Arm + " − " + s.Compare, s.Metric,
			diff(s.Metric, s.Value),
			diffSE(s.Metric, s.StdErr),
			ci(s.Metric, s.CILow, s.CIHigh, true),
			pValue(s.P),
			ci(s.Metric, s.BootLow, s.BootHigh, true),
			Percent(s.ShareGreater),
			strconv.FormatInt(s.N, 10),
		})
		if len(perSeed) > 0 {
			vs := perSeed[key{s.Arm, s.Compare, s.Metric}]
			cell := dash
			if len(vs) > 0 {
				parts := make([]string, len(vs))
				for i, v := range vs {
					parts[i] = num(s.Metric, v, true)
				}
				cell = strings.Join(parts, ", ") + unit(s.Metric, true)
			}
			t.Rows[len(t.Rows)-1] = append(t.Rows[len(t.Rows)-1], cell)
		}
	}
	return t
}

// pairedOrder is the order of the paired table's rows: by arm, then by the
// arm subtracted, latest in display order first, then by metric.
func (r *Run) pairedOrder(a, b Summary) int {
	if d := r.armRank(a.Arm) - r.armRank(b.Arm); d != 0 {
		return d
	}
	if d := r.armRank(b.Compare) - r.armRank(a.Compare); d != 0 {
		return d
	}
	return metricLess(a.Metric, b.Metric)
}

// wasteColumns are the waste table's metrics, in column order, with headers.
var wasteColumns = []struct{ metric, header string }{
	{"waste", "waste"},
	{"zero_std_share", "zero-variance"},
	{"late_share", "late"},
	{"duplicate_share", "duplicate"},
	{"invalid_share", "invalid"},
	{"in_flight_share", "in flight"},
	{"outranked_share", "outranked"},
	{"batch_filled", "batch filled"},
	{"trained_reward", "trained reward"},
	{"window_seconds", "window (s)"},
	{"in_zone_fraction", "in-zone"},
	{"useful_groups", "useful groups"},
	{"generated_groups", "generated groups"},
}

func (r *Run) wasteTable() Table {
	t := Table{Kind: KindWaste, Title: "Waste per arm",
		Note: "Share of generated rollouts that carried no gradient into a training step, and why (shares of generated groups), " +
			"with the pool's in-zone fraction: mean over steps ± standard error — over the seeds' means with several seeds, " +
			"else of 10 batch means of consecutive steps (successive steps are correlated, so sd/√steps would be too small)."}
	var cols []int
	for i, c := range wasteColumns {
		for _, a := range r.arms {
			if _, ok := r.final(a, c.metric); ok {
				cols = append(cols, i)
				break
			}
		}
	}
	if len(cols) == 0 {
		return t
	}
	t.Header = []string{"arm"}
	for _, i := range cols {
		t.Header = append(t.Header, wasteColumns[i].header)
	}
	for _, a := range r.arms {
		row := []string{a}
		any := false
		for _, i := range cols {
			s, ok := r.final(a, wasteColumns[i].metric)
			if !ok {
				row = append(row, dash)
				continue
			}
			any = true
			row = append(row, valueSE(s.Metric, s.Value, s.StdErr))
		}
		if any {
			t.Rows = append(t.Rows, row)
		}
	}
	return t
}

func (r *Run) sweepTable() Table {
	return r.sweepWide(Table{Kind: KindSweep, Title: "Waste vs in-zone fraction",
		Note: "Waste of each selector at each in-zone fraction (mean over seeds ± half its 95% interval), counting the " +
			"groups still being generated when a market window seals in full; for markets, × is the efficiency " +
			"multiplier over the reactive filter."}, sweepInFull)
}

func (r *Run) sweepCarriedTable() Table {
	return r.sweepWide(Table{Kind: KindSweepCarried, Title: "Waste vs in-zone fraction, in-flight work carried over",
		Note: "As above, for markets whose miners carry the work under way at a seal into the next window (a persistent " +
			"miner pool at an unchanged checkpoint): waste = 1 − hit rate × the share of submitted groups accepted. " +
			"The filter has no in-flight work."}, sweepCarried)
}

// sweepValues picks one accounting of a sweep point's waste and multiplier,
// with their 95% intervals.
type sweepValues func(p SweepPoint) (waste, wasteLow, wasteHigh, mult, multLow, multHigh float64)

func sweepInFull(p SweepPoint) (float64, float64, float64, float64, float64, float64) {
	return p.Waste, p.WasteCILow, p.WasteCIHigh, p.Multiplier, p.MultiplierLow, p.MultiplierHigh
}

func sweepCarried(p SweepPoint) (float64, float64, float64, float64, float64, float64) {
	return p.WasteCarried, p.WasteCarriedCILow, p.WasteCarriedCIHigh, p.MultiplierCarried, p.MultiplierCarriedLow, p.MultiplierCarriedHigh
}

// sweepGrid is each selector's sweep points by in-zone target.
func (r *Run) sweepGrid() map[string]map[float64]SweepPoint {
	grid := map[string]map[float64]SweepPoint{}
	for _, sel := range r.selectors {
		grid[sel] = map[float64]SweepPoint{}
		for _, p := range r.sweepPoints(sel) {
			grid[sel][p.Target] = p
		}
	}
	return grid
}

// sweepWide is a sweep table with one column per selector.
func (r *Run) sweepWide(t Table, values sweepValues) Table {
	if len(r.Sweep) == 0 {
		return t
	}
	t.Header = append([]string{"in-zone target", "achieved"}, r.selectors...)
	pts := r.sweepGrid()
	for _, target := range r.sweepTargets() {
		row := []string{Percent(target), dash}
		for _, sel := range r.selectors {
			p, ok := pts[sel][target]
			if !ok {
				row = append(row, dash)
				continue
			}
			if row[1] == dash {
				row[1] = strconv.FormatFloat(100*p.Achieved, 'f', 2, 64) + "%"
			}
			waste, lo, hi, mult, _, _ := values(p)
			cell := Percent(waste)
			if !math.IsNaN(lo) && !math.IsNaN(hi) {
				cell += " ± " + strconv.FormatFloat(50*(hi-lo), 'f', 1, 64)
			}
			if !math.IsNaN(mult) {
				cell += " " + times(mult)
			}
			row = append(row, cell)
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

func (r *Run) sweepDetailTable() Table {
	t := Table{Kind: KindSweepDetail, Title: "Sweep: every statistic per point",
		Note: "Per in-zone target and selector (mean over seeds): waste with its 95% interval, counting in-flight work " +
			"in full and carried over, hit rate (share of groups in the zone), useful rollouts per 1,000 generated, " +
			"in-flight, late and duplicate shares of generated groups (markets), and the efficiency multiplier over " +
			"the filter with its 95% interval, both ways.",
		Labels: 3,
		Header: []string{"in-zone target", "achieved", "selector", "waste", "waste 95% CI", "carried", "carried 95% CI",
			"hit rate", "useful / 1000", "in flight", "late", "duplicate", "multiplier", "multiplier 95% CI",
			"× carried", "× carried 95% CI"}}
	for _, target := range r.sweepTargets() {
		for _, sel := range r.selectors {
			for _, p := range r.sweepPoints(sel) {
				if p.Target != target {
					continue
				}
				t.Rows = append(t.Rows, []string{
					Percent(target), strconv.FormatFloat(100*p.Achieved, 'f', 2, 64) + "%", sel,
					Percent(p.Waste), bracket(p.WasteCILow, p.WasteCIHigh, Percent),
					Percent(p.WasteCarried), bracket(p.WasteCarriedCILow, p.WasteCarriedCIHigh, Percent),
					Percent(p.HitRate), strconv.FormatFloat(p.UsefulPer1000, 'f', 1, 64),
					Percent(p.InFlightShare), Percent(p.LateShare), Percent(p.DuplicateShare),
					times(p.Multiplier), bracket(p.MultiplierLow, p.MultiplierHigh, times),
					times(p.MultiplierCarried), bracket(p.MultiplierCarriedLow, p.MultiplierCarriedHigh, times),
				})
			}
		}
	}
	return t
}

// bracket formats a 95% interval as "[lo, hi]", a dash when it is missing.
func bracket(lo, hi float64, format func(float64) string) string {
	if math.IsNaN(lo) || math.IsNaN(hi) {
		return dash
	}
	return "[" + format(lo) + ", " + format(hi) + "]"
}

// tablesMarkdown is tables.md: every table with its title and note.
func tablesMarkdown(name string, tables []Table) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n%s\n", name, tablesMarker)
	for _, t := range tables {
		md, err := t.Markdown()
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "\n## %s\n\n%s\n\n%s", t.Title, t.Note, md)
	}
	return b.String(), nil
}
