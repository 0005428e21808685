package worker

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/relix-lab/relix/experiment/dataset"
	"github.com/relix-lab/relix/experiment/spec"
	"github.com/relix-lab/relix/runners"
	"github.com/relix-lab/relix/runners/sim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var ctx = context.Background()

var (
	setsOnce sync.Once
	sets     []*dataset.Set
)

// problemSets are two small generated sets, the same in every test.
func problemSets(t testing.TB) []*dataset.Set {
	t.Helper()
	setsOnce.Do(func() {
		train, err := dataset.Generate(dataset.GeneratorConfig{Size: 60, Seed: 5}, dataset.Train)
		if err != nil {
			t.Fatal(err)
		}
		heldout, err := dataset.Generate(dataset.GeneratorConfig{Size: 20, Seed: 6}, dataset.HeldOut)
		if err != nil {
			t.Fatal(err)
		}
		sets = []*dataset.Set{train, heldout}
	})
	return sets
}

// syncBuffer is a log that tests may read while a worker writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// fakeConfig is the runner block of a fake worker in mode (fake_test.go).
func fakeConfig(t testing.TB, mode string) spec.Runner {
	cfg := spec.Default().Runner
	cfg.Kind = Kind
	cfg.Command = spec.Command{os.Args[0]}
	cfg.Env = map[string]string{"RELIX_FAKE_WORKER": mode, "RELIX_FAKE_MARK": filepath.Join(t.TempDir(), "mark")}
	cfg.Timeouts = spec.Timeouts{
		Start: spec.Duration(30 * time.Second), Generate: spec.Duration(30 * time.Second),
		Step: spec.Duration(30 * time.Second), Other: spec.Duration(30 * time.Second),
	}
	cfg.MaxRestarts = 2
	return cfg
}

func startFake(t testing.TB, cfg spec.Runner) (runners.Runner, *syncBuffer) {
	t.Helper()
	log := &syncBuffer{}
	r, err := New(ctx, cfg, runners.Options{Problems: problemSets(t), Log: log})
	require.NoError(t, err, "log:\n%s", log)
	t.Cleanup(func() { _ = r.Close() })
	return r, log
}

func inProcessSim(t testing.TB) *sim.Runner {
	t.Helper()
	r, err := sim.New(spec.DefaultSimPolicy(), runners.Options{Problems: problemSets(t)})
	require.NoError(t, err)
	return r
}

func prompts(t testing.TB, n int) []runners.Prompt {
	out := make([]runners.Prompt, n)
	for i := range out {
		set := problemSets(t)[0].Problems
		p := set[i%len(set)]
		out[i] = runners.Prompt{ID: p.ID, Text: p.Statement}
	}
	return out
}

var sampling = runners.Sampling{Temperature: 0.9, TopP: 1, MaxTokens: 2048, Seed: 77, Tokens: true}

// groupsFor generates a group per prompt at ck and rewards every other
// completion, so that every group carries signal.
func groupsFor(t testing.TB, r runners.Runner, ck string, seed uint64) []runners.Group {
	t.Helper()
	s := sampling
	s.Seed = seed
	ps := prompts(t, 4)
	comps, err := r.Generate(ctx, ck, ps, 4, s)
	require.NoError(t, err)
	groups := make([]runners.Group, len(ps))
	for i := range ps {
		groups[i] = runners.Group{Prompt: ps[i], Completions: comps[i], Rewards: []float64{1, 0, 1, 0}}
	}
	return groups
}

var grpo = spec.Default().Train.GRPO

// train runs steps GRPO steps from the base checkpoint, saving each new
// checkpoint the way the harness does (a temporary directory renamed, the
// previous one deleted) when save is set, and returns the checkpoint ids.
func train(t testing.TB, r runners.Runner, steps int, save bool) []string {
	t.Helper()
	ck := r.Base()
	ids := []string{ck}
	dir := t.TempDir()
	for step := 0; step < steps; step++ {
		next, m, err := r.Step(ctx, ck, groupsFor(t, r, ck, uint64(step)), runners.NewHyper(grpo, step, steps, r.Base()))
		require.NoError(t, err, "step %d", step)
		require.True(t, m.Updated)
		ck = next
		ids = append(ids, ck)
		if save {
			tmp := filepath.Join(dir, ".tmp")
			require.NoError(t, r.Save(ctx, ck, tmp))
			final := filepath.Join(dir, "final")
			require.NoError(t, os.RemoveAll(final))
			require.NoError(t, os.Rename(tmp, final))
		}
	}
	return ids
}

