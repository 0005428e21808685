// Package results is what a relix run leaves behind: the Parquet tables of
// every rollout, training step, evaluation sample, problem and statistic, the run's
// manifest, and everything derived from those files alone — plots (PNG and
// SVG), Markdown tables, a self-contained index.html and the generated
// sections of EXPERIMENTS.md.
//
// It is the only package of relix (with the dataset loader) that imports
// Arrow, so that nothing else pays Arrow's build cost.
//
// The tables are declared once, in schema.go, as a list of columns per row
// type; the Arrow schema, the writer, the reader and the documentation test
// for README.md are all derived from that list. Writers stream (one row
// group in memory at a time) and commit atomically: a file appears under its
// final name only once it is complete and on disk.
//
// The report side (Load, Render, Report) reads only the files in a results
// directory: every number a table shows comes from summary.parquet, which
// the orchestrator fills with eval's statistics, so rebuilding a report never
// reruns or recomputes an experiment.
//
// The same tables and number formats (format.go: what shows as a
// probability, a percent or percentage points) serve what relix score, eval
// and grade print (scores.go), so a number reads the same wherever it is.
package results
