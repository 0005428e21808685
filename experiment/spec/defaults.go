package spec

import (
	"fmt"
	"time"
)

// The reference protocol values: the market's public code in the
// Qwen3-4B-Instruct era. Every one can be overridden in a spec.
var referenceSampling = Sampling{Temperature: 0.9, TopP: 1.0, MaxTokens: 8192}

// Default returns a spec holding every default; a spec file is decoded on
// top of it, so a field the file does not mention keeps its default.
func Default() *Spec {
	return &Spec{
		Seed: 1,
		Dataset: Dataset{
			// 4,000 problems: 300 steps of 8 groups, each prompt trained on at
			// most once, need 2,400 (Train.PoolNeeded).
			Train:   ProblemSet{Generated: &Generated{Size: 4000, Seed: 1}},
			Heldout: ProblemSet{Generated: &Generated{Size: 500, Seed: 1}},
		},
		Runner: Runner{
			Kind: "sim",
			Sim:  DefaultSimPolicy(),
			Timeouts: Timeouts{
				Start:    Duration(10 * time.Minute),
				Generate: Duration(30 * time.Minute),
				Step:     Duration(30 * time.Minute),
				Other:    Duration(5 * time.Minute),
			},
			MaxRestarts: 3,
			MaxMessage:  256,
		},
		Cluster: Cluster{Kind: "local", Poll: Duration(5 * time.Second)},
		Train: Train{
			Steps:         300,
			GroupsPerStep: 8,
			GroupSize:     8,
			SigmaMin:      0.43,
			Sampling:      referenceSampling,
			GRPO: GRPO{
				Advantage:   "std",
				ClipLow:     0.2,
				ClipHigh:    0.2,
				KLBeta:      0.04,
				LR:          5e-6,
				Warmup:      10,
				Schedule:    "cosine",
				Betas:       [2]float64{0.9, 0.999},
				WeightDecay: 0.01,
				GradClip:    1.0,
				Epochs:      1,
				LossAgg:     "seq-mean-token-mean",
				StdEpsilon:  1e-8,
			},
			PublishEvery: 10,
			Cooldown:     Forever,
			Reward:       Reward{Truncated: "zero"},
			ProbeEvery:   1,
		},
		Eval: Eval{
			Every:     50,
			Samples:   8,
			K:         []int{1, 4},
			Seed:      1234,
			Sampling:  referenceSampling,
			Truncated: "grade",
			Bootstrap: 30000,
		},
		Sweep: Sweep{
			Grid:    defaultGrid(),
			Windows: 50,
			Warmup:  50,
			Seeds:   []uint64{1, 2, 3},
			Miners:  32,
		},
		Output: Output{Plots: []string{"png", "svg"}},
	}
}

// DefaultSimPolicy is the simulated policy used when a spec gives none: the
// sim's first model with the base policy calibrated for it
// (experiments/paired-first-model.yaml holds the same values; EXPERIMENTS.md,
// "Calibrating the sim's base policy"). The second model's mechanisms are
// off unless a spec sets them, as experiments/paired.yaml does, so a spec
// written before them keeps its results.
func DefaultSimPolicy() SimPolicy {
	return SimPolicy{
		Skills:          8,
		Ability:         0,
		DifficultyScale: 0.6097,
		DifficultyShift: 0.7903,
		HiddenSD:        0.66,
		Verbosity:       0,
		LengthSD:        0.5,
		TokensPerStep:   600,
		Stop:            -1.2456,
		NoiseChoices:    32,
		LRScale:         2000,
	}
}

func defaultGrid() []float64 {
	grid := make([]float64, 15)
	for i := range grid {
		grid[i] = float64(i+1) / 100
	}
	return grid
}

func (g *Generated) setDefaults() { g.Size = 1000 }

func (m *Market) setDefaults() {
	m.Candidates = 64
	m.ProbeSize = 256
	m.ProofBase = 8
}

