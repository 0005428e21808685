package sim

import (
	"math"
	"math/rand/v2"

	"github.com/relix-lab/relix/experiment/dataset"
	"github.com/relix-lab/relix/experiment/seed"
	"github.com/relix-lab/relix/experiment/spec"
)

// Structural constants of the model (README.md, "Problems"). They shape the
// world rather than the base policy, so they are not spec fields; changing
// one changes every problem, hence the version in every checkpoint id.
const (
	// skillTopicSD is the spread of a topic's skill logits: how much the
	// topics differ in the skills they use.
	skillTopicSD = 1.0
	// skillHiddenSD is the spread of a problem's own skill logits around
	// its topic's (the part of its skill mix its features do not reveal).
	skillHiddenSD = 0.5
	// lengthHiddenSD is the std of the hidden part of a problem's log
	// reasoning length.
	lengthHiddenSD = 0.25
	// wrongAnswers is how many distinct plausible wrong answers a problem
	// keeps; a wrong completion boxes one of them.
	wrongAnswers = 4
	// adamEpsilon is AdamW's ε (PyTorch's default).
	adamEpsilon = 1e-8
)

// Observable difficulty: o = Σ w·(feature − centre). The centres are typical
// values of the generator's problems, so o is about 0 for a middling problem.
var difficultyFeatures = []struct {
	name           string
	weight, centre float64
	value          func(dataset.Features) float64
}{
	{"steps", 0.5, 3, func(f dataset.Features) float64 { return float64(f.Steps) }},
	{"operations", 0.2, 3, func(f dataset.Features) float64 { return float64(f.Operations) }},
	{"answer_digits", 0.1, 3, func(f dataset.Features) float64 { return float64(f.AnswerDigits) }},
}

// observableDifficulty is o_i, the part of a problem's difficulty its
// features reveal (before difficulty_scale).
func observableDifficulty(f dataset.Features) float64 {
	var o float64
	for _, d := range difficultyFeatures {
		o += d.weight * (d.value(f) - d.centre)
	}
	return o
}

// problem is what the policy sees of one problem: its latent skill mix,
// difficulty and reasoning length, and the answers it can box.
type problem struct {
	id     string
	answer string
	wrong  [wrongAnswers]string
	steps  int
	// skills is s_i, a point of the simplex (Σ s_ik = 1).
	skills []float64
	// difficulty is d_i = shift + scale·o_i + hidden_sd·h_i.
	difficulty float64
	// logLength is log ℓ_i = log(tokens_per_step·(1 + steps_i)) + lengthHiddenSD·g_i.
	logLength float64
}

// newProblem derives a problem's latents from its ID, topic and features
// alone (its own seed stream), so a problem is the same in any set, in any
// order, on any machine.
func newProblem(p dataset.Problem, c spec.SimPolicy) *problem {
	r := seed.Stream(0, "sim", "problem", p.ID)
	topic := seed.Stream(0, "sim", "topic", p.Topic)
	skills := make([]float64, c.Skills)
	var sum float64
	for k := range skills {
		skills[k] = skillTopicSD*topic.NormFloat64() + skillHiddenSD*r.NormFloat64()
	}
	hi := skills[0]
	for _, x := range skills {
		hi = math.Max(hi, x)
	}
	for k, x := range skills {
		skills[k] = math.Exp(x - hi)
		sum += skills[k]
	}
	for k := range skills {
		skills[k] /= sum
	}
	pr := &problem{
		id:     p.ID,
		answer: p.Answer,
		steps:  max(p.Features.Steps, 1),
		skills: skills,
		difficulty: c.DifficultyShift + c.DifficultyScale*observableDifficulty(p.Features) +
			c.HiddenSD*r.NormFloat64(),
		logLength: math.Log(c.TokensPerStep*float64(1+max(p.Features.Steps, 1))) + lengthHiddenSD*r.NormFloat64(),
	}
	wr := seed.Stream(0, "sim", "wrong", p.ID)
	for i := range pr.wrong {
		pr.wrong[i] = dataset.WrongAnswer(p, wr)
	}
	return pr
}

// params is the policy ψ = (θ_1..θ_K, λ, η): ability per skill, verbosity,
// stopping logit.
type params []float64

func (c *config) lambdaIndex() int { return c.policy.Skills }
func (c *config) etaIndex() int    { return c.policy.Skills + 1 }
func (c *config) numParams() int   { return c.policy.Skills + 2 }

// logit is z = θ·s_i − d_i, the correctness logit before temperature.
func logit(psi params, pr *problem) float64 {
	var z float64
	for k, s := range pr.skills {
		z += psi[k] * s
	}
	return z - pr.difficulty
}

// choices are one completion's sampled choices: its Trace.
type choices struct {
	temperature float64
	maxTokens   int
	correct     bool    // the boxed answer is the reference answer
	reasoning   float64 // R: tokens up to and including the boxed answer (continuous)
	stopped     bool    // the stop draw (used only when there was room to stop)
	noise       uint64  // seed of the completion's noise choices
}