func TestSimOverWorkerEqualsSim(t *testing.T) {
	t.Parallel()
	w, _ := startFake(t, fakeConfig(t, "sim"))
	s := inProcessSim(t)
	require.Equal(t, s.Base(), w.Base())

	wc, err := w.Generate(ctx, w.Base(), prompts(t, 6), 5, sampling)
	require.NoError(t, err)
	sc, err := s.Generate(ctx, s.Base(), prompts(t, 6), 5, sampling)
	require.NoError(t, err)
	require.Equal(t, sc, wc)

	wids, sids := train(t, w, 3, false), train(t, s, 3, false)
	require.Equal(t, sids, wids)

	groups := groupsFor(t, s, sids[1], 9)
	h := runners.NewHyper(grpo, 1, 3, sids[1])
	wn, wm, err := w.Step(ctx, wids[1], groups, h)
	require.NoError(t, err)
	sn, sm, err := s.Step(ctx, sids[1], groups, h)
	require.NoError(t, err)
	assert.Equal(t, sn, wn)
	assert.Equal(t, sm, wm)

	tokens := sc[0][0].Tokens
	wh, err := w.Hidden(ctx, wids[2], tokens, []int{0, 3, len(tokens) - 1})
	require.NoError(t, err)
	sh, err := s.Hidden(ctx, sids[2], tokens, []int{0, 3, len(tokens) - 1})
	require.NoError(t, err)
	assert.Equal(t, sh, wh)

	o, ok := w.(runners.Oracle)
	require.True(t, ok, "a worker serving the sim is an oracle")
	wp, err := o.SuccessProbability(ctx, wids[3], prompts(t, 1)[0], sampling, "zero")
	require.NoError(t, err)
	sp, err := s.SuccessProbability(ctx, sids[3], prompts(t, 1)[0], sampling, "zero")
	require.NoError(t, err)
	assert.Equal(t, sp, wp)

	// The problems table's difficulty is the sim's own, so that the table
	// is byte-identical over the pipe.
	wd, err := w.(difficultyTeller).Difficulties(ctx, prompts(t, 6))
	require.NoError(t, err)
	sd, err := s.Difficulties(ctx, prompts(t, 6))
	require.NoError(t, err)
	assert.Equal(t, sd, wd)

	wdir, sdir := t.TempDir(), t.TempDir()
	require.NoError(t, w.Save(ctx, wids[3], wdir))
	require.NoError(t, s.Save(ctx, sids[3], sdir))
	wfile, err := os.ReadFile(filepath.Join(wdir, "sim-checkpoint.json"))
	require.NoError(t, err)
	sfile, err := os.ReadFile(filepath.Join(sdir, "sim-checkpoint.json"))
	require.NoError(t, err)
	assert.Equal(t, string(sfile), string(wfile))
	id, err := w.Load(ctx, sdir)
	require.NoError(t, err)
	assert.Equal(t, sids[3], id)
}

func TestConcurrentCallsGiveTheSameResults(t *testing.T) {
	t.Parallel()
	w, _ := startFake(t, fakeConfig(t, "sim"))
	s := inProcessSim(t)
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sp := sampling
			sp.Seed = uint64(i)
			ps := prompts(t, 1+i%3)
			want, err := s.Generate(ctx, s.Base(), ps, 3, sp)
			assert.NoError(t, err)
			got, err := w.Generate(ctx, w.Base(), ps, 3, sp)
			assert.NoError(t, err)
			assert.Equal(t, want, got)
		}()
	}
	wg.Wait()
}

// The worker dies in the middle of its second step: relix starts a new
// one, loads the first step's checkpoint from its own copy of the save
// (the saved directory itself was renamed away) and asks again.
func TestCrashMidStepRestartsFromTheLastSave(t *testing.T) {
	t.Parallel()
	cfg := fakeConfig(t, "crash-step")
	cfg.Env["RELIX_FAKE_AT"] = "2"
	w, log := startFake(t, cfg)
	assert.Equal(t, train(t, inProcessSim(t), 3, false), train(t, w, 3, true))
	require.NoError(t, w.Close())
	assert.Contains(t, log.String(), "CUDA error: an illegal memory access")
	assert.Contains(t, log.String(), "relix: the worker died (exit status 134)")
	assert.Contains(t, log.String(), "relix: restarting the worker (restart 1 of 2)")
}

// Without a save, the lost checkpoint is made again by replaying the step
// that made it.
func TestCrashMidStepReplaysAnUnsavedCheckpoint(t *testing.T) {
	t.Parallel()
	cfg := fakeConfig(t, "crash-step")
	cfg.Env["RELIX_FAKE_AT"] = "3"
	w, log := startFake(t, cfg)
	assert.Equal(t, train(t, inProcessSim(t), 4, false), train(t, w, 4, false))
	require.NoError(t, w.Close())
	assert.Contains(t, log.String(), "restarting the worker (restart 1 of 2)")
}

