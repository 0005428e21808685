package worker

import (
	"encoding/json"
	"sync"
	"testing"

	"github.com/relix-lab/relix/experiment/dataset"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestProblemsBodyIsTheSetsMergedFirstNamingWins(t *testing.T) {
	first, err := dataset.NewSet("first", []dataset.Problem{
		{ID: "a", Statement: "1+1", Answer: "2"},
		{ID: "b", Statement: "2+2", Answer: "4"},
	})
	require.NoError(t, err)
	second, err := dataset.NewSet("second", []dataset.Problem{
		{ID: "b", Statement: "another b", Answer: "5"},
		{ID: "c", Statement: "3+3", Answer: "6"},
	})
	require.NoError(t, err)

	body, err := (&problemsBody{sets: []*dataset.Set{first, second}}).get()
	require.NoError(t, err)
	var got ProblemsParams
	require.NoError(t, json.Unmarshal(body, &got))
	want := []dataset.Problem{first.Problems[0], first.Problems[1], second.Problems[1]}
	assert.Equal(t, want, got.Problems)
	// What relix sent before the body was kept: encoding/json's encoding.
	direct, err := json.Marshal(ProblemsParams{Problems: want})
	require.NoError(t, err)
	assert.Equal(t, string(direct), string(body))
}

func TestProblemsBodyIsSharedByTheSameSetsOnly(t *testing.T) {
	sets := problemSets(t)
	b := problemsOf(sets)
	assert.Same(t, b, problemsOf(sets), "the same sets share one body")
	assert.NotSame(t, b, problemsOf(sets[:1]), "other sets get their own")
	assert.NotSame(t, b, problemsOf(sets), "only the last sets are remembered")

	shared := problemsOf(sets)
	bodies := make([]json.RawMessage, 8)
	var wg sync.WaitGroup
	for i := range bodies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			bodies[i], err = shared.get()
			assert.NoError(t, err)
		}()
	}
	wg.Wait()
	for _, body := range bodies[1:] {
		assert.Equal(t, &bodies[0][0], &body[0], "one encoding, however many runners ask at once")
	}
}
