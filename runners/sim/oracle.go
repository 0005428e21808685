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
	// The second model's termination: the stop chance after a wrong
	// answer and the loop chances; nil loops without termination.
	stopWrong            float64
	loopRight, loopWrong float64
	loops                bool
}

func (c *config) chances(psi params, pr *problem, temperature float64, maxTokens int) chances {
	at := c.at(psi, pr, temperature)
	cdf := func(x float64) float64 { // P(R ≤ x)
		if x <= 0 {
			return 0
		}
		return 0.5 * math.Erfc(-(math.Log(x)-at.mu)/(at.sigmaT*math.Sqrt2))
	}
	ch := chances{
		answered: cdf(float64(maxTokens)),
		correct:  at.p,
		room:     cdf(float64(maxTokens - 1)),
		stop:     at.q,
	}
	if at.loops {
		ch.loops = true
		ch.stopWrong, ch.loopRight, ch.loopWrong = at.qWrong, at.loop.pRight, at.loop.pWrong
	}
	return ch
}

// success is P(reward 1): correct, not looped and boxed, and for truncated
// "zero" also ended.
func (p chances) success(truncated string) float64 {
	correct := p.correct
	if p.loops {
		correct *= 1 - p.loopRight
	}
	if truncated == "zero" {
		return correct * p.room * p.stop
	}
	return correct * p.answered
}

// truncation is P(finish "length"): not ending after the box, for want of
// room, of a stop or (termination) because of a loop.
func (p chances) truncation() float64 {
	if !p.loops {
		return 1 - p.room*p.stop
	}
	ended := p.correct*(1-p.loopRight)*p.stop + (1-p.correct)*(1-p.loopWrong)*p.stopWrong
	return 1 - p.room*ended
}

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

// Difficulties returns each prompt's latent difficulty d_i (README.md,
// "Problems"), level offset included: a logit, higher is harder, the same
// at every checkpoint. The harness records it in the problems table; no
// selector reads it.
func (r *Runner) Difficulties(_ context.Context, prompts []runners.Prompt) ([]float64, error) {
	d := make([]float64, len(prompts))
	for i, p := range prompts {
		pr, err := r.problem(p)
		if err != nil {
			return nil, err
		}
		d[i] = pr.difficulty
	}
	return d, nil
}
