package proof

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/relix-lab/relix/experiment/spec"
	"github.com/relix-lab/relix/runners"
	"github.com/relix-lab/relix/runners/sim"
)

// simProof is an 8,192-token completion (the sampling cap) with the sim's
// hidden states at its base checkpoint: what a market proof costs.
func simProof(b *testing.B) (HiddenFunc, string, []uint32, Randomness) {
	r, err := sim.New(spec.DefaultSimPolicy(), runners.Options{})
	if err != nil {
		b.Fatal(err)
	}
	return r.Hidden, r.Base(), tokens(rand.New(rand.NewPCG(1, 1)), 8192), randomness(1)
}

// BenchmarkProve is the miner's side: opening the commitments at the
// challenged positions.
func BenchmarkProve(b *testing.B) {
	h, ck, tok, w := simProof(b)
	pos := ChallengePositions(tok, w, Challenges)
	p := NewProver(h, ck, tok, w)
	for b.Loop() {
		if _, err := p.Open(context.Background(), pos); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyValidator is the validator's side alone: positions,
// hidden states and sketches, against commitments already opened.
func BenchmarkVerifyValidator(b *testing.B) {
	ctx := context.Background()
	h, ck, tok, w := simProof(b)
	opened, err := NewProver(h, ck, tok, w).Open(ctx, ChallengePositions(tok, w, Challenges))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if res, err := Verify(ctx, h, ck, tok, forged(opened), w, 8); err != nil || !res.OK {
			b.Fatal(res, err)
		}
	}
}

// BenchmarkVerifyMarket is one completion's proof as the market checks it:
// a new commitment and the validator's check, through the hidden-state
// function the market gives both (marketHidden).
func BenchmarkVerifyMarket(b *testing.B) {
	ctx := context.Background()
	h, ck, tok, w := simProof(b)
	for b.Loop() {
		m := marketHidden(h)
		if res, err := Verify(ctx, m, ck, tok, NewProver(m, ck, tok, w), w, 8); err != nil || !res.OK {
			b.Fatal(res, err)
		}
	}
}

// marketHidden is what the market's validator wraps the runner's Hidden in
// for one submission.
func marketHidden(h HiddenFunc) HiddenFunc { return NewMemo(h).Hidden }
