package worker

import (
	"sync"
	"testing"

	"github.com/relix-lab/relix/runners"
	"github.com/relix-lab/relix/runners/sim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every way of speaking gives the sim's results: JSON only (a worker
// older than the features), the binary attachment alone, handles alone,
// and both.
func TestEveryFeatureGivesTheSimsResults(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ features, log string }{
		{"none", "JSON only"},
		{FeatureBinary, "features binary\n"},
		{FeatureHandles, "features handles\n"},
		{FeatureBinary + "," + FeatureHandles, "features binary, handles\n"},
	} {
		t.Run(tc.features, func(t *testing.T) {
			t.Parallel()
			cfg := fakeConfig(t, "sim")
			cfg.Env["RELIX_FAKE_FEATURES"] = tc.features
			w, log := startFake(t, cfg)
			assert.Contains(t, log.String(), tc.log)
			sameAsSim(t, w, inProcessSim(t))
		})
	}
}

// sameAsSim checks w against the in-process sim s: generation with ids, a
// step, the hidden states of every completion one at a time, all at once
// (batches) and again, and the batched probabilities.
func sameAsSim(t *testing.T, w runners.Runner, s *sim.Runner) {
	t.Helper()
	ps := prompts(t, 3)
	wc, err := w.Generate(ctx, w.Base(), ps, 4, sampling)
	require.NoError(t, err)
	sc, err := s.Generate(ctx, s.Base(), ps, 4, sampling)
	require.NoError(t, err)
	require.Equal(t, sc, wc)

	groups := groupsFor(t, s, s.Base(), 5)
	h := runners.NewHyper(grpo, 0, 1, s.Base())
	wn, wm, err := w.Step(ctx, w.Base(), groups, h)
	require.NoError(t, err)
	sn, sm, err := s.Step(ctx, s.Base(), groups, h)
	require.NoError(t, err)
	require.Equal(t, sn, wn)
	assert.Equal(t, sm, wm)

	var all [][]uint32
	for _, cs := range wc {
		for _, c := range cs {
			all = append(all, c.Tokens)
		}
	}
	all = append(all, []uint32{5, 6, 7}) // ids the worker never generated
	hidden := func(ck string, i int) ([][]float32, [][]float32) {
		tokens := all[i]
		pos := []int{0, len(tokens) / 2, len(tokens) - 1}
		want, err := s.Hidden(ctx, ck, tokens, pos)
		require.NoError(t, err)
		got, err := w.Hidden(ctx, ck, tokens, pos)
		require.NoError(t, err)
		return want, got
	}
	want, got := hidden(sn, 0)
	assert.Equal(t, want, got)
	got[0][0]++ // the caller owns what it got
	_, again := hidden(sn, 0)
	assert.Equal(t, want, again)

	var wg sync.WaitGroup
	for round := 0; round < 2; round++ {
		for i := range all {
			for _, ck := range []string{s.Base(), sn} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					want, got := hidden(ck, i)
					assert.Equal(t, want, got, "completion %d at %s", i, ck)
				}()
			}
		}
		wg.Wait()
	}

	wq, err := runners.SuccessProbabilities(ctx, w.(runners.Oracle), sn, prompts(t, 20), sampling, "zero")
	require.NoError(t, err)
	sq, err := runners.SuccessProbabilities(ctx, s, sn, prompts(t, 20), sampling, "zero")
	require.NoError(t, err)
	assert.Equal(t, sq, wq)
}

// A worker that let a handle's ids go answers unknown_handle; relix sends
// the ids instead and gets the same states.
func TestALetGoHandleCostsTheIDs(t *testing.T) {
	t.Parallel()
	w, _ := startFake(t, fakeConfig(t, "few-ids"))
	sameAsSim(t, w, inProcessSim(t))
	r := w.(oracleRunner).Runner
	r.handles.mu.Lock()
	defer r.handles.mu.Unlock()
	assert.Less(t, len(r.handles.fifo), 12, "relix dropped the handles the worker no longer held")
}

// An item of a batch that needs a checkpoint the worker let go is asked
// again alone, after relix restored the checkpoint.
func TestABatchItemsLostCheckpointIsRestored(t *testing.T) {
	t.Parallel()
	cfg := fakeConfig(t, "forget-hidden")
	w, _ := startFake(t, cfg)
	s := inProcessSim(t)
	ids := train(t, w, 1, true)
	require.Equal(t, train(t, s, 1, false), ids)
	comps, err := s.Generate(ctx, s.Base(), prompts(t, 2), 4, sampling)
	require.NoError(t, err)
	var wg sync.WaitGroup
	for _, cs := range comps {
		for _, c := range cs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				pos := []int{0, len(c.Tokens) - 1}
				want, err := s.Hidden(ctx, ids[1], c.Tokens, pos)
				assert.NoError(t, err)
				got, err := w.Hidden(ctx, ids[1], c.Tokens, pos)
				assert.NoError(t, err)
				assert.Equal(t, want, got)
			}()
		}
	}
	wg.Wait()
	assert.FileExists(t, cfg.Env["RELIX_FAKE_MARK"], "the worker did answer unknown_checkpoint once")
}

// Handles are a process's own: after a restart the new process numbers
// its completions from 1 again, and relix sends it the ids of completions
// the old one made.
func TestHandlesDoNotOutliveTheirProcess(t *testing.T) {
	t.Parallel()
	cfg := fakeConfig(t, "crash-step")
	w, log := startFake(t, cfg)
	s := inProcessSim(t)
	before, err := w.Generate(ctx, w.Base(), prompts(t, 1), 2, sampling)
	require.NoError(t, err)
	_, _, err = w.Step(ctx, w.Base(), groupsFor(t, s, s.Base(), 1), runners.NewHyper(grpo, 0, 1, w.Base()))
	require.NoError(t, err)
	require.Contains(t, log.String(), "restarting the worker")
	other := sampling
	other.Seed++
	_, err = w.Generate(ctx, w.Base(), prompts(t, 3), 2, other) // handles 1… again, for other ids
	require.NoError(t, err)
	tokens := before[0][1].Tokens
	want, err := s.Hidden(ctx, s.Base(), tokens, []int{0, len(tokens) - 1})
	require.NoError(t, err)
	got, err := w.Hidden(ctx, w.Base(), tokens, []int{0, len(tokens) - 1})
	require.NoError(t, err)
	assert.Equal(t, want, got)
}
