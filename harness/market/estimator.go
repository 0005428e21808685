package market

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/relix-lab/relix/experiment/dataset"
	"github.com/relix-lab/relix/experiment/spec"
)

// An estimator predicts a prompt's per-completion success probability at
// the published checkpoint; a miner rates candidates by the chance that a
// group at that probability passes the σ gate and picks the best. Every
// estimator learns only from what a real miner sees: the prompts' text
// features, its own groups' rewards and the groups the validator accepted
// (published with their rewards: the free supervision). The oracle is the
// exception, and is flagged as an upper bound wherever it is used.
type estimator interface {
	kind() string
	// predict estimates prompt i's success probability. rng is the pick's
	// own stream (the oracle's noise draws from it).
	predict(w *window, i int, rng *rand.Rand) (float64, error)
	// learn folds in one window's observations, once, after the window.
	learn(obs []observation)
}

// observation is one group seen at a window: its prompt and rewards.
type observation struct {
	prompt    int
	successes float64 // sum of the group's rewards
	trials    float64 // its size
}

func newEstimator(e spec.Estimator, f *features, groupSize int) (estimator, error) {
	switch e.Kind {
	case "random":
		return randomEstimator{}, nil
	case "history":
		return newHistory(e.Decay, f, groupSize), nil
	case "learned":
		return newLearned(e, f, groupSize), nil
	case "oracle":
		return oracleEstimator{noise: e.Noise}, nil
	}
	return nil, fmt.Errorf("unknown estimator %q; want random, history, learned or oracle", e.Kind)
}

// randomEstimator knows nothing: a miner with it picks a candidate at
// random, so its market has the hit rate of uniform sampling.
type randomEstimator struct{}

func (randomEstimator) kind() string                                      { return "random" }
func (randomEstimator) predict(*window, int, *rand.Rand) (float64, error) { return 0.5, nil }
func (randomEstimator) learn([]observation)                               {}

// oracleEstimator reads the runner's true success probability at the
// published checkpoint and blurs its logit with Normal(0, noise²) noise.
type oracleEstimator struct{ noise float64 }

func (oracleEstimator) kind() string { return "oracle" }
func (o oracleEstimator) predict(w *window, i int, rng *rand.Rand) (float64, error) {
	p, err := w.trueProbability(i)
	if err != nil || o.noise == 0 {
		return p, err
	}
	return sigmoid(logit(p) + o.noise*rng.NormFloat64()), nil
}
func (oracleEstimator) learn([]observation) {}

// memory is a decayed pass-rate count.
type memory struct{ s, t float64 }

// forgetBelow drops a memory whose weight has decayed below this many
// trials, which keeps the state small; its effect on predictions is nil to
// within 1e-2 of a completion.
const forgetBelow = 1e-2

// decayAll multiplies every memory by decay and drops the forgotten.
func decayAll[K comparable](m map[K]*memory, decay float64) {
	for k, v := range m {
		v.s *= decay
		v.t *= decay
		if v.t < forgetBelow {
			delete(m, k)
		}
	}
}

func remember[K comparable](m map[K]*memory, k K, s, t float64) {
	v := m[k]
	if v == nil {
		v = &memory{}
		m[k] = v
	}
	v.s += s
	v.t += t
}

// history keeps decayed pass rates per prompt and per value of a few
// discrete features (topic, steps, operations, largest literal, answer
// form, unknowns). A prompt's estimate is its own pass rate shrunk towards
// its features' with the weight of one group; an unseen feature value
// counts as a pass rate of 1/2. Decay (per window) lets the memory follow
// the frontier as the policy improves.
type history struct {
	decay   float64
	g       float64
	f       *features
	prompts map[int]*memory
	keys    []map[int]*memory // per discrete feature: value → memory
}

func newHistory(decay float64, f *features, groupSize int) *history {
	h := &history{decay: decay, g: float64(groupSize), f: f, prompts: map[int]*memory{}, keys: make([]map[int]*memory, len(keyNames))}
	for k := range h.keys {
		h.keys[k] = map[int]*memory{}
	}
	return h
}

func (*history) kind() string { return "history" }

func (h *history) prior(i int) float64 {
	var sum float64
	for k, v := range h.f.keys[i] {
		m := h.keys[k][v]
		if m == nil {
			sum += 0.5
			continue
		}
		sum += (m.s + 1) / (m.t + 2)
	}
	return sum / float64(len(keyNames))
}

func (h *history) estimate(i int) float64 {
	p0 := h.prior(i)
	m := h.prompts[i]
	if m == nil {
		return p0
	}
	return (m.s + h.g*p0) / (m.t + h.g)
}

func (h *history) predict(_ *window, i int, _ *rand.Rand) (float64, error) { return h.estimate(i), nil }

func (h *history) learn(obs []observation) {
	decayAll(h.prompts, h.decay)
	for _, m := range h.keys {
		decayAll(m, h.decay)
	}
	for _, o := range obs {
		remember(h.prompts, o.prompt, o.successes, o.trials)
		for k, v := range h.f.keys[o.prompt] {
			remember(h.keys[k], v, o.successes, o.trials)
		}
	}
}

