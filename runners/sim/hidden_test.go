package sim

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/relix-lab/relix/experiment/seed"
	"github.com/stretchr/testify/require"
)

// hiddenReference is Hidden as first written: the rolling hash of every
// prefix up to the last position kept in an array, then read at each
// position. Hidden must give exactly its vectors.
func hiddenReference(root uint64, tokens []uint32, positions []int) [][]float32 {
	last := -1
	for _, p := range positions {
		last = max(last, p)
	}
	prefix := make([]uint64, last+1)
	h := root
	for t := 0; t <= last; t++ {
		h = seed.Mix(h ^ (uint64(tokens[t]) | uint64(t)<<32))
		prefix[t] = h
	}
	out := make([][]float32, len(positions))
	for i, p := range positions {
		v := make([]float32, HiddenSize)
		for k := 0; k < HiddenSize; k += 2 {
			x := seed.Mix(prefix[p] + uint64(k+1)*0x9e3779b97f4a7c15)
			v[k] = cubed(uint32(x))
			v[k+1] = cubed(uint32(x >> 32))
		}
		out[i] = v
	}
	return out
}

func TestHiddenMatchesReference(t *testing.T) {
	r := newFixture(t).runner
	ck, err := r.checkpoint(r.Base())
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 200 {
		n := 1 + rng.IntN(9000)
		tokens := tokenIDs(uint64(trial), n)
		positions := make([]int, rng.IntN(40))
		for i := range positions {
			positions[i] = rng.IntN(n)
		}
		switch trial % 3 {
		case 0:
			slices.Sort(positions) // as a proof asks
		case 1:
			if len(positions) > 1 {
				positions[1] = positions[0] // a repeated position
			}
		}
		got, err := r.Hidden(ctx, r.Base(), tokens, positions)
		require.NoError(t, err)
		require.Equal(t, hiddenReference(ck.hidden, tokens, positions), got, "trial %d: %d tokens, positions %v", trial, n, positions)
	}
}

func TestHiddenManyMatchesHidden(t *testing.T) {
	r := newFixture(t).runner
	rng := rand.New(rand.NewPCG(3, 4))
	for trial := range 100 {
		tokens := make([][]uint32, rng.IntN(11))
		positions := make([][]int, len(tokens))
		for j := range tokens {
			n := 1 + rng.IntN(9000)
			if trial%4 == 0 {
				n = 1 + rng.IntN(5) // shorter than the other lanes' segments
			}
			tokens[j] = tokenIDs(uint64(100*trial+j), n)
			positions[j] = make([]int, rng.IntN(40))
			for i := range positions[j] {
				positions[j][i] = rng.IntN(n)
			}
			if j%2 == 0 {
				slices.Sort(positions[j])
			}
			if len(positions[j]) > 1 && j%3 == 0 {
				positions[j][1] = positions[j][0] // a repeated position
			}
		}
		got, err := r.HiddenMany(ctx, r.Base(), tokens, positions)
		require.NoError(t, err)
		require.Len(t, got, len(tokens))
		for j := range tokens {
			want, err := r.Hidden(ctx, r.Base(), tokens[j], positions[j])
			require.NoError(t, err)
			require.Equal(t, want, got[j], "trial %d, sequence %d", trial, j)
		}
	}
	_, err := r.HiddenMany(ctx, r.Base(), [][]uint32{{1, 2}}, [][]int{{2}})
	require.ErrorContains(t, err, "position 2 of a 2-token sequence")
	_, err = r.HiddenMany(ctx, r.Base(), [][]uint32{{1, 2}}, nil)
	require.ErrorContains(t, err, "1 sequences with 0 position lists")
}
