// Package sweepdir writes a zone sweep's results directory: the sweep
// table (sweep.parquet), manifest.json, and the plots, tables.md and
// index.html that relix report renders from them.
//
// It is apart from package zone so that the sweep itself, and its tests,
// do not link the Arrow and Parquet libraries that package results needs.
package sweepdir

import (
	"fmt"
	"runtime"
	"strconv"

	"github.com/relix-lab/relix/experiment/dataset"
	"github.com/relix-lab/relix/experiment/spec"
	"github.com/relix-lab/relix/harness/zone"
	"github.com/relix-lab/relix/results"
)

// Rows are the sweep's points as rows of the sweep table, in the order of
// res.Points.
func Rows(res *zone.Result) []results.SweepPoint {
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

// Write writes the sweep of spec s into dir — sweep.parquet, then
// manifest.json (m, with the spec, the selectors, the seeds, the levels
// and the data files filled in), then the rendered plots and tables — and
// returns the render. m carries what only the caller knows: relix's
// build, the clock's start and end, the runner.
func Write(dir string, s *spec.Spec, pool *dataset.Set, res *zone.Result, m *results.Manifest) (*results.Rendered, error) {
	if err := results.WriteFile(results.Layout{Dir: dir}.Sweep(), Rows(res), results.Options{SpecHash: s.Hash()}); err != nil {
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
	m.Notes = Notes(s, res)
	if err := m.ListFiles(dir); err != nil {
		return nil, err
	}
	if err := results.WriteManifest(dir, m); err != nil {
		return nil, err
	}
	return results.Build(dir, results.RenderOptions{Formats: s.Output.Plots})
}

// Notes say how the sweep was run: its levels and its conventions.
func Notes(s *spec.Spec, res *zone.Result) []string {
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
			percent(lv.Target), lv.Achieved, lv.Shift, lv.Offset, lv.Runners))
	}
	return notes
}

// percent writes a grid fraction as a percentage with the float noise of
// 100·f rounded off (0.07 → "7%").
func percent(f float64) string {
	return strconv.FormatFloat(100*f, 'g', 6, 64) + "%"
}
