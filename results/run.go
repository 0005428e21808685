package results

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Run is a results directory as the report sees it: the manifest and the
// three tables the report reads. rollouts.parquet and eval.parquet are the
// raw record for analysis; every number the report shows is in the summary.
type Run struct {
	Dir      string
	Name     string    // the experiment: the manifest's, or the directory's name
	Manifest *Manifest // nil when the directory has none
	Summary  []Summary
	Steps    []Step
	Sweep    []SweepPoint

	arms      []string // in display order
	selectors []string // sweep selectors in display order
	pal       palette  // the style of every arm and selector
}

// Load reads a results directory. A manifest, when present, must match the
// data files it lists (size and SHA-256) and the spec hash of every table.
// At least one of summary.parquet, steps.parquet and sweep.parquet must exist.
func Load(dir string) (*Run, error) {
	r := &Run{Dir: dir, Name: filepath.Base(filepath.Clean(dir))}
	m, err := ReadManifest(dir)
	switch {
	case err == nil:
		r.Manifest = m
		if m.Experiment != "" {
			r.Name = m.Experiment
		}
		if err := m.Verify(dir); err != nil {
			return nil, err
		}
	case errors.Is(err, fs.ErrNotExist):
	default:
		return nil, err
	}
	found := 0
	hashes := map[string]string{}
	if err := loadTable(dir, &r.Summary, &found, hashes); err != nil {
		return nil, err
	}
	if err := loadTable(dir, &r.Steps, &found, hashes); err != nil {
		return nil, err
	}
	if err := loadTable(dir, &r.Sweep, &found, hashes); err != nil {
		return nil, err
	}
	if found == 0 {
		if _, err := os.Stat(dir); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("%s: no results (want at least one of %s, %s, %s)", dir, SummaryFile, StepsFile, SweepFile)
	}
	if r.Manifest != nil && r.Manifest.SpecHash != "" {
		for file, h := range hashes {
			if h != "" && h != r.Manifest.SpecHash {
				return nil, fmt.Errorf("%s: written for spec %s, but %s is for spec %s (files of two different runs)",
					filepath.Join(dir, file), short(h), ManifestFile, short(r.Manifest.SpecHash))
			}
		}
	}
	r.index()
	return r, nil
}

func loadTable[R Row](dir string, rows *[]R, found *int, hashes map[string]string) error {
	path := tableFile[R](dir)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	*found++
	fi, err := Scan(path, ReadOptions{}, func(r R) error {
		*rows = append(*rows, r)
		return nil
	})
	hashes[filepath.Base(path)] = fi.SpecHash
	return err
}

// knownArms are shown first, in this order, when no manifest orders the arms.
var knownArms = []string{"base", "uniform", "market"}

// index fixes the display order of arms and selectors and their colours.
func (r *Run) index() {
	seen := map[string]bool{}
	var arms []string
	add := func(a string) {
		if a != "" && !seen[a] {
			seen[a] = true
			arms = append(arms, a)
		}
	}
	if r.Manifest != nil {
		for _, a := range r.Manifest.Arms {
			add(a)
		}
	}
	var rest []string
	for _, s := range r.Summary {
		rest = append(rest, s.Arm, s.Compare)
	}
	for _, s := range r.Steps {
		rest = append(rest, s.Arm)
	}
	for _, a := range knownArms {
		if slices.Contains(rest, a) {
			add(a)
		}
	}
	slices.Sort(rest)
	for _, a := range rest {
		add(a)
	}
	r.arms = arms

	// Selectors: filters first, then markets, each in the order of the file.
	var filters, markets []string
	for _, p := range r.Sweep {
		if slices.Contains(filters, p.Selector) || slices.Contains(markets, p.Selector) {
			continue
		}
		if p.Kind == "filter" {
			filters = append(filters, p.Selector)
		} else {
			markets = append(markets, p.Selector)
		}
	}
	r.selectors = append(filters, markets...)
	// One palette for both: the sweep's filter is the paired run's filter.
	r.pal = newPalette(append(slices.Clone(r.arms), r.selectors...))
}

