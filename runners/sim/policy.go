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
	// chain holds the problem's reasoning steps when reachability is on
	// (README.md, "Reachability"): a completion is right only if each is.
	chain []chainStep
}

// chainStep is one reasoning step of a problem: the skill it goes through
// and its margin at that skill's ability 0. Step s is right with chance
// σ(β·(θ_k + margin)/T).
type chainStep struct {
	skill  int
	margin float64
}

// maxChain bounds a problem's reasoning steps under reachability (the
// generator's problems have at most 7; a problem file's may estimate more).
const maxChain = 16

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
	if c.LevelDifficulty != 0 && p.Level > 0 {
		pr.difficulty += c.LevelDifficulty * float64(p.Level-3)
	}
	if c.Reach != nil {
		pr.chain = newChain(pr, c.Ability, c.Reach.StepSD, seed.Stream(0, "sim", "chain", p.ID))
	}
	return pr
}

// newChain draws a problem's reasoning steps from its own stream: each
// step's skill from the problem's skill mix, and its own difficulty offset
// o_s ~ N(0, step_sd²). The steps split the problem's first-model chance
// between them: their margins are c − o_s with c solving
// Π_s σ(c − o_s) = σ(ability − d), so the base policy's chance on the
// problem (at T = 1) is the first model's, and reachability changes how
// training moves it, not where it starts. The stream is not the one the
// first model's latents come from, so turning reachability on changes no
// other latent.
func newChain(pr *problem, ability, stepSD float64, r *rand.Rand) []chainStep {
	chain := make([]chainStep, min(pr.steps, maxChain))
	offsets := make([]float64, len(chain))
	for i := range chain {
		u, k := r.Float64(), 0
		for k < len(pr.skills)-1 && u >= pr.skills[k] {
			u -= pr.skills[k]
			k++
		}
		chain[i].skill = k
		offsets[i] = stepSD * r.NormFloat64()
	}
	// log Π σ(c − o_s) rises with c: bisect on it against log σ(ability − d).
	target := logSigmoid(ability - pr.difficulty)
	logChance := func(c float64) float64 {
		var l float64
		for _, o := range offsets {
			l += logSigmoid(c - o)
		}
		return l
	}
	lo, hi := -60.0, 60.0
	for range 100 {
		mid := (lo + hi) / 2
		if logChance(mid) < target {
			lo = mid
		} else {
			hi = mid
		}
	}
	c := (lo + hi) / 2
	for i := range chain {
		chain[i].margin = c - offsets[i] - ability
	}
	return chain
}

// params is the policy ψ = (θ_1..θ_K, λ, η[, ρ][, κ]): ability per skill,
// verbosity, stopping logit, and with the second model's mechanisms the
// loop logit (termination) and the sharpness (sharpen).
type params []float64

func (c *config) lambdaIndex() int { return c.policy.Skills }
func (c *config) etaIndex() int    { return c.policy.Skills + 1 }

// rhoIndex is the loop logit's index, −1 without termination.
func (c *config) rhoIndex() int {
	if c.policy.Termination == nil {
		return -1
	}
	return c.policy.Skills + 2
}

// kappaIndex is the sharpness's index, −1 without sharpen.
func (c *config) kappaIndex() int {
	if !c.policy.Sharpen {
		return -1
	}
	return c.policy.Skills + 2 + btoi(c.policy.Termination != nil)
}

func (c *config) numParams() int {
	return c.policy.Skills + 2 + btoi(c.policy.Termination != nil) + btoi(c.policy.Sharpen)
}

// second reports whether a second-model mechanism changes a completion's
// choices (its trace and units); level_difficulty, which moves only the
// problems' latents, does not.
func (c *config) second() bool {
	p := c.policy
	return p.Reach != nil || p.Termination != nil || p.Sharpen
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

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
	// The second model's choices.
	looped bool   // fell into a repetition loop (termination)
	steps  uint32 // bit s set: reasoning step s was right (reachability)
}

// The first model's trace has traceLen numbers; the second model's two
// more (looped, steps).
const traceLen = 7

func (c *config) traceLen() int { return traceLen + 2*btoi(c.second()) }

func (c *config) trace(ch choices) []float64 {
	t := []float64{ch.temperature, float64(ch.maxTokens), b2f(ch.correct), ch.reasoning, b2f(ch.stopped),
		float64(ch.noise >> 32), float64(ch.noise & 0xffffffff)}
	if c.second() {
		t = append(t, b2f(ch.looped), float64(ch.steps))
	}
	return t
}

