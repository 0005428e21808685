package harness

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"time"

	"github.com/relix-lab/relix/experiment/dataset"
	"github.com/relix-lab/relix/experiment/spec"
	"github.com/relix-lab/relix/harness/zone"
	"github.com/relix-lab/relix/results"
	"github.com/relix-lab/relix/results/dirlock"
	"github.com/relix-lab/relix/runners"
)

// SweepOptions configure Sweep.
type SweepOptions struct {
	// SpecPath is the spec's file, for resolving relative paths in it.
	SpecPath string
	// Out is the results directory; empty means the spec's output.dir.
	Out string
	// Jobs is how many runs execute at once; 0 means GOMAXPROCS. The
	// results do not depend on it.
	Jobs int
	// Log, when set, hears a line each time another tenth of the runs is
	// done.
	Log io.Writer
	// Now is the clock of the manifest and of Log's lines (required).
	Now func() time.Time
	// Relix identifies this build, for the manifest.
	Relix results.BuildInfo
	// Backends are the runner kinds this program serves (required; the
	// sweep needs kind sim).
	Backends runners.Backends
	// Command names this process to another relix while it holds Out.
	Command string
}

// SweepOutcome is what Sweep did.
type SweepOutcome struct {
	Dir      string
	Result   *zone.Result
	Manifest *results.Manifest
	Rendered *results.Rendered // the tables and plots
}

// Sweep runs the zone sweep of s (package zone) and writes its results
// directory: sweep.parquet, then manifest.json, then the plots and tables
// that relix report renders from them. A problem set that cannot be made
// or read is a *ProblemSetError.
func Sweep(ctx context.Context, s *spec.Spec, opts SweepOptions) (*SweepOutcome, error) {
	if opts.Now == nil {
		return nil, fmt.Errorf("harness: SweepOptions.Now is nil")
	}
	sets, err := LoadProblemSets(s, filepath.Dir(opts.SpecPath))
	if err != nil {
		return nil, err
	}
	out := opts.Out
	if out == "" {
		out = s.Output.Dir
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, err
	}
	command := opts.Command
	if command == "" {
		command = "relix sweep"
	}
	lock, err := dirlock.Acquire(out, dirlock.Exclusive, command)
	if err != nil {
		return nil, err
	}
	defer lock.Release()
	foreign, err := results.Foreign(out)
	if err != nil {
		return nil, err
	}
	if len(foreign) > 0 {
		return nil, results.ForeignError(out, foreign)
	}
	start := opts.Now()
	cfg := zone.Config{Spec: s, Pool: sets.Train, Jobs: opts.Jobs, Backends: opts.Backends}
	if opts.Log != nil {
		shown := 0
		cfg.Progress = func(done, total int) {
			if tenth := 10 * done / total; tenth > shown {
				shown = tenth
				fmt.Fprintf(opts.Log, "sweep: %d/%d runs, %s\n", done, total, opts.Now().Sub(start).Round(time.Second))
			}
		}
	}
	res, err := zone.Sweep(ctx, cfg)
	if err != nil {
		return nil, err
	}
	m := &results.Manifest{
		Relix:  opts.Relix,
		Runner: results.Component{Name: s.Runner.Kind, Version: opts.Relix.Version},
		Start:  start, End: opts.Now(),
	}
	rd, err := writeSweep(out, s, sets.Train, res, m)
	if err != nil {
		return nil, err
	}
	return &SweepOutcome{Dir: out, Result: res, Manifest: m, Rendered: rd}, nil
}

