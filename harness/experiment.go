package harness

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/relix-lab/relix/experiment/spec"
	"github.com/relix-lab/relix/harness/cluster"
	"github.com/relix-lab/relix/results"
	"github.com/relix-lab/relix/results/dirlock"
	"github.com/relix-lab/relix/runners"
)

// Options configure Run.
type Options struct {
	// SpecPath is the spec's file, for the manifest and for resolving
	// relative paths in it.
	SpecPath string
	// Out is the results directory; empty means the spec's output.dir.
	Out string
	// Jobs is how many runs execute at once; 0 means the number of cores.
	// The results do not depend on it.
	Jobs int
	// Force discards existing results (of this or another spec) and runs
	// everything again.
	Force bool
	// Arms and Seeds restrict the runs (nil: all); a cluster task runs one.
	Arms  []string
	Seeds []uint64
	// NoMerge leaves the runs' shards unmerged: a cluster task's driver
	// merges once every task is done.
	NoMerge bool
	// Command names this process in the message another relix gets while
	// it holds the results directory (e.g. "relix run paired.yaml").
	Command string
	// Progress hears about every run; nil is silent.
	Progress Progress
	// Now is the clock of the manifest and of the Slurm driver (required):
	// the caller's, so that one clock serves the whole program.
	Now func() time.Time
	// Relix identifies this build, for the manifest.
	Relix results.BuildInfo
	// WorkerLog receives worker processes' stderr; nil writes it to
	// runs/<arm>/seed-<s>/worker.log.
	WorkerLog io.Writer
	// Backends are the runner kinds this program serves (required).
	Backends runners.Backends
	// Environ is this program's environment, which worker processes
	// inherit (runners.Options.Environ).
	Environ []string
	// Executable is this program: what Slurm tasks run unless the spec's
	// cluster.binary names another relix, and what a worker command
	// "relix" runs (runners.Options.Executable).
	Executable string
	// Sets are the --set overrides the spec was loaded with. Slurm tasks
	// load the spec with them too (all but those of the cluster block,
	// which tasks do not use), so that they run the same experiment.
	Sets []string

	// failpoint, when set, is called at each commit point and stops the
	// run with its error, leaving the files as a kill there would: tests
	// use it to check that every interruption resumes to the same bytes.
	failpoint func(point string) error
}

// Outcome is what Run did.
type Outcome struct {
	Dir      string
	Runs     []cluster.Run
	Skipped  bool              // everything was already complete
	Resumed  []cluster.Run     // runs that continued from a checkpoint
	Rendered *results.Rendered // the tables and plots (nil with NoMerge)
	Written  []string          // derived files written
}

// ErrSpecChanged is returned (wrapped) when the results directory holds
// results of another spec.
var ErrSpecChanged = errors.New("results directory holds another spec's results")

// specLock records which spec a results directory belongs to.
const specLock = "runs/spec.lock"

// Run executes an experiment: every planned run (resuming those a previous
// invocation left unfinished, skipping finished ones), then merges the runs'
// shards into the results directory's tables, summary, manifest, plots and
// tables.md. Cancelling ctx stops every run after its last complete step;
// nothing half-written is left under a final name.
func Run(ctx context.Context, s *spec.Spec, opts Options) (*Outcome, error) {
	x, err := prepare(s, opts)
	if err != nil {
		if x != nil {
			return x.oc, err
		}
		return nil, err
	}
	defer x.locks.release()
	if x.oc.Skipped {
		return x.oc, nil
	}
	var executor cluster.Executor
	var todo []cluster.Run
	if x.slurm {
		if executor, todo, x.oc.Resumed, err = x.env.slurm(opts, x.jobs, x.oc.Runs); err != nil {
			return x.oc, err
		}
	} else {
		executor = &cluster.Local{Jobs: x.localJobs(), Run: x.runLocal}
		todo = x.oc.Runs
	}
	if err := x.execute(ctx, executor, todo); err != nil {
		return x.oc, err
	}
	return x.oc, x.merge(ctx)
}

// experimentRun is one experiment between prepare and merge: its spec and
// results directory claimed and locked, its runs planned.
type experimentRun struct {
	spec  *spec.Spec
	opts  Options
	out   string
	slurm bool
	jobs  int // runs at once as the options and the spec say; 0: unset
	start time.Time
	sets  *ProblemSets
	locks *resultLocks
	env   *runEnv
	oc    *Outcome

	resMu sync.Mutex
}

