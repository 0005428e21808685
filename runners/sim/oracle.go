package sim

import (
	"context"
	"fmt"
	"math"

	"github.com/relix-lab/relix/runners"
)

var _ runners.Oracle = (*Runner)(nil)

// chances are the probabilities of one completion's outcomes.
type chances struct {
	answered float64 // P(R ≤ cap): the answer is boxed before the cap
	correct  float64 // σ(z/T): the boxed answer is right
	room     float64 // P(⌈R⌉ < cap): boxed with room left to end
	stop     float64 // σ(η/T): ends after its box, given room
}

func (c *config) chances(psi params, pr *problem, temperature float64, maxTokens int) chances {
	at := c.at(psi, pr, temperature)
	cdf := func(x float64) float64 { // P(R ≤ x)
		if x <= 0 {
			return 0
		}
		return 0.5 * math.Erfc(-(math.Log(x)-at.mu)/(at.sigmaT*math.Sqrt2))
	}
	return chances{
		answered: cdf(float64(maxTokens)),
		correct:  at.p,
		room:     cdf(float64(maxTokens - 1)),
		stop:     at.q,
	}
}

// success is P(reward 1): correct and boxed, and for truncated "zero" also
// ended.
func (p chances) success(truncated string) float64 {
	if truncated == "zero" {
		return p.correct * p.room * p.stop
	}
	return p.correct * p.answered
}

// truncation is P(finish "length").
func (p chances) truncation() float64 { return 1 - p.room*p.stop }

// SuccessProbability implements runners.Oracle.
func (r *Runner) SuccessProbability(_ context.Context, ckID string, prompt runners.Prompt, s runners.Sampling, truncated string) (float64, error) {
	ck, err := r.checkpoint(ckID)
	if err != nil {
		return 0, err
	}
	if err := checkSampling(s, 1); err != nil {
		return 0, err
	}
	if truncated != "zero" && truncated != "grade" {
		return 0, fmt.Errorf("sim: truncated %q; want zero or grade", truncated)
	}
	pr, err := r.problem(prompt)
	if err != nil {
		return 0, err
	}
	return r.cfg.chances(ck.psi, pr, s.Temperature, s.MaxTokens).success(truncated), nil
}