// A worker may let checkpoints go; relix restores the one it asks for
// again (here from its copy of the save) and repeats the request.
func TestAForgottenCheckpointIsRestored(t *testing.T) {
	t.Parallel()
	cfg := fakeConfig(t, "forget")
	w, _ := startFake(t, cfg)
	s := inProcessSim(t)
	ids := train(t, w, 1, true)
	require.Equal(t, train(t, s, 1, false), ids)
	got, err := w.Generate(ctx, ids[1], prompts(t, 2), 3, sampling)
	require.NoError(t, err)
	want, err := s.Generate(ctx, ids[1], prompts(t, 2), 3, sampling)
	require.NoError(t, err)
	assert.Equal(t, want, got)
	assert.FileExists(t, cfg.Env["RELIX_FAKE_MARK"], "the worker did answer unknown_checkpoint once")
}

func TestHungWorkerIsKilledAndRestarted(t *testing.T) {
	t.Parallel()
	cfg := fakeConfig(t, "hang-step")
	cfg.Timeouts.Step = spec.Duration(time.Second)
	w, log := startFake(t, cfg)
	assert.Equal(t, train(t, inProcessSim(t), 2, false), train(t, w, 2, false))
	require.NoError(t, w.Close())
	assert.Contains(t, log.String(), "relix: the worker hung: no answer to the step request within 1s")
}

func TestAWorkerThatKeepsHangingFailsWithItsLastLogLines(t *testing.T) {
	t.Parallel()
	cfg := fakeConfig(t, "hang")
	cfg.Timeouts.Step = spec.Duration(300 * time.Millisecond)
	cfg.MaxRestarts = 1
	w, _ := startFake(t, cfg)
	_, _, err := w.Step(ctx, w.Base(), groupsFor(t, w, w.Base(), 1), runners.NewHyper(grpo, 0, 1, w.Base()))
	require.Error(t, err)
	msg := err.Error()
	assert.Contains(t, msg, "worker: giving up after 1 restarts (runner.max_restarts): the worker hung: no answer to the step request within 300ms")
	assert.Contains(t, msg, "last lines of the worker's stderr:\n  step: waiting for a GPU that never answers")
	// The runner stays failed.
	_, err = w.Generate(ctx, w.Base(), prompts(t, 1), 1, sampling)
	assert.ErrorContains(t, err, "giving up")
}

func TestStartFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		mode string
		want []string
	}{
		{"crash-start", []string{"hello: the worker died (exit status 1)",
			"last lines of the worker's stderr:\n  Traceback (most recent call last):\n  ModuleNotFoundError: No module named 'torch'"}},
		{"garbage", []string{`the worker wrote a line on stdout that is not a protocol message (line 1: "Loading checkpoint shards: 100%")`,
			"a worker writes only protocol messages on stdout and its logs on stderr"}},
		{"version", []string{"hello: the worker speaks protocol version 99; relix speaks 1"}},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			t.Parallel()
			_, err := New(ctx, fakeConfig(t, tt.mode), runners.Options{Problems: problemSets(t)})
			require.Error(t, err)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
	t.Run("missing program", func(t *testing.T) {
		t.Parallel()
		cfg := fakeConfig(t, "sim")
		cfg.Command = spec.Command{"relix-no-such-worker", "--tiny"}
		_, err := New(ctx, cfg, runners.Options{})
		assert.ErrorContains(t, err, `starting the worker "relix-no-such-worker --tiny": exec: "relix-no-such-worker": executable file not found in $PATH`)
	})
}

// Malformed, inconsistent or oversized answers are errors, never panics;
// those that break the protocol fail the runner without a restart.
func TestMalformedResponses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		mode  string
		want  string
		fatal bool
	}{
		{"nan", "NaN and Infinity are not JSON: a non-finite number is an error, not a value", true},
		{"short", "worker: generate: prompt 0 (", false},
		{"stranger", "the worker answered request 1002, which relix never sent or which was answered already", true},
		{"huge", "the worker wrote a message longer than the limit", true},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			t.Parallel()
			cfg := fakeConfig(t, tt.mode)
			cfg.MaxMessage = 1
			w, log := startFake(t, cfg)
			_, err := w.Generate(ctx, w.Base(), prompts(t, 1), 2, sampling)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.NotContains(t, log.String(), "restarting")
			_, err = w.Generate(ctx, w.Base(), prompts(t, 1), 2, sampling)
			if tt.fatal {
				assert.Error(t, err, "a worker that broke the protocol is not used again")
			} else {
				assert.ErrorContains(t, err, tt.want)
			}
		})
	}
}

