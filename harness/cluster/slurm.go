package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/relix-lab/relix/experiment/spec"
)

// Slurm executes runs as the tasks of one Slurm job array: task i runs the
// i-th run's command line (Task) on whichever node Slurm picks, and writes
// its shards into the shared results directory Dir.
//
// The driver follows the tasks with squeue, asking scontrol for the exit
// code of a task that failed (sacct is not needed: accounting may be off).
// A failed task does not stop the others; Execute returns once every task
// has ended, with a *FailedError naming each failure, its exit code and the
// tail of its log. Cancelling ctx cancels the array (scancel) and waits for
// its tasks to stop.
//
// Under Dir/slurm it keeps, per submission, the batch script (JOB.sh, which
// lists the run of every task) and each task's log (JOB_TASK.log), and in
// job.json the latest submission: an Execute that finds it still in the
// queue follows it instead of submitting the same runs twice.
type Slurm struct {
	// Config holds the partition, gres, time limit, account and extra
	// sbatch flags of every task, the array's concurrency limit (Jobs) and
	// how often to poll.
	Config spec.Cluster
	// Name names the job (relix-Name in squeue).
	Name string
	// Dir is the results directory, an absolute path every node sees.
	Dir string
	// Task is the command line that executes one run on a node: absolute
	// paths only, since it runs elsewhere.
	Task func(Run) []string
	// Done reports whether a run's results are complete. Execute asks it
	// when a task leaves the queue without Slurm saying how it ended, and
	// checks with it that a task which completed really finished its run.
	// Nil trusts Slurm's word.
	Done func(Run) bool
	// Events hears how the tasks go; nil hears nothing.
	Events Events
	// Commands is the directory of sbatch, squeue, scontrol and scancel;
	// empty looks them up on $PATH.
	Commands string
	// CancelWait bounds how long a cancelled Execute waits for its tasks to
	// stop (0: two minutes, enough for Slurm's default KillWait of 30 s).
	CancelWait time.Duration
	// Now is the clock of job.json's submission time and of how long squeue
	// may fail and a cancel may wait; nil means time.Now.
	Now func() time.Time
}

func (s *Slurm) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}

// Events hears how the tasks of a Slurm array go. For each run the calls
// come in order: Start, Running at every poll while it runs, Finish.
type Events interface {
	// Start: the run's task is running (or has already ended).
	Start(r Run)
	// Running: the run's task is still running.
	Running(r Run)
	// Finish: the run's task ended; err says how it failed (a *TaskError,
	// or ctx's error when cancelled).
	Finish(r Run, err error)
	// Note is news about the array as a whole.
	Note(msg string)
}

type noEvents struct{}

func (noEvents) Start(Run)         {}
func (noEvents) Running(Run)       {}
func (noEvents) Finish(Run, error) {}
func (noEvents) Note(string)       {}

func (s *Slurm) events() Events {
	if s.Events == nil {
		return noEvents{}
	}
	return s.Events
}

const (
	defaultPoll       = 5 * time.Second
	defaultCancelWait = 2 * time.Minute
	// giveUpAfter is how long squeue may keep failing before Execute stops
	// following the array (which goes on running; a new Execute follows it).
	giveUpAfter = 5 * time.Minute
	// tailLines is how much of a failed task's log an error shows.
	tailLines = 20
	// commandTimeout bounds one call of a Slurm command.
	commandTimeout = 2 * time.Minute
)

// submission is job.json: the latest array submitted for Dir.
type submission struct {
	Job       string    `json:"job"`
	Submitted time.Time `json:"submitted"`
	Runs      []Run     `json:"runs"` // task i runs Runs[i]
}

// TaskError is a task that did not complete its run.
type TaskError struct {
	Run    Run
	Task   string   // JOB_TASK
	State  string   // Slurm's final state: FAILED, TIMEOUT, CANCELLED, ...
	Exit   string   // scontrol's ExitCode, STATUS:SIGNAL ("" when unknown)
	Reason string   // scontrol's or squeue's reason, or relix's
	Log    string   // the task's log file
	Tail   []string // its last lines
	LogErr error    // why the log could not be read
}

func (e *TaskError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: Slurm task %s %s", e.Run, e.Task, e.State)
	if e.Exit != "" {
		fmt.Fprintf(&b, " (%s)", describeExit(e.Exit))
	}
	if e.Reason != "" && e.Reason != "None" && e.Reason != "NonZeroExitCode" {
		fmt.Fprintf(&b, ": %s", e.Reason)
	}
	switch {
	case e.LogErr != nil:
		fmt.Fprintf(&b, "; its log could not be read: %v", e.LogErr)
	case len(e.Tail) == 0:
		fmt.Fprintf(&b, "; its log %s is empty", e.Log)
	default:
		fmt.Fprintf(&b, "; the last lines of %s:", e.Log)
		for _, l := range e.Tail {
			b.WriteString("\n    | " + l)
		}
	}
	return b.String()
}

// FailedError is an array some of whose tasks failed.
type FailedError struct {
	Job    string
	Tasks  int // tasks in the array
	Failed []*TaskError
}

func (e *FailedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d of %d tasks of Slurm job %s failed (the other runs are complete; run again to retry only the failed ones)",
		len(e.Failed), e.Tasks, e.Job)
	for _, f := range e.Failed {
		b.WriteString("\n" + f.Error())
	}
	return b.String()
}

func (e *FailedError) Unwrap() []error {
	errs := make([]error, len(e.Failed))
	for i, f := range e.Failed {
		errs[i] = f
	}
	return errs
}