// Arms are the arm names in display order.
func (r *Run) Arms() []string { return slices.Clone(r.arms) }

// kOf returns k for a metric named pass@k, or 0.
func kOf(metric string) int {
	rest, ok := strings.CutPrefix(metric, "pass@")
	if !ok {
		return 0
	}
	k, err := strconv.Atoi(rest)
	if err != nil || k < 1 {
		return 0
	}
	return k
}

// final returns the aggregate single-arm row of metric for the run as a
// whole (null seed, null step).
func (r *Run) final(arm, metric string) (Summary, bool) {
	for _, s := range r.Summary {
		if s.Arm == arm && s.Compare == "" && s.Metric == metric && s.Seed == nil && s.Step == nil {
			return s, true
		}
	}
	return Summary{}, false
}

// passKs are the k of every final pass@k row, ascending.
func (r *Run) passKs() []int {
	var ks []int
	for _, s := range r.Summary {
		if k := kOf(s.Metric); k > 0 && s.Compare == "" && s.Seed == nil && s.Step == nil && !slices.Contains(ks, k) {
			ks = append(ks, k)
		}
	}
	slices.Sort(ks)
	return ks
}

// armsWith are the arms, in display order, with a final single-arm row
// satisfying keep.
func (r *Run) armsWith(keep func(Summary) bool) []string {
	var out []string
	for _, a := range r.arms {
		for _, s := range r.Summary {
			if s.Arm == a && s.Compare == "" && s.Seed == nil && s.Step == nil && keep(s) {
				out = append(out, a)
				break
			}
		}
	}
	return out
}

// overSteps returns metric at each evaluated step for one arm: the
// aggregate rows (null seed) with their 95% intervals, or, when the summary
// has only per-seed rows, their mean with the range across seeds.
func (r *Run) overSteps(arm, metric string) (x, y, lo, hi []float64) {
	var agg []Summary
	perSeed := map[uint64]map[int32]float64{}
	for _, s := range r.Summary {
		if s.Arm != arm || s.Compare != "" || s.Metric != metric || s.Step == nil {
			continue
		}
		if s.Seed == nil {
			agg = append(agg, s)
			continue
		}
		if perSeed[*s.Seed] == nil {
			perSeed[*s.Seed] = map[int32]float64{}
		}
		perSeed[*s.Seed][*s.Step] = s.Value
	}
	if len(agg) == 0 {
		return bandOverSeeds(perSeed)
	}
	slices.SortStableFunc(agg, func(a, b Summary) int { return int(*a.Step - *b.Step) })
	for _, s := range agg {
		l, h := interval(s)
		x, y, lo, hi = append(x, float64(*s.Step)), append(y, s.Value), append(lo, l), append(hi, h)
	}
	return x, y, lo, hi
}

// sweepTargets are the grid's target fractions, ascending.
func (r *Run) sweepTargets() []float64 {
	var ts []float64
	for _, p := range r.Sweep {
		if !slices.Contains(ts, p.Target) {
			ts = append(ts, p.Target)
		}
	}
	slices.Sort(ts)
	return ts
}

// sweepPoints are one selector's points, one per target, ascending: the
// aggregate row (null seed), or the only seed's row where a single seed ran.
func (r *Run) sweepPoints(selector string) []SweepPoint {
	byTarget := map[float64][]SweepPoint{}
	for _, p := range r.Sweep {
		if p.Selector == selector {
			byTarget[p.Target] = append(byTarget[p.Target], p)
		}
	}
	var out []SweepPoint
	for _, t := range r.sweepTargets() {
		pts := byTarget[t]
		i := slices.IndexFunc(pts, func(p SweepPoint) bool { return p.Seed == nil })
		switch {
		case i >= 0:
			out = append(out, pts[i])
		case len(pts) == 1:
			out = append(out, pts[0])
		}
	}
	return out
}
