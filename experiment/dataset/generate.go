package dataset

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/relix-lab/relix/experiment/seed"
)

// GeneratorConfig configures Generate.
type GeneratorConfig struct {
	Size int    // number of problems, at least 1
	Seed uint64 // generator seed; the split is mixed in, so one seed serves both splits
	// Mix is the relative weight of each topic (see Topics). Nil or empty
	// means every topic equally; a topic left out or weighted 0 is not
	// generated.
	Mix map[string]float64
	// Levels is the relative weight of each difficulty level 1..Levels.
	// Nil means every level equally (and the draws of the sets generated
	// before levels could be weighted, byte for byte).
	Levels []float64
}

// CheckLevels reports whether w can weight the generator's levels.
func CheckLevels(w []float64) error {
	if len(w) != Levels {
		return fmt.Errorf("%d level weights; want %d, one per level 1..%d", len(w), Levels, Levels)
	}
	var sum float64
	for i, x := range w {
		if !(x >= 0) || math.IsInf(x, 0) {
			return fmt.Errorf("level %d weight %g; want a finite number ≥ 0", i+1, x)
		}
		sum += x
	}
	if !(sum > 0) {
		return fmt.Errorf("level weights sum to %g; want a positive sum", sum)
	}
	return nil
}

// level draws a candidate's difficulty level.
func (cfg GeneratorConfig) level(r *rand.Rand) int {
	if cfg.Levels == nil {
		return 1 + r.IntN(Levels)
	}
	var sum float64
	for _, w := range cfg.Levels {
		sum += w
	}
	u := r.Float64() * sum
	for i, w := range cfg.Levels {
		if u < w {
			return i + 1
		}
		u -= w
	}
	for i := len(cfg.Levels) - 1; ; i-- { // rounding left u at the top
		if cfg.Levels[i] > 0 {
			return i + 1
		}
	}
}

// Levels is the number of difficulty levels a topic generates, from 1 (a
// one-step problem with small numbers) to Levels (several steps, larger
// numbers, fractional or negative answers). Each problem's level is drawn
// uniformly; the level itself is not a feature, but the features that
// follow from it (digits, operations, steps, answer form) are.
const Levels = 5

// maxAttempts bounds the candidates drawn for one problem. A candidate is
// rejected when it belongs to the other split (about half of them) or
// repeats an earlier problem of the set, so hitting the bound means the
// topic's problems are nearly exhausted for this size.
const maxAttempts = 1000

// draft is a topic generator's output: a candidate problem and its exact
// structural features.
type draft struct {
	statement, answer string
	unknowns          int // quantities solved for
	operations        int // arithmetic operations of a direct solution
	steps             int // reasoning steps of a direct solution
}

type topic struct {
	name     string
	generate func(r *rand.Rand, level int) draft
}

// topics lists the generator's topics; their order fixes the mix schedule.
var topics = []topic{
	{"arithmetic", genArithmetic},
	{"fractions", genFractions},
	{"percentages", genPercentages},
	{"linear_equations", genLinear},
	{"systems", genSystems},
	{"powers_roots", genPowers},
	{"combinatorics", genCombinatorics},
	{"modular", genModular},
	{"gcd_lcm", genGCD},
	{"probability", genProbability},
	{"sequences", genSequences},
}

// Topics returns the generator's topic names, in schedule order.
func Topics() []string {
	names := make([]string, len(topics))
	for i, t := range topics {
		names[i] = t.name
	}
	return names
}

