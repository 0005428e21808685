package harness

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"

	"github.com/relix-lab/relix/experiment/spec"
	"github.com/relix-lab/relix/harness/cluster"
	"github.com/relix-lab/relix/results"
)

// MultirunFile, at a multirun's root, lists the experiments it holds, for
// relix compare.
const MultirunFile = "multirun.json"

// Member is one experiment of a multirun.
type Member struct {
	// Name is its results directory under the multirun's root, and the
	// group its runs are shown under.
	Name string
	Spec *spec.Spec
	// Sets are the overrides it was loaded with; Swept those of them that
	// vary across the multirun.
	Sets, Swept []string
}

// MultirunRecord is what MultirunFile holds.
type MultirunRecord struct {
	Spec        string           `json:"spec"` // the spec file, as given
	Experiments []MultirunMember `json:"experiments"`
}

// MultirunMember is one experiment in MultirunFile.
type MultirunMember struct {
	Dir      string   `json:"dir"` // relative to the root
	Sets     []string `json:"sets"`
	Swept    []string `json:"swept"`
	SpecHash string   `json:"spec_hash"`
}

// Multirun executes several experiments of one spec as one: every member
// is checked, locked and claimed before any run starts; then all their runs
// are scheduled together (opts.Jobs at a time in this process, or as one
// Slurm job array), and each member is merged into root/NAME as Run would
// merge it. opts.Out and opts.Sets are ignored: each member has its own.
// The outcomes are in the members' order.
func Multirun(ctx context.Context, root string, members []Member, opts Options) ([]*Outcome, error) {
	if len(members) == 0 {
		return nil, errors.New("multirun: no experiments")
	}
	first := members[0].Spec
	for _, m := range members[1:] {
		if !reflect.DeepEqual(m.Spec.Cluster, first.Cluster) {
			return nil, fmt.Errorf("multirun: %s runs on another cluster than %s; sweep the experiment, not where it runs", m.Name, members[0].Name)
		}
	}
	prepared := make([]*experimentRun, 0, len(members))
	defer func() {
		for _, x := range prepared {
			x.locks.release()
		}
	}()
	outcomes := make([]*Outcome, len(members))
	for i, m := range members {
		mopts := opts
		mopts.Out = filepath.Join(root, m.Name)
		mopts.Sets = m.Sets
		if opts.Progress != nil {
			mopts.Progress = groupProgress{opts.Progress, m.Name}
		}
		x, err := prepare(m.Spec, mopts)
		if err != nil {
			return outcomes, fmt.Errorf("%s: %w", m.Name, err)
		}
		prepared = append(prepared, x)
		outcomes[i] = x.oc
	}
	if err := writeMultirunRecord(root, opts.SpecPath, members); err != nil {
		return outcomes, err
	}
	byGroup := map[string]*experimentRun{}
	for i, x := range prepared {
		if x.oc.Skipped {
			continue
		}
		byGroup[members[i].Name] = x
	}
	executor, todo, err := multirunExecutor(root, members, prepared, byGroup, opts)
	if err != nil {
		return outcomes, err
	}
	for _, x := range byGroup {
		if err := x.beforeExecute(); err != nil {
			return outcomes, err
		}
	}
	execErr := executor.Execute(ctx, todo)
	var firstErr error
	for i, x := range prepared {
		if x.oc.Skipped {
			continue
		}
		err := x.afterExecute(ctx, execErr)
		if err == nil {
			err = x.merge(ctx)
		}
		if err != nil && firstErr == nil {
			firstErr = err
			if !errors.Is(err, execErr) && !errors.Is(err, ctx.Err()) {
				firstErr = fmt.Errorf("%s: %w", members[i].Name, err)
			}
		}
	}
	return outcomes, firstErr
}

