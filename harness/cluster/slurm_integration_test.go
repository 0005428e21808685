package cluster_test

import (
	"bufio"
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/relix-lab/relix/results/resultstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSlurmEndToEnd runs experiments/smoke.yaml through a real Slurm — the
// one-node cluster of scripts/slurm-local.sh up — and checks that:
// a task that fails is reported with its exit code and the tail of its
// log while the others finish; running again submits only the failed
// runs; the merged Parquet files are byte for byte those of a local run;
// and Ctrl-C cancels the array. Set RELIX_SLURM=1 to run it.
func TestSlurmEndToEnd(t *testing.T) {
	if os.Getenv("RELIX_SLURM") != "1" {
		t.Skip("needs a Slurm cluster (scripts/slurm-local.sh up); set RELIX_SLURM=1")
	}
	_, err := exec.LookPath("sbatch")
	require.NoError(t, err, "RELIX_SLURM=1 but sbatch is not on PATH")

	// The binary, the spec and the results live in one directory every
	// node sees (here: the only node).
	shared := t.TempDir()
	relix := filepath.Join(shared, "relix")
	build := exec.Command("go", "build", "-o", relix, "github.com/relix-lab/relix/cmd/relix")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "%s", out)
	spec, err := filepath.Abs("../../experiments/smoke.yaml")
	require.NoError(t, err)

	ref := filepath.Join(shared, "local")
	out, err = exec.Command(relix, "run", "-q", "--out", ref, spec).CombinedOutput()
	require.NoError(t, err, "%s", out)
	want := resultstest.ParquetFiles(t, ref)
	require.NotEmpty(t, want)

	t.Run("a failed task, then the rest", func(t *testing.T) {
		dir := filepath.Join(shared, "through-slurm")
		// A relix that fails the market arm's tasks, as a broken node would.
		broken := filepath.Join(shared, "broken-relix")
		require.NoError(t, os.WriteFile(broken, []byte("#!/bin/sh\n"+
			"case \" $* \" in *\" --arm market \"*) echo \"market refuses to run on $(hostname)\" >&2; exit 7 ;; esac\n"+
			"exec "+relix+" \"$@\"\n"), 0o755))

		start := time.Now()
		code, stdout, stderr := relixRun(t, relix, "run", "--cluster", "slurm", "--set", "cluster.poll=200ms",
			"--set", "cluster.binary="+broken, "--out", dir, spec)
		t.Logf("with a failing arm: %s\n%s", time.Since(start).Round(time.Millisecond), stderr)
		require.Equal(t, 3, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
		job := regexp.MustCompile(`submitted 8 runs as Slurm job array (\d+)`).FindStringSubmatch(stderr)
		require.NotNil(t, job, stderr)
		assert.Contains(t, stderr, "relix: 2 of 8 tasks of Slurm job "+job[1]+" failed")
		for _, task := range []struct{ run, index string }{{"market/seed-3", "6"}, {"market/seed-4", "7"}} {
			log := filepath.Join(dir, "slurm", job[1]+"_"+task.index+".log")
			assert.Contains(t, stderr, task.run+": Slurm task "+job[1]+"_"+task.index+" FAILED (exit code 7); the last lines of "+log+":\n"+
				"    | market refuses to run on ")
		}
		assert.Contains(t, stderr, "uniform/seed-4: done")
		_, err := os.Stat(filepath.Join(dir, "manifest.json"))
		assert.ErrorIs(t, err, fs.ErrNotExist, "nothing is merged while a run is missing")

		start = time.Now()
		code, stdout, stderr = relixRun(t, relix, "run", "--cluster", "slurm", "--set", "cluster.poll=200ms", "--out", dir, spec)
		t.Logf("the failed runs again: %s\n%s", time.Since(start).Round(time.Millisecond), stderr)
		require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
		assert.Contains(t, stderr, "submitted 2 runs as Slurm job array")
		assert.Contains(t, stdout, "8 runs done in")

		got := resultstest.ParquetFiles(t, dir)
		require.Len(t, got, len(want))
		for name, data := range want {
			assert.True(t, bytes.Equal(data, got[name]), "%s differs from the local run's", name)
		}
	})

	t.Run("ctrl-c cancels the array", func(t *testing.T) {
		dir := filepath.Join(shared, "cancelled")
		slow := filepath.Join(shared, "slow-relix")
		require.NoError(t, os.WriteFile(slow, []byte("#!/bin/sh\nsleep 120\nexec "+relix+" \"$@\"\n"), 0o755))
		cmd := exec.Command(relix, "run", "-q", "--cluster", "slurm", "--set", "cluster.poll=200ms",
			"--set", "cluster.binary="+slow, "--out", dir, spec)
		stderr, err := cmd.StderrPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start())
		lines := make(chan string, 100)
		go func() {
			defer close(lines)
			sc := bufio.NewScanner(stderr)
			for sc.Scan() {
				lines <- sc.Text()
			}
		}()
		var job string
		var all strings.Builder
		timeout := time.After(2 * time.Minute)
		for job == "" {
			select {
			case line, ok := <-lines:
				require.True(t, ok, "relix ended before submitting:\n%s", all.String())
				all.WriteString(line + "\n")
				// Interrupt once a task runs.
				if strings.Contains(line, ": started") {
					m := regexp.MustCompile(`job array (\d+)`).FindStringSubmatch(all.String())
					require.NotNil(t, m, all.String())
					job = m[1]
				}
			case <-timeout:
				_ = cmd.Process.Kill()
				t.Fatalf("no task started in 2 minutes:\n%s", all.String())
			}
		}
		start := time.Now()
		require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
		for line := range lines {
			all.WriteString(line + "\n")
		}
		err = cmd.Wait()
		t.Logf("stopped %s after Ctrl-C:\n%s", time.Since(start).Round(time.Millisecond), all.String())
		var exit *exec.ExitError
		require.ErrorAs(t, err, &exit)
		assert.Equal(t, 130, exit.ExitCode(), "stopped by SIGINT: 128 + 2")
		assert.Contains(t, all.String(), "cancelling Slurm job "+job+" (scancel "+job+")")
		assert.Contains(t, all.String(), "relix: interrupted; complete steps are saved")
		q, err := exec.Command("squeue", "-h", "--states=all", "-j", job, "-o", "%i %T").CombinedOutput()
		require.NoError(t, err, "%s", q)
		for _, line := range strings.Split(strings.TrimSpace(string(q)), "\n") {
			assert.True(t, strings.HasSuffix(line, " CANCELLED"), "after Ctrl-C: %s", line)
		}
	})
}

func relixRun(t *testing.T, relix string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	cmd := exec.Command(relix, args...)
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if exit, ok := err.(*exec.ExitError); ok {
		return exit.ExitCode(), o.String(), e.String()
	}
	require.NoError(t, err)
	return 0, o.String(), e.String()
}
