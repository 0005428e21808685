// Package runtable reads what the scripts' tables show of a results
// directory (its summary.parquet and steps.parquet) and splices a generated
// section into a hand-written Markdown file. scripts/ablation and
// scripts/robustness share it so that a number means the same in both.
package runtable

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"

	"github.com/relix-lab/relix/results"
)

// Run is one results directory's tables.
type Run struct {
	Name      string // the directory's base name
	Summary   []results.Summary
	Steps     []results.Step
	FinalStep int32
	Seeds     int // training seeds in steps.parquet
}

// Read loads dir's summary and steps tables.
func Read(dir string) (*Run, error) {
	summary, err := results.Read[results.Summary](filepath.Join(dir, results.SummaryFile))
	if err != nil {
		return nil, err
	}
	steps, err := results.Read[results.Step](filepath.Join(dir, results.StepsFile))
	if err != nil {
		return nil, err
	}
	r := &Run{Name: filepath.Base(dir), Summary: summary, Steps: steps}
	seeds := map[uint64]bool{}
	for _, s := range steps {
		r.FinalStep = max(r.FinalStep, s.Step)
		seeds[s.Seed] = true
	}
	r.Seeds = len(seeds)
	return r, nil
}

// Row is the whole-run row of metric for arm, or for arm − compare when
// compare is set: aggregated over seeds (with one seed, that seed's) and at
// the final checkpoint or over the whole run. Over two or more seeds a
// paired row's interval is the seeds × problems one.
func (r *Run) Row(arm, compare, metric string) (results.Summary, error) {
	for _, s := range r.Summary {
		if s.Arm == arm && s.Compare == compare && s.Metric == metric && s.Seed == nil && s.Step == nil {
			return s, nil
		}
	}
	if compare != "" {
		arm += " − " + compare
	}
	return results.Summary{}, fmt.Errorf("%s: no %s row for %s", r.Name, metric, arm)
}

// PerSeed is the per-seed whole-run rows of metric for arm (− compare), in
// seed order: with few seeds their spread says more than an interval whose
// t quantile has one or two degrees of freedom.
func (r *Run) PerSeed(arm, compare, metric string) []results.Summary {
	var out []results.Summary
	for _, s := range r.Summary {
		if s.Arm == arm && s.Compare == compare && s.Metric == metric && s.Seed != nil && s.Step == nil {
			out = append(out, s)
		}
	}
	slices.SortFunc(out, func(a, b results.Summary) int { return cmp.Compare(*a.Seed, *b.Seed) })
	return out
}

// Values returns a reader of whole-run single-arm values that remembers
// the first missing row in *err and returns 0 from then on, so a caller can
// read a table's worth of cells and check once.
func (r *Run) Values(err *error) func(arm, metric string) float64 {
	return func(arm, metric string) float64 {
		if *err != nil {
			return 0
		}
		s, e := r.Row(arm, "", metric)
		*err = e
		return s.Value
	}
}

// InZone is arm's training-pool in-zone fraction at each checkpoint of at,
// the mean over seeds (NaN where no seed has the row). A step row's in-zone
// fraction is the pool's at the checkpoint that generated the step's
// rollouts, so checkpoint s is read from step s+1; the last checkpoint
// generated nothing, so the final step's row stands for it.
func (r *Run) InZone(arm string, at []int32) []float64 {
	sum, n := map[int32]float64{}, map[int32]int{}
	for _, s := range r.Steps {
		if s.Arm == arm {
			sum[s.Step] += s.InZoneFraction
			n[s.Step]++
		}
	}
	out := make([]float64, len(at))
	for i, a := range at {
		row := min(a+1, r.FinalStep)
		out[i] = math.NaN()
		if n[row] > 0 {
			out[i] = sum[row] / float64(n[row])
		}
	}
	return out
}

// Groups is an arm's groups generated and groups trained on (useful) per
// step, means over steps and seeds.
func (r *Run) Groups(arm string) (generated, useful float64) {
	n := 0
	for _, s := range r.Steps {
		if s.Arm == arm {
			generated += float64(s.GeneratedGroups)
			useful += float64(s.UsefulGroups)
			n++
		}
	}
	if n == 0 {
		return math.NaN(), math.NaN()
	}
	return generated / float64(n), useful / float64(n)
}

// Splice replaces what lies between the begin and end markers of doc with
// section; a document without markers (a new file) gets them appended.
func Splice(doc []byte, begin, end, section string) ([]byte, error) {
	block := begin + "\n" + section + end
	b, rest, found := bytes.Cut(doc, []byte(begin))
	if !found {
		if len(doc) > 0 && !bytes.HasSuffix(doc, []byte("\n")) {
			doc = append(doc, '\n')
		}
		return append(doc, block+"\n"...), nil
	}
	_, after, found := bytes.Cut(rest, []byte(end))
	if !found {
		return nil, fmt.Errorf("%s without %s", begin, end)
	}
	// A new slice: b and after share doc's array, so appending the block to
	// b would write over after before it is copied.
	out := make([]byte, 0, len(b)+len(block)+len(after))
	return append(append(append(out, b...), block...), after...), nil
}

// WriteSection splices section into the file at path (created if absent),
// keeping the prose outside the markers.
func WriteSection(path, begin, end, section string) error {
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	doc, err := Splice(old, begin, end, section)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return os.WriteFile(path, doc, 0o644)
}

// Emit prints section when path is empty, and otherwise rewrites path's
// section between begin and end with it (WriteSection).
func Emit(path, begin, end, section string) error {
	if path == "" {
		_, err := os.Stdout.WriteString(section)
		return err
	}
	return WriteSection(path, begin, end, section)
}
