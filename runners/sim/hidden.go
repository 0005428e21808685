package sim

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/relix-lab/relix/experiment/seed"
)

// HiddenSize is the width of the sim's hidden states.
const HiddenSize = 64

// Hidden returns the sim's pseudo hidden state after each prefix
// tokens[:p+1], p in positions: HiddenSize numbers drawn from a rolling
// hash of the prefix seeded by a hash of the checkpoint's policy
// parameters. The same policy and prefix give the same vector; another
// checkpoint, or another token anywhere at or before p, gives an unrelated
// one. Values are u³·4 for u uniform in [−1, 1]: symmetric, with
// magnitudes spread over several orders, as a sketch of the top entries by
// log-magnitude expects. The cost is one hash per token up to the last
// position plus HiddenSize/2 per requested position.
//
// The rolling hash is walked once, in order of position, and only its
// values at the requested positions are kept: a proof asks for 32 positions
// of up to 8,192 tokens, and keeping every prefix's hash cost an allocation
// as large as the tokens for nothing.
func (r *Runner) Hidden(ctx context.Context, ckID string, tokens []uint32, positions []int) ([][]float32, error) {
	ck, err := r.checkpoint(ckID)
	if err != nil {
		return nil, err
	}
	for _, p := range positions {
		if p < 0 || p >= len(tokens) {
			return nil, fmt.Errorf("sim: hidden state at position %d of a %d-token sequence; want 0 ≤ position < %d",
				p, len(tokens), len(tokens))
		}
	}
	out := make([][]float32, len(positions))
	flat := make([]float32, len(positions)*HiddenSize)
	h, t := ck.hidden, 0 // h is the hash of tokens[:t]
	for _, i := range ascending(positions) {
		p := positions[i]
		for ; t <= p; t++ {
			if t%4096 == 4095 && ctx.Err() != nil {
				return nil, ctx.Err()
			}
			h = seed.Mix(h ^ (uint64(tokens[t]) | uint64(t)<<32))
		}
		v := flat[i*HiddenSize : (i+1)*HiddenSize : (i+1)*HiddenSize]
		for k := 0; k < HiddenSize; k += 2 {
			x := seed.Mix(h + uint64(k+1)*0x9e3779b97f4a7c15)
			v[k] = cubed(uint32(x))
			v[k+1] = cubed(uint32(x >> 32))
		}
		out[i] = v
	}
	return out, nil
}

// ascending returns the indices of positions in increasing order of
// position (a proof's are sorted already, and cost no sort).
func ascending(positions []int) []int {
	order := make([]int, len(positions))
	for i := range order {
		order[i] = i
	}
	if !slices.IsSorted(positions) {
		slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(positions[a], positions[b]) })
	}
	return order
}

// cubed maps 32 random bits to 4·u³, u uniform in [−1, 1).
func cubed(bits uint32) float32 {
	u := float32(int32(bits)) / (1 << 31)
	return 4 * u * u * u
}
