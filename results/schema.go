package results

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
)

// SchemaVersion is written into every Parquet file's key-value metadata.
// Bump it whenever a column is added, removed, renamed or changes meaning,
// and mark an added column with the version that added it (addedIn): the
// reader still reads a file of any version from OldestSchemaVersion on,
// filling in what such a file lacks (table.upgrade), and refuses others.
// Version 2 added rollouts.useful, eval.text and the problems table.
const SchemaVersion = 2

// OldestSchemaVersion is the oldest schema version the readers read: old
// results stay readable, as those who keep them (DVC, an evaluation
// harness's cache) expect.
const OldestSchemaVersion = 1

// Key-value metadata keys of every table file.
const (
	metaTable         = "relix.table"
	metaSchemaVersion = "relix.schema_version"
	metaSpecHash      = "relix.spec_hash"
)

// createdBy is pinned so that files (and their goldens) do not change when
// the Arrow library is upgraded.
const createdBy = "relix"

// Row is the set of row types that have a table.
type Row interface {
	Rollout | Step | Eval | Summary | SweepPoint | Problem
}

type colFlags uint8

const (
	nullable colFlags = 1 << iota // "" / NaN / nil is written as null
	dict                          // dictionary-encode (low-cardinality strings)
)

// column is one declared column of the table of row type R: its Arrow type,
// its documentation, and how a row's field is written and read.
type column[R any] struct {
	name  string
	typ   arrow.DataType
	flags colFlags
	unit  string
	doc   string
	// since is the schema version that added the column (0: the first):
	// a file of an older version does not have it.
	since int
	// put appends the rows' values (or nulls) to the column's buffer: a
	// block of rows a column at a time, so that the loop over the rows is
	// typed and the block stays in cache across the columns.
	put func(b *colBuf, rows []R)
	get func(a arrow.Array, i int, r *R)
	// json appends the row's value as JSON (null where the file has null).
	json func(b []byte, r *R) []byte
}

type table[R any] struct {
	name string // rollouts, steps, ...
	file string
	doc  string
	cols []column[R]
	// upgrade, when set, fills in what a file of an older schema version
	// lacks and can be derived from its rows: it wraps the reader's
	// callback, and flush hands on any rows it still holds at the end.
	upgrade func(version int, fn func(R) error) (emit func(R) error, flush func() error)
}

// addedIn marks a column as added in schema version v.
func (c column[R]) addedIn(v int) column[R] {
	c.since = v
	return c
}

// inVersion reports whether files of schema version v have the column.
func (c *column[R]) inVersion(v int) bool { return c.since <= v }

func (t *table[R]) schema() *arrow.Schema {
	fields := make([]arrow.Field, len(t.cols))
	for i, c := range t.cols {
		fields[i] = arrow.Field{Name: c.name, Type: c.typ, Nullable: c.flags&nullable != 0}
	}
	return arrow.NewSchema(fields, nil)
}

func strCol[R any](name string, f func(*R) *string, flags colFlags, unit, doc string) column[R] {
	return column[R]{name: name, typ: arrow.BinaryTypes.String, flags: flags, unit: unit, doc: doc,
		put: func(b *colBuf, rows []R) {
			for i := range rows {
				v := *f(&rows[i])
				null := flags&nullable != 0 && v == ""
				if flags&nullable != 0 {
					b.defined(!null)
				}
				b.str(v, null)
			}
		},
		json: func(b []byte, r *R) []byte {
			if v := *f(r); flags&nullable == 0 || v != "" {
				return appendJSONString(b, v)
			}
			return append(b, "null"...)
		},
		get: func(a arrow.Array, i int, r *R) {
			if a.IsNull(i) {
				*f(r) = ""
				return
			}
			// Value aliases the record's buffer, which is released after the
			// batch is read: copy.
			*f(r) = strings.Clone(a.(*array.String).Value(i))
		},
	}
}

func i32Col[R any](name string, f func(*R) *int32, unit, doc string) column[R] {
	return column[R]{name: name, typ: arrow.PrimitiveTypes.Int32, unit: unit, doc: doc,
		put: func(b *colBuf, rows []R) {
			for i := range rows {
				b.i32 = append(b.i32, *f(&rows[i]))
			}
		},
		json: func(b []byte, r *R) []byte { return strconv.AppendInt(b, int64(*f(r)), 10) },
		get:  func(a arrow.Array, i int, r *R) { *f(r) = a.(*array.Int32).Value(i) },
	}
}