const traceLen = 7

func (ch choices) trace() []float64 {
	return []float64{ch.temperature, float64(ch.maxTokens), b2f(ch.correct), ch.reasoning, b2f(ch.stopped),
		float64(ch.noise >> 32), float64(ch.noise & 0xffffffff)}
}

func parseTrace(t []float64) (choices, bool) {
	if len(t) != traceLen || !(t[0] > 0) || math.IsInf(t[0], 0) || !(t[1] >= 1) || t[1] > 1<<40 || t[1] != math.Trunc(t[1]) ||
		(t[2] != 0 && t[2] != 1) || !(t[3] > 0) || math.IsInf(t[3], 0) || (t[4] != 0 && t[4] != 1) ||
		!isUint32(t[5]) || !isUint32(t[6]) {
		return choices{}, false
	}
	return choices{temperature: t[0], maxTokens: int(t[1]), correct: t[2] == 1, reasoning: t[3], stopped: t[4] == 1,
		noise: uint64(t[5])<<32 | uint64(t[6])}, true
}

func isUint32(x float64) bool { return x >= 0 && x <= math.MaxUint32 && x == math.Trunc(x) }

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// boxedAt is B = ⌈R⌉, the token at which the answer's box closes.
func (ch choices) boxedAt() float64 { return math.Max(1, math.Ceil(ch.reasoning)) }

// answered reports whether the box closed within the cap.
func (ch choices) answered() bool { return ch.reasoning <= float64(ch.maxTokens) }

// decidedStop reports whether the completion had room to end after its box.
func (ch choices) decidedStop() bool { return ch.boxedAt() < float64(ch.maxTokens) }

// outcome returns the completion's token count and finish reason.
func (ch choices) outcome() (int, bool) {
	if ch.answered() && ch.decidedStop() && ch.stopped {
		return int(ch.boxedAt()) + 1, false // the end-of-sequence token
	}
	return ch.maxTokens, true
}

// sample draws one completion's choices from psi with r. The draws are made
// in a fixed order whatever their outcome, and each choice is an inverse-CDF
// transform of its own uniform or normal, so two checkpoints sampling with
// the same seed are coupled (common random numbers): a more able policy is
// correct on a superset of the samples, a more verbose one writes longer.
func (c *config) sample(psi params, pr *problem, temperature float64, maxTokens int, r *rand.Rand) (choices, int, uint64) {
	uCorrect := r.Float64()
	eLength := r.NormFloat64()
	uStop := r.Float64()
	wrong := r.IntN(wrongAnswers)
	tokens := r.Uint64()
	noise := r.Uint64()
	at := c.at(psi, pr, temperature)
	return choices{
		temperature: temperature,
		maxTokens:   maxTokens,
		correct:     uCorrect < at.p,
		reasoning:   math.Exp(at.mu + at.sigmaT*eLength),
		stopped:     uStop < at.q,
		noise:       noise,
	}, wrong, tokens
}

// policyAt is the policy ψ on one problem at temperature T: everything a
// unit's log-probability needs. T divides every logit and multiplies the
// variance of the log length, as it does an LM's logits.
type policyAt struct {
	T      float64
	x      float64 // z/T, z = θ·s − d: the correctness logit
	p      float64 // σ(z/T): P(correct)
	mu     float64 // log ℓ + λ: mean log reasoning length
	sigmaT float64 // σ_len·√T
	y      float64 // η/T: the stopping logit
	q      float64 // σ(η/T): P(stop after the box)
}

func (c *config) at(psi params, pr *problem, T float64) policyAt {
	x, y := logit(psi, pr)/T, psi[c.etaIndex()]/T
	return policyAt{
		T:      T,
		x:      x,
		p:      sigmoid(x),
		mu:     pr.logLength + psi[c.lambdaIndex()],
		sigmaT: c.policy.LengthSD * math.Sqrt(T),
		y:      y,
		q:      sigmoid(y),
	}
}

// A unit is one choice of a completion: GRPO's "token". Its kinds:
const (
	unitCorrect    uint8 = iota // x = 1 if the answer is right, 0 if not: Bernoulli(σ(z/T))
	unitLength                  // x = log R: Normal(μ, σ_T²) on the log length
	unitUnanswered              // x = log cap: the reasoning ran past the cap, P = Φ̄((x − μ)/σ_T)
	unitStop                    // x = 1 if it ended after its box, 0 if not: Bernoulli(σ(η/T))
)

type unit struct {
	kind uint8
	x    float64
}

// decisive lists the units of a completion's decisive choices, those that
// show in it: a completion whose reasoning ran past the cap made no
// correctness or stop choice, one that boxed its answer at the cap no stop
// choice.
func decisive(ch choices, dst []unit) []unit {
	if !ch.answered() {
		return append(dst, unit{unitUnanswered, math.Log(float64(ch.maxTokens))})
	}
	dst = append(dst, unit{unitCorrect, b2f(ch.correct)}, unit{unitLength, math.Log(ch.reasoning)})
	if ch.decidedStop() {
		dst = append(dst, unit{unitStop, b2f(ch.stopped)})
	}
	return dst
}

