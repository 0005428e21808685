package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
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
// process per run, writes exactly the Parquet files of the in-process sim,
// the problems table's difficulties included (the protocol's difficulties
// method): the protocol carries every number exactly and the spec hashes
// as the sim's. The worker program is this test binary, named relix by a link.
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
		assert.True(t, bytes.Equal(data, got[name]), "%s differs between the sim and the sim over the worker protocol", name)
	}
	log, err := os.ReadFile(filepath.Join(workerDir, "runs", "market", "seed-3", "worker.log"))
	require.NoError(t, err)
	assert.Contains(t, string(log), "serves relix sim")
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
	out := runSmokeWorker(t, python+" "+pythonWorker(t))

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

// TestSmokeWorkerThroughTorchrun runs experiments/smoke-worker.yaml through
// the Python worker under torchrun, two ranks on the CPU (gloo), and
// through one process, and compares the runs. Rank 0 samples from the same
// seeds and ids hash requests, so every training rollout, reward and
// checkpoint id is the same. The ranks add up their gradients in another
// order than one process does, so the weights after a step differ a little
// (AdamW magnifies the difference where a gradient is rounding noise), and
// so does every step metric computed from them: the first step's loss, KL,
// entropy and clip share (from the base weights, summed in request order)
// are the same numbers, the gradient norm and later steps' metrics agree
// to 1e-4 (or 1e-6 where they cancel to 0). A sampled token changes where
// its uniform draw falls within that difference of the boundary between
// two tokens: in this run one eval sample of 800 does (eval feeds no step,
// so nothing else changes); a training rollout does not, on this
// machine's kernels. Where one would, every later step trains on other
// groups and this test fails without a bug. RELIX_TORCHRUN is the
// launcher: torchrun where it works, in CI "/usr/bin/python3
// /abs/path/runners/worker/python/torchrun.py" (Debian's torch 1.13 needs
// its fix under Python 3.11).
func TestSmokeWorkerThroughTorchrun(t *testing.T) {
	python, torchrun := os.Getenv("RELIX_PYTHON"), os.Getenv("RELIX_TORCHRUN")
	if python == "" || torchrun == "" {
		t.Skip("set RELIX_PYTHON to a Python with PyTorch and RELIX_TORCHRUN to its torchrun to run the worker under torchrun")
	}
	// One thread a process: the ranks (torchrun's default) and the one
	// process then run the same kernels.
	t.Setenv("OMP_NUM_THREADS", "1")
	one := runSmokeWorker(t, python+" "+pythonWorker(t))
	two := runSmokeWorker(t, torchrun+" --nnodes 1 --nproc_per_node 2 --rdzv_backend c10d --rdzv_endpoint localhost:0 "+pythonWorker(t))

	assert.Zero(t, differentRows[results.Rollout](t, one, two, "rollouts.parquet"),
		"a sampled token of a training rollout changed: every later step then trains on other groups (see above)")
	evals := differentRows[results.Eval](t, one, two, "eval.parquet")
	assert.LessOrEqual(t, evals, 4, "eval samples whose tokens changed (a draw within the weights' difference of a boundary)")
	want, err := results.Read[results.Step](filepath.Join(one, "steps.parquet"))
	require.NoError(t, err)
	got, err := results.Read[results.Step](filepath.Join(two, "steps.parquet"))
	require.NoError(t, err)
	require.Len(t, got, len(want))
	trained := 0
	for i := range want {
		w, g := want[i], got[i]
		at := fmt.Sprintf("%s step %d", w.Arm, w.Step)
		if w.UsefulGroups > 0 {
			trained++
		}
		first := w.Step == 1
		for _, m := range []struct {
			name     string
			w, g     *float64
			sameBits bool
		}{
			{"loss", &w.Loss, &g.Loss, first}, {"kl", &w.KL, &g.KL, first}, {"entropy", &w.Entropy, &g.Entropy, first},
			{"clip", &w.ClipFraction, &g.ClipFraction, first}, {"grad_norm", &w.GradNorm, &g.GradNorm, false},
		} {
			if m.sameBits {
				assert.Equal(t, math.Float64bits(*m.w), math.Float64bits(*m.g), "%s: %s %v against %v", at, m.name, *m.w, *m.g)
			} else {
				assert.True(t, closeTo(*m.w, *m.g, 1e-4, 1e-6), "%s: %s %v against %v", at, m.name, *m.w, *m.g)
			}
			*m.w, *m.g = 0, 0
		}
		assert.Equal(t, fmt.Sprintf("%+v", w), fmt.Sprintf("%+v", g), "%s: the step's other columns", at)
	}
	assert.Greater(t, trained, 2, "steps trained across the ranks")
	log, err := os.ReadFile(filepath.Join(two, "runs", "uniform", "seed-3", "worker.log"))
	require.NoError(t, err)
	assert.Contains(t, string(log), "rank 1 of 2", "the worker ran as two ranks")
	assert.NotContains(t, string(log), "Traceback")
}

// closeTo says whether a and b agree to the relative tolerance, or to the
// absolute one for a sum that cancels to about 0 (a GRPO loss: advantages
// sum to 0 in a group); both NaN: neither reported.
func closeTo(a, b, rel, abs float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	return math.Abs(a-b) <= rel*math.Max(math.Abs(a), math.Abs(b))+abs
}

// pythonWorker is the reference Python worker's path.
func pythonWorker(t *testing.T) string {
	t.Helper()
	path, err := filepath.Abs(filepath.Join("..", "..", "runners", "worker", "python", "worker.py"))
	require.NoError(t, err)
	return path + " --tiny"
}

// runSmokeWorker runs experiments/smoke-worker.yaml with runner.command and
// returns its results directory.
func runSmokeWorker(t *testing.T, command string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "smoke-worker")
	code, stdout, stderr := cliRun(t, "run", "-q", "--out", out,
		"--set", "runner.command="+command, filepath.Join("..", "..", "experiments", "smoke-worker.yaml"))
	require.Equal(t, exitOK, code, "%s\nstdout:\n%s\nstderr:\n%s", command, stdout, stderr)
	return out
}

// differentRows logs and counts the rows of the table file name that differ
// between two results directories (NaN equal to NaN, floats to the bit);
// both must hold as many rows.
func differentRows[R results.Row](t *testing.T, want, got, name string) int {
	t.Helper()
	w, err := results.Read[R](filepath.Join(want, name))
	require.NoError(t, err)
	g, err := results.Read[R](filepath.Join(got, name))
	require.NoError(t, err)
	require.NotEmpty(t, w, name)
	require.Len(t, g, len(w), name)
	n := 0
	for i := range w {
		if a, b := fmt.Sprintf("%+v", w[i]), fmt.Sprintf("%+v", g[i]); a != b {
			t.Logf("%s row %d:\n one process %s\n   two ranks %s", name, i, a, b)
			n++
		}
	}
	t.Logf("%s: %d of %d rows differ", name, n, len(w))
	return n
}
