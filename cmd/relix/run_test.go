package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/relix-lab/relix/results/resultstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// relixProcess runs this test binary as relix.
func relixProcess(args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "RELIX_TEST_AS_MAIN=1")
	return cmd
}

// TestKilledRunResumesToTheSameBytes kills a real relix process with SIGKILL
// at several moments — wherever it happens to be, writes included — and
// checks that running the same command again finishes with exactly the
// Parquet files of an uninterrupted run.
func TestKilledRunResumesToTheSameBytes(t *testing.T) {
	if testing.Short() {
		t.Skip("kills real processes; skipped with -short")
	}
	specPath, err := filepath.Abs("testdata/kill.yaml")
	require.NoError(t, err)
	refDir := filepath.Join(t.TempDir(), "ref")
	out, err := relixProcess("run", "-q", "--out", refDir, specPath).CombinedOutput()
	require.NoError(t, err, "%s", out)
	want := resultstest.ParquetFiles(t, refDir)
	require.NotEmpty(t, want)

	for _, delay := range []time.Duration{80 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond, 900 * time.Millisecond} {
		t.Run(delay.String(), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "out")
			cmd := relixProcess("run", "-q", "--out", dir, specPath)
			require.NoError(t, cmd.Start())
			time.Sleep(delay)
			_ = cmd.Process.Signal(syscall.SIGKILL)
			_ = cmd.Wait()
			out, err := relixProcess("run", "-q", "--out", dir, specPath).CombinedOutput()
			require.NoError(t, err, "%s", out)
			got := resultstest.ParquetFiles(t, dir)
			require.Equal(t, len(want), len(got), "same files")
			for name, data := range want {
				assert.True(t, bytes.Equal(data, got[name]), "%s differs after a kill at %s", name, delay)
			}
		})
	}
}

func TestRunRejectsABadSpecBeforeAnyWork(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	code, _, errOut := cliRun(t, "run", "--out", filepath.Join(dir, "out"), "../../experiment/spec/testdata/out-of-range.bad.yml")
	assert.Equal(t, exitInvalid, code)
	assert.Contains(t, errOut, "train.group_size: out of range")
	_, err := os.Stat(filepath.Join(dir, "out"))
	assert.True(t, os.IsNotExist(err), "nothing is written for an invalid spec")
}

// 1,000 steps of 8 groups with each prompt trained on at most once need
// 8,000 problems: the run says so at once instead of stopping at step 501.
func TestRunRejectsAPoolItWouldExhaust(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	code, _, errOut := cliRun(t, "run", "--out", filepath.Join(dir, "out"), "--set", "train.steps=1000", "../../experiments/paired.yaml")
	assert.Equal(t, exitInvalid, code)
	assert.Contains(t, errOut, "dataset.train: 4000 training problems cannot supply 8 fresh prompts a step for 1000 steps: each prompt is trained on at most once (cooldown forever), so the pool needs at least 8000")
	steps, _ := filepath.Glob(filepath.Join(dir, "out", "runs", "*", "*", "journal", "*"))
	assert.Empty(t, steps, "no step ran")
}

// An --out that holds a user's files is refused, --force or not, and
// nothing in it is touched.
func TestRunRefusesADirectoryOfSomeoneElsesFiles(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "mine")
	require.NoError(t, os.MkdirAll(filepath.Join(out, "plots"), 0o755))
	for _, f := range []string{"index.html", "tables.md", "plots/figure.png"} {
		require.NoError(t, os.WriteFile(filepath.Join(out, f), []byte("my own "+f), 0o644))
	}
	for _, force := range []bool{false, true} {
		args := []string{"run", "-q", "--out", out, "--set", "train.steps=1", "testdata/kill.yaml"}
		if force {
			args = append(args[:1], append([]string{"--force"}, args[1:]...)...)
		}
		code, _, errOut := cliRun(t, args...)
		assert.Equal(t, exitInvalid, code, "force=%v", force)
		assert.Contains(t, errOut, "is not empty and is not a relix results directory (it holds index.html, plots, tables.md)")
		for _, f := range []string{"index.html", "tables.md", "plots/figure.png"} {
			b, err := os.ReadFile(filepath.Join(out, f))
			require.NoError(t, err)
			assert.Equal(t, "my own "+f, string(b))
		}
		_, err := os.Stat(filepath.Join(out, "runs"))
		assert.True(t, os.IsNotExist(err), "no run was started")
	}
}