// Generate makes the problems of one split. The same config and split give
// the same set, byte for byte, on every machine; the problems of a smaller
// Size are a prefix of those of a larger one. Every problem satisfies
// SplitOf(p.Statement) == split, so train and held-out sets never share a
// statement, whatever their seeds.
//
// Problem i's topic comes from a smooth weighted round-robin over the mix,
// so every prefix of the set follows the mix as closely as whole problems
// allow. Its candidates are drawn from its own stream,
// seed.Stream(cfg.Seed, "dataset", split, i, "problem"): a level uniformly
// in 1..Levels, then the topic's problem at that level, until one lands in
// the split and is new to the set.
func Generate(cfg GeneratorConfig, split Split) (*Set, error) {
	if !split.valid() {
		return nil, fmt.Errorf("dataset: unknown split %q; want %q or %q", split, Train, HeldOut)
	}
	if cfg.Size < 1 {
		return nil, fmt.Errorf("dataset: generator size %d; want at least 1", cfg.Size)
	}
	if cfg.Levels != nil {
		if err := CheckLevels(cfg.Levels); err != nil {
			return nil, fmt.Errorf("dataset: %w", err)
		}
	}
	sched, err := newSchedule(cfg.Mix)
	if err != nil {
		return nil, err
	}
	problems := make([]Problem, 0, cfg.Size)
	seen := make(map[string]struct{}, cfg.Size)
	for i := range cfg.Size {
		t := topics[sched.next()]
		r := seed.Stream(cfg.Seed, "dataset", string(split), i, "problem")
		p, ok := candidate(r, t, cfg, split, seen)
		if !ok {
			return nil, fmt.Errorf("dataset: no new %s problem for %s problem %d after %d candidates: "+
				"the topic is nearly exhausted at this size; lower the size or the topic's weight",
				t.name, split, i, maxAttempts)
		}
		seen[p.ID] = struct{}{}
		problems = append(problems, p)
	}
	name := fmt.Sprintf("generated/%s/seed-%d", split, cfg.Seed)
	if cfg.Levels != nil {
		name += fmt.Sprintf("/levels-%v", cfg.Levels)
	}
	return NewSet(name, problems)
}

func candidate(r *rand.Rand, t topic, cfg GeneratorConfig, split Split, seen map[string]struct{}) (Problem, bool) {
	for range maxAttempts {
		level := cfg.level(r)
		d := t.generate(r, level)
		if SplitOf(d.statement) != split {
			continue
		}
		id := ProblemID(d.statement)
		if _, dup := seen[id]; dup {
			continue
		}
		f := statementFeatures(d.statement)
		f.Unknowns, f.Operations, f.Steps = d.unknowns, d.operations, d.steps
		f.setAnswer(d.answer)
		return Problem{ID: id, Statement: d.statement, Answer: d.answer, Topic: t.name, Features: f, Level: level}, true
	}
	return Problem{}, false
}

// schedule is a smooth weighted round-robin over topics (the nginx
// algorithm): each turn every topic gains its weight and the richest topic,
// paying the total, is picked. Counts after n turns are within one of
// n·weight for every topic.
type schedule struct {
	weight, credit []float64
}

func newSchedule(mix map[string]float64) (*schedule, error) {
	s := &schedule{weight: make([]float64, len(topics)), credit: make([]float64, len(topics))}
	if len(mix) == 0 {
		for i := range s.weight {
			s.weight[i] = 1
		}
		return s, nil
	}
	index := make(map[string]int, len(topics))
	for i, t := range topics {
		index[t.name] = i
	}
	var unknown []string
	total := 0.0
	for name, w := range mix {
		i, ok := index[name]
		if !ok {
			unknown = append(unknown, name)
			continue
		}
		if w < 0 || math.IsNaN(w) || math.IsInf(w, 0) {
			return nil, fmt.Errorf("dataset: topic %q has weight %v; want a finite weight ≥ 0", name, w)
		}
		s.weight[i] = w
		total += w
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return nil, fmt.Errorf("dataset: unknown topic %s in mix; topics are %s",
			quoteList(unknown), strings.Join(Topics(), ", "))
	}
	if total == 0 {
		return nil, fmt.Errorf("dataset: every topic in the mix has weight 0; give at least one of %s a positive weight",
			strings.Join(Topics(), ", "))
	}
	for i := range s.weight {
		s.weight[i] /= total
	}
	return s, nil
}

func (s *schedule) next() int {
	best := -1
	for i, w := range s.weight {
		if w == 0 {
			continue
		}
		s.credit[i] += w
		if best < 0 || s.credit[i] > s.credit[best] {
			best = i
		}
	}
	s.credit[best]--
	return best
}

func quoteList(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = fmt.Sprintf("%q", x)
	}
	return strings.Join(q, ", ")
}
