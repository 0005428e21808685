package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

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
