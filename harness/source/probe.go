package source

import (
	"context"
	"fmt"
	"math"
	"sync"

	"github.com/relix-lab/relix/eval"
	"github.com/relix-lab/relix/experiment/seed"
	"github.com/relix-lab/relix/runners"
)

// DefaultProbeSize is the probe of a uniform arm, which has no market block
// to name one.
const DefaultProbeSize = 256

// Probe measures the in-zone fraction of the training pool at a checkpoint
// on a fixed sample of its prompts. The sample is the first size prompts of
// a permutation of the pool drawn from seed.Stream(run seed, "probe") — no
// arm in the labels, so every arm of a run measures the same prompts, and a
// smaller probe is a prefix of a larger one. It is shared so that the
// in-zone fraction of every arm is measured the same way and can be compared
// across arms.
type Probe struct {
	cfg     *Config
	zone    eval.Zone
	prompts []runners.Prompt
	oracle  runners.Oracle

	mu    sync.Mutex
	cache map[string]probeResult // by checkpoint; a measurement is a pure function of it
	order []string
}

type probeResult struct {
	fraction float64
	method   string
}

// NewProbe samples the probe of size prompts (at most the pool) for a
// source made with cfg, after cfg.Check; z is the gate at cfg's G and σ_min.
func NewProbe(cfg *Config, size int, z eval.Zone) *Probe {
	size = min(size, cfg.Pool.Len())
	perm := seed.Stream(cfg.Seed, "probe").Perm(cfg.Pool.Len())
	p := &Probe{cfg: cfg, zone: z, prompts: make([]runners.Prompt, size), cache: map[string]probeResult{}}
	for i := range p.prompts {
		pr := &cfg.Pool.Problems[perm[i]]
		p.prompts[i] = runners.Prompt{ID: pr.ID, Text: pr.Statement}
	}
	p.oracle, _ = cfg.Runner.(runners.Oracle)
	return p
}

// InZoneNotMeasured is the method of a step whose in-zone fraction was not
// measured (train.probe_every); the fraction is NaN.
const InZoneNotMeasured = "not measured"

// Measure records in a the in-zone fraction at checkpoint and how it was
// measured (InZoneNotMeasured, and NaN, on the steps train.probe_every
// skips), and the probe's size.
func (p *Probe) Measure(ctx context.Context, step int, checkpoint string, a *Account) error {
	var err error
	if a.InZoneFraction, a.InZoneMethod, err = p.inZoneAt(ctx, step, checkpoint); err != nil {
		return err
	}
	a.ProbeSize = len(p.prompts)
	return nil
}

// inZoneAt is inZone on the steps train.probe_every asks for, and NaN on
// the others.
func (p *Probe) inZoneAt(ctx context.Context, step int, checkpoint string) (float64, string, error) {
	if every := p.cfg.Train.ProbeEvery; every <= 0 || step%every != 0 {
		return math.NaN(), InZoneNotMeasured, nil
	}
	return p.inZone(ctx, checkpoint)
}

// inZone returns the in-zone fraction at checkpoint and how it was measured.
func (p *Probe) inZone(ctx context.Context, checkpoint string) (float64, string, error) {
	p.mu.Lock()
	r, ok := p.cache[checkpoint]
	p.mu.Unlock()
	if ok {
		return r.fraction, r.method, nil
	}
	var err error
	if p.oracle != nil {
		r, err = p.exact(ctx, checkpoint)
	} else {
		r, err = p.sampled(ctx, checkpoint)
	}
	if err != nil {
		return 0, "", fmt.Errorf("measuring the in-zone fraction at %s: %w", checkpoint, err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cache[checkpoint] = r
	p.order = append(p.order, checkpoint)
	if len(p.order) > 4 {
		delete(p.cache, p.order[0])
		p.order = p.order[1:]
	}
	return r.fraction, r.method, nil
}

// exact averages each probe prompt's chance of passing the gate, from its
// true success probability under the training sampling and reward.
func (p *Probe) exact(ctx context.Context, checkpoint string) (probeResult, error) {
	// One batched call: over a worker's pipe, one request for the probe
	// instead of one per prompt.
	qs, err := runners.SuccessProbabilities(ctx, p.oracle, checkpoint, p.prompts, Sampling(p.cfg.Train, 0), p.cfg.Train.Reward.Truncated)
	if err != nil {
		return probeResult{}, err
	}
	var sum float64
	for _, q := range qs {
		sum += p.zone.Chance(q)
	}
	return probeResult{fraction: sum / float64(len(p.prompts)), method: InZoneOracle}, nil
}

// sampled generates one group per probe prompt, seeded by the checkpoint
// alone, and counts the groups that pass the gate.
func (p *Probe) sampled(ctx context.Context, checkpoint string) (probeResult, error) {
	s := Sampling(p.cfg.Train, seed.Derive(p.cfg.Seed, "probe", checkpoint))
	g := p.cfg.Train.GroupSize
	comps, err := p.cfg.Runner.Generate(ctx, checkpoint, p.prompts, g, s)
	if err != nil {
		return probeResult{}, err
	}
	if len(comps) != len(p.prompts) {
		return probeResult{}, fmt.Errorf("runner returned completions for %d prompts, want %d", len(comps), len(p.prompts))
	}
	in := 0
	rewards := make([]float64, g)
	for i, pr := range p.prompts {
		if len(comps[i]) != g {
			return probeResult{}, fmt.Errorf("runner returned %d completions of %s, want %d", len(comps[i]), pr.ID, g)
		}
		prob, _ := p.cfg.Pool.Lookup(pr.ID)
		for j, c := range comps[i] {
			rewards[j] = p.cfg.Reward(&prob, c)
		}
		if eval.InZone(rewards, p.cfg.Train.SigmaMin) {
			in++
		}
	}
	return probeResult{fraction: float64(in) / float64(len(p.prompts)), method: InZoneSampled}, nil
}
