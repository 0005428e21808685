package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/relix-lab/relix/results/resultstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeSlurm is a Slurm in four shell scripts: sbatch runs an array's tasks
// one after another before it returns the job id, squeue and scontrol tell
// how they ended. Tasks run this test binary as relix.
const fakeSlurm = `#!/bin/sh
d=$(dirname "$0")
case $(basename "$0") in
sbatch)
	job=$(cat "$d/next" 2>/dev/null || echo 100)
	echo $((job + 1)) >"$d/next"
	for a in "$@"; do
		case $a in
		--array=*) last=$(echo "${a#--array=0-}" | sed 's/%.*//') ;;
		--output=*) output=${a#--output=} ;;
		esac
		script=$a
	done
	i=0
	while [ $i -le $last ]; do
		log=$(echo "$output" | sed "s/%A/$job/; s/%a/$i/")
		SLURM_ARRAY_JOB_ID=$job SLURM_ARRAY_TASK_ID=$i RELIX_TEST_AS_MAIN=1 sh "$script" >"$log" 2>&1
		echo "${job}_$i $? $log" >>"$d/tasks"
		i=$((i + 1))
	done
	echo "$job"
	;;
squeue)
	while [ $# -gt 0 ]; do [ "$1" = -j ] && job=$2; shift; done
	grep "^${job}_" "$d/tasks" | while read -r id code log; do
		if [ "$code" = 0 ]; then echo "$id|COMPLETED|None"; else echo "$id|FAILED|NonZeroExitCode"; fi
	done
	;;
scontrol)
	eval id=\${$#}
	grep "^$id " "$d/tasks" | while read -r id code log; do
		echo "JobId=$id JobName=x JobState=FAILED Reason=NonZeroExitCode ExitCode=$code:0 StdOut=$log"
	done
	;;
esac
`

// installFakeSlurm puts fakeSlurm first on PATH and returns its directory.
func installFakeSlurm(t *testing.T) string {
	t.Helper()
	bin := t.TempDir()
	for _, name := range []string{"sbatch", "squeue", "scontrol", "scancel"} {
		require.NoError(t, os.WriteFile(filepath.Join(bin, name), []byte(fakeSlurm), 0o755))
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	return bin
}

// TestSlurmRunGivesTheLocalBytes runs an experiment through the Slurm
// executor, its tasks run by a fake Slurm, with one arm failing at first:
// the failure is reported with the task's log, running again submits only
// the failed run, and the merged Parquet files are those of a local run.
func TestSlurmRunGivesTheLocalBytes(t *testing.T) {
	bin := installFakeSlurm(t)
	spec, err := filepath.Abs("testdata/kill.yaml")
	require.NoError(t, err)
	dir := t.TempDir()
	sets := []string{"--set", "train.steps=4", "--set", "eval.every=2"} // the tasks must load the same spec

	ref := filepath.Join(dir, "local")
	code, _, errOut := cliRun(t, append(append([]string{"run", "-q", "--out", ref}, sets...), spec)...)
	require.Equal(t, exitOK, code, errOut)
	want := resultstest.ParquetFiles(t, ref)

	// A relix that fails the market arm's task.
	exe, err := os.Executable()
	require.NoError(t, err)
	broken := filepath.Join(dir, "broken-relix")
	require.NoError(t, os.WriteFile(broken, []byte("#!/bin/sh\n"+
		"case \" $* \" in *\" --arm market \"*) echo 'no GPU here' >&2; exit 7 ;; esac\n"+
		"exec '"+exe+"' \"$@\"\n"), 0o755))
	out := filepath.Join(dir, "slurm")
	args := append([]string{"run", "--cluster", "slurm", "--set", "cluster.poll=10ms", "--out", out}, sets...)
	code, _, errOut = cliRun(t, append(append(args, "--set", "cluster.binary="+broken), spec)...)
	assert.Equal(t, exitRuntime, code)
	assert.Contains(t, errOut, "submitted 3 runs as Slurm job array 100")
	assert.Contains(t, errOut, "relix: 1 of 3 tasks of Slurm job 100 failed (the other runs are complete; run again to retry only the failed ones)\n"+
		"market/seed-9: Slurm task 100_2 FAILED (exit code 7); the last lines of "+filepath.Join(out, "slurm", "100_2.log")+":\n    | no GPU here\n")

	code, stdout, errOut := cliRun(t, append(args, spec)...)
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, errOut, "submitted 1 runs as Slurm job array 101")
	assert.Regexp(t, regexp.MustCompile(`(?m)^market/seed-9: step 4/4 accepted \d+`), errOut)
	assert.Contains(t, stdout, "3 runs done in")
	got := resultstest.ParquetFiles(t, out)
	require.Equal(t, len(want), len(got))
	for name, data := range want {
		assert.True(t, bytes.Equal(data, got[name]), "%s differs from the local run's", name)
	}
	script, err := os.ReadFile(filepath.Join(out, "slurm", "101.sh"))
	require.NoError(t, err)
	assert.Contains(t, string(script), "'--cluster' 'local' '--verbose' '--no-merge' '--out' '"+out+"' '--set' 'train.steps=4' '--set' 'eval.every=2' '--arm' 'market' '--seed' '9' '"+spec+"'")
	assert.NotContains(t, string(script), "cluster.")

	// Complete: nothing is submitted.
	code, stdout, _ = cliRun(t, append(args, spec)...)
	require.Equal(t, exitOK, code)
	assert.Contains(t, stdout, "already complete")
	next, err := os.ReadFile(filepath.Join(bin, "next"))
	require.NoError(t, err)
	assert.Equal(t, "102", strings.TrimSpace(string(next)))
}

