package harness

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/relix-lab/relix/eval"
	"github.com/relix-lab/relix/experiment/seed"
	"github.com/relix-lab/relix/experiment/spec"
	"github.com/relix-lab/relix/results"
	"github.com/relix-lab/relix/results/dirlock"
)

// CompareTarget is one experiment relix compare reads.
type CompareTarget struct {
	Name  string   // its label in the tables
	Dir   string   // its results directory
	Swept []string // the multirun overrides that tell it apart, if any
}

// CompareTargets turns directories into experiments: a multirun's root
// stands for the experiments its MultirunFile lists, any other directory
// for itself. Labels are the multirun's directory names, or the results
// directories' base names, made unique by their paths where two collide.
func CompareTargets(dirs []string) ([]CompareTarget, error) {
	var out []CompareTarget
	for _, dir := range dirs {
		rec, err := ReadMultirun(dir)
		switch {
		case err == nil:
			for _, m := range rec.Experiments {
				out = append(out, CompareTarget{Name: m.Dir, Dir: filepath.Join(dir, m.Dir), Swept: m.Swept})
			}
		case errors.Is(err, fs.ErrNotExist):
			if _, err := os.Stat(dir); err != nil {
				return nil, err
			}
			out = append(out, CompareTarget{Name: filepath.Base(filepath.Clean(dir)), Dir: dir})
		default:
			return nil, err
		}
	}
	seen := map[string]int{}
	for _, t := range out {
		seen[t.Name]++
	}
	for i := range out {
		if seen[out[i].Name] > 1 {
			out[i].Name = filepath.ToSlash(filepath.Clean(out[i].Dir))
		}
	}
	if len(out) < 2 {
		return nil, fmt.Errorf("compare: want two or more experiments, got %d", len(out))
	}
	return out, nil
}

// comparedRun is one experiment as Compare reads it.
type comparedRun struct {
	target CompareTarget
	run    *results.Run
	spec   *spec.Spec
	evals  []results.Eval
}

// Compare puts experiments side by side: each one's over-seeds values of
// the arm metrics they all have, and each one's paired differences from the
// first, arm by arm, over the held-out problems and training seeds both
// scored (the crossed seeds × problems comparison with two or more shared
// seeds, as an experiment's own paired rows are). Every directory is
// checked against its manifest first.
func Compare(targets []CompareTarget) (*results.Comparison, error) {
	runs := make([]comparedRun, len(targets))
	for i, t := range targets {
		// Read nothing a relix run is writing: a shared lock, taken only
		// where a lock file exists, so that reading writes nothing.
		l, err := dirlock.AcquireIfLocked(t.Dir, dirlock.Shared, "relix compare")
		if err != nil {
			return nil, err
		}
		r, err := readCompared(t)
		if l != nil {
			_ = l.Release()
		}
		if err != nil {
			return nil, err
		}
		runs[i] = r
	}
	c := &results.Comparison{}
	for _, r := range runs {
		c.Experiments = append(c.Experiments, results.ComparedExperiment{
			Name: r.target.Name, Dir: r.target.Dir, SpecHash: r.spec.Hash(), Swept: r.target.Swept, Seeds: r.spec.Seeds})
	}
	c.Values = sharedValues(runs)
	ks := sharedKs(runs)
	finals := make([]map[string]map[uint64]eval.Scores, len(runs))
	for i, r := range runs {
		f, err := finalScores(r.spec, r.evals, ks)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", r.target.Dir, err)
		}
		finals[i] = f
	}
	base := runs[0]
	for i, r := range runs[1:] {
		for _, arm := range base.spec.Arms {
			a, b := finals[i+1][arm.Name], finals[0][arm.Name]
			if len(a) == 0 || len(b) == 0 {
				continue
			}
			rows, seeds, err := compareArm(arm.Name, a, b, sharedSeeds(r.spec.Seeds, base.spec.Seeds), base.spec.Eval.Bootstrap,
				seed.Derive(base.spec.Eval.Seed, "compare", r.target.Name, base.target.Name, arm.Name))
			if err != nil {
				c.Notes = append(c.Notes, fmt.Sprintf("%s − %s, arm %s: not compared: %v", r.target.Name, base.target.Name, arm.Name, err))
				continue
			}
			for _, s := range rows {
				s.Compare = base.target.Name
				c.Differences = append(c.Differences, results.ComparedDifference{Experiment: r.target.Name, Summary: s, Seeds: seeds})
			}
		}
	}
	return c, nil
}