func i64Col[R any](name string, f func(*R) *int64, unit, doc string) column[R] {
	return column[R]{name: name, typ: arrow.PrimitiveTypes.Int64, unit: unit, doc: doc,
		put: func(b *colBuf, rows []R) {
			for i := range rows {
				b.i64 = append(b.i64, *f(&rows[i]))
			}
		},
		json: func(b []byte, r *R) []byte { return strconv.AppendInt(b, *f(r), 10) },
		get:  func(a arrow.Array, i int, r *R) { *f(r) = a.(*array.Int64).Value(i) },
	}
}

func u64Col[R any](name string, f func(*R) *uint64, unit, doc string) column[R] {
	return column[R]{name: name, typ: arrow.PrimitiveTypes.Uint64, unit: unit, doc: doc,
		put: func(b *colBuf, rows []R) {
			for i := range rows {
				b.i64 = append(b.i64, int64(*f(&rows[i]))) // Parquet INT64 holds the bits
			}
		},
		json: func(b []byte, r *R) []byte { return strconv.AppendUint(b, *f(r), 10) },
		get:  func(a arrow.Array, i int, r *R) { *f(r) = a.(*array.Uint64).Value(i) },
	}
}

func boolCol[R any](name string, f func(*R) *bool, unit, doc string) column[R] {
	return column[R]{name: name, typ: arrow.FixedWidthTypes.Boolean, unit: unit, doc: doc,
		put: func(b *colBuf, rows []R) {
			for i := range rows {
				b.bools = append(b.bools, *f(&rows[i]))
			}
		},
		json: func(b []byte, r *R) []byte { return strconv.AppendBool(b, *f(r)) },
		get:  func(a arrow.Array, i int, r *R) { *f(r) = a.(*array.Boolean).Value(i) },
	}
}

// f64Col declares a float64 column; with nullable, NaN is written as null
// and null is read as NaN.
func f64Col[R any](name string, f func(*R) *float64, flags colFlags, unit, doc string) column[R] {
	return column[R]{name: name, typ: arrow.PrimitiveTypes.Float64, flags: flags, unit: unit, doc: doc,
		put: func(b *colBuf, rows []R) {
			for i := range rows {
				v := *f(&rows[i])
				if flags&nullable != 0 {
					b.defined(!math.IsNaN(v))
				}
				b.f64 = append(b.f64, v)
			}
		},
		json: func(b []byte, r *R) []byte { return appendJSONFloat(b, *f(r)) },
		get: func(a arrow.Array, i int, r *R) {
			if a.IsNull(i) {
				*f(r) = math.NaN()
				return
			}
			*f(r) = a.(*array.Float64).Value(i)
		},
	}
}

func optU64Col[R any](name string, f func(*R) **uint64, unit, doc string) column[R] {
	return column[R]{name: name, typ: arrow.PrimitiveTypes.Uint64, flags: nullable, unit: unit, doc: doc,
		put: func(b *colBuf, rows []R) {
			for i := range rows {
				var v uint64
				p := *f(&rows[i])
				if p != nil {
					v = *p
				}
				b.defined(p != nil)
				b.i64 = append(b.i64, int64(v))
			}
		},
		json: func(b []byte, r *R) []byte {
			if p := *f(r); p != nil {
				return strconv.AppendUint(b, *p, 10)
			}
			return append(b, "null"...)
		},
		get: func(a arrow.Array, i int, r *R) {
			*f(r) = nil
			if !a.IsNull(i) {
				v := a.(*array.Uint64).Value(i)
				*f(r) = &v
			}
		},
	}
}

func optI32Col[R any](name string, f func(*R) **int32, unit, doc string) column[R] {
	return column[R]{name: name, typ: arrow.PrimitiveTypes.Int32, flags: nullable, unit: unit, doc: doc,
		put: func(b *colBuf, rows []R) {
			for i := range rows {
				var v int32
				p := *f(&rows[i])
				if p != nil {
					v = *p
				}
				b.defined(p != nil)
				b.i32 = append(b.i32, v)
			}
		},
		json: func(b []byte, r *R) []byte {
			if p := *f(r); p != nil {
				return strconv.AppendInt(b, int64(*p), 10)
			}
			return append(b, "null"...)
		},
		get: func(a arrow.Array, i int, r *R) {
			*f(r) = nil
			if !a.IsNull(i) {
				v := a.(*array.Int32).Value(i)
				*f(r) = &v
			}
		},
	}
}

