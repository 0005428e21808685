package results

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// A small synthetic paired run and zone sweep: plausible numbers, made up,
// deterministic. Tests write them, read them back and render them; the
// committed copies under testdata/ are the goldens.

const syntheticSpecHash = "5a1e0c0ffee0d15ea5e5eed0f5a1e0c0ffee0d15ea5e5eed0f5a1e0c0ffee0d1"

var (
	synthArms  = []string{"base", "uniform", "market"}
	synthSeeds = []uint64{1, 2}
)

const (
	synthSteps    = 30
	synthEvery    = 10
	synthGroupsN  = 4
	synthGroupG   = 8
	synthProblems = 12
	synthSamples  = 4
)

func u64p(v uint64) *uint64 { return &v }
func i32p(v int32) *int32   { return &v }

func synthRand(parts ...uint64) *rand.Rand {
	s := uint64(0x9e3779b97f4a7c15)
	for _, p := range parts {
		s = (s ^ p) * 0xbf58476d1ce4e5b9
	}
	return rand.New(rand.NewPCG(s, s>>7|1))
}

// armTrend is the synthetic learning curve: the market improves faster.
func armTrend(arm string, step int) (pass, trunc, inZone, waste float64) {
	x := float64(step) / synthSteps
	switch arm {
	case "uniform":
		return 0.33 + 0.14*x, 0.80 - 0.07*x, 0.15 - 0.06*x, 0.50 + 0.20*x
	case "market":
		return 0.33 + 0.28*x, 0.80 - 0.18*x, 0.15 - 0.08*x, 0.35 + 0.10*x
	}
	return 0.33, 0.805, 0.15, 0
}

func syntheticSteps() []Step {
	var rows []Step
	for _, arm := range synthArms[1:] {
		for _, seed := range synthSeeds {
			r := synthRand(seed, uint64(len(arm)))
			for s := 1; s <= synthSteps; s++ {
				_, trunc, inZone, waste := armTrend(arm, s)
				gen := int32(synthGroupsN / (1 - waste))
				st := Step{
					Arm: arm, Seed: seed, Step: int32(s), Checkpoint: fmt.Sprintf("%s-s%d-%03d", arm, seed, s),
					Loss: 0.1 * r.NormFloat64(), GradNorm: 0.5 + 0.1*r.Float64(), KL: 0.001 * float64(s) * (1 + 0.1*r.Float64()),
					ClipFraction: 0.02 * r.Float64(), Entropy: math.NaN(), LR: 5e-6,
					InZoneFraction: inZone + 0.01*r.NormFloat64(), ZeroStdShare: waste * 0.9,
					Truncation: trunc + 0.02*r.NormFloat64(), Waste: waste + 0.03*r.NormFloat64(),
					UsefulGroups: synthGroupsN, GeneratedGroups: gen,
					UsefulRollouts: synthGroupsN * synthGroupG, GeneratedRollouts: int64(gen) * synthGroupG,
					Tokens: int64(gen) * synthGroupG * 900,
				}
				if arm == "market" {
					st.LateGroups, st.DuplicateGroups = 1, int32(s%2)
				}
				rows = append(rows, st)
			}
		}
	}
	return rows
}