func TestRunRejectsAnUnknownCluster(t *testing.T) {
	t.Parallel()
	code, _, errOut := cliRun(t, "run", "--cluster", "kubernetes", "testdata/kill.yaml")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, `run: --cluster "kubernetes": want local or slurm`)
}

// TestSlurmMultirunIsOneArray runs a multirun through the Slurm executor:
// every run of every experiment is a task of one job array, and each
// experiment's merged Parquet files are those of a local multirun.
func TestSlurmMultirunIsOneArray(t *testing.T) {
	installFakeSlurm(t)
	spec, err := filepath.Abs("testdata/kill.yaml")
	require.NoError(t, err)
	dir := t.TempDir()
	sets := []string{"--set", "train.steps=2,4", "--set", "eval.every=2"}

	ref := filepath.Join(dir, "local")
	code, _, errOut := cliRun(t, append(append([]string{"run", "-q", "-m", "--out", ref}, sets...), spec)...)
	require.Equal(t, exitOK, code, errOut)

	out := filepath.Join(dir, "slurm")
	args := append([]string{"run", "-m", "--cluster", "slurm", "--set", "cluster.poll=10ms", "--out", out}, sets...)
	code, stdout, errOut := cliRun(t, append(args, spec)...)
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, errOut, "submitted 6 runs as Slurm job array 100")
	assert.Contains(t, stdout, "2 experiments, 6 runs done in")
	for _, member := range []string{"train.steps=2", "train.steps=4"} {
		want := resultstest.ParquetFiles(t, filepath.Join(ref, member))
		got := resultstest.ParquetFiles(t, filepath.Join(out, member))
		require.Equal(t, len(want), len(got), member)
		for name, data := range want {
			assert.True(t, bytes.Equal(data, got[name]), "%s/%s differs from the local multirun's", member, name)
		}
	}
	script, err := os.ReadFile(filepath.Join(out, "slurm", "100.sh"))
	require.NoError(t, err)
	assert.Contains(t, string(script), "'--out' '"+filepath.Join(out, "train.steps=4")+"' '--set' 'train.steps=4' '--set' 'eval.every=2' '--arm' 'market' '--seed' '9'")

	code, stdout, _ = cliRun(t, append(args, spec)...)
	require.Equal(t, exitOK, code)
	assert.Contains(t, stdout, "(already complete)")
}