// Units used in the column documentation.
const (
	unitNone     = "—"
	unitFraction = "fraction 0–1"
	unitCount    = "count"
	unitTokens   = "tokens"
)

// Column names avoid SQL keywords (group, window) so that DuckDB and other
// SQL readers need no quoting.
var rolloutsTable = &table[Rollout]{
	name: "rollouts", file: RolloutsFile,
	doc:     "One row per completion generated for training, by the uniform source's trainer or a market miner, used or wasted.",
	upgrade: usefulFromGroups,
	cols: []column[Rollout]{
		strCol("arm", func(r *Rollout) *string { return &r.Arm }, dict, unitNone, "arm name, as in the spec"),
		u64Col("seed", func(r *Rollout) *uint64 { return &r.Seed }, unitNone, "experiment seed of the run (runs repeat over seeds)"),
		i32Col("step", func(r *Rollout) *int32 { return &r.Step }, "step", "training step the completion was generated for, from 1"),
		i64Col("window_index", func(r *Rollout) *int64 { return &r.Window }, unitNone, "market window that the submission was made to (one window per step); the step for the uniform source"),
		strCol("checkpoint", func(r *Rollout) *string { return &r.Checkpoint }, dict, unitNone, "checkpoint that generated the completion"),
		strCol("miner", func(r *Rollout) *string { return &r.Miner }, nullable|dict, unitNone, "market miner id; null for the uniform source"),
		i32Col("group_index", func(r *Rollout) *int32 { return &r.Group }, unitNone, "index of the group among all groups generated for this step, in arrival order, from 0"),
		strCol("prompt", func(r *Rollout) *string { return &r.Prompt }, dict, unitNone, "problem id of the prompt"),
		i32Col("completion", func(r *Rollout) *int32 { return &r.Completion }, unitNone, "index of the completion within its group, 0 to G−1"),
		f64Col("reward", func(r *Rollout) *float64 { return &r.Reward }, 0, "reward", "reward computed by the harness with eval's grader (binary: 0 or 1)"),
		i32Col("tokens", func(r *Rollout) *int32 { return &r.Tokens }, unitTokens, "completion length"),
		boolCol("truncated", func(r *Rollout) *bool { return &r.Truncated }, unitNone, "the completion hit max_tokens without an end-of-sequence token (finish reason `length`)"),
		boolCol("accepted", func(r *Rollout) *bool { return &r.Accepted }, unitNone, "the completion's group was used in the training step"),
		boolCol("useful", func(r *Rollout) *bool { return &r.Useful }, unitNone, "the completion's group carried gradient into the step: accepted, and its rewards' std at least train.grpo.std_epsilon, so that its advantages are not all zero (the uniform source without a filter trains on zero-variance groups, which carry none). Summed per arm, seed and step it is steps.useful_rollouts, less the completions of the step's carried_in_groups (auction with carry: generated, and listed, in an earlier window with reason carried)").addedIn(2),
		strCol("reason", func(r *Rollout) *string { return &r.Reason }, nullable|dict, unitNone, "why the group was not trained on: discarded (the filter's σ gate), missed (its miner's own σ check), in-flight (market: still being generated when the window sealed), late (market: reached the validator after the seal), duplicate (market: its prompt was already accepted in the window), outranked (auction: admitted but not a winner), carried (auction with carry: won, held for a later window and trained there, or dropped at a change of checkpoint) or rejected:<check> (window, checkpoint, dataset, cooldown, rewards, sigma, proof); null when accepted"),
		f64Col("arrival", func(r *Rollout) *float64 { return &r.Arrival }, nullable, "virtual seconds", "market: arrival time of the submission since the window opened; null for the uniform source"),
	},
}

