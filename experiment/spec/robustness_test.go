package spec

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRobustnessVariants pins experiments/robustness/: each variant is
// paired.yaml with exactly one uncalibrated constant moved and nothing else
// changed, so a difference in its results is that constant's. The miners
// variants repeat the arms (an include replaces a list whole), and a drift
// of those copies from paired.yaml fails here.
func TestRobustnessVariants(t *testing.T) {
	t.Parallel()
	miners := func(n int) func(s *Spec) {
		return func(s *Spec) {
			for i := range s.Arms {
				if m := s.Arms[i].Market; m != nil {
					for j := range m.Miners {
						m.Miners[j].Count = n
					}
				}
			}
		}
	}
	moved := map[string]func(s *Spec){
		"default":              func(*Spec) {},
		"noise-16":             func(s *Spec) { s.Runner.Sim.NoiseChoices = 16 },
		"noise-64":             func(s *Spec) { s.Runner.Sim.NoiseChoices = 64 },
		"lr-1000":              func(s *Spec) { s.Runner.Sim.LRScale = 1000 },
		"lr-4000":              func(s *Spec) { s.Runner.Sim.LRScale = 4000 },
		"skills-4":             func(s *Spec) { s.Runner.Sim.Skills = 4 },
		"skills-16":            func(s *Spec) { s.Runner.Sim.Skills = 16 },
		"step-sd-0.25":         func(s *Spec) { s.Runner.Sim.Reach.StepSD = 0.25 },
		"step-sd-1":            func(s *Spec) { s.Runner.Sim.Reach.StepSD = 1 },
		"loop-wrong-1":         func(s *Spec) { s.Runner.Sim.Termination.LoopWrong = 1 },
		"loop-wrong-3":         func(s *Spec) { s.Runner.Sim.Termination.LoopWrong = 3 },
		"loop-difficulty-0.15": func(s *Spec) { s.Runner.Sim.Termination.LoopDifficulty = 0.15 },
		"loop-difficulty-0.6":  func(s *Spec) { s.Runner.Sim.Termination.LoopDifficulty = 0.6 },
		"stop-wrong-0.5":       func(s *Spec) { s.Runner.Sim.Termination.StopWrong = 0.5 },
		"stop-wrong-2":         func(s *Spec) { s.Runner.Sim.Termination.StopWrong = 2 },
		"pool-2400":            func(s *Spec) { s.Dataset.Train.Generated.Size = 2400 },
		"pool-8000":            func(s *Spec) { s.Dataset.Train.Generated.Size = 8000 },
		"cooldown-50":          func(s *Spec) { s.Train.Cooldown = 50 },
		"cooldown-150":         func(s *Spec) { s.Train.Cooldown = 150 },
		"miners-4":             miners(4),
		"miners-16":            miners(16),
		"budget-market-1000":   func(s *Spec) { s.Arms[3].Market.MaxRounds = 1000 },
		"budget-1000":          func(s *Spec) { s.Arms[2].MaxGenRounds, s.Arms[3].Market.MaxRounds = 1000, 1000 },
		"auction-deadline-75":  func(s *Spec) { s.Arms[4].Market.Auction.Deadline = 75 },
		"auction-deadline-300": func(s *Spec) { s.Arms[4].Market.Auction.Deadline = 300 },
		"auction-carry":        func(s *Spec) { s.Arms[4].Market.Auction.Carry = true },
		"auction-carry-300": func(s *Spec) {
			s.Arms[4].Market.Auction.Carry, s.Arms[4].Market.Auction.Deadline = true, 300
		},
	}
	checkVariants(t, "robustness", moved)
}

// The smallest pool of the band is the smallest paired.yaml's schedule
// allows (each prompt at most once, 8 a step for 300 steps): 2000 would be
// refused before any work.
func TestRobustnessSmallestPool(t *testing.T) {
	t.Parallel()
	s, err := Load("../../experiments/paired.yaml")
	require.NoError(t, err)
	assert.Equal(t, 2400, s.Train.PoolNeeded())
}
