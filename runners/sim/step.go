package sim

import (
	"context"
	"fmt"
	"math"

	"github.com/relix-lab/relix/runners"
)

// maxLogRatio bounds |log ρ| and |log r| before exponentiation, so that a
// sample far in a tail of one policy cannot overflow the loss (ρ = e^±50 is
// clipped or dominated by gradient clipping long before that).
const maxLogRatio = 50

// sample is one completion that carries signal in a step.
type sample struct {
	pr     *problem
	T      float64
	units  []unit    // its choices (GRPO's tokens): decisive ones first, then noise
	lpOld  []float64 // log π_behaviour(u) per unit
	lpRef  []float64 // log π_reference(u) per unit, when the KL term is on
	adv    float64
	weight float64 // the sequence's share of the loss (aggregation)
}

// Step applies one GRPO optimizer step (README.md, "Training"): for each
// epoch, the clipped surrogate with the k3 KL penalty, its exact gradient,
// global-norm clipping and one AdamW update of the policy's offsets from
// the base policy.
func (r *Runner) Step(ctx context.Context, ckID string, groups []runners.Group, h runners.Hyper) (string, runners.StepMetrics, error) {
	m := runners.StepMetrics{Groups: len(groups)}
	ck, err := r.checkpoint(ckID)
	if err != nil {
		return "", m, err
	}
	if err := checkHyper(h); err != nil {
		return "", m, err
	}
	var ref *checkpoint
	if h.KLBeta > 0 && h.Reference != "" {
		if ref, err = r.checkpoint(h.Reference); err != nil {
			return "", m, fmt.Errorf("KL reference: %w", err)
		}
	}
	samples, err := r.samples(ck, ref, groups, h, &m)
	if err != nil {
		return "", m, err
	}
	if len(samples) == 0 {
		return ck.id, m, nil // nothing carried signal: no optimizer step at all
	}
	if err := ctx.Err(); err != nil {
		return "", m, err
	}
	c := r.cfg
	delta := append([]float64(nil), ck.delta...)
	mom := append([]float64(nil), ck.m...)
	vel := append([]float64(nil), ck.v...)
	t := ck.t
	base := c.baseParams()
	psi := make(params, len(base))
	grad := make([]float64, len(base))
	lr := h.LR * c.policy.LRScale
	clipped, units := 0, 0
	for epoch := 0; epoch < h.Epochs; epoch++ {
		for i := range psi {
			psi[i] = base[i] + delta[i]
		}
		s := c.surrogate(psi, samples, h, grad)
		clipped += s.clipped
		units += s.units
		norm := l2(grad)
		if epoch == 0 {
			m.Loss, m.GradNorm, m.KL, m.Entropy = s.loss, norm, s.kl, s.entropy
		}
		if h.GradClip > 0 {
			// torch.nn.utils.clip_grad_norm_: scale by max_norm/(norm + 1e-6) when below 1.
			if coef := h.GradClip / (norm + 1e-6); coef < 1 {
				for i := range grad {
					grad[i] *= coef
				}
			}
		}
		t++
		adamW(delta, mom, vel, grad, t, lr, h)
	}
	m.ClipFrac = float64(clipped) / float64(units)
	m.Updated = true
	next := r.register(delta, mom, vel, t)
	return next.id, m, nil
}

func checkHyper(h runners.Hyper) error {
	switch {
	case h.Epochs < 1:
		return fmt.Errorf("sim: %d epochs; want at least 1", h.Epochs)
	case h.Advantage != "std" && h.Advantage != "mean":
		return fmt.Errorf("sim: advantage %q; want std or mean", h.Advantage)
	case h.LossAgg != "seq-mean-token-mean" && h.LossAgg != "token-mean":
		return fmt.Errorf("sim: loss_agg %q; want seq-mean-token-mean or token-mean", h.LossAgg)
	case !(h.LR >= 0) || math.IsInf(h.LR, 0):
		return fmt.Errorf("sim: learning rate %g; want ≥ 0", h.LR)
	case h.ClipLow < 0 || h.ClipLow >= 1 || h.ClipHigh < 0:
		return fmt.Errorf("sim: ratio clip [1 − %g, 1 + %g]; want 0 ≤ clip_low < 1 and clip_high ≥ 0", h.ClipLow, h.ClipHigh)
	}
	return nil
}

