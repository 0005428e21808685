package results

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/relix-lab/relix/eval"
)

// ScoreOptions configure ScoreFiles, the library side of relix score.
type ScoreOptions struct {
	// Files are the per-sample records of one arm each: Parquet (*.parquet)
	// or JSONL; "-" reads JSONL from Stdin.
	Files []string
	// Paired, when set, is the arm every file is compared with.
	Paired string
	Ks     []int  // the ks of pass@k
	Draws  int    // bootstrap resamples of a paired comparison
	Seed   uint64 // the bootstrap's seed
	Stdin  io.Reader
	// By splits each Parquet file into one scored set per value of these
	// columns (arm, seed, checkpoint, step): a whole eval table at once.
	// Paired may then name a set by its values ("uniform" for arm=uniform).
	By []string
}

// An InputError is an error in what was given to read: a file that does
// not open or parse, or records that cannot be scored or paired.
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// ScoredFile is one file's records, scored.
type ScoredFile struct {
	Path   string // FILE, or FILE[arm=market] for one set of a file split --by
	Scores eval.Scores
	// file and label are what Path is made of: the file read and, with
	// --by, the set's column values.
	file, label string
}

// ScorePair is a file compared with the Paired arm, metric by metric.
type ScorePair struct {
	A, B        string
	Comparisons []eval.Comparison
}

// ScoreReport is what relix score prints: every file's scores, then the
// paired comparisons.
type ScoreReport struct {
	Draws  int
	Seed   uint64
	Files  []ScoredFile // the Paired arm last, unless it is one of Files
	Paired []ScorePair
}

// ScoreFiles reads and scores every file and compares each with the
// Paired arm.
func ScoreFiles(opts ScoreOptions) (*ScoreReport, error) {
	r := &ScoreReport{Draws: opts.Draws, Seed: opts.Seed}
	for _, path := range opts.Files {
		sets, err := r.load(opts, path)
		if err != nil {
			return nil, err
		}
		r.Files = append(r.Files, sets...)
	}
	if opts.Paired == "" {
		return r, nil
	}
	arms := r.Files
	b, ok := r.set(opts.Paired)
	if !ok {
		sets, err := r.load(opts, opts.Paired)
		if err != nil {
			return nil, err
		}
		if len(sets) != 1 {
			return nil, &InputError{fmt.Errorf("--paired %s holds %d sets (--by): name one of them", opts.Paired, len(sets))}
		}
		b = sets[0]
		r.Files = append(r.Files, b)
	}
	for _, a := range arms {
		if a.Path == b.Path {
			continue
		}
		cmp, err := eval.ComparePaired(a.Scores, b.Scores, opts.Draws, opts.Seed)
		if err != nil {
			return nil, &InputError{fmt.Errorf("%s against %s: %w", a.Path, b.Path, err)}
		}
		r.Paired = append(r.Paired, ScorePair{A: a.Path, B: b.Path, Comparisons: cmp})
	}
	return r, nil
}

// load reads and scores one file, once whatever how often it is named:
// one set, or with By one per value of the By columns.
func (r *ScoreReport) load(opts ScoreOptions, path string) ([]ScoredFile, error) {
	var out []ScoredFile
	for _, f := range r.Files {
		if f.file == path && path != "-" {
			out = append(out, f)
		}
	}
	if len(out) > 0 {
		return out, nil
	}
	groups, err := readSampleGroups(opts, path)
	if err != nil {
		return nil, err
	}
	for _, g := range groups {
		name := path
		if g.Label != "" {
			name = path + "[" + g.Label + "]"
		}
		scores, err := eval.Score(g.Samples, opts.Ks)
		if err != nil {
			return nil, &InputError{fmt.Errorf("%s: %w", name, err)}
		}
		out = append(out, ScoredFile{Path: name, Scores: scores, file: path, label: g.Label})
	}
	return out, nil
}

// set finds a scored set by its name, or by its --by values: "uniform"
// and "arm=uniform" both name FILE[arm=uniform].
func (r *ScoreReport) set(name string) (ScoredFile, bool) {
	var found []ScoredFile
	for _, f := range r.Files {
		var values []string
		for _, kv := range strings.Split(f.label, ",") {
			_, v, _ := strings.Cut(kv, "=")
			values = append(values, v)
		}
		if f.Path == name || (f.label != "" && (f.label == name || strings.Join(values, ",") == name)) {
			found = append(found, f)
		}
	}
	if len(found) == 1 {
		return found[0], true
	}
	return ScoredFile{}, false
}