func TestUnknownCheckpoint(t *testing.T) {
	t.Parallel()
	w, _ := startFake(t, fakeConfig(t, "sim"))
	_, err := w.Generate(ctx, "sim-0000000000000000", prompts(t, 1), 1, sampling)
	assert.True(t, errors.Is(err, runners.ErrUnknownCheckpoint), "%v", err)
	_, err = w.Load(ctx, t.TempDir())
	assert.ErrorContains(t, err, "worker: load: failed:")
}

func TestCloseStopsTheWorkerAndRemovesItsCopies(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	logFile, err := os.Create(filepath.Join(dir, "worker.log"))
	require.NoError(t, err)
	defer logFile.Close()
	r, err := New(ctx, fakeConfig(t, "sim"), runners.Options{Problems: problemSets(t), Log: logFile})
	require.NoError(t, err)
	ids := train(t, r, 1, true)
	copies, _ := filepath.Glob(filepath.Join(dir, ".relix-worker-checkpoints-*"))
	assert.Len(t, copies, 1, "copies live beside the log")
	require.NoError(t, r.Close())
	require.NoError(t, r.Close(), "Close is idempotent")
	copies, _ = filepath.Glob(filepath.Join(dir, ".relix-worker-checkpoints-*"))
	assert.Empty(t, copies)
	_, err = r.Generate(ctx, ids[1], prompts(t, 1), 1, sampling)
	assert.ErrorContains(t, err, "closed")
}

// TestRelixMeansTheRunningRelix: the caller says which program is running
// (runners.Options.Executable); a bare "relix" command means it only when
// it is a relix.
func TestRelixMeansTheRunningRelix(t *testing.T) {
	cmd := spec.Command{"relix", "worker", "--runner", "sim"}
	for _, tc := range []struct {
		self, want string
	}{
		{"/opt/bin/relix", "/opt/bin/relix"},
		{"/tmp/go-build/relix.test", "relix"}, // a test binary, not relix
		{"", "relix"},                         // the caller does not know
	} {
		argv := resolveCommand(cmd, tc.self)
		assert.Equal(t, append([]string{tc.want}, cmd[1:]...), argv, "self %q", tc.self)
	}
	assert.Equal(t, []string{"python", "serve.py"}, resolveCommand(spec.Command{"python", "serve.py"}, "/opt/bin/relix"))
	assert.Equal(t, "relix", cmd[0], "the spec's command is not changed")
}

// GenerateMany answers each call as Generate does, in one batch request:
// with and without the binary lane, for a call whose checkpoint the worker
// let go (asked again alone), and beside a call that fails.
func TestGenerateManyAnswersAsGenerate(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"sim", "forget"} {
		for _, features := range []string{"binary,handles", "none"} {
			t.Run(mode+"/"+features, func(t *testing.T) {
				t.Parallel()
				cfg := fakeConfig(t, mode)
				cfg.Env["RELIX_FAKE_FEATURES"] = features
				w, log := startFake(t, cfg)
				s := inProcessSim(t)
				ids := train(t, w, 1, true)
				require.Equal(t, train(t, s, 1, false), ids)
				plain := sampling
				plain.Seed, plain.Tokens = 5, false
				greedy := plain
				greedy.Temperature = 0 // the sim refuses it
				calls := []runners.GenerateCall{
					{Checkpoint: ids[1], Prompts: prompts(t, 2), N: 3, Sampling: sampling},
					{Checkpoint: w.Base(), Prompts: prompts(t, 1), N: 1, Sampling: greedy},
					{Checkpoint: w.Base(), Prompts: prompts(t, 3), N: 2, Sampling: plain},
				}
				out, errs := w.(interface {
					GenerateMany(context.Context, []runners.GenerateCall) ([][][]runners.Completion, []error)
				}).GenerateMany(ctx, calls)
				require.Len(t, out, len(calls))
				require.Len(t, errs, len(calls))
				assert.ErrorContains(t, errs[1], "greedy decoding is not modelled")
				for _, i := range []int{0, 2} {
					c := calls[i]
					want, err := s.Generate(ctx, c.Checkpoint, c.Prompts, c.N, c.Sampling)
					require.NoError(t, err)
					require.NoError(t, errs[i], "log:\n%s", log)
					assert.Equal(t, want, out[i], "call %d", i)
				}
			})
		}
	}
}
