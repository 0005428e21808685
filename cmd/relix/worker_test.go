package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/relix-lab/relix/results/resultstest"

	"github.com/relix-lab/relix/experiment/spec"
	"github.com/relix-lab/relix/results"
	"github.com/relix-lab/relix/runners/worker"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A whole experiment through `relix worker --runner sim`, a real worker
// process per run, writes exactly the Parquet files of the in-process sim:
// the protocol carries every number exactly and the spec hashes as the
// sim's. The worker program is this test binary, named relix by a link.
func TestSimOverWorkerGivesByteIdenticalResults(t *testing.T) {
	t.Parallel()
	self, err := os.Executable()
	require.NoError(t, err)
	bin := filepath.Join(t.TempDir(), "relix")
	require.NoError(t, os.Symlink(self, bin))
	smoke := filepath.Join("..", "..", "experiments", "smoke.yaml")
	simDir, workerDir := filepath.Join(t.TempDir(), "sim"), filepath.Join(t.TempDir(), "worker")

	code, _, stderr := cliRun(t, "run", "-q", "--out", simDir, "--set", "seeds=[3]", smoke)
	require.Equal(t, exitOK, code, stderr)
	code, _, stderr = cliRun(t, "run", "-q", "--out", workerDir, "--set", "seeds=[3]",
		"--set", "runner.kind=worker", "--set", "runner.command="+bin+" worker --runner sim",
		"--set", "runner.env={RELIX_TEST_AS_MAIN: '1'}", smoke)
	require.Equal(t, exitOK, code, stderr)

	want, got := resultstest.ParquetFiles(t, simDir), resultstest.ParquetFiles(t, workerDir)
	require.NotEmpty(t, want)
	require.Equal(t, len(want), len(got), "same files")
	for name, data := range want {
		if path.Base(name) == results.ProblemsFile {
			continue
		}
		assert.True(t, bytes.Equal(data, got[name]), "%s differs between the sim and the sim over the worker protocol", name)
	}
	sameProblemsButDifficulty(t, filepath.Join(simDir, results.ProblemsFile), filepath.Join(workerDir, results.ProblemsFile))
	log, err := os.ReadFile(filepath.Join(workerDir, "runs", "market", "seed-3", "worker.log"))
	require.NoError(t, err)
	assert.Contains(t, string(log), "serves relix sim")
}

// sameProblemsButDifficulty: the problems table over the worker protocol is
// the sim's but for difficulty, which only an in-process runner can tell
// (a worker says nothing: null); base success crosses as an oracle answer.
func sameProblemsButDifficulty(t *testing.T, simPath, workerPath string) {
	t.Helper()
	sim, err := results.Read[results.Problem](simPath)
	require.NoError(t, err)
	over, err := results.Read[results.Problem](workerPath)
	require.NoError(t, err)
	require.Len(t, over, len(sim))
	for i := range sim {
		assert.False(t, math.IsNaN(sim[i].Difficulty), "the sim says its difficulty")
		assert.True(t, math.IsNaN(over[i].Difficulty), "a worker says no difficulty")
		sim[i].Difficulty, over[i].Difficulty = 0, 0
		assert.Equal(t, sim[i], over[i], "problem %d", i)
	}
}

func TestWorkerCommandSpeaksTheProtocol(t *testing.T) {
	t.Parallel()
	policy := worker.SimPolicy(spec.DefaultSimPolicy())
	var in bytes.Buffer
	for _, req := range []worker.Request{
		{ID: 1, Method: worker.MethodHello, Params: mustJSON(t, worker.Hello{Protocol: worker.Version, Config: worker.Config{Sim: &policy}})},
		{ID: 2, Method: worker.MethodProblems, Params: json.RawMessage(`{"problems":[{"id":"p1","statement":"What is 2 + 3?","answer":"5","features":{"steps":1}}]}`)},
		{ID: 3, Method: worker.MethodGenerate, Params: json.RawMessage(`{"checkpoint":"nope","prompts":[{"id":"p1","text":"What is 2 + 3?"}],"n":1,"sampling":{"temperature":1,"top_p":1,"max_tokens":64,"seed":1}}`)},
		{ID: 4, Method: worker.MethodShutdown},
	} {
		in.Write(mustJSON(t, req))
		in.WriteByte('\n')
	}
	var stdout, stderr bytes.Buffer
	require.Equal(t, exitOK, run(testProcess(&in, &stdout, &stderr), []string{"relix", "worker", "--runner", "sim"}), stderr.String())
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	require.Len(t, lines, 4)
	var hello worker.HelloResult
	resp, err := worker.DecodeResponse([]byte(lines[0]))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(resp.Result, &hello))
	assert.Equal(t, "sim", hello.Serves)
	assert.Equal(t, []string{worker.NeedProblems}, hello.Needs)
	assert.Equal(t, `{"id":2,"result":{}}`, lines[1])
	assert.Contains(t, lines[2], `{"id":3,"error":{"code":"unknown_checkpoint","message":`)
	assert.Equal(t, `{"id":4,"result":{}}`, lines[3])
}