func readSampleGroups(opts ScoreOptions, path string) ([]SampleGroup, error) {
	if strings.HasSuffix(strings.ToLower(path), ".parquet") {
		g, err := ReadSampleGroups(path, opts.By)
		if err != nil {
			return nil, &InputError{err}
		}
		return g, nil
	}
	if len(opts.By) > 0 {
		return nil, &InputError{fmt.Errorf("%s: --by splits Parquet files (an eval table); JSONL records are one set per file", path)}
	}
	samples, err := readSampleRecords(opts.Stdin, path)
	if err != nil {
		return nil, err
	}
	return []SampleGroup{{Samples: samples}}, nil
}

func readSampleRecords(stdin io.Reader, path string) ([]eval.Sample, error) {
	if strings.HasSuffix(strings.ToLower(path), ".parquet") {
		s, err := ReadSamples(path)
		if err != nil {
			return nil, &InputError{err}
		}
		return s, nil
	}
	in, name := stdin, "stdin"
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, &InputError{err}
		}
		defer f.Close()
		in, name = f, path
	}
	samples, err := eval.ReadSamplesJSONL(in, name)
	if errors.As(err, new(*eval.LineError)) {
		return nil, &InputError{err}
	}
	return samples, err
}

// scoresTable has a row per scored set: its label, problems, samples and
// every metric's value ± SE.
func scoresTable(label string, rows []ScoredFile) Table {
	t := Table{Header: []string{label, "problems", "samples"}}
	var names []string // every row's metrics: truncation is missing where finish reasons are unknown
	for _, f := range rows {
		for _, m := range f.Scores.Metrics() {
			if !slices.Contains(names, m.Name) {
				names = append(names, m.Name)
			}
		}
	}
	t.Header = append(t.Header, names...)
	for _, f := range rows {
		row := []string{f.Path, strconv.Itoa(len(f.Scores.Problems)), strconv.Itoa(f.Scores.Samples)}
		for _, name := range names {
			cell := "unknown"
			for _, m := range f.Scores.Metrics() {
				if m.Name == name {
					cell = valueSE(m.Name, m.Mean, m.SE)
				}
			}
			row = append(row, cell)
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

// pairedScoresTable has a row per comparison and metric, each pair named
// on its first row.
func (r *ScoreReport) pairedScoresTable() Table {
	t := Table{Labels: 2, Header: []string{"A − B", "metric", "diff", "SE", "95% CI", "t", "df", "p", "bootstrap 95% CI", "A > B"}}
	for _, pr := range r.Paired {
		for i, c := range pr.Comparisons {
			label := ""
			if i == 0 {
				label = pr.A + " − " + pr.B
			}
			m := c.Metric
			t.Rows = append(t.Rows, []string{
				label, m,
				diff(m, c.Paired.Diff),
				diffSE(m, c.Paired.SE),
				ci(m, c.Paired.CILow, c.Paired.CIHigh, true),
				tValue(c.Paired.T),
				strconv.Itoa(c.Paired.DF),
				pValueShort(c.Paired.P),
				ci(m, c.Bootstrap.Low, c.Bootstrap.High, true),
				Percent(c.Bootstrap.ShareAWins),
			})
		}
	}
	return t
}

// pValueShort is relix score's p: three decimals, two significant digits
// below 0.001, as it has always printed them.
func pValueShort(p float64) string {
	if p < 0.001 {
		return fmt.Sprintf("%.1e", p)
	}
	return fmt.Sprintf("%.3f", p)
}

func tValue(t float64) string {
	switch {
	case math.IsInf(t, 1):
		return "+inf"
	case math.IsInf(t, -1):
		return "-inf"
	}
	return fmt.Sprintf("%.2f", t)
}

// Write prints the files' table and, when there are comparisons, the
// paired table and what its tests were.
func (r *ScoreReport) Write(w io.Writer, style Style) error {
	if err := scoresTable("file", r.Files).Render(w, style); err != nil {
		return err
	}
	if len(r.Paired) == 0 {
		return nil
	}
	fmt.Fprintln(w)
	if err := r.pairedScoresTable().Render(w, style); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "\nPaired over %d problems: Student's t with n − 1 df; bootstrap of %d resamples of whole problems (seed %d). A > B is the share of resamples in which A's mean is higher.\n",
		r.Paired[0].Comparisons[0].Paired.N, r.Draws, r.Seed)
	return err
}

// EvalReport is one checkpoint's held-out scores, as relix eval prints
// them.
type EvalReport struct {
	Experiment string
	Arm        string // the arm scored; "" for the base policy or a checkpoint directory
	Seed       uint64 // the run seed
	Checkpoint string // the runner's checkpoint id
	// How the samples were drawn and graded: the spec's eval block.
	SamplesPerProblem int
	Temperature, TopP float64
	MaxTokens         int
	TruncatedZero     bool // truncated completions scored 0 rather than graded on their answer
	Scores            eval.Scores
	// TrainPool is the training pool's in-zone fraction at the checkpoint,
	// nil where the runner cannot report exact success probabilities.
	TrainPool *TrainPoolZone
}

// TrainPoolZone is the exact in-zone fraction of the training pool at a
// checkpoint: the mean over its problems of the chance that a group of
// GroupSize drawn with the training sampling passes the σ gate under the
// training reward.
type TrainPoolZone struct {
	Problems      int
	GroupSize     int
	SigmaMin      float64
	TruncatedZero bool // the training reward scores truncated completions 0
	InZone        float64
}

// Target names what was scored: the arm, or the base policy.
func (r EvalReport) Target() string {
	if r.Arm != "" {
		return r.Arm
	}
	return "base policy"
}

// Write prints what was scored, how, and the scores' table.
func (r EvalReport) Write(w io.Writer, style Style) error {
	truncated := "graded on the answer they contain"
	if r.TruncatedZero {
		truncated = "scored 0"
	}
	fmt.Fprintf(w, "%s: %s, checkpoint %s, seed %d\n", r.Experiment, r.Target(), r.Checkpoint, r.Seed)
	fmt.Fprintf(w, "%d held-out problems × %d samples, temperature %g, top_p %g, max_tokens %d; truncated completions %s\n\n",
		len(r.Scores.Problems), r.SamplesPerProblem, r.Temperature, r.TopP, r.MaxTokens, truncated)
	if err := scoresTable("policy", []ScoredFile{{Path: r.Target(), Scores: r.Scores}}).Render(w, style); err != nil {
		return err
	}
	if tp := r.TrainPool; tp != nil {
		reward := "graded on the answer they contain"
		if tp.TruncatedZero {
			reward = "scored 0"
		}
		_, err := fmt.Fprintf(w, "\ntraining pool: %d problems, in-zone fraction %s%% (exact: a group of %d with reward std ≥ %g, truncated completions %s)\n",
			tp.Problems, num("in_zone_fraction", tp.InZone, false), tp.GroupSize, tp.SigmaMin, reward)
		return err
	}
	return nil
}

// WriteGradeSummary prints relix grade --summary: the accuracy with its
// Wilson 95% interval, then how many answers were wrong for each reason.
func WriteGradeSummary(w io.Writer, sum eval.GradeSummary) error {
	if sum.Graded == 0 {
		_, err := fmt.Fprintln(w, "graded 0 completions")
		return err
	}
	low, high, err := eval.Wilson(sum.Correct, sum.Graded, eval.Z95)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "graded %d completions: %d correct, accuracy %s (Wilson 95%% interval %s to %s)\n",
		sum.Graded, sum.Correct, num("accuracy", float64(sum.Correct)/float64(sum.Graded), false), num("accuracy", low, false), num("accuracy", high, false))
	if len(sum.Reasons) == 0 {
		return nil
	}
	reasons := make([]string, 0, len(sum.Reasons))
	for r := range sum.Reasons {
		reasons = append(reasons, r)
	}
	slices.SortFunc(reasons, func(a, b string) int {
		if d := sum.Reasons[b] - sum.Reasons[a]; d != 0 {
			return d
		}
		return strings.Compare(a, b)
	})
	parts := make([]string, len(reasons))
	for i, r := range reasons {
		parts[i] = fmt.Sprintf("%d %s", sum.Reasons[r], r)
	}
	_, err = fmt.Fprintf(w, "wrong: %s\n", strings.Join(parts, ", "))
	return err
}
