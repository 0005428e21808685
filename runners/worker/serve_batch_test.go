package worker

import (
	"runtime"
	"testing"

	"github.com/relix-lab/relix/runners/sim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestConcurrentBatchAnswersAsEachAlone: a batch of generate and hidden
// requests, answered at once (hidden states through the sim's HiddenMany,
// requests spread over the cores), gives every request the answer it gets
// alone — the same completions, handles issued in request order, the same
// states, each bad request its own error — even when one hidden request
// makes the HiddenMany call of its part fail.
func TestConcurrentBatchAnswersAsEachAlone(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		t.Skip("a batch is answered at once only with two cores or more")
	}
	t.Parallel()
	r := inProcessSim(t)
	newServer := func() *server {
		s := &server{runner: r, handles: true, binary: true, ids: newIDStore(workerHeldIDs)}
		for range 3 {
			s.ids.put([]uint32{1, 2, 3}) // handles 1-3 held, as after earlier answers
		}
		return s
	}
	comps, err := r.Generate(ctx, r.Base(), prompts(t, 3), 2, sampling)
	require.NoError(t, err)
	long := comps[0][0].Tokens
	require.Greater(t, len(long), 4)
	body := func(v any) []byte {
		raw, err := encodeBody(&encoder{}, v)
		require.NoError(t, err)
		return raw
	}
	hidden := func(ck string, tokens []uint32, handle uint64, positions ...int) BatchRequest {
		return BatchRequest{Method: MethodHidden, Params: body(HiddenParams{Checkpoint: ck, Tokens: tokens, Handle: handle, Positions: positions})}
	}
	generate := func(ck string, n int) BatchRequest {
		return BatchRequest{Method: MethodGenerate, Params: body(GenerateParams{Checkpoint: ck, Prompts: prompts(t, 2), N: n, Sampling: sampling})}
	}
	batch := &BatchParams{Requests: []BatchRequest{
		generate(r.Base(), 2),
		hidden(r.Base(), long, 0, 0, len(long)-1),
		hidden(r.Base(), nil, 2, 0, 2),
		hidden(r.Base(), long, 0, len(long)), // out of range: fails its part's HiddenMany call
		generate("sim-unknown", 1),
		hidden(r.Base(), nil, 99, 0), // a handle never issued
		{Method: MethodHidden, Params: []byte(`{"checkpoint":1}`)},
		hidden(r.Base(), comps[1][1].Tokens, 0, 1),
		generate(r.Base(), 3),
		hidden("sim-unknown", long, 0, 0),
		hidden(r.Base(), comps[2][0].Tokens, 0, 0, 1, 2),
	}}
	s := newServer()
	require.True(t, s.concurrentBatch(batch.Requests))
	got := s.batch(ctx, request{}, batch)

	alone := newServer()
	require.Len(t, got, len(batch.Requests))
	for i, item := range batch.Requests {
		want, werr := alone.call(ctx, request{envelope: envelope{Method: item.Method, Body: item.Params}})
		assert.Equal(t, werr, got[i].err, "request %d (%s)", i, item.Method)
		assert.Equal(t, want, got[i].result, "request %d (%s)", i, item.Method)
	}
	for _, i := range []int{3, 4, 5, 6, 9} {
		assert.NotNil(t, got[i].err, "request %d fails", i)
	}
	assert.NotZero(t, got[8].result.(GenerateResult).Completions[1][2].Handle, "ids are kept under handles")
}

// The sim worker's batches reach HiddenMany only while the sim has it.
var _ hiddenMany = (*sim.Runner)(nil)