var stepsTable = &table[Step]{
	name: "steps", file: StepsFile,
	doc: "One row per arm, seed and training step: the runner's metrics and the waste of the rollouts generated for the step.",
	cols: []column[Step]{
		strCol("arm", func(r *Step) *string { return &r.Arm }, dict, unitNone, "arm name"),
		u64Col("seed", func(r *Step) *uint64 { return &r.Seed }, unitNone, "experiment seed of the run"),
		i32Col("step", func(r *Step) *int32 { return &r.Step }, "step", "training step, from 1"),
		strCol("checkpoint", func(r *Step) *string { return &r.Checkpoint }, 0, unitNone, "checkpoint produced by this step"),
		f64Col("loss", func(r *Step) *float64 { return &r.Loss }, nullable, unitNone, "GRPO loss of the step; null when the runner did not report it"),
		f64Col("grad_norm", func(r *Step) *float64 { return &r.GradNorm }, nullable, unitNone, "gradient norm before clipping"),
		f64Col("kl", func(r *Step) *float64 { return &r.KL }, nullable, "nats/token", "mean KL divergence to the reference policy (k3 estimator)"),
		f64Col("clip_fraction", func(r *Step) *float64 { return &r.ClipFraction }, nullable, unitFraction, "share of tokens whose probability ratio was clipped"),
		f64Col("entropy", func(r *Step) *float64 { return &r.Entropy }, nullable, "nats/token", "mean token entropy of the policy"),
		f64Col("lr", func(r *Step) *float64 { return &r.LR }, nullable, unitNone, "learning rate of the step"),
		f64Col("in_zone_fraction", func(r *Step) *float64 { return &r.InZoneFraction }, nullable, unitFraction, "in-zone fraction of the training pool at the generating checkpoint (see Metrics, defined once); null when not measured"),
		f64Col("zero_std_share", func(r *Step) *float64 { return &r.ZeroStdShare }, nullable, unitFraction, "share of the generated groups whose rewards have zero std"),
		f64Col("truncation", func(r *Step) *float64 { return &r.Truncation }, nullable, unitFraction, "share of the generated completions that were truncated (clipped ratio)"),
		f64Col("waste", func(r *Step) *float64 { return &r.Waste }, nullable, unitFraction, "1 − useful_rollouts / generated_rollouts"),
		i32Col("useful_groups", func(r *Step) *int32 { return &r.UsefulGroups }, unitCount, "groups that carried gradient in the step: trained on, with non-zero reward variance (vanilla GRPO also trains on zero-variance groups, which carry none)"),
		i32Col("generated_groups", func(r *Step) *int32 { return &r.GeneratedGroups }, unitCount, "groups generated for the step by anyone (trainer or miners)"),
		i32Col("late_groups", func(r *Step) *int32 { return &r.LateGroups }, unitCount, "market: valid groups that arrived after the window was sealed; 0 otherwise"),
		i32Col("duplicate_groups", func(r *Step) *int32 { return &r.DuplicateGroups }, unitCount, "market: groups whose prompt was already accepted in the window; 0 otherwise"),
		i32Col("invalid_groups", func(r *Step) *int32 { return &r.InvalidGroups }, unitCount, "market: groups rejected by verification (stale checkpoint, forged rewards or tokens, unknown prompt, cooldown); 0 otherwise"),
		i32Col("missed_groups", func(r *Step) *int32 { return &r.MissedGroups }, unitCount, "market: groups a miner did not submit because they failed its own σ check; uniform filter: groups discarded by the σ gate"),
		i32Col("in_flight_groups", func(r *Step) *int32 { return &r.InFlightGroups }, unitCount, "market: groups still being generated when the window sealed (counted as waste); 0 otherwise"),
		i32Col("outranked_groups", func(r *Step) *int32 { return &r.OutrankedGroups }, unitCount, "auction: groups admitted at arrival that did not win (N ranked above them won first, a better group won their prompt, or the proof budget ran out); 0 otherwise"),
		i64Col("useful_rollouts", func(r *Step) *int64 { return &r.UsefulRollouts }, unitCount, "completions of the useful groups"),
		i64Col("generated_rollouts", func(r *Step) *int64 { return &r.GeneratedRollouts }, unitCount, "completions generated for the step"),
		i64Col("tokens", func(r *Step) *int64 { return &r.Tokens }, unitTokens, "completion tokens generated for the step, used or wasted"),
		i32Col("trained_groups", func(r *Step) *int32 { return &r.TrainedGroups }, unitCount, "groups the step trained on (N for the uniform source; fewer when a filter step stopped at its cap or a market window did not fill)"),
		i32Col("burned_slots", func(r *Step) *int32 { return &r.BurnedSlots }, unitCount, "N − trained_groups: slots of the step's batch left empty (the auction burns them)"),
		f64Col("window_seconds", func(r *Step) *float64 { return &r.WindowSeconds }, nullable, "virtual seconds", "market: the window's length, from its opening to its seal (race) or deadline (auction); null otherwise"),
		f64Col("trained_reward", func(r *Step) *float64 { return &r.TrainedReward }, nullable, "reward", "mean reward of the completions trained on (the difficulty of what the step trained on: lower is harder); null when it trained on none"),
		i32Col("carried_groups", func(r *Step) *int32 { return &r.CarriedGroups }, unitCount, "auction with carry: groups that won in this window and are held for a later one (fewer than N had won at this checkpoint); 0 otherwise"),
		i32Col("carried_in_groups", func(r *Step) *int32 { return &r.CarriedInGroups }, unitCount, "auction with carry: groups trained on in this step that earlier windows won and carried (generated there: their rows are those windows'); 0 otherwise"),
		i32Col("dropped_groups", func(r *Step) *int32 { return &r.DroppedGroups }, unitCount, "auction with carry: carried groups let go at this window's opening because the published checkpoint had changed (won, never trained on); 0 otherwise"),
	},
}