func (c *config) parseTrace(t []float64) (choices, bool) {
	if len(t) != c.traceLen() || !(t[0] > 0) || math.IsInf(t[0], 0) || !(t[1] >= 1) || t[1] > 1<<40 || t[1] != math.Trunc(t[1]) ||
		(t[2] != 0 && t[2] != 1) || !(t[3] > 0) || math.IsInf(t[3], 0) || (t[4] != 0 && t[4] != 1) ||
		!isUint32(t[5]) || !isUint32(t[6]) {
		return choices{}, false
	}
	ch := choices{temperature: t[0], maxTokens: int(t[1]), correct: t[2] == 1, reasoning: t[3], stopped: t[4] == 1,
		noise: uint64(t[5])<<32 | uint64(t[6])}
	if c.second() {
		if (t[7] != 0 && t[7] != 1) || !isUint32(t[8]) || (t[7] == 1 && c.policy.Termination == nil) {
			return choices{}, false
		}
		ch.looped, ch.steps = t[7] == 1, uint32(t[8])
	}
	return ch, true
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

// outcome returns the completion's token count and finish reason. A
// looped completion runs to the cap.
func (ch choices) outcome() (int, bool) {
	if !ch.looped && ch.answered() && ch.decidedStop() && ch.stopped {
		return int(ch.boxedAt()) + 1, false // the end-of-sequence token
	}
	return ch.maxTokens, true
}

// sample draws one completion's choices from psi with r. The draws are made
// in a fixed order whatever their outcome, and each choice is an inverse-CDF
// transform of its own uniform or normal, so two checkpoints sampling with
// the same seed are coupled (common random numbers): a more able policy is
// correct on a superset of the samples, a more verbose one writes longer.
// at is the policy on the problem at temperature (c.at), the same for
// every completion of a prompt.
func (c *config) sample(at *policyAt, temperature float64, maxTokens int, r *rand.Rand) (choices, int, uint64) {
	uCorrect := r.Float64()
	eLength := r.NormFloat64()
	uStop := r.Float64()
	wrong := r.IntN(wrongAnswers)
	tokens := r.Uint64()
	noise := r.Uint64()
	ch := choices{
		temperature: temperature,
		maxTokens:   maxTokens,
		correct:     uCorrect < at.p,
		reasoning:   math.Exp(at.mu + at.sigmaT*eLength),
		stopped:     uStop < at.q,
		noise:       noise,
	}
	if !c.second() {
		return ch, wrong, tokens
	}
	// The second model's draws come after the first model's, so a
	// mechanism's draws never shift another's.
	uLoop := r.Float64()
	if at.steps > 0 {
		ch.correct = true
		for s := range at.steps {
			u := uCorrect
			if s > 0 {
				u = r.Float64()
			}
			if u < at.stepP[s] {
				ch.steps |= 1 << s
			} else {
				ch.correct = false
			}
		}
	}
	if !ch.correct {
		ch.stopped = uStop < at.qWrong
	}
	ch.looped = at.loops && uLoop < at.loopP(!ch.correct)
	return ch, wrong, tokens
}

// policyAt is the policy ψ on one problem at temperature T: everything a
// unit's log-probability needs. T divides every logit and multiplies the
// variance of the log length, as it does an LM's logits.
type policyAt struct {
	T      float64
	x      float64 // β·z/T, z = θ·s − d: the correctness logit (no chain)
	p      float64 // P(correct): σ(x), or the product of the steps' chances
	mu     float64 // log ℓ + λ: mean log reasoning length
	sigmaT float64 // σ_len·√T
	y      float64 // η/T: the stopping logit
	q      float64 // σ(η/T): P(stop after the box)

	// The second model's. yWrong and qWrong are the stop logit and chance
	// after a wrong answer (y and q without termination).
	yWrong, qWrong float64
	beta           float64 // e^κ, 1 without sharpen
	steps          int     // the chain's length, 0 without reachability
	stepX, stepP   [maxChain]float64
	loops          bool       // termination is on
	loop           loopLogits // with loops
}

// loopLogits are a completion's loop logits, (ρ + loop_wrong·[wrong] +
// loop_difficulty·d)/T, and chances.
type loopLogits struct {
	right, wrong   float64
	pRight, pWrong float64
}

// loopP is the chance of a loop given whether the answer is wrong.
func (a policyAt) loopP(wrong bool) float64 {
	if wrong {
		return a.loop.pWrong
	}
	return a.loop.pRight
}

func (c *config) at(psi params, pr *problem, T float64) policyAt {
	z := logit(psi, pr)
	a := policyAt{T: T, beta: 1}
	if k := c.kappaIndex(); k >= 0 {
		a.beta = math.Exp(psi[k])
		z *= a.beta
	}
	a.x = z / T
	a.p = sigmoid(a.x)
	a.mu = pr.logLength + psi[c.lambdaIndex()]
	a.sigmaT = c.policy.LengthSD * math.Sqrt(T)
	a.y = psi[c.etaIndex()] / T
	a.q = sigmoid(a.y)
	a.yWrong, a.qWrong = a.y, a.q
	if len(pr.chain) > 0 {
		a.steps, a.p = len(pr.chain), 1
		for s, st := range pr.chain {
			a.stepX[s] = a.beta * (psi[st.skill] + st.margin) / T
			a.stepP[s] = sigmoid(a.stepX[s])
			a.p *= a.stepP[s]
		}
	}
	if t := c.policy.Termination; t != nil {
		a.yWrong = (psi[c.etaIndex()] - t.StopWrong) / T
		a.qWrong = sigmoid(a.yWrong)
		right := (psi[c.rhoIndex()] + t.LoopDifficulty*pr.difficulty) / T
		wrong := right + t.LoopWrong/T
		a.loops = true
		a.loop = loopLogits{right: right, wrong: wrong, pRight: sigmoid(right), pWrong: sigmoid(wrong)}
	}
	return a
}

// A unit is one choice of a completion: GRPO's "token". Its kinds:
const (
	unitCorrect    uint8 = iota // x = 1 if the answer is right, 0 if not: Bernoulli(σ(z/T))
	unitLength                  // x = log R: Normal(μ, σ_T²) on the log length
	unitUnanswered              // x = log cap: the reasoning ran past the cap, P = Φ̄((x − μ)/σ_T)
	unitStop                    // x = 1 if it ended after its box, 0 if not: Bernoulli(σ(η/T)); arg 1 after a wrong answer
	unitStep                    // x = 1 if reasoning step arg was right: Bernoulli(σ(β(θ_k − d − o)/T))
	unitLoop                    // x = 1 if it looped: Bernoulli(σ(loop logit)); arg 1 for a wrong answer
)

type unit struct {
	kind uint8
	arg  uint8 // the step (unitStep), or whether the answer was wrong (unitStop, unitLoop)
	x    float64
}

// decisive lists the units of a completion's decisive choices, those that
// show in it: a completion whose reasoning ran past the cap made no
// correctness or stop choice, one that boxed its answer at the cap no stop
// choice.
func decisive(ch choices, dst []unit) []unit {
	if !ch.answered() {
		return append(dst, unit{kind: unitUnanswered, x: math.Log(float64(ch.maxTokens))})
	}
	dst = append(dst, unit{kind: unitCorrect, x: b2f(ch.correct)}, unit{kind: unitLength, x: math.Log(ch.reasoning)})
	if ch.decidedStop() {
		dst = append(dst, unit{kind: unitStop, x: b2f(ch.stopped)})
	}
	return dst
}

// units lists all of a completion's choices: the decisive ones, then
// noise_choices noise choices of each kind drawn from the behaviour policy
// beh with the completion's noise seed. Noise choices are the wording of
// the reasoning: the policy makes them, the reward does not depend on them,
// and their scores are the gradient noise every GRPO step carries.
func (c *config) units(beh policyAt, ch choices) []unit {
	if c.second() {
		return c.secondUnits(beh, ch)
	}
	units := decisive(ch, make([]unit, 0, 3+3*c.policy.NoiseChoices))
	if c.policy.NoiseChoices == 0 {
		return units
	}
	var src rand.PCG
	src.Seed(ch.noise, 0x6e6f697365) // "noise"
	r := rand.New(&src)
	for range c.policy.NoiseChoices {
		units = append(units,
			unit{kind: unitCorrect, x: b2f(r.Float64() < beh.p)},
			unit{kind: unitLength, x: beh.mu + beh.sigmaT*r.NormFloat64()},
			unit{kind: unitStop, x: b2f(r.Float64() < beh.q)})
	}
	return units
}

// secondUnits are units for the second model. The answer's choices are
// made first, whatever follows, so they are units of every completion;
// then the loop choice; then, unless it looped, the first model's length
// and stop choices.
func (c *config) secondUnits(beh policyAt, ch choices) []unit {
	wrong := uint8(btoi(!ch.correct))
	units := make([]unit, 0, beh.steps+4+4*c.policy.NoiseChoices)
	if beh.steps > 0 {
		for s := range beh.steps {
			units = append(units, unit{kind: unitStep, arg: uint8(s), x: b2f(ch.steps&(1<<s) != 0)})
		}
	} else {
		units = append(units, unit{kind: unitCorrect, x: b2f(ch.correct)})
	}
	if beh.loops {
		units = append(units, unit{kind: unitLoop, arg: wrong, x: b2f(ch.looped)})
	}
	switch {
	case ch.looped:
	case !ch.answered():
		units = append(units, unit{kind: unitUnanswered, x: math.Log(float64(ch.maxTokens))})
	default:
		units = append(units, unit{kind: unitLength, x: math.Log(ch.reasoning)})
		if ch.decidedStop() {
			units = append(units, unit{kind: unitStop, arg: wrong, x: b2f(ch.stopped)})
		}
	}
	if c.policy.NoiseChoices == 0 {
		return units
	}
	var src rand.PCG
	src.Seed(ch.noise, 0x6e6f697365) // "noise"
	r := rand.New(&src)
	for i := range c.policy.NoiseChoices {
		if beh.steps > 0 {
			s := i % beh.steps
			units = append(units, unit{kind: unitStep, arg: uint8(s), x: b2f(r.Float64() < beh.stepP[s])})
		} else {
			units = append(units, unit{kind: unitCorrect, x: b2f(r.Float64() < beh.p)})
		}
		stop := beh.q
		if wrong == 1 {
			stop = beh.qWrong
		}
		units = append(units,
			unit{kind: unitLength, x: beh.mu + beh.sigmaT*r.NormFloat64()},
			unit{kind: unitStop, arg: wrong, x: b2f(r.Float64() < stop)})
		if beh.loops {
			units = append(units, unit{kind: unitLoop, arg: wrong, x: b2f(r.Float64() < beh.loopP(wrong == 1))})
		}
	}
	return units
}

// logProb is a unit's log-probability under the policy.
func (a policyAt) logProb(u unit) float64 {
	switch u.kind {
	case unitStep:
		return logBernoulli(u.x, a.stepX[u.arg])
	case unitLoop:
		if u.arg == 1 {
			return logBernoulli(u.x, a.loop.wrong)
		}
		return logBernoulli(u.x, a.loop.right)
	case unitStop:
		if u.arg == 1 {
			return logBernoulli(u.x, a.yWrong)
		}
		return logBernoulli(u.x, a.y)
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
	case unitStep:
		return u.x - a.stepP[u.arg]
	case unitLoop:
		return u.x - a.loopP(u.arg == 1)
	case unitStop:
		if u.arg == 1 {
			return u.x - a.qWrong
		}
		return u.x - a.q
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

// scores are one completion's weighted scores summed by the parameter
// they reach (the second model's addGrad).
type scores struct {
	correct, length, stop, loop float64
	steps                       [maxChain]float64
}

// add routes one unit's weighted score g.
func (sc *scores) add(u unit, g float64) {
	switch u.kind {
	case unitCorrect:
		sc.correct += g
	case unitStep:
		sc.steps[u.arg] += g
	case unitStop:
		sc.stop += g
	case unitLoop:
		sc.loop += g
	default:
		sc.length += g
	}
}

// addSecondGrad adds a completion's gradient under the second model. A
// correctness logit is β·z/T, so ∂/∂θ_k = score·β·s_k/T (a chain step's
// skill alone: β/T) and ∂/∂κ = score·(the logit itself).
func (c *config) addSecondGrad(grad []float64, pr *problem, a policyAt, sc *scores) {
	var sharp float64
	if a.steps > 0 {
		for s, st := range pr.chain {
			grad[st.skill] += sc.steps[s] * a.beta / a.T
			sharp += sc.steps[s] * a.stepX[s]
		}
	} else {
		for k, s := range pr.skills {
			grad[k] += sc.correct * s * a.beta / a.T
		}
		sharp = sc.correct * a.x
	}
	grad[c.lambdaIndex()] += sc.length
	grad[c.etaIndex()] += sc.stop / a.T
	if i := c.rhoIndex(); i >= 0 {
		grad[i] += sc.loop / a.T
	}
	if i := c.kappaIndex(); i >= 0 {
		grad[i] += sharp
	}
}

// entropy is the entropy (nats) of the two binary choices a completion of
// pr makes at temperature T: correct or not, stop or not. The log-length's
// differential entropy is left out: it is a constant of the model.
func (c *config) entropy(psi params, pr *problem, T float64) float64 {
	at := c.at(psi, pr, T)
	h := bernoulliEntropy(at.p) + bernoulliEntropy(at.q)
	if at.loops {
		h += bernoulliEntropy(at.loop.pRight)
	}
	return h
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
