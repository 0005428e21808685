package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
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

// task is what follow knows about one task.
type task struct {
	started, ended bool
}

// follow polls the array until every task has ended.
func (s *Slurm) follow(ctx context.Context, sub *submission) error {
	ev := s.events()
	poll := s.Config.Poll.Std()
	if poll <= 0 {
		poll = defaultPoll
	}
	tasks := make([]task, len(sub.Runs))
	var (
		failed      []*TaskError
		failingFrom time.Time // when squeue began to fail
		pending     string    // the last note about pending tasks
	)
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
		case <-timer.C:
		}
		if ctx.Err() != nil {
			return s.cancel(ctx, sub, tasks)
		}
		q, known, err := s.queue(ctx, sub.Job)
		if err != nil {
			if ctx.Err() != nil {
				continue
			}
			if failingFrom.IsZero() {
				failingFrom = s.now()
				ev.Note(fmt.Sprintf("%v; retrying", err))
			} else if s.now().Sub(failingFrom) > giveUpAfter {
				return fmt.Errorf("lost track of Slurm job %s: %w; its tasks may still run (squeue -j %s); run again to follow it", sub.Job, err, sub.Job)
			}
			timer.Reset(poll)
			continue
		}
		failingFrom = time.Time{}
		left := 0
		reasons := map[string]int{}
		for i, r := range sub.Runs {
			t := &tasks[i]
			if t.ended {
				continue
			}
			st, listed := q[i]
			if !listed {
				// Gone from squeue: the controller forgot it (MinJobAge).
				st = s.forgotten(ctx, sub, i, known)
			}
			switch {
			case terminal(st.state):
				if !t.started {
					t.started = true
					ev.Start(r)
				}
				t.ended = true
				var err error
				if te := s.check(ctx, sub, i, st); te != nil {
					failed = append(failed, te)
					err = te
				}
				ev.Finish(r, err)
			case running(st.state):
				if !t.started {
					t.started = true
					ev.Start(r)
				} else {
					ev.Running(r)
				}
				left++
			default:
				reasons[st.state+", "+st.reason]++
				left++
			}
		}
		if left == 0 {
			break
		}
		if note := pendingNote(sub.Job, reasons); note != pending {
			if note != "" {
				ev.Note(note)
			}
			pending = note
		}
		timer.Reset(poll)
	}
	if len(failed) > 0 {
		return &FailedError{Job: sub.Job, Tasks: len(sub.Runs), Failed: failed}
	}
	return nil
}

// pendingNote says how many tasks wait and why, e.g. "Slurm job 12: 6
// tasks PENDING (Resources)".
func pendingNote(job string, reasons map[string]int) string {
	var parts []string
	for k, n := range reasons {
		state, reason, _ := strings.Cut(k, ", ")
		part := fmt.Sprintf("%d %s", n, state)
		if reason != "" && reason != "None" {
			part += " (" + reason + ")"
		}
		parts = append(parts, part)
	}
	if len(parts) == 0 {
		return ""
	}
	slices.Sort(parts)
	return fmt.Sprintf("Slurm job %s: %s", job, strings.Join(parts, ", "))
}

// forgotten is the state of a task squeue no longer lists: scontrol's if
// it still knows the task, else COMPLETED or LOST by whether its run is
// done.
func (s *Slurm) forgotten(ctx context.Context, sub *submission, i int, known bool) queued {
	if known {
		if out, err := s.command(ctx, "scontrol", "show", "job", "-o", taskID(sub.Job, i)); err == nil {
			if rec := parseRecord(firstLine(out)); rec["JobState"] != "" {
				return queued{state: rec["JobState"], reason: rec["Reason"]}
			}
		}
	}
	if s.Done != nil && s.Done(sub.Runs[i]) {
		return queued{state: "COMPLETED"}
	}
	return queued{state: "LOST", reason: "it left the queue before relix saw it end, and its run is not finished"}
}