var evalTable = &table[Eval]{
	name: "eval", file: EvalFile,
	doc: "One row per sample of each held-out problem, for every evaluated checkpoint of every arm and seed. Every arm is scored with the same sampling seeds, so rows with equal (seed, problem, sample) are paired.",
	cols: []column[Eval]{
		strCol("arm", func(r *Eval) *string { return &r.Arm }, dict, unitNone, "arm name"),
		u64Col("seed", func(r *Eval) *uint64 { return &r.Seed }, unitNone, "experiment seed of the run"),
		i32Col("step", func(r *Eval) *int32 { return &r.Step }, "step", "training step of the checkpoint; 0 for the base model"),
		strCol("checkpoint", func(r *Eval) *string { return &r.Checkpoint }, dict, unitNone, "checkpoint id"),
		strCol("problem", func(r *Eval) *string { return &r.Problem }, dict, unitNone, "held-out problem id"),
		i32Col("sample", func(r *Eval) *int32 { return &r.Sample }, unitNone, "sample index, 0 to n−1"),
		boolCol("correct", func(r *Eval) *bool { return &r.Correct }, unitNone, "the extracted answer was graded correct"),
		boolCol("truncated", func(r *Eval) *bool { return &r.Truncated }, unitNone, "the completion hit max_tokens without an end-of-sequence token"),
		i32Col("tokens", func(r *Eval) *int32 { return &r.Tokens }, unitTokens, "completion length"),
		strCol("answer", func(r *Eval) *string { return &r.Answer }, nullable, unitNone, "the final answer extracted from the completion; null when none was found"),
		strCol("text", func(r *Eval) *string { return &r.Text }, nullable, unitNone, "the completion's text, as the runner returned it, when the spec's eval.keep_text is true; null when it is false (the default) and in files of schema version 1").addedIn(2),
	},
}

var summaryTable = &table[Summary]{
	name: "summary", file: SummaryFile,
	doc: "One row per statistic. A row with a null `compare` is a metric of one arm; a row with `compare` set is the paired difference `arm − compare` over the same problems and seeds (with several training seeds, over seeds × problems, plus one row per seed). Every number in tables.md and EXPERIMENTS.md is read from this table.",
	cols: []column[Summary]{
		strCol("arm", func(r *Summary) *string { return &r.Arm }, dict, unitNone, "arm name (arm A of a paired row)"),
		strCol("compare", func(r *Summary) *string { return &r.Compare }, nullable|dict, unitNone, "paired rows: arm B, the arm subtracted; null for a single-arm statistic"),
		optU64Col("seed", func(r *Summary) **uint64 { return &r.Seed }, unitNone, "the seed the statistic is for (paired rows: both arms trained with it); null when aggregated over every seed"),
		optI32Col("step", func(r *Summary) **int32 { return &r.Step }, "step", "checkpoint step the statistic is for; null for the final checkpoint (or the run as a whole)"),
		strCol("metric", func(r *Summary) *string { return &r.Metric }, dict, unitNone, "metric name: pass@k (k an integer), truncation, waste, zero_std_share, late_share, duplicate_share, invalid_share, in_flight_share, outranked_share (auction), batch_filled, trained_reward, window_seconds (market), in_zone_fraction, ..."),
		f64Col("value", func(r *Summary) *float64 { return &r.Value }, 0, "metric's", "the estimate; for paired rows the mean difference arm − compare over problems (and, over several seeds, over seeds × problems)"),
		f64Col("stderr", func(r *Summary) *float64 { return &r.StdErr }, nullable, "metric's", "standard error of value (paired rows: sd(d)/√n over problems; over several seeds, from the seed, problem and residual variance components)"),
		f64Col("ci_low", func(r *Summary) *float64 { return &r.CILow }, nullable, "metric's", "lower end of the 95% confidence interval"),
		f64Col("ci_high", func(r *Summary) *float64 { return &r.CIHigh }, nullable, "metric's", "upper end of the 95% confidence interval"),
		strCol("method", func(r *Summary) *string { return &r.Method }, nullable|dict, unitNone, "how the interval was computed: normal over problems, t over seeds' means (a per-step series run with several seeds; n is the seeds), batch means over steps (a per-step series of one seed: t over 10 batches of consecutive steps; training variance not included), too few steps (no interval), paired t, paired t over seeds × problems, or total (a count: no interval)"),
		f64Col("p_value", func(r *Summary) *float64 { return &r.P }, nullable, "probability", "paired rows: two-sided p-value of a zero mean difference; null otherwise"),
		f64Col("boot_low", func(r *Summary) *float64 { return &r.BootLow }, nullable, "metric's", "paired rows: lower end of the paired-bootstrap 95% percentile interval (problems resampled whole; over several seeds, seeds and problems resampled independently); null on per-seed paired rows"),
		f64Col("boot_high", func(r *Summary) *float64 { return &r.BootHigh }, nullable, "metric's", "paired rows: upper end of the paired-bootstrap 95% percentile interval"),
		f64Col("share_greater", func(r *Summary) *float64 { return &r.ShareGreater }, nullable, unitFraction, "paired rows: share of bootstrap draws in which arm's mean exceeds compare's"),
		i64Col("n", func(r *Summary) *int64 { return &r.N }, unitCount, "units behind the estimate: problems for eval metrics and paired rows, steps or groups otherwise"),
	},
}