// learned is an online logistic regression of a prompt's success
// probability on its standardized features, its topic (one-hot) and its
// own decayed history (the logit of its smoothed pass rate and the weight
// of that evidence), trained by one SGD step per observed group on the
// binomial log-loss with an L2 penalty. Its inputs for a window's
// observations are taken before the window's history is added, so it
// learns to predict, not to remember.
type learned struct {
	lr, l2 float64
	decay  float64
	g      float64
	f      *features
	w      []float64
	mem    map[int]*memory
	x      []float64 // scratch input
}

func newLearned(e spec.Estimator, f *features, groupSize int) *learned {
	n := f.dim()
	return &learned{lr: e.LR, l2: e.L2, decay: e.Decay, g: float64(groupSize), f: f,
		w: make([]float64, n), mem: map[int]*memory{}, x: make([]float64, n)}
}

func (*learned) kind() string { return "learned" }

// input fills l.x with prompt i's inputs.
func (l *learned) input(i int) []float64 {
	x := l.x
	var hist, weight float64
	if m := l.mem[i]; m != nil {
		hist = logit((m.s + 0.5) / (m.t + 1))
		weight = m.t / (m.t + l.g)
	}
	l.f.fill(x, i, hist, weight)
	return x
}

func (l *learned) estimate(i int) float64 { return sigmoid(dot(l.w, l.input(i))) }

func (l *learned) predict(_ *window, i int, _ *rand.Rand) (float64, error) { return l.estimate(i), nil }

func (l *learned) learn(obs []observation) {
	for _, o := range obs {
		x := l.input(o.prompt)
		g := sigmoid(dot(l.w, x)) - o.successes/o.trials
		for k := range l.w {
			l.w[k] -= l.lr * (g*x[k] + l.l2*l.w[k])
		}
	}
	decayAll(l.mem, l.decay)
	for _, o := range obs {
		remember(l.mem, o.prompt, o.successes, o.trials)
	}
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// logit is clamped so that certain outcomes keep a finite logit.
func logit(p float64) float64 {
	p = min(max(p, 1e-12), 1-1e-12)
	return math.Log(p / (1 - p))
}

func dot(a, b []float64) float64 {
	var s float64
	for i, x := range a {
		s += x * b[i]
	}
	return s
}

// keyNames are the discrete features a history estimator remembers pass
// rates by.
var keyNames = [...]string{"topic", "steps", "operations", "max_digits", "answer_kind", "unknowns"}

// features are the training pool's features as estimators use them: the
// standardized feature vector, a topic index, and the discrete keys.
type features struct {
	x      [][]float64 // per problem: dataset.Features.Vector, standardized over the pool
	topic  []int       // per problem: index in topics
	topics []string    // the pool's topics, sorted
	keys   [][len(keyNames)]int
}

func newFeatures(pool *dataset.Set) *features {
	n := pool.Len()
	f := &features{x: make([][]float64, n), topic: make([]int, n), keys: make([][len(keyNames)]int, n)}
	mean := make([]float64, dataset.NumFeatures)
	for i := range pool.Problems {
		f.x[i] = pool.Problems[i].Features.Vector()
		for k, v := range f.x[i] {
			mean[k] += v
		}
	}
	sd := make([]float64, dataset.NumFeatures)
	for k := range mean {
		mean[k] /= float64(n)
		for i := range f.x {
			d := f.x[i][k] - mean[k]
			sd[k] += d * d
		}
		sd[k] = math.Sqrt(sd[k] / float64(n))
	}
	for i := range f.x {
		for k := range f.x[i] {
			if sd[k] > 0 {
				f.x[i][k] = (f.x[i][k] - mean[k]) / sd[k]
			} else {
				f.x[i][k] = 0
			}
		}
	}
	seen := map[string]bool{}
	for _, p := range pool.Problems {
		if !seen[p.Topic] {
			seen[p.Topic] = true
			f.topics = append(f.topics, p.Topic)
		}
	}
	slices.Sort(f.topics)
	for i, p := range pool.Problems {
		f.topic[i], _ = slices.BinarySearch(f.topics, p.Topic)
		ft := p.Features
		f.keys[i] = [len(keyNames)]int{f.topic[i], min(ft.Steps, 20), min(ft.Operations, 20), min(ft.MaxDigits, 20), int(ft.AnswerKind), min(ft.Unknowns, 5)}
	}
	return f
}

// dim is the length of a learned estimator's input: a bias, the features,
// the topic one-hot, the history logit and its weight.
func (f *features) dim() int { return 1 + dataset.NumFeatures + len(f.topics) + 2 }

func (f *features) fill(x []float64, i int, hist, weight float64) {
	clear(x)
	x[0] = 1
	copy(x[1:], f.x[i])
	x[1+dataset.NumFeatures+f.topic[i]] = 1
	x[len(x)-2] = hist
	x[len(x)-1] = weight
}