// check turns a task's final state into nil (its run is complete) or the
// error that says why not, with its exit code and the tail of its log.
func (s *Slurm) check(ctx context.Context, sub *submission, i int, st queued) *TaskError {
	r := sub.Runs[i]
	if st.state == "COMPLETED" && (s.Done == nil || s.Done(r)) {
		return nil
	}
	te := &TaskError{Run: r, Task: taskID(sub.Job, i), State: st.state, Reason: st.reason,
		Log: filepath.Join(s.slurmDir(), taskID(sub.Job, i)+".log")}
	if st.state == "COMPLETED" {
		te.Reason = "it exited 0 but its run is not finished (is cluster.binary relix?)"
	}
	if out, err := s.command(context.WithoutCancel(ctx), "scontrol", "show", "job", "-o", te.Task); err == nil {
		rec := parseRecord(firstLine(out))
		te.Exit = rec["ExitCode"]
		if st.state != "COMPLETED" && rec["Reason"] != "" {
			te.Reason = rec["Reason"]
		}
		if p := rec["StdOut"]; p != "" {
			te.Log = p
		}
	}
	te.Tail, te.LogErr = tail(te.Log, tailLines)
	return te
}

// cancel cancels the array and waits (at most CancelWait) until none of
// its tasks runs, so that running again does not race with them.
func (s *Slurm) cancel(ctx context.Context, sub *submission, tasks []task) error {
	ev := s.events()
	bg := context.WithoutCancel(ctx)
	ev.Note(fmt.Sprintf("cancelling Slurm job %s (scancel %s); complete steps are kept", sub.Job, sub.Job))
	if _, err := s.command(bg, "scancel", sub.Job); err != nil {
		return errors.Join(ctx.Err(), fmt.Errorf("the tasks may still run: %w", err))
	}
	wait := s.CancelWait
	if wait <= 0 {
		wait = defaultCancelWait
	}
	poll := min(max(s.Config.Poll.Std(), 10*time.Millisecond), time.Second)
	deadline := s.now().Add(wait)
	for {
		q, known, err := s.queue(bg, sub.Job)
		live := 0
		for i := range tasks {
			if t, ok := q[i]; ok && !terminal(t.state) {
				live++
			}
		}
		if err == nil && (!known || live == 0) {
			break
		}
		if s.now().After(deadline) {
			ev.Note(fmt.Sprintf("tasks of Slurm job %s are still stopping; wait until squeue -j %s lists none running before running again", sub.Job, sub.Job))
			break
		}
		time.Sleep(poll)
	}
	for i, r := range sub.Runs {
		if tasks[i].started && !tasks[i].ended {
			ev.Finish(r, ctx.Err())
		}
	}
	return ctx.Err()
}

// queue asks squeue for the job's tasks. known is false when the
// controller no longer knows the job at all.
func (s *Slurm) queue(ctx context.Context, job string) (tasks map[int]queued, known bool, err error) {
	out, err := s.command(ctx, "squeue", "-h", "--states=all", "-j", job, "-o", queueFormat)
	if err != nil {
		if strings.Contains(err.Error(), "Invalid job id") {
			return map[int]queued{}, false, nil
		}
		return nil, false, err
	}
	tasks, err = parseQueue(job, out)
	return tasks, true, err
}

// command runs a Slurm command and returns its standard output; its error
// quotes the command and what it printed on standard error.
func (s *Slurm) command(ctx context.Context, name string, args ...string) (string, error) {
	path := name
	if s.Commands != "" {
		path = filepath.Join(s.Commands, name)
	}
	ctx, cancel := context.WithTimeout(ctx, commandTimeout)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return "", fmt.Errorf("%s %s: %s", name, strings.Join(args, " "), msg)
	}
	return stdout.String(), nil
}

func taskID(job string, i int) string { return job + "_" + strconv.Itoa(i) }

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// tail returns the last n lines of a file, reading at most its last 64 KiB.
func tail(path string, n int) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	const window = 64 << 10
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	off := max(info.Size()-window, 0)
	data, err := io.ReadAll(io.NewSectionReader(f, off, window))
	if err != nil {
		return nil, err
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if off > 0 && len(lines) > 1 {
		lines = lines[1:] // the first is probably cut
	}
	if len(lines) == 1 && lines[0] == "" {
		return nil, nil
	}
	return lines[max(len(lines)-n, 0):], nil
}

// writeJSON writes v to path through a temporary file and a rename.
func writeJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	// The prefix of relix's temporary files: the manifest skips it.
	tmp := filepath.Join(filepath.Dir(path), ".relix-tmp-"+filepath.Base(path))
	if err := os.WriteFile(tmp, append(data, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