func syntheticRollouts() []Rollout {
	reasons := []string{"zero_variance", "late", "duplicate", "proof_failed"}
	var rows []Rollout
	for _, arm := range synthArms[1:] {
		for _, seed := range synthSeeds {
			r := synthRand(seed, 7, uint64(len(arm)))
			for s := int32(1); s <= 5; s++ {
				for g := int32(0); g < 6; g++ {
					accepted := g < synthGroupsN
					reason, miner, arrival := "", "", math.NaN()
					if !accepted {
						reason = reasons[r.IntN(len(reasons))]
					}
					if arm == "market" {
						miner = fmt.Sprintf("m%02d", r.IntN(16))
						arrival = float64(g) + r.Float64()
					} else if !accepted {
						reason = "zero_variance"
					}
					prompt := fmt.Sprintf("train-%05d", r.IntN(4000))
					for c := int32(0); c < synthGroupG; c++ {
						trunc := r.Float64() < 0.7
						rows = append(rows, Rollout{
							Arm: arm, Seed: seed, Step: s, Window: int64(s), Checkpoint: fmt.Sprintf("%s-s%d-%03d", arm, seed, s-1),
							Miner: miner, Group: g, Prompt: prompt, Completion: c,
							Reward: float64(r.IntN(2)), Tokens: int32(200 + r.IntN(8000)), Truncated: trunc,
							Accepted: accepted, Useful: accepted && (arm == "market" || g%2 == 0), Reason: reason, Arrival: arrival,
						})
					}
				}
			}
		}
	}
	return rows
}

func syntheticEval() []Eval {
	var rows []Eval
	for _, arm := range synthArms {
		steps := []int32{10, 20, 30}
		if arm == "base" {
			steps = []int32{0}
		}
		for _, seed := range synthSeeds {
			r := synthRand(seed, 99, uint64(len(arm)))
			for _, st := range steps {
				pass, trunc, _, _ := armTrend(arm, int(st))
				for p := 0; p < synthProblems; p++ {
					for k := int32(0); k < synthSamples; k++ {
						e := Eval{Arm: arm, Seed: seed, Step: st, Checkpoint: fmt.Sprintf("%s-s%d-%03d", arm, seed, st),
							Problem: fmt.Sprintf("heldout-%03d", p), Sample: k,
							Correct: r.Float64() < pass, Truncated: r.Float64() < trunc, Tokens: int32(100 + r.IntN(8092))}
						if e.Correct || r.Float64() < 0.5 {
							e.Answer = fmt.Sprint(r.IntN(100))
						}
						if arm == "market" && k == 0 { // an arm that kept its text
							e.Text = fmt.Sprintf("Let us add.\nSo the final answer is $\\boxed{%s}$.", e.Answer)
						}
						rows = append(rows, e)
					}
				}
			}
		}
	}
	return rows
}

// syntheticProblems are the problems the synthetic rows name: the held-out
// ones eval names and a few training ones, with made-up features; the
// held-out ones have no runner difficulty (as a worker gives none).
func syntheticProblems() []Problem {
	kinds := []string{"integer", "fraction", "decimal", "radical", "tuple", "other"}
	topics := []string{"arithmetic", "linear", "", "modular"}
	var rows []Problem
	for _, pool := range Pools() {
		r := synthRand(uint64(len(pool)), 31)
		n, id := 20, "train-%05d"
		if pool == PoolHeldout {
			n, id = synthProblems, "heldout-%03d"
		}
		for i := 0; i < n; i++ {
			p := Problem{
				Problem: fmt.Sprintf(id, i), Pool: pool, Topic: topics[i%len(topics)],
				Statement: fmt.Sprintf("Compute %d + %d.", r.IntN(100), r.IntN(100)), Answer: fmt.Sprint(r.IntN(200)),
				Chars: int32(20 + r.IntN(200)), Words: int32(4 + r.IntN(40)), Numbers: int32(1 + r.IntN(5)),
				MaxDigits: int32(1 + r.IntN(4)), TotalDigits: int32(2 + r.IntN(10)), Operators: int32(r.IntN(4)),
				Unknowns: int32(r.IntN(3)), Operations: int32(1 + r.IntN(6)), ReasoningSteps: int32(1 + r.IntN(7)),
				AnswerKind: kinds[i%len(kinds)], AnswerDigits: int32(1 + r.IntN(3)), AnswerMagnitude: 3 * r.Float64(),
				AnswerNegative: i%5 == 0, Difficulty: math.NaN(), BaseSuccess: math.NaN(),
			}
			if topics[i%len(topics)] != "" {
				p.Level = i32p(int32(1 + i%5))
			}
			if pool == PoolTrain {
				p.Difficulty, p.BaseSuccess = 2*r.NormFloat64(), r.Float64()
			}
			rows = append(rows, p)
		}
	}
	return rows
}