func readCompared(t CompareTarget) (comparedRun, error) {
	r, err := results.Load(t.Dir)
	if err != nil {
		return comparedRun{}, err
	}
	if r.Manifest == nil || r.Manifest.Spec == "" {
		return comparedRun{}, fmt.Errorf("%s: no %s with the spec it ran; only results of relix run can be compared", t.Dir, results.ManifestFile)
	}
	s, err := spec.Loader{ReadFile: func(string) ([]byte, error) { return []byte(r.Manifest.Spec), nil }}.Load(filepath.Join(t.Dir, results.ManifestFile))
	if err != nil {
		return comparedRun{}, fmt.Errorf("%s: the spec in %s: %w", t.Dir, results.ManifestFile, err)
	}
	evals, err := results.Read[results.Eval](filepath.Join(t.Dir, results.EvalFile))
	if err != nil {
		return comparedRun{}, err
	}
	return comparedRun{target: t, run: r, spec: s, evals: evals}, nil
}

// sharedValues are the over-seeds rows of every (arm, metric) all runs
// have, in the first run's order.
func sharedValues(runs []comparedRun) []results.ComparedValue {
	type key struct{ arm, metric string }
	overall := func(s results.Summary) bool { return s.Compare == "" && s.Seed == nil && s.Step == nil }
	count := map[key]int{}
	for _, r := range runs {
		seen := map[key]bool{}
		for _, s := range r.run.Summary {
			if k := (key{s.Arm, s.Metric}); overall(s) && !seen[k] {
				seen[k] = true
				count[k]++
			}
		}
	}
	var order []key
	for _, s := range runs[0].run.Summary {
		if k := (key{s.Arm, s.Metric}); overall(s) && count[k] == len(runs) && !slices.Contains(order, k) {
			order = append(order, k)
		}
	}
	var out []results.ComparedValue
	for _, k := range order {
		for _, r := range runs {
			for _, s := range r.run.Summary {
				if overall(s) && s.Arm == k.arm && s.Metric == k.metric {
					out = append(out, results.ComparedValue{Experiment: r.target.Name, Summary: s})
					break
				}
			}
		}
	}
	return out
}

// sharedKs are the pass@k every run reports.
func sharedKs(runs []comparedRun) []int {
	ks := slices.Clone(runs[0].spec.Eval.K)
	for _, r := range runs[1:] {
		ks = slices.DeleteFunc(ks, func(k int) bool { return !slices.Contains(r.spec.Eval.K, k) })
	}
	return ks
}

func sharedSeeds(a, b []uint64) []uint64 {
	var out []uint64
	for _, s := range a {
		if slices.Contains(b, s) {
			out = append(out, s)
		}
	}
	return out
}

// finalScores are each arm's scores at its last evaluated checkpoint, by
// seed, at ks.
func finalScores(s *spec.Spec, evals []results.Eval, ks []int) (map[string]map[uint64]eval.Scores, error) {
	series := groupEvals(evals)
	out := map[string]map[uint64]eval.Scores{}
	for _, arm := range s.Arms {
		steps := series.steps(arm.Name)
		if len(steps) == 0 {
			continue
		}
		last := steps[len(steps)-1]
		out[arm.Name] = map[uint64]eval.Scores{}
		for _, sd := range s.Seeds {
			samples := series[seriesKey{arm.Name, sd, last}]
			if len(samples) == 0 {
				continue
			}
			sc, err := eval.Score(samples, ks)
			if err != nil {
				return nil, fmt.Errorf("arm %s seed %d step %d: %w", arm.Name, sd, last, err)
			}
			out[arm.Name][sd] = sc
		}
	}
	return out, nil
}

// compareArm is a − b for one arm of two experiments: over seeds and
// problems when two or more seeds pair, else over the problems of the
// seeds both have, averaged per problem. It returns the over-seeds rows
// and how many seeds paired.
func compareArm(arm string, a, b map[uint64]eval.Scores, seeds []uint64, draws int, bootSeed uint64) ([]results.Summary, int, error) {
	if len(seeds) == 0 {
		return nil, 0, errors.New("no training seed in common")
	}
	pair := spec.Pair{arm, arm}
	if paired := pairedSeeds(a, b, seeds); len(paired) >= 2 {
		rows, err := crossedRows(pair, a, b, paired, draws, bootSeed)
		if err != nil {
			return nil, 0, err
		}
		return slices.DeleteFunc(rows, func(s results.Summary) bool { return s.Seed != nil }), len(paired), nil
	}
	ma, mb := overSeeds(a, seeds), overSeeds(b, seeds)
	if ma == nil || mb == nil {
		return nil, 0, errors.New("no seed scored by both")
	}
	first := func(m map[uint64]eval.Scores) []string {
		for _, sd := range seeds {
			if sc, ok := m[sd]; ok {
				return sc.Problems
			}
		}
		return nil
	}
	if !slices.Equal(first(a), first(b)) {
		return nil, 0, errors.New("scored on different held-out problems")
	}
	rows, err := compareRows(pair, ma, mb, draws, bootSeed)
	if err != nil {
		return nil, 0, err
	}
	return rows, len(seeds), nil
}