var sweepTable = &table[SweepPoint]{
	name: "sweep", file: SweepFile,
	doc: "One row per target in-zone fraction, selector and seed, plus one aggregate row (null `seed`) per target and selector with the mean and its 95% interval across seeds.",
	cols: []column[SweepPoint]{
		f64Col("target_in_zone", func(r *SweepPoint) *float64 { return &r.Target }, 0, unitFraction, "target in-zone fraction of the grid point (0.01 = 1%)"),
		f64Col("achieved_in_zone", func(r *SweepPoint) *float64 { return &r.Achieved }, 0, unitFraction, "in-zone fraction the pool actually had (bisection on the difficulty offset)"),
		strCol("selector", func(r *SweepPoint) *string { return &r.Selector }, dict, unitNone, "selector name: a line of the sweep plot"),
		strCol("kind", func(r *SweepPoint) *string { return &r.Kind }, dict, unitNone, "filter (uniform sampling with the reactive filter) or market"),
		optU64Col("seed", func(r *SweepPoint) **uint64 { return &r.Seed }, unitNone, "seed of the repetition; null for the aggregate over seeds"),
		i32Col("windows", func(r *SweepPoint) *int32 { return &r.Windows }, unitCount, "windows simulated per seed"),
		f64Col("waste", func(r *SweepPoint) *float64 { return &r.Waste }, 0, unitFraction, "1 − useful / generated rollouts, groups in flight at a market window's seal counted in full (mean over seeds on aggregate rows)"),
		f64Col("waste_stderr", func(r *SweepPoint) *float64 { return &r.WasteStdErr }, nullable, unitFraction, "standard error of waste across seeds; null on per-seed rows"),
		f64Col("waste_ci_low", func(r *SweepPoint) *float64 { return &r.WasteCILow }, nullable, unitFraction, "lower end of the 95% interval of waste across seeds"),
		f64Col("waste_ci_high", func(r *SweepPoint) *float64 { return &r.WasteCIHigh }, nullable, unitFraction, "upper end of the 95% interval of waste across seeds"),
		f64Col("waste_carried", func(r *SweepPoint) *float64 { return &r.WasteCarried }, nullable, unitFraction, "waste when miners carry the work in flight at a seal into the next window: 1 − hit rate × share of submitted groups accepted (the filter's equals its waste)"),
		f64Col("waste_carried_ci_low", func(r *SweepPoint) *float64 { return &r.WasteCarriedCILow }, nullable, unitFraction, "lower end of the 95% interval of waste_carried across seeds"),
		f64Col("waste_carried_ci_high", func(r *SweepPoint) *float64 { return &r.WasteCarriedCIHigh }, nullable, unitFraction, "upper end of the 95% interval of waste_carried across seeds"),
		f64Col("hit_rate", func(r *SweepPoint) *float64 { return &r.HitRate }, 0, unitFraction, "share of generated groups that were in the zone"),
		f64Col("useful_per_1000", func(r *SweepPoint) *float64 { return &r.UsefulPer1000 }, 0, "per 1,000 rollouts", "useful rollouts per 1,000 generated"),
		f64Col("late_share", func(r *SweepPoint) *float64 { return &r.LateShare }, nullable, unitFraction, "market: share of generated groups that arrived after the window sealed; null for the filter"),
		f64Col("duplicate_share", func(r *SweepPoint) *float64 { return &r.DuplicateShare }, nullable, unitFraction, "market: share of generated groups whose prompt was already accepted; null for the filter"),
		f64Col("in_flight_share", func(r *SweepPoint) *float64 { return &r.InFlightShare }, nullable, unitFraction, "market: share of generated groups still being generated when the window sealed; null for the filter"),
		f64Col("multiplier", func(r *SweepPoint) *float64 { return &r.Multiplier }, nullable, "ratio", "market: useful rollouts per generated rollout ÷ the filter's at the same target (on aggregate rows, the ratio of the means over seeds); null for the filter"),
		f64Col("multiplier_low", func(r *SweepPoint) *float64 { return &r.MultiplierLow }, nullable, "ratio", "lower end of the 95% interval of multiplier (delta method on its logarithm, across seeds)"),
		f64Col("multiplier_high", func(r *SweepPoint) *float64 { return &r.MultiplierHigh }, nullable, "ratio", "upper end of the 95% interval of multiplier"),
		f64Col("multiplier_carried", func(r *SweepPoint) *float64 { return &r.MultiplierCarried }, nullable, "ratio", "market: multiplier with the market's work counted as waste_carried counts it; null for the filter"),
		f64Col("multiplier_carried_low", func(r *SweepPoint) *float64 { return &r.MultiplierCarriedLow }, nullable, "ratio", "lower end of the 95% interval of multiplier_carried across seeds"),
		f64Col("multiplier_carried_high", func(r *SweepPoint) *float64 { return &r.MultiplierCarriedHigh }, nullable, "ratio", "upper end of the 95% interval of multiplier_carried across seeds"),
		i64Col("generated_groups", func(r *SweepPoint) *int64 { return &r.GeneratedGroups }, unitCount, "groups generated (summed over seeds on aggregate rows)"),
		i64Col("useful_groups", func(r *SweepPoint) *int64 { return &r.UsefulGroups }, unitCount, "groups used (summed over seeds on aggregate rows)"),
	},
}