// multirunExecutor is the one executor of every member's runs, each run
// tagged with its member's name.
func multirunExecutor(root string, members []Member, prepared []*experimentRun, byGroup map[string]*experimentRun, opts Options) (cluster.Executor, []cluster.Run, error) {
	var todo []cluster.Run
	if !prepared[0].slurm {
		for i, x := range prepared {
			if x.oc.Skipped {
				continue
			}
			for _, r := range x.oc.Runs {
				r.Group = members[i].Name
				todo = append(todo, r)
			}
		}
		return &cluster.Local{Jobs: prepared[0].localJobs(), Run: func(ctx context.Context, r cluster.Run) error {
			x := byGroup[r.Group]
			r.Group = ""
			return x.runLocal(ctx, r)
		}}, todo, nil
	}
	arrays := map[string]*cluster.Slurm{}
	var one *cluster.Slurm // any member's array: they share the cluster block
	for i, x := range prepared {
		if x.oc.Skipped {
			continue
		}
		mopts := opts
		mopts.Sets = members[i].Sets
		executor, runs, resumed, err := x.env.slurm(mopts, x.jobs, x.oc.Runs)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", members[i].Name, err)
		}
		x.oc.Resumed = resumed
		arrays[members[i].Name] = executor.(*cluster.Slurm)
		if one == nil {
			one = arrays[members[i].Name]
		}
		for _, r := range runs {
			r.Group = members[i].Name
			todo = append(todo, r)
		}
	}
	dir, err := filepath.Abs(root)
	if err != nil {
		return nil, nil, err
	}
	if one == nil {
		return &cluster.Local{Jobs: 1}, nil, nil
	}
	untagged := func(r cluster.Run) (*cluster.Slurm, cluster.Run) {
		a := arrays[r.Group]
		r.Group = ""
		return a, r
	}
	return &cluster.Slurm{
		Now:    opts.Now,
		Config: one.Config,
		Name:   prepared[0].spec.Name + "-multirun",
		Dir:    dir,
		Task: func(r cluster.Run) []string {
			a, r := untagged(r)
			return a.Task(r)
		},
		Done: func(r cluster.Run) bool {
			a, r := untagged(r)
			return a.Done(r)
		},
		Events: groupEvents{arrays: arrays, note: one.Events.Note},
	}, todo, nil
}

// groupEvents hands each tagged run's Slurm events to its member's, and
// news of the array as a whole to note.
type groupEvents struct {
	arrays map[string]*cluster.Slurm
	note   func(string)
}

func (g groupEvents) events(r cluster.Run) (cluster.Events, cluster.Run) {
	e := g.arrays[r.Group].Events
	r.Group = ""
	return e, r
}

func (g groupEvents) Start(r cluster.Run) {
	e, r := g.events(r)
	e.Start(r)
}

func (g groupEvents) Running(r cluster.Run) {
	e, r := g.events(r)
	e.Running(r)
}

func (g groupEvents) Finish(r cluster.Run, err error) {
	e, r := g.events(r)
	e.Finish(r, err)
}

func (g groupEvents) Note(msg string) { g.note(msg) }

// groupProgress shows a member's runs under its name.
type groupProgress struct {
	Progress
	group string
}

func (g groupProgress) Start(r cluster.Run, from, steps int) {
	r.Group = g.group
	g.Progress.Start(r, from, steps)
}

func (g groupProgress) Step(r cluster.Run, s StepReport) {
	r.Group = g.group
	g.Progress.Step(r, s)
}

func (g groupProgress) Finish(r cluster.Run, err error) {
	r.Group = g.group
	g.Progress.Finish(r, err)
}

func (g groupProgress) Note(msg string) { g.Progress.Note(g.group + ": " + msg) }

func writeMultirunRecord(root, specPath string, members []Member) error {
	rec := MultirunRecord{Spec: specPath}
	for _, m := range members {
		rec.Experiments = append(rec.Experiments, MultirunMember{Dir: m.Name, Sets: m.Sets, Swept: m.Swept, SpecHash: m.Spec.Hash()})
	}
	data, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return err
	}
	return results.WriteFileAtomic(filepath.Join(root, MultirunFile), append(data, '\n'))
}

// ReadMultirun reads the record at a multirun's root.
func ReadMultirun(root string) (*MultirunRecord, error) {
	data, err := os.ReadFile(filepath.Join(root, MultirunFile))
	if err != nil {
		return nil, err
	}
	var rec MultirunRecord
	if err := json.Unmarshal(data, &rec); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(root, MultirunFile), err)
	}
	for _, m := range rec.Experiments {
		if m.Dir == "" || filepath.Base(m.Dir) != m.Dir || m.Dir == "." || m.Dir == ".." {
			return nil, fmt.Errorf("%s: experiment directory %q is not a name under the root", filepath.Join(root, MultirunFile), m.Dir)
		}
	}
	return &rec, nil
}
