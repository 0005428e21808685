package harness

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/relix-lab/relix/harness/cluster"
	"github.com/relix-lab/relix/results"
)

// removeTemp deletes the temporary files an interrupted writer left in out
// — only where nobody else may be writing: a task (noMerge) shares out with
// the other tasks and clears its own runs only; a Slurm driver leaves the
// runs to their tasks (Run clears out once they are all done).
func removeTemp(out string, runs []cluster.Run, noMerge, slurm bool) error {
	switch {
	case slurm:
		return nil
	case noMerge:
		for _, id := range runs {
			if _, err := os.Stat(id.Dir(out)); errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if _, err := results.RemoveTemp(id.Dir(out)); err != nil {
				return err
			}
		}
		return nil
	}
	_, err := results.RemoveTemp(out)
	return err
}

// sortRuns puts ids in the order of plan.
func sortRuns(ids, plan []cluster.Run) {
	slices.SortFunc(ids, func(a, b cluster.Run) int { return slices.Index(plan, a) - slices.Index(plan, b) })
}

// slurm makes the Slurm executor of runs: each unfinished run becomes a
// task running `relix run --cluster local --arm A --seed S --no-merge` on
// the same spec and results directory. It returns the runs to submit and
// those of them that resume.
func (e *runEnv) slurm(opts Options, jobs int, runs []cluster.Run) (cluster.Executor, []cluster.Run, []cluster.Run, error) {
	bin := e.spec.Cluster.Binary
	if bin == "" {
		bin = opts.Executable
	}
	if bin == "" {
		return nil, nil, nil, errors.New("cluster.binary: not set, and relix does not know its own executable; name the relix that Slurm tasks run")
	}
	dir, err := filepath.Abs(e.out)
	if err != nil {
		return nil, nil, nil, err
	}
	specPath, err := filepath.Abs(opts.SpecPath)
	if err != nil {
		return nil, nil, nil, err
	}
	var (
		todo    []cluster.Run
		resumed []cluster.Run
	)
	from := map[cluster.Run]int{}
	for _, id := range runs {
		st, err := journal{id.Dir(e.out)}.readState()
		if err != nil {
			return nil, nil, nil, err
		}
		if st != nil && st.SpecHash != e.spec.Hash() {
			return nil, nil, nil, fmt.Errorf("%s belongs to another spec", id.Dir(e.out))
		}
		if st != nil && st.Done {
			continue
		}
		if st != nil {
			completed, err := journal{id.Dir(e.out)}.completed()
			if err != nil {
				return nil, nil, nil, err
			}
			if completed > 0 {
				resumed = append(resumed, id)
				from[id] = completed
			}
		}
		todo = append(todo, id)
	}
	// Tasks run on other nodes: absolute paths only. Their progress goes to
	// their logs, a line a step.
	base := []string{bin, "run", "--cluster", "local", "--verbose", "--no-merge", "--out", dir}
	for _, set := range opts.Sets {
		if path, _, _ := strings.Cut(set, "="); path != "cluster" && !strings.HasPrefix(path, "cluster.") && !strings.HasPrefix(path, "cluster[") {
			base = append(base, "--set", set)
		}
	}
	cfg := e.spec.Cluster
	cfg.Jobs = jobs
	return &cluster.Slurm{
		Now:    opts.Now,
		Config: cfg,
		Name:   e.spec.Name,
		Dir:    dir,
		Task: func(r cluster.Run) []string {
			return append(slices.Clone(base), "--arm", r.Arm, "--seed", strconv.FormatUint(r.Seed, 10), specPath)
		},
		Done: func(r cluster.Run) bool {
			st, err := journal{r.Dir(e.out)}.readState()
			return err == nil && st != nil && st.Done && st.SpecHash == e.spec.Hash()
		},
		Events: &taskProgress{env: e, from: from, runs: map[cluster.Run]*taskTally{}},
	}, todo, resumed, nil
}

// taskProgress turns what the Slurm driver sees into Progress calls: a
// running task's progress is read from its run's state and journal in the
// shared results directory, a finished one's from its shards.
type taskProgress struct {
	env  *runEnv
	from map[cluster.Run]int // steps complete at submission
	runs map[cluster.Run]*taskTally
}

type taskTally struct {
	steps int // total
	read  int // journal entries added to tally
	tally runTally
}

func (p *taskProgress) Start(id cluster.Run) {
	steps := p.env.spec.Train.Steps
	if armOf(p.env.spec, id.Arm).Source == "none" {
		steps = 0
	}
	t := &taskTally{steps: steps, tally: runTally{pass1: math.NaN()}}
	p.runs[id] = t
	p.env.progress.Start(id, p.from[id], steps)
	p.Running(id)
}

func (p *taskProgress) Running(id cluster.Run) {
	t := p.runs[id]
	j := journal{id.Dir(p.env.out)}
	st, err := j.readState()
	if err != nil || st == nil || st.Done {
		return
	}
	// Every entry in place is a complete step; the first missing one is
	// the step in progress, or the run just finished and removed its
	// journal.
	read := t.read
	for step := t.read + 1; step <= t.steps; step++ {
		rec, err := j.readStep(step)
		if err != nil {
			break
		}
		t.tally.add(rec)
		t.read = step
	}
	if t.read == read {
		return
	}
	p.env.progress.Step(id, StepReport{Step: t.read, Steps: t.steps, Accepted: t.tally.accepted, Waste: t.tally.waste(), Pass1: t.tally.pass1})
}

func (p *taskProgress) Finish(id cluster.Run, err error) {
	t := p.runs[id]
	if err == nil && t.read < t.steps {
		if tally, terr := shardTally(id.Dir(p.env.out)); terr == nil {
			p.env.progress.Step(id, StepReport{Step: t.steps, Steps: t.steps, Accepted: tally.accepted, Waste: tally.waste(), Pass1: tally.pass1})
		}
	}
	p.env.progress.Finish(id, err)
}

func (p *taskProgress) Note(msg string) { p.env.progress.Note(msg) }

// shardTally is the tally of a finished run, from its shards.
func shardTally(dir string) (*runTally, error) {
	t := &runTally{pass1: math.NaN()}
	_, err := results.Scan(filepath.Join(dir, results.StepsFile), results.ReadOptions{}, func(s results.Step) error {
		t.add(&stepRecord{Steps: []results.Step{s}})
		return nil
	})
	if err != nil {
		return nil, err
	}
	var last []results.Eval
	_, err = results.Scan(filepath.Join(dir, results.EvalFile), results.ReadOptions{}, func(ev results.Eval) error {
		if len(last) > 0 && ev.Step != last[0].Step {
			last = last[:0]
		}
		last = append(last, ev)
		return nil
	})
	if err != nil {
		return nil, err
	}
	t.add(&stepRecord{Evals: last})
	return t, nil
}