// Execute submits runs as one job array, or follows an earlier submission
// of them that is still in the queue, and returns when every task has
// ended.
func (s *Slurm) Execute(ctx context.Context, runs []Run) error {
	if len(runs) == 0 {
		return nil
	}
	if err := os.MkdirAll(s.slurmDir(), 0o755); err != nil {
		return err
	}
	sub, err := s.previous(ctx, runs)
	if err != nil {
		return err
	}
	if sub == nil {
		if sub, err = s.submit(ctx, runs); err != nil {
			return err
		}
	}
	return s.follow(ctx, sub)
}

// SlurmDir is the directory, under the results directory, of the Slurm
// executor's batch scripts, task logs and job.json.
const SlurmDir = "slurm"

func (s *Slurm) slurmDir() string { return filepath.Join(s.Dir, SlurmDir) }

func (s *Slurm) jobName() string { return "relix-" + s.Name }

// previous returns the latest submission when it is still in the queue
// and covers runs; one that is in the queue but does not is an error,
// since its tasks write into the same results directory.
func (s *Slurm) previous(ctx context.Context, runs []Run) (*submission, error) {
	data, err := os.ReadFile(filepath.Join(s.slurmDir(), "job.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var sub submission
	if err := json.Unmarshal(data, &sub); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(s.slurmDir(), "job.json"), err)
	}
	q, known, err := s.queue(ctx, sub.Job)
	if err != nil {
		return nil, err
	}
	live := false
	for _, t := range q {
		live = live || !terminal(t.state)
	}
	if !known || !live || !s.ours(ctx, sub.Job) {
		return nil, nil
	}
	for _, r := range runs {
		if !slices.Contains(sub.Runs, r) {
			return nil, fmt.Errorf("Slurm job %s, submitted %s for %s, is still in the queue and does not run %s; "+
				"wait until squeue -j %s shows it ended, or cancel it with scancel %s, then run again",
				sub.Job, sub.Submitted.Format(time.DateTime), s.Dir, r, sub.Job, sub.Job)
		}
	}
	s.events().Note(fmt.Sprintf("following Slurm job %s, submitted %s for these results and still in the queue",
		sub.Job, sub.Submitted.Format(time.DateTime)))
	return &sub, nil
}

// ours checks that job is relix's array for Dir, not a job that reuses
// its number after the controller lost its state.
func (s *Slurm) ours(ctx context.Context, job string) bool {
	out, err := s.command(ctx, "scontrol", "show", "job", "-o", job)
	if err != nil {
		return false
	}
	for line := range strings.Lines(out) {
		rec := parseRecord(line)
		if rec["JobName"] == s.jobName() && strings.HasPrefix(rec["StdOut"], s.slurmDir()+string(filepath.Separator)) {
			return true
		}
	}
	return false
}

// submit writes the batch script and submits it.
func (s *Slurm) submit(ctx context.Context, runs []Run) (*submission, error) {
	script := filepath.Join(s.slurmDir(), "array.sh")
	if err := os.WriteFile(script, s.script(runs), 0o755); err != nil {
		return nil, err
	}
	array := fmt.Sprintf("--array=0-%d", len(runs)-1)
	if s.Config.Jobs > 0 {
		array += fmt.Sprintf("%%%d", s.Config.Jobs)
	}
	args := []string{"--parsable", array, "--job-name=" + s.jobName(),
		"--output=" + filepath.Join(s.slurmDir(), "%A_%a.log")}
	for _, o := range []struct{ flag, value string }{
		{"partition", s.Config.Partition}, {"gres", s.Config.Gres}, {"time", s.Config.Time}, {"account", s.Config.Account},
	} {
		if o.value != "" {
			args = append(args, "--"+o.flag+"="+o.value)
		}
	}
	args = append(args, s.Config.SbatchFlags...)
	args = append(args, script)
	// Submitting is not interrupted half-way: a job that exists is
	// cancelled by follow once it sees ctx is done.
	out, err := s.command(context.WithoutCancel(ctx), "sbatch", args...)
	if err != nil {
		return nil, err
	}
	job, _, _ := strings.Cut(strings.TrimSpace(out), ";") // JOB or JOB;CLUSTER
	if job == "" || !allDigits(job) {
		return nil, fmt.Errorf("sbatch printed %q, not a job id", strings.TrimSpace(out))
	}
	sub := &submission{Job: job, Submitted: s.now().UTC().Truncate(time.Second), Runs: runs}
	if err := os.Rename(script, filepath.Join(s.slurmDir(), job+".sh")); err != nil {
		return nil, err
	}
	if err := writeJSON(filepath.Join(s.slurmDir(), "job.json"), sub); err != nil {
		return nil, err
	}
	s.events().Note(fmt.Sprintf("submitted %d runs as Slurm job array %s (logs %s_*.log; watch with squeue -j %s, cancel with scancel %s or Ctrl-C)",
		len(runs), job, filepath.Join(s.slurmDir(), job), job, job))
	return sub, nil
}

// script is the batch script: a table from array task to command line.
func (s *Slurm) script(runs []Run) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "#!/bin/sh\n# relix: experiment %s, one run per task of this job array.\n", s.Name)
	b.WriteString("case \"$SLURM_ARRAY_TASK_ID\" in\n")
	for i, r := range runs {
		fmt.Fprintf(&b, "%d) # %s\n  exec", i, r)
		for _, a := range s.Task(r) {
			b.WriteString(" " + shellQuote(a))
		}
		b.WriteString(" ;;\n")
	}
	b.WriteString("*) echo \"relix: array task $SLURM_ARRAY_TASK_ID has no run\" >&2; exit 2 ;;\nesac\n")
	return b.Bytes()
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