func (a *Auction) setDefaults() { *a = DefaultAuction() }

// DefaultAuction is an auction block's defaults: the public design's
// deadline, gate and per-prompt cap, no proof budget, and miners that
// remember one publish interval's clearing values (paired.yaml's).
func DefaultAuction() Auction {
	return Auction{Deadline: 150, SigmaMin: 0.24, PerPrompt: 10, Memory: 10, Value: ValueDifficulty}
}

func (g *MinerGroup) setDefaults() {
	g.Count = 1
	g.Behaviour = "honest"
	g.Estimator.setDefaults()
	g.Throughput = 1000
	g.Latency = 0.5
}

func (e *Estimator) setDefaults() {
	*e = Estimator{Kind: "random", Decay: 0.9, LR: 0.1, L2: 1e-3, Explore: 0.1}
}

func (s *Selector) setDefaults() { s.Estimator.setDefaults() }

// defaultMiners is the market of a market arm that names no miners: honest
// miners that learn from the window's labels.
func defaultMiners() []MinerGroup {
	var g MinerGroup
	g.setDefaults()
	g.Count = 16
	g.Estimator.Kind = "learned"
	return []MinerGroup{g}
}

// defaultSelectors is the sweep's comparison when a spec names none.
func defaultSelectors() []Selector {
	mk := func(name, kind, est string, noise float64) Selector {
		var s Selector
		s.setDefaults()
		s.Name, s.Kind, s.Estimator.Kind, s.Estimator.Noise = name, kind, est, noise
		return s
	}
	return []Selector{
		mk("filter", "filter", "random", 0),
		mk("random", "market", "random", 0),
		mk("history", "market", "history", 0),
		mk("learned", "market", "learned", 0),
		mk("oracle", "market", "oracle", 0),
		mk("oracle-noise-1", "market", "oracle", 1),
	}
}

// resolve fills the defaults that depend on other fields.
func (s *Spec) resolve() {
	if len(s.Seeds) == 0 {
		s.Seeds = []uint64{s.Seed}
	}
	if s.Output.Dir == "" && s.Name != "" {
		s.Output.Dir = "results/" + s.Name
	}
	for i := range s.Arms {
		a := &s.Arms[i]
		if a.Source == "uniform" && a.Filter == "" {
			a.Filter = "none"
		}
		if a.Source == "uniform" && a.Filter == "dynamic" && a.MaxGenRounds == 0 {
			a.MaxGenRounds = 10
		}
		if a.Source == "market" {
			if a.Market == nil {
				a.Market = &Market{}
				a.Market.setDefaults()
			}
			if len(a.Market.Miners) == 0 {
				a.Market.Miners = defaultMiners()
			}
			if a.Market.Auctioned() && a.Market.Auction == nil {
				a.Market.Auction = &Auction{}
				a.Market.Auction.setDefaults()
			}
		}
	}
	if len(s.Sweep.Selectors) == 0 {
		s.Sweep.Selectors = defaultSelectors()
	}
	for i := range s.Sweep.Selectors {
		if s.Sweep.Selectors[i].Name == "" {
			s.Sweep.Selectors[i].Name = fmt.Sprintf("%s-%d", s.Sweep.Selectors[i].Kind, i)
		}
	}
}

func (p *ProblemSet) clearAlternatives() { *p = ProblemSet{} }

// Describe names the problem set for manifests: generated:<size>:<seed>, or
// the file's path.
func (p ProblemSet) Describe() string {
	switch {
	case p.Generated != nil && p.Generated.Levels != nil:
		return fmt.Sprintf("generated:%d:%d:levels=%v", p.Generated.Size, p.Generated.Seed, p.Generated.Levels)
	case p.Generated != nil:
		return fmt.Sprintf("generated:%d:%d", p.Generated.Size, p.Generated.Seed)
	case p.JSONL != nil:
		return p.JSONL.Path
	case p.Parquet != nil:
		return p.Parquet.Path
	}
	return ""
}
