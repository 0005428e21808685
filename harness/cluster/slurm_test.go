package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/relix-lab/relix/experiment/spec"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var threeRuns = []Run{{Arm: "base", Seed: 1}, {Arm: "market", Seed: 1}, {Arm: "market", Seed: 2}}

func testSlurm(t *testing.T, f *fakeSlurm, ev *eventLog) *Slurm {
	t.Helper()
	s := &Slurm{
		Config: spec.Cluster{Kind: "slurm", Poll: spec.Duration(time.Millisecond)},
		Name:   "smoke",
		Dir:    t.TempDir(),
		Task: func(r Run) []string {
			return []string{"/bin/echo", "run", "--arm", r.Arm, "--seed", fmt.Sprint(r.Seed), "/specs/it's here.yaml"}
		},
		Commands:   f.dir,
		CancelWait: time.Second,
	}
	if ev != nil {
		s.Events = ev
	}
	return s
}

func TestSlurmSubmitsOneArrayAndFollowsItsTasks(t *testing.T) {
	t.Parallel()
	f := newFakeSlurm(t)
	f.queue(t,
		"12_[0-2%2]|PENDING|None\n",
		"12_0|RUNNING|None\n12_[1-2%2]|PENDING|JobArrayTaskLimit\n",
		"12_0|RUNNING|None\n12_1|RUNNING|None\n12_2|PENDING|JobArrayTaskLimit\n",
		"12_0|COMPLETED|None\n12_1|RUNNING|None\n12_2|RUNNING|None\n",
		"12_0|COMPLETED|None\n12_1|COMPLETED|None\n12_2|COMPLETED|None\n",
	)
	ev := &eventLog{}
	s := testSlurm(t, f, ev)
	s.Config.Partition, s.Config.Gres, s.Config.Time, s.Config.Account = "gpu", "gpu:1", "04:00:00", "lab"
	s.Config.SbatchFlags = []string{"--qos=high", "--mem=16G"}
	s.Config.Jobs = 2
	require.NoError(t, s.Execute(context.Background(), threeRuns))

	slurmDir := filepath.Join(s.Dir, "slurm")
	assert.Equal(t, []string{"--parsable --array=0-2%2 --job-name=relix-smoke --output=" + slurmDir + "/%A_%a.log " +
		"--partition=gpu --gres=gpu:1 --time=04:00:00 --account=lab --qos=high --mem=16G " + slurmDir + "/array.sh"},
		f.calls(t, "sbatch"))
	assert.Equal(t, "-h --states=all -j 12 -o %i|%T|%r", f.calls(t, "squeue")[0])
	assert.Empty(t, f.calls(t, "scancel"))
	assert.Equal(t, []string{
		"start base/seed-1",
		"running base/seed-1",
		"start market/seed-1",
		"done base/seed-1",
		"running market/seed-1",
		"start market/seed-2",
		"done market/seed-1",
		"done market/seed-2",
	}, ev.progress())
	notes := ev.notes()
	require.NotEmpty(t, notes)
	assert.Contains(t, notes[0], "submitted 3 runs as Slurm job array 12")
	assert.Contains(t, notes[0], "scancel 12")
	assert.Contains(t, notes, "Slurm job 12: 1 PENDING (JobArrayTaskLimit)")

	// The submitted script is kept under the job's number, and job.json
	// records which task runs which run.
	script, err := os.ReadFile(filepath.Join(slurmDir, "12.sh"))
	require.NoError(t, err)
	submitted, err := os.ReadFile(filepath.Join(f.dir, "submitted.sh"))
	require.NoError(t, err)
	assert.Equal(t, string(submitted), string(script))
	assert.Contains(t, string(script), "1) # market/seed-1\n  exec '/bin/echo' 'run' '--arm' 'market' '--seed' '1' '/specs/it'\\''s here.yaml' ;;\n")
	var sub submission
	data, err := os.ReadFile(filepath.Join(slurmDir, "job.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &sub))
	assert.Equal(t, "12", sub.Job)
	assert.Equal(t, threeRuns, sub.Runs)
}

// TestSlurmScriptRunsTheTaskOfItsIndex runs the batch script as Slurm
// would, for each array index.
func TestSlurmScriptRunsTheTaskOfItsIndex(t *testing.T) {
	t.Parallel()
	s := testSlurm(t, newFakeSlurm(t), nil)
	path := filepath.Join(t.TempDir(), "array.sh")
	require.NoError(t, os.WriteFile(path, s.script(threeRuns), 0o755))
	for i, r := range threeRuns {
		cmd := exec.Command(path)
		cmd.Env = append(os.Environ(), fmt.Sprintf("SLURM_ARRAY_TASK_ID=%d", i))
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s", out)
		assert.Equal(t, fmt.Sprintf("run --arm %s --seed %d /specs/it's here.yaml\n", r.Arm, r.Seed), string(out))
	}
	cmd := exec.Command(path)
	cmd.Env = append(os.Environ(), "SLURM_ARRAY_TASK_ID=3")
	out, err := cmd.CombinedOutput()
	require.Error(t, err)
	assert.Equal(t, "relix: array task 3 has no run\n", string(out))
}

func TestSlurmReportsAFailedTaskWithItsLog(t *testing.T) {
	t.Parallel()
	f := newFakeSlurm(t)
	ev := &eventLog{}
	s := testSlurm(t, f, ev)
	logPath := filepath.Join(t.TempDir(), "logs with space", "12_1.log")
	require.NoError(t, os.MkdirAll(filepath.Dir(logPath), 0o755))
	var log strings.Builder
	for i := 1; i <= 30; i++ {
		fmt.Fprintf(&log, "line %d\n", i)
	}
	log.WriteString("relix: market/seed-1: step 3: worker exited\n")
	require.NoError(t, os.WriteFile(logPath, []byte(log.String()), 0o644))
	f.set(t, "scontrol.12_1", "JobId=14 ArrayJobId=12 ArrayTaskId=1 JobName=relix-smoke UserId=root(0) JobState=FAILED "+
		"Reason=NonZeroExitCode Dependency=(null) ExitCode=3:0 RunTime=00:00:02 StdErr="+logPath+" StdIn=/dev/null StdOut="+logPath+" Power=\n")
	f.queue(t,
		"12_0|RUNNING|None\n12_1|RUNNING|None\n12_2|PENDING|Resources\n",
		"12_0|COMPLETED|None\n12_1|FAILED|NonZeroExitCode\n12_2|RUNNING|None\n",
		"12_0|COMPLETED|None\n12_1|FAILED|NonZeroExitCode\n12_2|COMPLETED|None\n",
	)
	err := s.Execute(context.Background(), threeRuns)
	var failed *FailedError
	require.ErrorAs(t, err, &failed)
	require.Len(t, failed.Failed, 1)
	te := failed.Failed[0]
	assert.Equal(t, Run{Arm: "market", Seed: 1}, te.Run)
	assert.Equal(t, "12_1", te.Task)
	assert.Equal(t, "3:0", te.Exit)
	assert.Equal(t, logPath, te.Log)
	assert.Len(t, te.Tail, 20)
	msg := err.Error()
	assert.True(t, strings.HasPrefix(msg, "1 of 3 tasks of Slurm job 12 failed (the other runs are complete; run again to retry only the failed ones)\n"+
		"market/seed-1: Slurm task 12_1 FAILED (exit code 3); the last lines of "+logPath+":\n    | line 12\n"), msg)
	assert.True(t, strings.HasSuffix(msg, "    | line 30\n    | relix: market/seed-1: step 3: worker exited"), msg)
	assert.NotContains(t, msg, "line 11\n")
	// The other tasks went on to the end.
	assert.Contains(t, ev.progress(), "done market/seed-2")
	assert.Contains(t, ev.progress(), "failed market/seed-1")
	assert.Equal(t, te, ev.errs[Run{Arm: "market", Seed: 1}])
}

func TestTaskErrorDescribesHowATaskEnded(t *testing.T) {
	t.Parallel()
	r := Run{Arm: "uniform", Seed: 4}
	tests := []struct {
		err  TaskError
		want string
	}{
		{TaskError{Run: r, Task: "7_2", State: "TIMEOUT", Exit: "0:15", Reason: "TimeLimit", Log: "/l"},
			"uniform/seed-4: Slurm task 7_2 TIMEOUT (killed by signal 15): TimeLimit; its log /l is empty"},
		{TaskError{Run: r, Task: "7_2", State: "CANCELLED", Exit: "0:0", Log: "/l", LogErr: os.ErrNotExist},
			"uniform/seed-4: Slurm task 7_2 CANCELLED (exit code 0); its log could not be read: file does not exist"},
		{TaskError{Run: r, Task: "7_2", State: "LOST", Reason: "gone", Log: "/l", Tail: []string{"x"}},
			"uniform/seed-4: Slurm task 7_2 LOST: gone; the last lines of /l:\n    | x"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, tt.err.Error())
	}
}

func TestSlurmCancelsTheArrayWhenInterrupted(t *testing.T) {
	t.Parallel()
	f := newFakeSlurm(t)
	f.queue(t, "12_0|RUNNING|None\n12_[1-2]|PENDING|Resources\n")
	f.set(t, "squeue.cancelled", "12_0|CANCELLED|None\n12_1|CANCELLED|None\n12_2|CANCELLED|None\n")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ev := &eventLog{onStart: func(Run) { cancel() }}
	s := testSlurm(t, f, ev)
	err := s.Execute(ctx, threeRuns)
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, []string{"12"}, f.calls(t, "scancel"))
	assert.Equal(t, []string{"start base/seed-1", "failed base/seed-1"}, ev.progress())
	assert.ErrorIs(t, ev.errs[Run{Arm: "base", Seed: 1}], context.Canceled)
	assert.Contains(t, ev.notes(), "cancelling Slurm job 12 (scancel 12); complete steps are kept")
}

func TestSlurmCancelGivesUpWaitingForTasksThatDoNotStop(t *testing.T) {
	t.Parallel()
	f := newFakeSlurm(t)
	f.queue(t, "12_0|RUNNING|None\n12_1|RUNNING|None\n12_2|RUNNING|None\n")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ev := &eventLog{onStart: func(Run) { cancel() }}
	s := testSlurm(t, f, ev)
	s.CancelWait = 20 * time.Millisecond
	require.ErrorIs(t, s.Execute(ctx, threeRuns), context.Canceled)
	assert.Contains(t, ev.notes(), "tasks of Slurm job 12 are still stopping; wait until squeue -j 12 lists none running before running again")
}

func TestSlurmSubmissionErrors(t *testing.T) {
	t.Parallel()
	t.Run("sbatch fails", func(t *testing.T) {
		t.Parallel()
		f := newFakeSlurm(t)
		f.set(t, "sbatch.err", "sbatch: error: invalid partition specified: gpu\nsbatch: error: Batch job submission failed: Invalid partition name specified\n")
		s := testSlurm(t, f, nil)
		s.Config.Partition = "gpu"
		err := s.Execute(context.Background(), threeRuns)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "sbatch --parsable --array=0-2 ")
		assert.Contains(t, err.Error(), "--partition=gpu")
		assert.True(t, strings.HasSuffix(err.Error(), ": sbatch: error: invalid partition specified: gpu\nsbatch: error: Batch job submission failed: Invalid partition name specified"), err.Error())
	})
	t.Run("no job id", func(t *testing.T) {
		t.Parallel()
		f := newFakeSlurm(t)
		f.set(t, "sbatch.out", "Submitted batch job 12\n")
		err := testSlurm(t, f, nil).Execute(context.Background(), threeRuns)
		require.EqualError(t, err, `sbatch printed "Submitted batch job 12", not a job id`)
	})
	t.Run("a cluster name after the id", func(t *testing.T) {
		t.Parallel()
		f := newFakeSlurm(t)
		f.set(t, "sbatch.out", "12;gpu-cluster\n")
		f.queue(t, "12_0|COMPLETED|None\n12_1|COMPLETED|None\n12_2|COMPLETED|None\n")
		require.NoError(t, testSlurm(t, f, nil).Execute(context.Background(), threeRuns))
	})
	t.Run("nothing to run", func(t *testing.T) {
		t.Parallel()
		f := newFakeSlurm(t)
		require.NoError(t, testSlurm(t, f, nil).Execute(context.Background(), nil))
		assert.Empty(t, f.calls(t, "sbatch"))
	})
}

