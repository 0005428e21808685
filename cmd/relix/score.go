package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
	"github.com/urfave/cli/v2"

	"github.com/relix-lab/relix/eval"
	"github.com/relix-lab/relix/results"
)

func scoreCommand(p *process) *cli.Command {
	return &cli.Command{
		Name:      "score",
		Usage:     "pass@k and truncation of per-sample records, and paired comparisons between arms",
		ArgsUsage: "FILE... (flags first)",
		Description: "Reads per-sample records, one file per arm: JSONL lines\n" +
			"{\"problem\": \"p1\" or 17, \"sample\": 0, \"correct\": true, \"finish_reason\": \"stop\" or \"length\"}\n" +
			"(\"truncated\": true|false may stand for finish_reason), or Parquet (*.parquet) with those\n" +
			"columns, such as one arm's rows of relix's eval table. FILE - reads JSONL from standard input.\n\n" +
			"Prints, per file, the unbiased pass@k (1 - C(n-c,k)/C(n,k) per problem, averaged) and the\n" +
			"truncation rate (share of finish_reason \"length\"), each with its standard error over problems.\n" +
			"With --paired OTHER, compares every FILE with OTHER on the same problems: mean difference,\n" +
			"SE, 95% Student-t interval, two-sided p-value (t with n-1 df), and a paired bootstrap that\n" +
			"resamples whole problems (percentile 95% interval, share of draws in which FILE beats OTHER).",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "k", Value: "1", Usage: "comma-separated `K`s of pass@k, e.g. 1,4 (every problem needs at least k samples)"},
			&cli.StringFlag{Name: "paired", Usage: "compare every FILE with the arm in `OTHER`, problem by problem"},
			&cli.BoolFlag{Name: "json", Usage: "print JSON instead of tables"},
			&cli.StringFlag{Name: "format", Value: "markdown", Usage: "table `STYLE`: markdown or ascii"},
			&cli.IntFlag{Name: "draws", Value: eval.DefaultBootstrapDraws, Usage: "`N` bootstrap resamples for --paired"},
			&cli.Uint64Flag{Name: "seed", Value: 1, Usage: "`SEED` of the bootstrap's random stream"},
		},
		Action: func(c *cli.Context) error {
			if err := flagsAfterFiles(c); err != nil {
				return err
			}
			if c.NArg() < 1 {
				return usagef("score takes at least one FILE")
			}
			ks, err := parseKs(c.String("k"))
			if err != nil {
				return err
			}
			format := c.String("format")
			if format != "markdown" && format != "ascii" {
				return usagef("--format %q: want markdown or ascii", format)
			}
			if c.Int("draws") < 1 {
				return usagef("--draws %d: want at least 1", c.Int("draws"))
			}
			report := scoreReport{ks: ks, draws: c.Int("draws"), seed: c.Uint64("seed")}
			for _, path := range c.Args().Slice() {
				if err := report.add(p, path); err != nil {
					return err
				}
			}
			if other := c.String("paired"); other != "" {
				if err := report.compareWith(p, other); err != nil {
					return err
				}
			}
			if c.Bool("json") {
				return report.writeJSON(p.stdout)
			}
			return report.writeTables(p.stdout, format == "markdown")
		},
	}
}

func parseKs(s string) ([]int, error) {
	var ks []int
	for _, field := range strings.Split(s, ",") {
		k, err := strconv.Atoi(strings.TrimSpace(field))
		if err != nil || k < 1 {
			return nil, usagef("--k %q: want positive integers separated by commas, like 1,4", s)
		}
		for _, seen := range ks {
			if seen == k {
				return nil, usagef("--k %q: %d appears twice", s, k)
			}
		}
		ks = append(ks, k)
	}
	return ks, nil
}

type scoredFile struct {
	path   string
	scores eval.Scores
}

type pairedResult struct {
	a, b        string
	comparisons []eval.Comparison
}

type scoreReport struct {
	ks     []int
	draws  int
	seed   uint64
	files  []scoredFile
	paired []pairedResult
}

// load reads and scores one file of per-sample records.
func (r *scoreReport) load(p *process, path string) (scoredFile, error) {
	for _, f := range r.files {
		if f.path == path && path != "-" {
			return f, nil
		}
	}
	var samples []eval.Sample
	if strings.HasSuffix(strings.ToLower(path), ".parquet") {
		s, err := results.ReadSamples(path)
		if err != nil {
			return scoredFile{}, invalid(err)
		}
		samples = s
	} else {
		in, name, closeIn, err := openRecords(p, path)
		if err != nil {
			return scoredFile{}, invalid(err)
		}
		defer closeIn()
		if samples, err = eval.ReadSamplesJSONL(in, name); err != nil {
			var lineErr *eval.LineError
			if errors.As(err, &lineErr) {
				return scoredFile{}, invalid(err)
			}
			return scoredFile{}, err
		}
	}
	scores, err := eval.Score(samples, r.ks)
	if err != nil {
		return scoredFile{}, invalid(fmt.Errorf("%s: %w", path, err))
	}
	return scoredFile{path: path, scores: scores}, nil
}