func withSE(arm, metric string, v, se float64, n int64, method string) Summary {
	return Summary{Arm: arm, Metric: metric, Value: v, StdErr: se, CILow: v - 1.96*se, CIHigh: v + 1.96*se,
		Method: method, P: math.NaN(), BootLow: math.NaN(), BootHigh: math.NaN(), ShareGreater: math.NaN(), N: n}
}

func syntheticSummary() []Summary {
	var rows []Summary
	n := int64(synthProblems * len(synthSeeds))
	for _, arm := range synthArms {
		final := synthSteps
		if arm == "base" {
			final = 0
		}
		pass, trunc, inZone, waste := armTrend(arm, final)
		rows = append(rows,
			withSE(arm, "pass@1", pass, 0.021, n, "t"),
			withSE(arm, "pass@4", math.Min(0.99, pass+0.3+0.02*float64(len(arm)%3)), 0.018, n, "t"),
			withSE(arm, "truncation", trunc, 0.012, n*synthSamples, "wilson"),
		)
		if arm == "base" {
			continue
		}
		rows = append(rows,
			withSE(arm, "waste", waste, 0.015, synthSteps, "t"),
			withSE(arm, "zero_std_share", waste*0.9, 0.014, synthSteps, "t"),
			withSE(arm, "in_zone_fraction", inZone, 0.004, synthSteps, "t"),
		)
		if arm == "market" {
			rows = append(rows, withSE(arm, "late_share", 0.08, 0.01, synthSteps, "t"),
				withSE(arm, "duplicate_share", 0.03, 0.005, synthSteps, "t"))
		}
		for st := synthEvery; st <= synthSteps; st += synthEvery {
			p, tr, _, _ := armTrend(arm, st)
			for i, seed := range synthSeeds {
				s := withSE(arm, "pass@1", p+0.01*float64(2*i-1), 0.03, synthProblems, "t")
				s.Seed, s.Step = u64p(seed), i32p(int32(st))
				rows = append(rows, s)
			}
			agg := withSE(arm, "pass@1", p, 0.02, n, "t")
			agg.Step = i32p(int32(st))
			tagg := withSE(arm, "truncation", tr, 0.012, n*synthSamples, "wilson")
			tagg.Step = i32p(int32(st))
			rows = append(rows, agg, tagg)
		}
	}
	paired := func(a, b, metric string, d, se, p float64) Summary {
		return Summary{Arm: a, Compare: b, Metric: metric, Value: d, StdErr: se, CILow: d - 1.96*se, CIHigh: d + 1.96*se,
			Method: "t", P: p, BootLow: d - 1.9*se, BootHigh: d + 2.0*se, ShareGreater: 0.5 + math.Copysign(0.49, d), N: n}
	}
	rows = append(rows,
		paired("market", "uniform", "pass@1", 0.14, 0.05, 0.0091),
		paired("market", "uniform", "pass@4", 0.0, 0.04, 1),
		paired("market", "uniform", "truncation", -0.107, 0.021, 0.00004),
		paired("market", "base", "pass@1", 0.28, 0.05, 0.00001),
	)
	return rows
}

var synthSelectors = []struct{ name, kind string }{
	{"filter", "filter"}, {"random", "market"}, {"learned", "market"}, {"oracle", "market"},
}