// prepare checks what an experiment needs, then locks and claims its
// results directory. A spec whose data cannot be read leaves no trace in
// the directory. With oc.Skipped the results are complete and rendered.
// On error the locks are released.
func prepare(s *spec.Spec, opts Options) (x *experimentRun, err error) {
	if opts.Now == nil {
		return nil, errors.New("harness: Options.Now is nil")
	}
	x = &experimentRun{spec: s, opts: opts, start: opts.Now(), slurm: s.Cluster.Kind == "slurm"}
	x.out = opts.Out
	if x.out == "" && x.slurm {
		x.out = s.Cluster.SharedDir
	}
	if x.out == "" {
		x.out = s.Output.Dir
	}
	runs, err := Plan(s, opts.Arms, opts.Seeds)
	if err != nil {
		return nil, err
	}
	x.oc = &Outcome{Dir: x.out, Runs: runs}
	if x.sets, err = LoadProblemSets(s, filepath.Dir(opts.SpecPath)); err != nil {
		return nil, err
	}
	if err := CheckPool(s, x.sets.Train); err != nil {
		return nil, err
	}
	if err := CheckHeldout(s, x.sets.Heldout); err != nil {
		return nil, err
	}
	if x.locks, err = lockResults(x.out, opts, x.slurm); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			x.locks.release()
		}
	}()
	out := x.out
	if err := claim(out, s, opts.Force); err != nil {
		return x, err
	}
	if err := x.locks.lockRuns(out, runs); err != nil {
		return x, err
	}
	if !opts.Force {
		if err := checkRecorded(out, s); err != nil {
			return x, err
		}
	}
	// Other processes may be writing in out: a task (NoMerge) clears only
	// its own runs' leftovers, and a Slurm driver leaves the runs to their
	// tasks and clears once they are all done.
	if err := removeTemp(out, runs, opts.NoMerge, x.slurm); err != nil {
		return x, err
	}
	if !opts.Force && !opts.NoMerge && complete(out, s, runs) {
		x.oc.Skipped = true
		rd, err := results.Build(out, results.RenderOptions{Formats: s.Output.Plots})
		if err != nil {
			return x, err
		}
		x.oc.Rendered = rd
		return x, nil
	}
	prog := opts.Progress
	if prog == nil {
		prog = quietProgress{}
	}
	x.env = &runEnv{spec: s, sets: x.sets, out: out, progress: prog, specDir: filepath.Dir(opts.SpecPath), workerLog: opts.WorkerLog,
		executable: opts.Executable, backends: opts.Backends, environ: opts.Environ, relix: opts.Relix.Version, failpoint: opts.failpoint}
	x.jobs = opts.Jobs
	if x.jobs <= 0 {
		x.jobs = s.Cluster.Jobs
	}
	return x, nil
}

// localJobs is how many runs execute at once in this process.
func (x *experimentRun) localJobs() int {
	if x.jobs > 0 {
		return x.jobs
	}
	return runtime.NumCPU()
}

// runLocal executes one of the experiment's runs in this process.
func (x *experimentRun) runLocal(ctx context.Context, r cluster.Run) error {
	resumed, err := x.env.run(ctx, r)
	if resumed {
		x.resMu.Lock()
		x.oc.Resumed = append(x.oc.Resumed, r)
		x.resMu.Unlock()
	}
	return err
}

// execute runs todo.
func (x *experimentRun) execute(ctx context.Context, executor cluster.Executor, todo []cluster.Run) error {
	if err := x.beforeExecute(); err != nil {
		return err
	}
	// One failed run fails the experiment; the others stop at a step boundary.
	return x.afterExecute(ctx, executor.Execute(ctx, todo))
}

// beforeExecute lets a Slurm driver's tasks in: they hold the directory
// shared while they write their runs.
func (x *experimentRun) beforeExecute() error {
	if x.slurm {
		return x.locks.dir.Change(dirlock.Shared)
	}
	return nil
}

// afterExecute takes what executing the runs returned; a Slurm driver that
// merges holds the directory exclusively again, once every task is done.
func (x *experimentRun) afterExecute(ctx context.Context, err error) error {
	sortRuns(x.oc.Resumed, x.oc.Runs)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err != nil {
		return err
	}
	if x.slurm && !x.opts.NoMerge {
		if err := x.locks.dir.Change(dirlock.Exclusive); err != nil {
			return fmt.Errorf("merging: %w", err)
		}
		// Every task has ended: nobody else writes in out now.
		if _, err := results.RemoveTemp(x.out); err != nil {
			return err
		}
	}
	return nil
}