func TestWorkerCommandUsage(t *testing.T) {
	t.Parallel()
	code, _, stderr := cliRun(t, "worker", "--runner", "gpu")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, `worker: --runner "gpu"; want sim`)
	code, _, _ = cliRun(t, "worker")
	assert.Equal(t, exitUsage, code)
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	data, err := json.Marshal(v)
	require.NoError(t, err)
	return data
}

// TestSmokeWorkerThroughPython runs experiments/smoke-worker.yaml through
// the reference Python worker with its tiny model: every arm's files exist,
// steps trained in Python with finite metrics and every reward is finite.
// It needs a Python with PyTorch, named by RELIX_PYTHON (CI:
// RELIX_PYTHON=/usr/bin/python3 after installing python3-torch).
func TestSmokeWorkerThroughPython(t *testing.T) {
	python := os.Getenv("RELIX_PYTHON")
	if python == "" {
		t.Skip("set RELIX_PYTHON to a Python with PyTorch to run the Python worker")
	}
	workerPy, err := filepath.Abs(filepath.Join("..", "..", "runners", "worker", "python", "worker.py"))
	require.NoError(t, err)
	out := filepath.Join(t.TempDir(), "smoke-worker")
	code, stdout, stderr := cliRun(t, "run", "-q", "--out", out,
		"--set", "runner.command="+python+" "+workerPy+" --tiny", filepath.Join("..", "..", "experiments", "smoke-worker.yaml"))
	require.Equal(t, exitOK, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)

	for _, name := range []string{"manifest.json", "steps.parquet", "rollouts.parquet", "eval.parquet", "summary.parquet", "tables.md"} {
		assert.FileExists(t, filepath.Join(out, name))
	}
	steps, err := results.Read[results.Step](filepath.Join(out, "steps.parquet"))
	require.NoError(t, err)
	trained := 0
	for _, s := range steps {
		if s.UsefulGroups == 0 {
			continue
		}
		trained++
		for name, x := range map[string]float64{"loss": s.Loss, "grad_norm": s.GradNorm, "kl": s.KL, "entropy": s.Entropy, "clip": s.ClipFraction} {
			assert.False(t, math.IsNaN(x) || math.IsInf(x, 0), "%s step %d: %s = %v", s.Arm, s.Step, name, x)
		}
		assert.Greater(t, s.GradNorm, 0.0, "%s step %d trained in Python", s.Arm, s.Step)
	}
	assert.Greater(t, trained, 0, "some step had a group with signal")
	rollouts, err := results.Read[results.Rollout](filepath.Join(out, "rollouts.parquet"))
	require.NoError(t, err)
	require.NotEmpty(t, rollouts)
	correct := 0
	for _, r := range rollouts {
		require.True(t, r.Reward == 0 || r.Reward == 1, "reward %v", r.Reward)
		correct += int(r.Reward)
	}
	assert.Greater(t, correct, 0, "the tiny model boxes a right answer now and then")
	evals, err := results.Read[results.Eval](filepath.Join(out, "eval.parquet"))
	require.NoError(t, err)
	arms := map[string]bool{}
	for _, e := range evals {
		arms[e.Arm] = true
	}
	assert.Equal(t, map[string]bool{"base": true, "uniform": true, "market": true}, arms)
}