var problemsTable = &table[Problem]{
	name: "problems", file: ProblemsFile,
	doc: "One row per problem of the training pool and of the held-out set, in set order: what the problem is, its observable features, and how hard the runner says it is. Written once per results directory (the pools are the experiment's, the same for every seed).",
	cols: []column[Problem]{
		strCol("problem", func(r *Problem) *string { return &r.Problem }, 0, unitNone, "problem id, as eval.problem and rollouts.prompt name it; unique within a pool"),
		strCol("pool", func(r *Problem) *string { return &r.Pool }, dict, unitNone, "train (the training pool) or heldout (the held-out set)"),
		strCol("topic", func(r *Problem) *string { return &r.Topic }, nullable|dict, unitNone, "the generator's topic, or the file's topic column; null when the set has none"),
		optI32Col("level", func(r *Problem) **int32 { return &r.Level }, unitNone, "the generator's difficulty level the problem was drawn at, from 1; null for a problem read from a file"),
		strCol("statement", func(r *Problem) *string { return &r.Statement }, 0, unitNone, "the problem statement, the prompt's text"),
		strCol("answer", func(r *Problem) *string { return &r.Answer }, 0, unitNone, "the reference answer the grader compares with"),
		i32Col("chars", func(r *Problem) *int32 { return &r.Chars }, unitCount, "characters (runes) in the statement"),
		i32Col("words", func(r *Problem) *int32 { return &r.Words }, unitCount, "whitespace-separated words in the statement"),
		i32Col("numbers", func(r *Problem) *int32 { return &r.Numbers }, unitCount, "numeric literals in the statement (\\frac{3}{4} is two)"),
		i32Col("max_digits", func(r *Problem) *int32 { return &r.MaxDigits }, unitCount, "the most digits in one numeric literal"),
		i32Col("total_digits", func(r *Problem) *int32 { return &r.TotalDigits }, unitCount, "digits over all numeric literals"),
		i32Col("operators", func(r *Problem) *int32 { return &r.Operators }, unitCount, "operator symbols and words in the statement"),
		i32Col("unknowns", func(r *Problem) *int32 { return &r.Unknowns }, unitCount, "quantities to solve for (exact for a generated problem, estimated from the text for a loaded one, as the next two)"),
		i32Col("operations", func(r *Problem) *int32 { return &r.Operations }, unitCount, "arithmetic operations a direct solution performs"),
		i32Col("reasoning_steps", func(r *Problem) *int32 { return &r.ReasoningSteps }, unitCount, "reasoning steps a direct solution takes (the feature dataset calls steps)"),
		strCol("answer_kind", func(r *Problem) *string { return &r.AnswerKind }, dict, unitNone, "the form of the reference answer: integer, fraction, decimal, radical, tuple or other"),
		i32Col("answer_digits", func(r *Problem) *int32 { return &r.AnswerDigits }, unitCount, "digits written in the reference answer"),
		f64Col("answer_magnitude", func(r *Problem) *float64 { return &r.AnswerMagnitude }, 0, "log10", "log10(1 + |value|) of the answer (a tuple: its largest component); 0 for other"),
		boolCol("answer_negative", func(r *Problem) *bool { return &r.AnswerNegative }, unitNone, "the answer, or a component of it, is negative"),
		f64Col("difficulty", func(r *Problem) *float64 { return &r.Difficulty }, nullable, "runner's", "the runner's latent difficulty of the problem, on the runner's own scale (the sim: d_i, a logit, higher is harder; runners/sim/README.md); null when the runner does not say (a worker that does not serve the protocol's difficulties method, such as the reference Python worker)"),
		f64Col("base_success", func(r *Problem) *float64 { return &r.BaseSuccess }, nullable, "probability", "the runner's exact probability that one completion by the base checkpoint earns reward 1, with the pool's sampling and rule for truncated completions (train: train.sampling and train.reward.truncated; heldout: eval.sampling and eval.truncated); null when the runner does not know it (runners.Oracle: the sim does, a GPU worker does not)"),
	},
}