// samples turns the groups into the step's samples: advantages, behaviour
// and reference log-probabilities, and aggregation weights. Skipped groups
// leave no trace, not even in a denominator.
func (r *Runner) samples(ck, ref *checkpoint, groups []runners.Group, h runners.Hyper, m *runners.StepMetrics) ([]sample, error) {
	c := r.cfg
	var samples []sample
	var tokens []int
	for gi, g := range groups {
		if len(g.Rewards) != len(g.Completions) {
			return nil, fmt.Errorf("sim: group %d (%s): %d rewards for %d completions", gi, g.Prompt.ID, len(g.Rewards), len(g.Completions))
		}
		adv, ok := runners.Advantages(g.Rewards, h.Advantage, h.StdEpsilon)
		if !ok {
			m.Skipped++
			continue
		}
		pr, err := r.problem(g.Prompt)
		if err != nil {
			return nil, err
		}
		behaviour := ck
		if g.Checkpoint != "" && g.Checkpoint != ck.id {
			if behaviour, err = r.checkpoint(g.Checkpoint); err != nil {
				return nil, fmt.Errorf("group %d (%s) behaviour policy: %w", gi, g.Prompt.ID, err)
			}
		}
		for j, comp := range g.Completions {
			ch, ok := c.parseTrace(comp.Trace)
			if n, trunc := ch.outcome(); !ok || n != comp.NumTokens || trunc != comp.Truncated() {
				return nil, fmt.Errorf("sim: group %d (%s) completion %d: %w", gi, g.Prompt.ID, j, errBadTrace)
			}
			beh := c.at(behaviour.psi, pr, ch.temperature)
			s := sample{pr: pr, T: ch.temperature, units: c.units(beh, ch), adv: adv[j]}
			s.lpOld = make([]float64, len(s.units))
			for u, un := range s.units {
				s.lpOld[u] = beh.logProb(un)
			}
			if ref != nil {
				at := c.at(ref.psi, pr, ch.temperature)
				s.lpRef = make([]float64, len(s.units))
				for u, un := range s.units {
					s.lpRef[u] = at.logProb(un)
				}
			}
			samples = append(samples, s)
			tokens = append(tokens, comp.NumTokens)
			m.Tokens += comp.NumTokens
		}
	}
	m.Sequences = len(samples)
	// Every token of a simulated sequence carries the sequence's choice
	// log-probability, so seq-mean-token-mean weighs sequences equally and
	// token-mean weighs them by their token counts.
	for i := range samples {
		if h.LossAgg == "token-mean" {
			samples[i].weight = float64(tokens[i]) / float64(m.Tokens)
		} else {
			samples[i].weight = 1 / float64(len(samples))
		}
	}
	return samples, nil
}

type surrogateValue struct {
	loss, kl, entropy float64
	clipped, units    int
}

// surrogate evaluates the GRPO loss at psi and writes its gradient to grad.
// Every choice u of sequence j is one of GRPO's tokens:
//
//	L(ψ) = Σ_j w_j · (1/U_j) Σ_u [ −min(ρ_ju A_j, clip(ρ_ju, 1−ε_low, 1+ε_high) A_j) + β·k3_ju ]
//	ρ_ju = π_ψ(u)/π_behaviour(u),  k3_ju = r − log r − 1,  r = π_ref(u)/π_ψ(u)
//	∇L = Σ_j (w_j/U_j) Σ_u ( −[not clipped] ρ_ju A_j + β(1 − r_ju) ) ∇ log π_ψ(u)
func (c *config) surrogate(psi params, samples []sample, h runners.Hyper, grad []float64) surrogateValue {
	for i := range grad {
		grad[i] = 0
	}
	var out surrogateValue
	beta := 0.0
	if h.Reference != "" {
		beta = h.KLBeta
	}
	for _, s := range samples {
		at := c.at(psi, s.pr, s.T)
		wu := s.weight / float64(len(s.units))
		var correct, length, stop, kl float64
		var sc scores
		second := c.second()
		for u, un := range s.units {
			lp := at.logProb(un)
			rho := math.Exp(clampLog(lp - s.lpOld[u]))
			var objective, coef float64
			switch {
			case s.adv > 0 && rho > 1+h.ClipHigh:
				objective = (1 + h.ClipHigh) * s.adv
				out.clipped++
			case s.adv < 0 && rho < 1-h.ClipLow:
				objective = (1 - h.ClipLow) * s.adv
				out.clipped++
			default:
				objective = rho * s.adv
				coef = -rho * s.adv
			}
			loss := -objective
			if beta > 0 {
				logr := clampLog(s.lpRef[u] - lp)
				r := math.Exp(logr)
				k3 := r - logr - 1
				loss += beta * k3
				coef += beta * (1 - r)
				kl += k3
			}
			out.loss += wu * loss
			if coef == 0 {
				continue
			}
			g := wu * coef * at.score(un)
			if second {
				sc.add(un, g)
				continue
			}
			switch un.kind {
			case unitCorrect:
				correct += g
			case unitStop:
				stop += g
			default:
				length += g
			}
		}
		if second {
			c.addSecondGrad(grad, s.pr, at, &sc)
		} else {
			c.addGrad(grad, s.pr, s.T, correct, length, stop)
		}
		out.units += len(s.units)
		out.kl += kl / float64(len(s.units)) / float64(len(samples))
		out.entropy += c.entropy(psi, s.pr, s.T) / float64(len(samples))
	}
	return out
}

func clampLog(x float64) float64 { return math.Max(-maxLogRatio, math.Min(maxLogRatio, x)) }

func l2(xs []float64) float64 {
	var ss float64
	for _, x := range xs {
		ss += x * x
	}
	return math.Sqrt(ss)
}

// adamW is one step of torch.optim.AdamW on the offsets delta: decoupled
// weight decay (delta ← delta·(1 − lr·wd), towards the base policy), then
// the bias-corrected Adam update with ε = 1e-8.
func adamW(delta, m, v, grad []float64, t int, lr float64, h runners.Hyper) {
	b1, b2 := h.Betas[0], h.Betas[1]
	bc1 := 1 - math.Pow(b1, float64(t))
	bc2 := 1 - math.Pow(b2, float64(t))
	for i, g := range grad {
		delta[i] *= 1 - lr*h.WeightDecay
		m[i] = b1*m[i] + (1-b1)*g
		v[i] = b2*v[i] + (1-b2)*g*g
		delta[i] -= lr / bc1 * m[i] / (math.Sqrt(v[i])/math.Sqrt(bc2) + adamEpsilon)
	}
}
