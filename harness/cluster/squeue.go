package cluster

import (
	"fmt"
	"strconv"
	"strings"
)

// maxArrayTasks bounds the task ranges parseArrayID expands. Slurm's own
// MaxArraySize is at most 4,000,001.
const maxArrayTasks = 4_000_001

// parseArrayID reads a job array task id as squeue and scontrol print it:
// "12_3" is task 3 of job 12; "12_[0-3,6%2]" is the still pending tasks
// 0, 1, 2, 3 and 6 of job 12 (at most 2 running at once, which does not
// matter here).
func parseArrayID(id string) (job string, tasks []int, err error) {
	job, rest, ok := strings.Cut(id, "_")
	if !ok || job == "" || !allDigits(job) {
		return "", nil, fmt.Errorf("%q is not a job array task id (want JOB_TASK or JOB_[RANGES])", id)
	}
	if !strings.HasPrefix(rest, "[") {
		n, err := taskNumber(rest)
		if err != nil {
			return "", nil, fmt.Errorf("%q: %w", id, err)
		}
		return job, []int{n}, nil
	}
	if !strings.HasSuffix(rest, "]") {
		return "", nil, fmt.Errorf("%q: task range has no closing ]", id)
	}
	ranges := rest[1 : len(rest)-1]
	if i := strings.IndexByte(ranges, '%'); i >= 0 {
		if _, err := taskNumber(ranges[i+1:]); err != nil {
			return "", nil, fmt.Errorf("%q: throttle: %w", id, err)
		}
		ranges = ranges[:i]
	}
	for part := range strings.SplitSeq(ranges, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := taskNumber(lo)
		if err != nil {
			return "", nil, fmt.Errorf("%q: %w", id, err)
		}
		b := a
		if isRange {
			// A stepped range "0-15:4" is allowed by sbatch; squeue prints
			// the tasks it left pending as plain ranges, but accept it.
			hi, stepText, stepped := strings.Cut(hi, ":")
			if b, err = taskNumber(hi); err != nil {
				return "", nil, fmt.Errorf("%q: %w", id, err)
			}
			step := 1
			if stepped {
				if step, err = taskNumber(stepText); err != nil || step == 0 {
					return "", nil, fmt.Errorf("%q: bad range step %q", id, stepText)
				}
			}
			if b < a {
				return "", nil, fmt.Errorf("%q: range %s runs backwards", id, part)
			}
			if len(tasks)+(b-a)/step+1 > maxArrayTasks {
				return "", nil, fmt.Errorf("%q: more than %d tasks", id, maxArrayTasks)
			}
			for t := a; t <= b; t += step {
				tasks = append(tasks, t)
			}
			continue
		}
		if len(tasks) >= maxArrayTasks {
			return "", nil, fmt.Errorf("%q: more than %d tasks", id, maxArrayTasks)
		}
		tasks = append(tasks, b)
	}
	return job, tasks, nil
}

func taskNumber(s string) (int, error) {
	if s == "" || !allDigits(s) {
		return 0, fmt.Errorf("task number %q is not a non-negative integer", s)
	}
	n, err := strconv.Atoi(s)
	if err != nil || n >= maxArrayTasks {
		return 0, fmt.Errorf("task number %q is out of range", s)
	}
	return n, nil
}

func allDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// queueFormat is the squeue output format parseQueue reads: task id, state
// and reason, one job (or pending task range) a line.
const queueFormat = "%i|%T|%r"

// queued is what squeue says about one task.
type queued struct {
	state  string // PENDING, RUNNING, COMPLETED, FAILED, ...
	reason string // why it is pending or how it ended ("None" when nothing to say)
}

// parseQueue reads `squeue -h --states=all -j JOB -o '%i|%T|%r'` for job:
// each task's state by task number. Lines of other jobs are ignored.
func parseQueue(job, out string) (map[int]queued, error) {
	tasks := map[int]queued{}
	for line := range strings.Lines(out) {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		fields := strings.SplitN(line, "|", 3)
		if len(fields) != 3 {
			return nil, fmt.Errorf("squeue line %q: want ID|STATE|REASON", line)
		}
		j, ids, err := parseArrayID(fields[0])
		if err != nil {
			return nil, fmt.Errorf("squeue line %q: %w", line, err)
		}
		if j != job {
			continue
		}
		for _, t := range ids {
			tasks[t] = queued{state: fields[1], reason: fields[2]}
		}
	}
	return tasks, nil
}

// parseRecord reads one line of `scontrol show job -o` (space-separated
// Key=Value pairs) into a map. A value may hold spaces (a path, a reason):
// a word that does not start a new Key= is part of the previous value.
func parseRecord(line string) map[string]string {
	rec := map[string]string{}
	last := ""
	for word := range strings.FieldsSeq(line) {
		key, value, ok := strings.Cut(word, "=")
		if ok && isRecordKey(key) {
			rec[key] = value
			last = key
			continue
		}
		if last != "" {
			rec[last] += " " + word
		}
	}
	return rec
}

// isRecordKey reports whether s looks like an scontrol key: letters and
// digits, with the ':' and '/' of keys like "AllocNode:Sid" and "CPUs/Task".
func isRecordKey(s string) bool {
	if s == "" || !(s[0] >= 'A' && s[0] <= 'Z') {
		return false
	}
	for _, c := range s {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == ':' || c == '/' || c == '_') {
			return false
		}
	}
	return true
}

// terminal reports whether a job state is final. Any state squeue may
// print that is not listed (PENDING, RUNNING, COMPLETING, CONFIGURING,
// SUSPENDED, REQUEUED, RESIZING, SIGNALING, STAGE_OUT, STOPPED, ...) means
// the task may still run. LOST is relix's own: a task that left the queue
// unseen with its run unfinished.
func terminal(state string) bool {
	switch state {
	case "COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "BOOT_FAIL",
		"DEADLINE", "OUT_OF_MEMORY", "PREEMPTED", "REVOKED", "SPECIAL_EXIT", "LOST":
		return true
	}
	return false
}

// running reports whether a task's program has started.
func running(state string) bool {
	switch state {
	case "RUNNING", "COMPLETING", "SIGNALING", "STAGE_OUT", "SUSPENDED", "STOPPED":
		return true
	}
	return false
}

// describeExit turns scontrol's ExitCode=CODE:SIGNAL into words.
func describeExit(code string) string {
	status, signal, _ := strings.Cut(code, ":")
	switch {
	case signal != "" && signal != "0":
		return "killed by signal " + signal
	case status != "":
		return "exit code " + status
	}
	return "no exit code"
}