// tableFor returns the declared table of row type R.
func tableFor[R Row]() *table[R] {
	var r R
	var t any
	switch any(r).(type) {
	case Rollout:
		t = rolloutsTable
	case Step:
		t = stepsTable
	case Eval:
		t = evalTable
	case Summary:
		t = summaryTable
	case SweepPoint:
		t = sweepTable
	case Problem:
		t = problemsTable
	}
	return t.(*table[R])
}

// appendJSONString writes s as a JSON string (strconv's quoting is Go's,
// whose \x escapes JSON does not have).
func appendJSONString(b []byte, s string) []byte {
	q, _ := json.Marshal(s) // a string always marshals
	return append(b, q...)
}

// appendJSONFloat writes v as JSON: NaN and the infinities, which JSON
// cannot hold, as null.
func appendJSONFloat(b []byte, v float64) []byte {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return append(b, "null"...)
	}
	return strconv.AppendFloat(b, v, 'g', -1, 64)
}

// AppendNDJSON appends rows as newline-delimited JSON, one object a row,
// with the table's column names and values (null where the file has
// null): a line per row that tail -f, jq and DuckDB's read_json read as
// the Parquet table's rows.
func AppendNDJSON[R Row](b []byte, rows []R) []byte {
	t := tableFor[R]()
	for i := range rows {
		b = append(b, '{')
		for c, col := range t.cols {
			if c > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, col.name)
			b = append(b, ':')
			b = col.json(b, &rows[i])
		}
		b = append(b, '}', '\n')
	}
	return b
}

// ColumnInfo documents one column of a table.
type ColumnInfo struct {
	Name     string
	Type     string // Arrow type: utf8, int32, int64, uint64, float64, bool
	Nullable bool
	Unit     string
	Doc      string
}

// TableInfo documents one table: its file and its columns in order.
type TableInfo struct {
	Name    string
	File    string
	Doc     string
	Columns []ColumnInfo
}

func info[R any](t *table[R]) TableInfo {
	ti := TableInfo{Name: t.name, File: t.file, Doc: t.doc}
	for _, c := range t.cols {
		ti.Columns = append(ti.Columns, ColumnInfo{
			Name: c.name, Type: c.typ.String(), Nullable: c.flags&nullable != 0, Unit: c.unit, Doc: c.doc,
		})
	}
	return ti
}

// Schemas documents every table, in the order of results/README.md.
func Schemas() []TableInfo {
	return []TableInfo{info(rolloutsTable), info(stepsTable), info(evalTable), info(problemsTable), info(summaryTable), info(sweepTable)}
}
