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
	if err := checkPositions(tokens, positions); err != nil {
		return nil, err
	}
	out, flat := hiddenOutput(len(positions))
	h, t := ck.hidden, 0 // h is the hash of tokens[:t]
	for _, i := range ascending(positions) {
		p := positions[i]
		for ; t <= p; t++ {
			if t%4096 == 4095 && ctx.Err() != nil {
				return nil, ctx.Err()
			}
			h = seed.Mix(h ^ (uint64(tokens[t]) | uint64(t)<<32))
		}
		out[i] = fillHidden(flat, i, h)
	}
	return out, nil
}

func checkPositions(tokens []uint32, positions []int) error {
	for _, p := range positions {
		if p < 0 || p >= len(tokens) {
			return fmt.Errorf("sim: hidden state at position %d of a %d-token sequence; want 0 ≤ position < %d",
				p, len(tokens), len(tokens))
		}
	}
	return nil
}

// hiddenOutput is the result of a call for n positions, its vectors cut
// from one allocation.
func hiddenOutput(n int) (out [][]float32, flat []float32) {
	return make([][]float32, n), make([]float32, n*HiddenSize)
}

// fillHidden writes the state of prefix hash h as the i-th vector of flat
// and returns it.
func fillHidden(flat []float32, i int, h uint64) []float32 {
	v := flat[i*HiddenSize : (i+1)*HiddenSize : (i+1)*HiddenSize]
	for k := 0; k < HiddenSize; k += 2 {
		x := seed.Mix(h + uint64(k+1)*0x9e3779b97f4a7c15)
		v[k] = cubed(uint32(x))
		v[k+1] = cubed(uint32(x >> 32))
	}
	return v
}

// HiddenMany is Hidden for several sequences at one checkpoint: out[j] is
// Hidden(ckID, tokens[j], positions[j]). A prefix hash is a chain of
// dependent multiplications, which leaves a core waiting on each one;
// walking the chains of hiddenLanes sequences in one loop lets the core
// overlap them, so a proof burst (a group's completions, checked together)
// costs about a quarter of one call each.
func (r *Runner) HiddenMany(ctx context.Context, ckID string, tokens [][]uint32, positions [][]int) ([][][]float32, error) {
	if len(tokens) != len(positions) {
		return nil, fmt.Errorf("sim: hidden states of %d sequences with %d position lists", len(tokens), len(positions))
	}
	ck, err := r.checkpoint(ckID)
	if err != nil {
		return nil, err
	}
	out := make([][][]float32, len(tokens))
	walks := make([]hiddenWalk, 0, len(tokens))
	for j := range tokens {
		if err := checkPositions(tokens[j], positions[j]); err != nil {
			return nil, err
		}
		o, flat := hiddenOutput(len(positions[j]))
		out[j] = o
		if len(positions[j]) > 0 {
			walks = append(walks, hiddenWalk{tokens: tokens[j], positions: positions[j], order: ascending(positions[j]), out: o, flat: flat, h: ck.hidden})
		}
	}
	// A lane with no sequence left walks zeros, and its hash is dropped.
	idle := hiddenWalk{tokens: idleTokens[:], next: -1}
	var lanes [hiddenLanes]*hiddenWalk
	queued := 0
	refill := func(l int) {
		lanes[l] = &idle
		if queued < len(walks) {
			lanes[l] = &walks[queued]
			lanes[l].next = lanes[l].positions[lanes[l].order[0]]
			queued++
		}
	}
	for l := range lanes {
		refill(l)
	}
	for lanes[0].next >= 0 || lanes[1].next >= 0 || lanes[2].next >= 0 || lanes[3].next >= 0 {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		// Every lane walks n tokens: up to the nearest requested position.
		n := hiddenSegment
		for _, w := range lanes {
			if w.next >= 0 {
				n = min(n, w.next+1-w.t)
			}
		}
		walkLanes(&lanes, n)
		for l, w := range lanes {
			if w.next < 0 {
				continue
			}
			for w.next+1 == w.t {
				i := w.order[w.k]
				w.out[i] = fillHidden(w.flat, i, w.h)
				if w.k++; w.k == len(w.order) {
					refill(l)
					break
				}
				w.next = w.positions[w.order[w.k]]
			}
		}
	}
	return out, nil
}

// hiddenLanes is how many prefix hashes HiddenMany walks together: four
// chains of SplitMix64 keep a core's multipliers busy.
const hiddenLanes = 4

// hiddenSegment bounds the tokens walked between checks of the context.
const hiddenSegment = 4096

// idleTokens is what an idle lane walks; nothing writes to it.
var idleTokens [hiddenSegment]uint32

// hiddenWalk is one sequence of a HiddenMany call: its tokens hashed up to
// t, and the requested positions not reached yet.
type hiddenWalk struct {
	tokens    []uint32
	positions []int
	order     []int // positions' indices, in ascending order of position
	k         int   // the next of order to emit
	next      int   // the position order[k] names; −1 for the idle lane
	t         int   // h is the hash of tokens[:t]
	h         uint64
	out       [][]float32
	flat      []float32
}

// walkLanes advances every lane's hash by n tokens. The idle lane hashes
// its zeros from the start each time.
func walkLanes(lanes *[hiddenLanes]*hiddenWalk, n int) {
	w0, w1, w2, w3 := lanes[0], lanes[1], lanes[2], lanes[3]
	s0, s1, s2, s3 := w0.tokens[w0.t:w0.t+n], w1.tokens[w1.t:w1.t+n], w2.tokens[w2.t:w2.t+n], w3.tokens[w3.t:w3.t+n]
	s1, s2, s3 = s1[:len(s0)], s2[:len(s0)], s3[:len(s0)]
	h0, h1, h2, h3 := w0.h, w1.h, w2.h, w3.h
	// A token's position is in the high 32 bits: lane l's is t_l<<32 + i<<32.
	p0, p1, p2, p3 := uint64(w0.t)<<32, uint64(w1.t)<<32, uint64(w2.t)<<32, uint64(w3.t)<<32
	for i := range s0 {
		c := uint64(i) << 32
		h0 = seed.Mix(h0 ^ (uint64(s0[i]) | (p0 + c)))
		h1 = seed.Mix(h1 ^ (uint64(s1[i]) | (p1 + c)))
		h2 = seed.Mix(h2 ^ (uint64(s2[i]) | (p2 + c)))
		h3 = seed.Mix(h3 ^ (uint64(s3[i]) | (p3 + c)))
	}
	for l, h := range [hiddenLanes]uint64{h0, h1, h2, h3} {
		if w := lanes[l]; w.next >= 0 {
			w.h, w.t = h, w.t+n
		}
	}
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