// units lists all of a completion's choices: the decisive ones, then
// noise_choices noise choices of each kind drawn from the behaviour policy
// beh with the completion's noise seed. Noise choices are the wording of
// the reasoning: the policy makes them, the reward does not depend on them,
// and their scores are the gradient noise every GRPO step carries.
func (c *config) units(beh policyAt, ch choices) []unit {
	units := decisive(ch, make([]unit, 0, 3+3*c.policy.NoiseChoices))
	if c.policy.NoiseChoices == 0 {
		return units
	}
	var src rand.PCG
	src.Seed(ch.noise, 0x6e6f697365) // "noise"
	r := rand.New(&src)
	for range c.policy.NoiseChoices {
		units = append(units,
			unit{unitCorrect, b2f(r.Float64() < beh.p)},
			unit{unitLength, beh.mu + beh.sigmaT*r.NormFloat64()},
			unit{unitStop, b2f(r.Float64() < beh.q)})
	}
	return units
}

// logProb is a unit's log-probability under the policy.
func (a policyAt) logProb(u unit) float64 {
	switch u.kind {
	case unitCorrect:
		return logBernoulli(u.x, a.x)
	case unitLength:
		z := (u.x - a.mu) / a.sigmaT
		// The density of R itself (Jacobian 1/R included).
		return -0.5*z*z - math.Log(a.sigmaT) - u.x - 0.5*math.Log(2*math.Pi)
	case unitUnanswered:
		return logNormalSurvival((u.x - a.mu) / a.sigmaT)
	default:
		return logBernoulli(u.x, a.y)
	}
}

// score is the derivative of a unit's log-probability with respect to its
// own logit (z/T for correctness, η/T for stopping; the caller applies the
// chain rule: ∂/∂θ_k = score·s_k/T, ∂/∂η = score/T) or to μ (lengths:
// ∂/∂λ = score).
func (a policyAt) score(u unit) float64 {
	switch u.kind {
	case unitCorrect:
		return u.x - a.p
	case unitLength:
		return (u.x - a.mu) / (a.sigmaT * a.sigmaT)
	case unitUnanswered:
		// ∂/∂μ log Φ̄((x − μ)/σ) = h(z)/σ, h the normal hazard.
		return normalHazard((u.x-a.mu)/a.sigmaT) / a.sigmaT
	default:
		return u.x - a.q
	}
}

// addGrad adds to grad the gradient of Σ_u w_u·log π(u) over one
// completion's units, given the weighted scores summed by kind: correct =
// Σ w_u·score over correctness units, length over length units (and the
// unanswered one), stop over stop units.
func (c *config) addGrad(grad []float64, pr *problem, T, correct, length, stop float64) {
	for k, s := range pr.skills {
		grad[k] += correct * s / T
	}
	grad[c.lambdaIndex()] += length
	grad[c.etaIndex()] += stop / T
}

// entropy is the entropy (nats) of the two binary choices a completion of
// pr makes at temperature T: correct or not, stop or not. The log-length's
// differential entropy is left out: it is a constant of the model.
func (c *config) entropy(psi params, pr *problem, T float64) float64 {
	at := c.at(psi, pr, T)
	return bernoulliEntropy(at.p) + bernoulliEntropy(at.q)
}

// logBernoulli is log P(x) for x ∈ {0, 1} with P(1) = σ(logit).
func logBernoulli(x, logit float64) float64 {
	if x == 1 {
		return logSigmoid(logit)
	}
	return logSigmoid(-logit)
}

func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

// logSigmoid is log σ(x), accurate for large |x|.
func logSigmoid(x float64) float64 {
	if x >= 0 {
		return -math.Log1p(math.Exp(-x))
	}
	return x - math.Log1p(math.Exp(x))
}

func bernoulliEntropy(p float64) float64 {
	if p <= 0 || p >= 1 {
		return 0
	}
	return -p*math.Log(p) - (1-p)*math.Log1p(-p)
}

// logNormalSurvival is log P(Z > z) for a standard normal Z, accurate far
// into the upper tail (where erfc underflows) by the asymptotic series.
func logNormalSurvival(z float64) float64 {
	if z < 25 {
		return math.Log(0.5 * math.Erfc(z/math.Sqrt2))
	}
	z2 := z * z
	return -0.5*z2 - math.Log(z) - 0.5*math.Log(2*math.Pi) + math.Log1p(-1/z2+3/(z2*z2))
}

// normalHazard is φ(z)/P(Z > z), the inverse Mills ratio.
func normalHazard(z float64) float64 {
	if z < 25 {
		phi := math.Exp(-0.5*z*z) / math.Sqrt(2*math.Pi)
		return phi / (0.5 * math.Erfc(z/math.Sqrt2))
	}
	z2 := z * z
	return z / (1 - 1/z2 + 3/(z2*z2))
}