func syntheticSweep() []SweepPoint {
	var rows []SweepPoint
	for t := 1; t <= 15; t += 2 {
		target := float64(t) / 100
		achieved := target + 0.0004*float64(t%3-1)
		for si, sel := range synthSelectors {
			quality := []float64{0, 0.15, 0.45, 0.7}[si]
			var sum float64
			for _, seed := range synthSeeds {
				r := synthRand(seed, uint64(t), uint64(si))
				w := 1 - achieved
				if sel.kind == "market" {
					w = (1 - achieved) * (1 - quality) * (1 + 0.05*r.NormFloat64())
				}
				sum += w
				rows = append(rows, sweepRow(target, achieved, sel.name, sel.kind, u64p(seed), w, math.NaN(), math.NaN(), math.NaN()))
			}
			mean := sum / float64(len(synthSeeds))
			rows = append(rows, sweepRow(target, achieved, sel.name, sel.kind, nil, mean, 0.02, mean-0.04, math.Min(1, mean+0.04)))
		}
	}
	return rows
}

func sweepRow(target, achieved float64, sel, kind string, seed *uint64, waste, se, lo, hi float64) SweepPoint {
	p := SweepPoint{Target: target, Achieved: achieved, Selector: sel, Kind: kind, Seed: seed, Windows: 40,
		Waste: waste, WasteStdErr: se, WasteCILow: lo, WasteCIHigh: hi, HitRate: 1 - waste, UsefulPer1000: 1000 * (1 - waste),
		WasteCarried: waste, WasteCarriedCILow: lo, WasteCarriedCIHigh: hi,
		LateShare: math.NaN(), DuplicateShare: math.NaN(), InFlightShare: math.NaN(),
		Multiplier: math.NaN(), MultiplierLow: math.NaN(), MultiplierHigh: math.NaN(),
		MultiplierCarried: math.NaN(), MultiplierCarriedLow: math.NaN(), MultiplierCarriedHigh: math.NaN(),
		GeneratedGroups: int64(320 / (1 - waste + 1e-9)), UsefulGroups: 320}
	if kind == "market" {
		p.LateShare, p.DuplicateShare, p.InFlightShare = 0.6*waste, 0.1*waste, 0.2*waste
		p.Multiplier = (1 - waste) / achieved
		// Carrying in-flight work over saves a fifth of the waste.
		p.WasteCarried, p.WasteCarriedCILow, p.WasteCarriedCIHigh = 0.8*waste, 0.8*lo, 0.8*hi
		p.MultiplierCarried = (1 - p.WasteCarried) / achieved
		if seed == nil {
			p.MultiplierLow, p.MultiplierHigh = p.Multiplier*0.9, p.Multiplier*1.1
			p.MultiplierCarriedLow, p.MultiplierCarriedHigh = p.MultiplierCarried*0.9, p.MultiplierCarried*1.1
		}
	}
	return p
}

// syntheticSpecs are the resolved specs the synthetic manifests record:
// enough for the page's question and the order of its comparisons.
var syntheticSpecs = map[string]string{
	"paired": "name: paired\ndescription: |\n  Does the market beat uniform sampling, and the untrained base, on pass@1?\n" +
		"seed: 1\ncompare:\n  - - market\n    - uniform\n  - - market\n    - base\n",
	"zone-sweep": "name: zone-sweep\ndescription: |\n  How much does a market waste against the filter as the zone narrows?\nseed: 1\n",
}

func syntheticManifest(name string, arms []string, seeds []uint64) *Manifest {
	return &Manifest{
		Experiment: name, SpecHash: syntheticSpecHash,
		Spec:      syntheticSpecs[name],
		Relix:     BuildInfo{Version: "v0.0.0-test", Commit: "0123456789abcdef0123456789abcdef01234567"},
		GoVersion: "go1.24.0",
		Runner:    Component{Name: "sim", Version: "v0.0.0-test"},
		Datasets: []Dataset{
			{Name: "train", Source: "generated:4000:11", Problems: 4000, SHA256: "aa11"},
			{Name: "heldout", Source: "generated:500:12", Problems: 500, SHA256: "bb22"},
		},
		Arms: arms, Seeds: seeds,
		Start: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC),
		End:   time.Date(2025, 1, 2, 3, 5, 6, 0, time.UTC),
	}
}