func (r *scoreReport) add(p *process, path string) error {
	f, err := r.load(p, path)
	if err != nil {
		return err
	}
	r.files = append(r.files, f)
	return nil
}

func (r *scoreReport) compareWith(p *process, other string) error {
	b, err := r.load(p, other)
	if err != nil {
		return err
	}
	arms := r.files
	if !r.has(other) {
		r.files = append(r.files, b)
	}
	for _, a := range arms {
		cmp, err := eval.ComparePaired(a.scores, b.scores, r.draws, r.seed)
		if err != nil {
			return invalid(fmt.Errorf("%s against %s: %w", a.path, other, err))
		}
		r.paired = append(r.paired, pairedResult{a: a.path, b: other, comparisons: cmp})
	}
	return nil
}

func (r *scoreReport) has(path string) bool {
	for _, f := range r.files {
		if f.path == path {
			return true
		}
	}
	return false
}

// isPercent reports whether a metric is shown in percent (differences in
// percentage points), as relix's result tables show truncation.
func isPercent(m eval.Metric) bool { return m.K == 0 }

func formatValue(m eval.Metric) string {
	if isPercent(m) {
		if math.IsNaN(m.SE) {
			return fmt.Sprintf("%.1f%%", 100*m.Mean)
		}
		return fmt.Sprintf("%.1f%% ± %.1f", 100*m.Mean, 100*m.SE)
	}
	if math.IsNaN(m.SE) {
		return fmt.Sprintf("%.3f", m.Mean)
	}
	return fmt.Sprintf("%.3f ± %.3f", m.Mean, m.SE)
}

// formatDiff writes a difference with its sign: probabilities with three
// decimals, percentages in percentage points.
func formatDiff(x float64, percent bool) string {
	if percent {
		return fmt.Sprintf("%+.1f pp", 100*x)
	}
	return fmt.Sprintf("%+.3f", x)
}

func formatSE(x float64, percent bool) string {
	if percent {
		return fmt.Sprintf("%.1f pp", 100*x)
	}
	return fmt.Sprintf("%.3f", x)
}

func formatP(p float64) string {
	if p < 0.001 {
		return fmt.Sprintf("%.1e", p)
	}
	return fmt.Sprintf("%.3f", p)
}

func formatT(t float64) string {
	switch {
	case math.IsInf(t, 1):
		return "+inf"
	case math.IsInf(t, -1):
		return "-inf"
	}
	return fmt.Sprintf("%.2f", t)
}

func (r *scoreReport) writeTables(w io.Writer, markdown bool) error {
	header := []string{"file", "problems", "samples"}
	for _, m := range r.files[0].scores.Metrics() {
		header = append(header, m.Name)
	}
	var rows [][]string
	for _, f := range r.files {
		row := []string{f.path, strconv.Itoa(len(f.scores.Problems)), strconv.Itoa(f.scores.Samples)}
		for _, m := range f.scores.Metrics() {
			row = append(row, formatValue(m))
		}
		rows = append(rows, row)
	}
	if err := renderTable(w, header, rows, 1, markdown); err != nil {
		return err
	}
	if len(r.paired) == 0 {
		return nil
	}
	header = []string{"A − B", "metric", "diff", "SE", "95% CI", "t", "df", "p", "bootstrap 95% CI", "A > B"}
	rows = rows[:0]
	for _, pr := range r.paired {
		for i, c := range pr.comparisons {
			percent := c.Metric == "truncation"
			label := ""
			if i == 0 {
				label = pr.a + " − " + pr.b
			}
			rows = append(rows, []string{
				label, c.Metric,
				formatDiff(c.Paired.Diff, percent),
				formatSE(c.Paired.SE, percent),
				"[" + formatDiff(c.Paired.CILow, percent) + ", " + formatDiff(c.Paired.CIHigh, percent) + "]",
				formatT(c.Paired.T),
				strconv.Itoa(c.Paired.DF),
				formatP(c.Paired.P),
				"[" + formatDiff(c.Bootstrap.Low, percent) + ", " + formatDiff(c.Bootstrap.High, percent) + "]",
				fmt.Sprintf("%.1f%%", 100*c.Bootstrap.ShareAWins),
			})
		}
	}
	fmt.Fprintln(w)
	if err := renderTable(w, header, rows, 2, markdown); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "\nPaired over %d problems: Student's t with n − 1 df; bootstrap of %d resamples of whole problems (seed %d). A > B is the share of resamples in which A's mean is higher.\n",
		r.paired[0].comparisons[0].Paired.N, r.draws, r.seed)
	return err
}