// merge writes the experiment's merged tables, manifest and report.
func (x *experimentRun) merge(ctx context.Context) error {
	if x.opts.NoMerge {
		return nil
	}
	s, opts, out := x.spec, x.opts, x.out
	m := &results.Manifest{
		Experiment: s.Name,
		Relix:      opts.Relix,
		Runner:     results.Component{Name: s.Runner.Kind, Version: opts.Relix.Version},
		Start:      x.start,
	}
	if x.env.identity != nil {
		m.Runner = *x.env.identity
	}
	for _, set := range []struct {
		name string
		ps   spec.ProblemSet
	}{{"train", s.Dataset.Train}, {"heldout", s.Dataset.Heldout}} {
		ds := x.sets.Train
		if set.name == "heldout" {
			ds = x.sets.Heldout
		}
		m.Datasets = append(m.Datasets, results.Dataset{Name: set.name, Source: set.ps.Describe(), Problems: len(ds.Problems), SHA256: ds.Hash})
	}
	if err := x.env.fail("merge"); err != nil {
		return err
	}
	if err := Merge(ctx, s, out, m, opts.Now); err != nil {
		return err
	}
	rd, err := results.Build(out, results.RenderOptions{Formats: s.Output.Plots})
	if err != nil {
		return err
	}
	x.oc.Rendered = rd
	for _, f := range rd.Files {
		x.oc.Written = append(x.oc.Written, filepath.Join(out, filepath.FromSlash(f.Path)))
	}
	return nil
}

// resultLocks are the locks a Run holds on its results directory.
type resultLocks struct {
	dir     *dirlock.Lock
	runs    []*dirlock.Lock
	shared  bool
	command string
}

// lockResults takes out for a Run. A Run that merges, clears or drives
// a cluster job holds the whole directory exclusively; one that only
// writes some runs (a cluster task, --arm, --no-merge) holds it shared and
// each of its runs exclusively, so that a job's tasks write side by side
// and two processes never write one run.
func lockResults(out string, opts Options, slurm bool) (*resultLocks, error) {
	command := opts.Command
	if command == "" {
		command = "relix run"
	}
	shared := opts.NoMerge && !opts.Force && !slurm
	mode := dirlock.Exclusive
	if shared {
		mode = dirlock.Shared
	}
	l := &resultLocks{}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, err
	}
	var err error
	if l.dir, err = dirlock.Acquire(out, mode, command); err != nil {
		return nil, err
	}
	l.shared, l.command = shared, command
	return l, nil
}

// lockRuns takes each run's own lock where the directory is shared; a
// directory held exclusively needs none.
func (l *resultLocks) lockRuns(out string, runs []cluster.Run) error {
	if !l.shared {
		return nil
	}
	for _, r := range runs {
		if err := os.MkdirAll(r.Dir(out), 0o755); err != nil {
			return err
		}
		rl, err := dirlock.Acquire(r.Dir(out), dirlock.Exclusive, l.command)
		if err != nil {
			return fmt.Errorf("run %s: %w", r, err)
		}
		l.runs = append(l.runs, rl)
	}
	return nil
}

func (l *resultLocks) release() {
	for _, r := range l.runs {
		_ = r.Release()
	}
	_ = l.dir.Release()
}

// claim makes out this spec's results directory, refusing one that holds
// another spec's results unless force, which clears it, and one that holds
// files relix did not write, force or not.
func claim(out string, s *spec.Spec, force bool) error {
	foreign, err := results.Foreign(out, specLock)
	if err != nil {
		return err
	}
	if len(foreign) > 0 {
		return fmt.Errorf("%w: %w", ErrSpecChanged, results.ForeignError(out, foreign))
	}
	lock := filepath.Join(out, filepath.FromSlash(specLock))
	old, err := os.ReadFile(lock)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if force {
			if err := clearResults(out); err != nil {
				return err
			}
		} else if _, err := os.Stat(filepath.Join(out, results.ManifestFile)); err == nil {
			return fmt.Errorf("%w: %s has results but no %s; rerun with --force to replace them", ErrSpecChanged, out, specLock)
		}
	case err != nil:
		return err
	case string(old) != s.Hash()+"\n":
		if !force {
			return fmt.Errorf("%w: %s was produced by spec %.12s, not %s (%s); rerun with --force to replace them, or choose another --out",
				ErrSpecChanged, out, string(old), s.ShortHash(), s.Name)
		}
		if err := clearResults(out); err != nil {
			return err
		}
	default:
		if force {
			if err := clearResults(out); err != nil {
				return err
			}
		}
	}
	if err := os.MkdirAll(filepath.Dir(lock), 0o755); err != nil {
		return err
	}
	return results.WriteFileAtomic(lock, []byte(s.Hash()+"\n"))
}

// clearResults removes what relix writes in a results directory, and
// nothing else a user may have put there.
func clearResults(out string) error {
	return results.Clear(out, runEntries, cluster.SlurmDir, specLock)
}

// complete reports whether every run is done and the merged results exist.
func complete(out string, s *spec.Spec, runs []cluster.Run) bool {
	m, err := results.ReadManifest(out)
	if err != nil || m.SpecHash != s.Hash() {
		return false
	}
	for _, id := range runs {
		st, err := journal{id.Dir(out)}.readState()
		if err != nil || st == nil || !st.Done {
			return false
		}
	}
	return m.Verify(out) == nil
}