func TestSlurmRetriesWhenSqueueFails(t *testing.T) {
	t.Parallel()
	f := newFakeSlurm(t)
	f.queue(t, "!squeue: error: Unable to contact slurm controller (connect failure)",
		"12_0|COMPLETED|None\n12_1|COMPLETED|None\n12_2|COMPLETED|None\n")
	ev := &eventLog{}
	require.NoError(t, testSlurm(t, f, ev).Execute(context.Background(), threeRuns))
	assert.Contains(t, ev.notes(), "squeue -h --states=all -j 12 -o %i|%T|%r: squeue: error: Unable to contact slurm controller (connect failure); retrying")
}

func TestSlurmTaskThatLeftTheQueue(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name    string
		done    bool
		control string // scontrol's record of 12_0, if it still has one
		want    string // "" for success
	}{
		{"finished run", true, "", ""},
		{"unfinished run", false, "", "Slurm task 12_0 LOST: it left the queue before relix saw it end, and its run is not finished"},
		{"scontrol still knows it", true, "JobId=12 ArrayJobId=12 ArrayTaskId=0 JobState=OUT_OF_MEMORY Reason=OutOfMemory ExitCode=0:125\n",
			"Slurm task 12_0 OUT_OF_MEMORY (killed by signal 125): OutOfMemory"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeSlurm(t)
			f.queue(t, "12_0|RUNNING|None\n", "")
			if tt.control != "" {
				f.set(t, "scontrol.12_0", tt.control)
			}
			s := testSlurm(t, f, nil)
			s.Done = func(Run) bool { return tt.done }
			err := s.Execute(context.Background(), []Run{{Arm: "base", Seed: 1}})
			if tt.want == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
	t.Run("job forgotten", func(t *testing.T) {
		t.Parallel()
		f := newFakeSlurm(t)
		f.queue(t, "12_0|RUNNING|None\n", "!slurm_load_jobs error: Invalid job id specified")
		s := testSlurm(t, f, nil)
		s.Done = func(Run) bool { return true }
		require.NoError(t, s.Execute(context.Background(), []Run{{Arm: "base", Seed: 1}}))
	})
}

func TestSlurmCompletedTaskWhoseRunIsNotDone(t *testing.T) {
	t.Parallel()
	f := newFakeSlurm(t)
	f.queue(t, "12_0|COMPLETED|None\n")
	s := testSlurm(t, f, nil)
	s.Done = func(Run) bool { return false }
	err := s.Execute(context.Background(), []Run{{Arm: "base", Seed: 1}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Slurm task 12_0 COMPLETED: it exited 0 but its run is not finished (is cluster.binary relix?)")
}

func TestSlurmFollowsAnEarlierSubmissionStillQueued(t *testing.T) {
	t.Parallel()
	earlier := func(t *testing.T, f *fakeSlurm, s *Slurm, runs []Run) {
		t.Helper()
		dir := filepath.Join(s.Dir, "slurm")
		require.NoError(t, os.MkdirAll(dir, 0o755))
		require.NoError(t, writeJSON(filepath.Join(dir, "job.json"), submission{Job: "9", Submitted: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC), Runs: runs}))
		f.set(t, "scontrol.9", "JobId=10 ArrayJobId=9 ArrayTaskId=0 JobName=relix-smoke JobState=RUNNING StdOut="+dir+"/9_0.log\n"+
			"JobId=9 ArrayJobId=9 ArrayTaskId=1-2 JobName=relix-smoke JobState=PENDING StdOut="+dir+"/9_%a.log\n")
	}
	t.Run("the same runs", func(t *testing.T) {
		t.Parallel()
		f := newFakeSlurm(t)
		ev := &eventLog{}
		s := testSlurm(t, f, ev)
		earlier(t, f, s, threeRuns)
		f.queue(t, "9_0|RUNNING|None\n9_[1-2]|PENDING|Resources\n", "9_0|COMPLETED|None\n9_1|COMPLETED|None\n9_2|COMPLETED|None\n")
		// The first run finished meanwhile: only two are left to run.
		require.NoError(t, s.Execute(context.Background(), threeRuns[1:]))
		assert.Empty(t, f.calls(t, "sbatch"))
		assert.Equal(t, "following Slurm job 9, submitted 2026-03-04 05:06:07 for these results and still in the queue", ev.notes()[0])
	})
	t.Run("other runs", func(t *testing.T) {
		t.Parallel()
		f := newFakeSlurm(t)
		s := testSlurm(t, f, nil)
		earlier(t, f, s, threeRuns[:1])
		f.queue(t, "9_0|RUNNING|None\n")
		err := s.Execute(context.Background(), threeRuns)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "Slurm job 9, submitted 2026-03-04 05:06:07 for "+s.Dir+", is still in the queue and does not run market/seed-1; "+
			"wait until squeue -j 9 shows it ended, or cancel it with scancel 9, then run again")
		assert.Empty(t, f.calls(t, "sbatch"))
	})
	t.Run("ended", func(t *testing.T) {
		t.Parallel()
		f := newFakeSlurm(t)
		s := testSlurm(t, f, nil)
		earlier(t, f, s, threeRuns)
		f.queue(t, "9_0|COMPLETED|None\n9_1|FAILED|NonZeroExitCode\n9_2|COMPLETED|None\n",
			"12_0|COMPLETED|None\n")
		require.NoError(t, s.Execute(context.Background(), threeRuns[1:2]))
		assert.Len(t, f.calls(t, "sbatch"), 1)
	})
	t.Run("a stranger's job with the same number", func(t *testing.T) {
		t.Parallel()
		f := newFakeSlurm(t)
		s := testSlurm(t, f, nil)
		earlier(t, f, s, threeRuns)
		f.set(t, "scontrol.9", "JobId=9 JobName=train-llm JobState=RUNNING StdOut=/home/x/slurm-9.out\n")
		f.queue(t, "9_0|RUNNING|None\n", "12_0|COMPLETED|None\n")
		require.NoError(t, s.Execute(context.Background(), threeRuns[:1]))
		assert.Len(t, f.calls(t, "sbatch"), 1)
	})
}

func TestSlurmCommandsNotFound(t *testing.T) {
	t.Parallel()
	s := testSlurm(t, newFakeSlurm(t), nil)
	s.Commands = t.TempDir()
	err := s.Execute(context.Background(), threeRuns)
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), "sbatch --parsable"), err.Error())
	assert.False(t, errors.Is(err, context.Canceled))
}