// renderTable draws a table with its label columns aligned left and its
// numbers right, in Markdown or in ASCII.
func renderTable(w io.Writer, header []string, rows [][]string, labels int, markdown bool) error {
	align := make([]tw.Align, len(header))
	for i := range align {
		align[i] = tw.AlignRight
		if i < labels {
			align[i] = tw.AlignLeft
		}
	}
	opts := []tablewriter.Option{
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithHeaderAutoWrap(tw.WrapNone),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithHeaderAlignmentConfig(tw.CellAlignment{PerColumn: align}),
		tablewriter.WithRowAlignmentConfig(tw.CellAlignment{PerColumn: align}),
	}
	if markdown {
		opts = append(opts, tablewriter.WithRenderer(renderer.NewMarkdown()))
	} else {
		opts = append(opts, tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{Symbols: tw.NewSymbols(tw.StyleASCII)})))
	}
	tbl := tablewriter.NewTable(w, opts...)
	tbl.Header(header)
	for _, row := range rows {
		if markdown {
			for i := range row {
				row[i] = strings.ReplaceAll(row[i], "|", `\|`)
			}
		}
		if err := tbl.Append(row); err != nil {
			return err
		}
	}
	return tbl.Render()
}

// jsonNumber is a float64 that encodes NaN and infinities (an undefined SE,
// a degenerate t) as null.
type jsonNumber float64

func (x jsonNumber) MarshalJSON() ([]byte, error) {
	f := float64(x)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, f, 'g', -1, 64), nil
}

type scoreJSON struct {
	Files  []scoreFileJSON `json:"files"`
	Paired []scorePairJSON `json:"paired,omitempty"`
}

type scoreFileJSON struct {
	File     string            `json:"file"`
	Problems int               `json:"problems"`
	Samples  int               `json:"samples"`
	Metrics  []scoreMetricJSON `json:"metrics"`
}

type scoreMetricJSON struct {
	Name string     `json:"name"`
	K    int        `json:"k,omitempty"`
	Mean jsonNumber `json:"mean"`
	SE   jsonNumber `json:"se"`
}

type scorePairJSON struct {
	A         string             `json:"a"`
	B         string             `json:"b"`
	Metric    string             `json:"metric"`
	N         int                `json:"n"`
	MeanA     jsonNumber         `json:"mean_a"`
	MeanB     jsonNumber         `json:"mean_b"`
	Diff      jsonNumber         `json:"diff"`
	SE        jsonNumber         `json:"se"`
	CILow     jsonNumber         `json:"ci_low"`
	CIHigh    jsonNumber         `json:"ci_high"`
	T         jsonNumber         `json:"t"`
	DF        int                `json:"df"`
	P         jsonNumber         `json:"p"`
	Bootstrap scoreBootstrapJSON `json:"bootstrap"`
}

type scoreBootstrapJSON struct {
	Draws      int        `json:"draws"`
	Seed       uint64     `json:"seed"`
	CILow      jsonNumber `json:"ci_low"`
	CIHigh     jsonNumber `json:"ci_high"`
	ShareAWins jsonNumber `json:"share_a_wins"`
}

func (r *scoreReport) writeJSON(w io.Writer) error {
	out := scoreJSON{Files: []scoreFileJSON{}}
	for _, f := range r.files {
		fj := scoreFileJSON{File: f.path, Problems: len(f.scores.Problems), Samples: f.scores.Samples}
		for _, m := range f.scores.Metrics() {
			fj.Metrics = append(fj.Metrics, scoreMetricJSON{Name: m.Name, K: m.K, Mean: jsonNumber(m.Mean), SE: jsonNumber(m.SE)})
		}
		out.Files = append(out.Files, fj)
	}
	for _, pr := range r.paired {
		for _, c := range pr.comparisons {
			out.Paired = append(out.Paired, scorePairJSON{
				A: pr.a, B: pr.b, Metric: c.Metric, N: c.Paired.N,
				MeanA: jsonNumber(c.Paired.MeanA), MeanB: jsonNumber(c.Paired.MeanB),
				Diff: jsonNumber(c.Paired.Diff), SE: jsonNumber(c.Paired.SE),
				CILow: jsonNumber(c.Paired.CILow), CIHigh: jsonNumber(c.Paired.CIHigh),
				T: jsonNumber(c.Paired.T), DF: c.Paired.DF, P: jsonNumber(c.Paired.P),
				Bootstrap: scoreBootstrapJSON{
					Draws: c.Bootstrap.Draws, Seed: c.Bootstrap.Seed,
					CILow: jsonNumber(c.Bootstrap.Low), CIHigh: jsonNumber(c.Bootstrap.High),
					ShareAWins: jsonNumber(c.Bootstrap.ShareAWins),
				},
			})
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(out)
}