// sweepRows are the sweep's points as rows of the sweep table, in the
// order of res.Points.
func sweepRows(res *zone.Result) []results.SweepPoint {
	rows := make([]results.SweepPoint, len(res.Points))
	for i, p := range res.Points {
		rows[i] = results.SweepPoint{
			Target: p.Target, Achieved: p.Achieved, Selector: p.Selector, Kind: p.Kind, Seed: p.Seed, Windows: int32(p.Windows),
			Waste: p.Waste, WasteStdErr: p.WasteStdErr, WasteCILow: p.WasteCILow, WasteCIHigh: p.WasteCIHigh,
			WasteCarried: p.WasteCarried, WasteCarriedCILow: p.WasteCarriedCILow, WasteCarriedCIHigh: p.WasteCarriedCIHigh,
			HitRate: p.HitRate, UsefulPer1000: p.UsefulPer1000,
			LateShare: p.LateShare, DuplicateShare: p.DuplicateShare, InFlightShare: p.InFlightShare,
			Multiplier: p.Multiplier, MultiplierLow: p.MultiplierLow, MultiplierHigh: p.MultiplierHigh,
			MultiplierCarried: p.MultiplierCarried, MultiplierCarriedLow: p.MultiplierCarriedLow, MultiplierCarriedHigh: p.MultiplierCarriedHigh,
			GeneratedGroups: p.GeneratedGroups, UsefulGroups: p.UsefulGroups,
		}
	}
	return rows
}

// writeSweep writes the sweep of spec s into dir and returns the render.
// m carries what only the caller knows (relix's build, the clock's start
// and end, the runner); the spec, the selectors, the seeds, the levels and
// the data files are filled in here.
func writeSweep(dir string, s *spec.Spec, pool *dataset.Set, res *zone.Result, m *results.Manifest) (*results.Rendered, error) {
	if err := results.WriteFile(results.Layout{Dir: dir}.Sweep(), sweepRows(res), results.Options{SpecHash: s.Hash()}); err != nil {
		return nil, err
	}
	m.Experiment = s.Name
	m.SpecHash = s.Hash()
	m.Spec = string(s.YAML())
	m.GoVersion = runtime.Version()
	m.Datasets = []results.Dataset{{Name: "train", Source: s.Dataset.Train.Describe(), Problems: pool.Len(), SHA256: pool.Hash}}
	m.Arms = nil
	for _, sel := range s.Sweep.Selectors {
		m.Arms = append(m.Arms, sel.Name)
	}
	m.Seeds = s.Sweep.Seeds
	m.Notes = sweepNotes(s, res)
	if err := m.ListFiles(dir); err != nil {
		return nil, err
	}
	if err := results.WriteManifest(dir, m); err != nil {
		return nil, err
	}
	return results.Build(dir, results.RenderOptions{Formats: s.Output.Plots})
}

// sweepNotes say how the sweep was run: its levels and its conventions.
func sweepNotes(s *spec.Spec, res *zone.Result) []string {
	sw := s.Sweep
	notes := []string{
		fmt.Sprintf("%d measured windows per grid point, selector and seed (windows %d-%d); markets with history or learned estimators first run windows 0-%d and learn from their labels",
			sw.Windows, sw.Warmup, sw.Warmup+sw.Windows-1, sw.Warmup-1),
		"every level holds the pool fixed: one checkpoint, cooldown 0 (a prompt is excluded only from the rest of the window that accepted it)",
		"waste counts the groups still being generated when a market window seals in full; waste_carried carries them into the next window (1 − hit rate × share of submitted groups accepted)",
	}
	if sw.Warmup == 0 {
		notes[0] = fmt.Sprintf("%d measured windows per grid point, selector and seed; no warm-up", sw.Windows)
	}
	for _, lv := range res.Levels {
		notes = append(notes, fmt.Sprintf("in-zone %s: achieved %.6f with runner.sim.difficulty_shift %.6f (offset %+.6f; %d runners searched)",
			gridPercent(lv.Target), lv.Achieved, lv.Shift, lv.Offset, lv.Runners))
	}
	return notes
}

// gridPercent writes a grid fraction as a percentage with the float noise
// of 100·f rounded off (0.07 → "7%").
func gridPercent(f float64) string {
	return strconv.FormatFloat(100*f, 'g', 6, 64) + "%"
}
