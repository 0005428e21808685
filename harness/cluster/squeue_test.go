package cluster

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseArrayID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		id    string
		job   string
		tasks []int
		err   string
	}{
		{id: "12_3", job: "12", tasks: []int{3}},
		{id: "12_[0-3]", job: "12", tasks: []int{0, 1, 2, 3}},
		{id: "12_[5]", job: "12", tasks: []int{5}},
		{id: "12_[0,2-4,7]", job: "12", tasks: []int{0, 2, 3, 4, 7}},
		{id: "12_[4-7%2]", job: "12", tasks: []int{4, 5, 6, 7}},
		{id: "12_[0-8:4]", job: "12", tasks: []int{0, 4, 8}},
		{id: "4294967_0", job: "4294967", tasks: []int{0}},
		{id: "12", err: `"12" is not a job array task id (want JOB_TASK or JOB_[RANGES])`},
		{id: "_3", err: `"_3" is not a job array task id (want JOB_TASK or JOB_[RANGES])`},
		{id: "12+0_1", err: `"12+0_1" is not a job array task id (want JOB_TASK or JOB_[RANGES])`},
		{id: "12_", err: `"12_": task number "" is not a non-negative integer`},
		{id: "12_x", err: `"12_x": task number "x" is not a non-negative integer`},
		{id: "12_[0-3", err: `"12_[0-3": task range has no closing ]`},
		{id: "12_[3-1]", err: `"12_[3-1]": range 3-1 runs backwards`},
		{id: "12_[0-3%]", err: `"12_[0-3%]": throttle: task number "" is not a non-negative integer`},
		{id: "12_[0-3:0]", err: `"12_[0-3:0]": bad range step "0"`},
		{id: "12_[0-99999999]", err: `"12_[0-99999999]": task number "99999999" is out of range`},
		{id: "12_[0-4000000,1]", err: `"12_[0-4000000,1]": more than 4000001 tasks`},
		{id: "12_[1,0-4000000]", err: `"12_[1,0-4000000]": more than 4000001 tasks`},
	}
	for _, tt := range tests {
		job, tasks, err := parseArrayID(tt.id)
		if tt.err != "" {
			assert.EqualError(t, err, tt.err, tt.id)
			continue
		}
		require.NoError(t, err, tt.id)
		assert.Equal(t, tt.job, job, tt.id)
		assert.Equal(t, tt.tasks, tasks, tt.id)
	}
}

func FuzzParseArrayID(f *testing.F) {
	for _, id := range []string{"12_3", "12_[0-3]", "12_[0,2-4%2]", "12_[0-8:4]", "12", "12_[", "1_[0-4000000]"} {
		f.Add(id)
	}
	f.Fuzz(func(t *testing.T, id string) {
		job, tasks, err := parseArrayID(id)
		if err != nil {
			return
		}
		if job == "" || !allDigits(job) || len(tasks) == 0 || len(tasks) > maxArrayTasks {
			t.Fatalf("%q: job %q, %d tasks", id, job, len(tasks))
		}
		for _, n := range tasks {
			if n < 0 || n >= maxArrayTasks {
				t.Fatalf("%q: task %d", id, n)
			}
		}
	})
}

func TestParseQueue(t *testing.T) {
	t.Parallel()
	// As squeue -h --states=all -j 12 -o '%i|%T|%r' prints it (Slurm 22.05).
	out := "12_[5-7%2]|PENDING|JobArrayTaskLimit\n" +
		"12_4|PENDING|Resources\n" +
		"12_3|RUNNING|None\n" +
		"12_0|COMPLETED|None\n" +
		"12_1|FAILED|NonZeroExitCode\n" +
		"13_0|RUNNING|None\n" +
		"\n"
	q, err := parseQueue("12", out)
	require.NoError(t, err)
	assert.Equal(t, map[int]queued{
		0: {"COMPLETED", "None"},
		1: {"FAILED", "NonZeroExitCode"},
		3: {"RUNNING", "None"},
		4: {"PENDING", "Resources"},
		5: {"PENDING", "JobArrayTaskLimit"},
		6: {"PENDING", "JobArrayTaskLimit"},
		7: {"PENDING", "JobArrayTaskLimit"},
	}, q)

	_, err = parseQueue("12", "12_0 RUNNING\n")
	assert.EqualError(t, err, `squeue line "12_0 RUNNING": want ID|STATE|REASON`)
	_, err = parseQueue("12", "12_a|RUNNING|None\n")
	assert.EqualError(t, err, `squeue line "12_a|RUNNING|None": "12_a": task number "a" is not a non-negative integer`)
}

func TestParseRecord(t *testing.T) {
	t.Parallel()
	// A line of scontrol show job -o (Slurm 22.05), shortened, with a
	// reason and a log path that hold spaces.
	line := "JobId=4 ArrayJobId=1 ArrayTaskId=2 JobName=relix-smoke UserId=root(0) JobState=FAILED " +
		"Reason=launch failed requeued held Dependency=(null) ExitCode=7:0 AllocNode:Sid=localhost:2871 " +
		"NtasksPerN:B:S:C=0:0:*:* CPUs/Task=1 Command=(null) WorkDir=/tmp/sl StdErr=/shared/my results/slurm/1_2.log " +
		"StdIn=/dev/null StdOut=/shared/my results/slurm/1_2.log Power= \n"
	rec := parseRecord(line)
	assert.Equal(t, "FAILED", rec["JobState"])
	assert.Equal(t, "launch failed requeued held", rec["Reason"])
	assert.Equal(t, "7:0", rec["ExitCode"])
	assert.Equal(t, "2", rec["ArrayTaskId"])
	assert.Equal(t, "/shared/my results/slurm/1_2.log", rec["StdOut"])
	assert.Equal(t, "localhost:2871", rec["AllocNode:Sid"])
	assert.Equal(t, "1", rec["CPUs/Task"])
	assert.Equal(t, "", rec["Power"])
}

func TestStates(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY"} {
		assert.True(t, terminal(s), s)
		assert.False(t, running(s), s)
	}
	for _, s := range []string{"PENDING", "REQUEUED", "CONFIGURING"} {
		assert.False(t, terminal(s), s)
		assert.False(t, running(s), s)
	}
	for _, s := range []string{"RUNNING", "COMPLETING", "SUSPENDED"} {
		assert.False(t, terminal(s), s)
		assert.True(t, running(s), s)
	}
	assert.Equal(t, "exit code 7", describeExit("7:0"))
	assert.Equal(t, "killed by signal 9", describeExit("0:9"))
	assert.Equal(t, "no exit code", describeExit(""))
}
