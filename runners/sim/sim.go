// Package sim is relix's embedded default runner: a GRPO policy simulator in
// pure Go, deterministic and fast enough to run the whole paired experiment
// on a laptop CPU. It is faithful to the mechanism that makes prompt
// selection matter — group-relative advantages vanish on groups whose
// rewards do not vary — and bakes in no result: nothing in it knows which
// arm it serves. README.md holds the model's equations and constants.
package sim

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"

	"github.com/relix-lab/relix/experiment/seed"
	"github.com/relix-lab/relix/experiment/spec"
	"github.com/relix-lab/relix/runners"
)

// Kind is the spec's runner.kind of this runner.
const Kind = "sim"

// version names the model; it is hashed into every checkpoint id, so ids
// of a changed model never collide with old ones.
const version = "relix-sim/1"

// versionSecond names the second model: the first with any of its
// mechanisms (reach, termination, sharpen) on.
const versionSecond = "relix-sim/2"

// Backend makes the sim from a spec's runner block: the sim's
// runners.Factory.
func Backend(_ context.Context, cfg spec.Runner, opts runners.Options) (runners.Runner, error) {
	return New(cfg.Sim, opts)
}

// config is the immutable part of a runner: the policy's constants and the
// problems' latents.
type config struct {
	policy   spec.SimPolicy
	problems map[string]*problem
	// world is a hash of the constants, mixed into every checkpoint id.
	world [32]byte
}

// checkpoint is one state of the policy: its parameters, as offsets from the
// base policy, and the AdamW state that produced them.
type checkpoint struct {
	id    string
	delta []float64 // ψ − ψ_base
	m, v  []float64 // AdamW first and second moments
	t     int       // AdamW steps taken
	psi   params    // ψ_base + delta, cached
	// hidden seeds Hidden: a hash of the policy (constants and ψ) alone.
	hidden uint64
}

// Runner is the sim runner. It is safe for concurrent use.
type Runner struct {
	cfg  *config
	base *checkpoint

	mu          sync.RWMutex
	checkpoints map[string]*checkpoint
}

var _ runners.Runner = (*Runner)(nil)

// New makes a sim runner for the problems of opts.Problems with the base
// policy of p.
func New(p spec.SimPolicy, opts runners.Options) (*Runner, error) {
	if err := checkPolicy(p); err != nil {
		return nil, err
	}
	cfg := &config{policy: p, problems: map[string]*problem{}}
	cfg.world = worldHash(p)
	for _, set := range opts.Problems {
		for _, pr := range set.Problems {
			if _, dup := cfg.problems[pr.ID]; dup {
				continue // the same problem in two sets has the same latents
			}
			cfg.problems[pr.ID] = newProblem(pr, p)
		}
	}
	n := cfg.numParams()
	r := &Runner{cfg: cfg, checkpoints: map[string]*checkpoint{}}
	r.base = r.register(make([]float64, n), make([]float64, n), make([]float64, n), 0)
	return r, nil
}

func checkPolicy(p spec.SimPolicy) error {
	switch {
	case p.Skills < 1:
		return fmt.Errorf("sim: runner.sim.skills is %d; want at least 1", p.Skills)
	case !(p.LengthSD > 0):
		return fmt.Errorf("sim: runner.sim.length_sd is %g; want > 0", p.LengthSD)
	case !(p.TokensPerStep > 0):
		return fmt.Errorf("sim: runner.sim.tokens_per_step is %g; want > 0", p.TokensPerStep)
	case p.NoiseChoices < 0:
		return fmt.Errorf("sim: runner.sim.noise_choices is %d; want ≥ 0", p.NoiseChoices)
	case !(p.LRScale > 0):
		return fmt.Errorf("sim: runner.sim.lr_scale is %g; want > 0", p.LRScale)
	}
	return nil
}

// worldHash hashes the model version and the base policy's constants.
func worldHash(p spec.SimPolicy) [32]byte {
	h := sha256.New()
	second := p.SecondModel()
	if second {
		h.Write([]byte(versionSecond))
	} else {
		h.Write([]byte(version))
	}
	var b [8]byte
	for _, n := range []int{p.Skills, p.NoiseChoices} {
		binary.LittleEndian.PutUint64(b[:], uint64(n))
		h.Write(b[:])
	}
	for _, x := range []float64{p.Ability, p.DifficultyScale, p.DifficultyShift, p.HiddenSD, p.Verbosity,
		p.LengthSD, p.TokensPerStep, p.Stop, p.LRScale} {
		binary.LittleEndian.PutUint64(b[:], math.Float64bits(x))
		h.Write(b[:])
	}
	if second {
		// Which mechanisms are on, then their constants (NaN marks an
		// absent one, so no two settings hash alike).
		var xs []float64
		if r := p.Reach; r != nil {
			xs = append(xs, r.StepSD)
		} else {
			xs = append(xs, math.NaN())
		}
		if t := p.Termination; t != nil {
			xs = append(xs, t.Loop, t.LoopWrong, t.LoopDifficulty, t.StopWrong)
		} else {
			xs = append(xs, math.NaN())
		}
		xs = append(xs, b2f(p.Sharpen), p.LevelDifficulty)
		for _, x := range xs {
			binary.LittleEndian.PutUint64(b[:], math.Float64bits(x))
			h.Write(b[:])
		}
	}
	var sum [32]byte
	h.Sum(sum[:0])
	return sum
}

// baseParams is ψ_base = (ability, …, ability, verbosity, stop).
func (c *config) baseParams() params {
	psi := make(params, c.numParams())
	for k := 0; k < c.policy.Skills; k++ {
		psi[k] = c.policy.Ability
	}
	psi[c.lambdaIndex()] = c.policy.Verbosity
	psi[c.etaIndex()] = c.policy.Stop
	if i := c.rhoIndex(); i >= 0 {
		psi[i] = c.policy.Termination.Loop
	}
	return psi // the sharpness κ starts at 0: β = 1
}

// register makes the checkpoint of a state, or returns the one already
// held with that id.
func (r *Runner) register(delta, m, v []float64, t int) *checkpoint {
	id, hidden := r.cfg.identify(delta, m, v, t)
	r.mu.Lock()
	defer r.mu.Unlock()
	if ck, ok := r.checkpoints[id]; ok {
		return ck
	}
	psi := r.cfg.baseParams()
	for i := range psi {
		psi[i] += delta[i]
	}
	ck := &checkpoint{id: id, delta: delta, m: m, v: v, t: t, psi: psi, hidden: hidden}
	r.checkpoints[id] = ck
	return ck
}

// identify returns a state's checkpoint id — "sim-" and 16 hex digits of
// the SHA-256 of the constants, ψ − ψ_base and the AdamW state — and the
// seed of its hidden states, a hash of the constants and ψ − ψ_base alone.
func (c *config) identify(delta, m, v []float64, t int) (string, uint64) {
	h := sha256.New()
	h.Write(c.world[:])
	var b [8]byte
	put := func(xs []float64) {
		for _, x := range xs {
			binary.LittleEndian.PutUint64(b[:], math.Float64bits(x))
			h.Write(b[:])
		}
	}
	put(delta)
	var policy [32]byte
	h.Sum(policy[:0])
	put(m)
	put(v)
	binary.LittleEndian.PutUint64(b[:], uint64(t))
	h.Write(b[:])
	var sum [32]byte
	h.Sum(sum[:0])
	return "sim-" + hex.EncodeToString(sum[:8]), binary.LittleEndian.Uint64(policy[:8])
}

func (r *Runner) checkpoint(id string) (*checkpoint, error) {
	r.mu.RLock()
	ck, ok := r.checkpoints[id]
	r.mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("sim: checkpoint %q: %w", id, runners.ErrUnknownCheckpoint)
	}
	return ck, nil
}

func (r *Runner) problem(p runners.Prompt) (*problem, error) {
	pr, ok := r.cfg.problems[p.ID]
	if !ok {
		return nil, fmt.Errorf("sim: prompt %q is not in the runner's problem sets", p.ID)
	}
	return pr, nil
}

// Base returns the id of the untrained policy.
func (r *Runner) Base() string { return r.base.id }

// Close does nothing: the sim holds no outside resources.
func (r *Runner) Close() error { return nil }

// Generate samples n completions of each prompt with checkpoint. Completion
// j of prompt p draws from its own stream, seeded by
// seed.Derive(s.Seed, "sim/completion", p.ID) and j, so it does not depend
// on the call's other prompts or on call order.
func (r *Runner) Generate(ctx context.Context, ckID string, prompts []runners.Prompt, n int, s runners.Sampling) ([][]runners.Completion, error) {
	ck, err := r.checkpoint(ckID)
	if err != nil {
		return nil, err
	}
	if err := checkSampling(s, n); err != nil {
		return nil, err
	}
	out := make([][]runners.Completion, len(prompts))
	var ids []tokenJob
	for i, p := range prompts {
		if i%64 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		pr, err := r.problem(p)
		if err != nil {
			return nil, err
		}
		out[i] = make([]runners.Completion, n)
		promptSeed := seed.Derive(s.Seed, "sim/completion", p.ID)
		at := r.cfg.at(ck.psi, pr, s.Temperature)
		for j := range out[i] {
			var tokenSeed uint64
			out[i][j], tokenSeed = r.cfg.complete(&at, pr, s, promptSeed, j)
			if s.Tokens {
				ids = append(ids, tokenJob{&out[i][j], tokenSeed})
			}
		}
	}
	writeTokenIDs(ids)
	return out, nil
}

// tokenJob is a completion whose token ids are asked for, and their seed.
type tokenJob struct {
	comp *runners.Completion
	seed uint64
}

// writeTokenIDs fills in the jobs' token ids. They are the bulk of a call
// that asks for them (a market proof replays a group of up to 8 × 8,192
// tokens, and waits for it), and each completion's depend on its own seed
// alone, so a large call spreads them over the cores.
func writeTokenIDs(jobs []tokenJob) {
	total := 0
	for _, j := range jobs {
		total += j.comp.NumTokens
	}
	workers := min(runtime.GOMAXPROCS(0), len(jobs), total/minTokensPerWorker)
	if workers <= 1 {
		for _, j := range jobs {
			j.comp.Tokens = tokenIDs(j.seed, j.comp.NumTokens)
		}
		return
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := w; k < len(jobs); k += workers {
				jobs[k].comp.Tokens = tokenIDs(jobs[k].seed, jobs[k].comp.NumTokens)
			}
		}()
	}
	wg.Wait()
}

// minTokensPerWorker is the work below which another goroutine costs more
// than it saves (about 20 µs of ids).
const minTokensPerWorker = 8192

func checkSampling(s runners.Sampling, n int) error {
	switch {
	case n < 1:
		return fmt.Errorf("sim: %d completions per prompt; want at least 1", n)
	case !(s.Temperature > 0) || math.IsInf(s.Temperature, 0):
		return fmt.Errorf("sim: temperature %g; want > 0 (greedy decoding is not modelled)", s.Temperature)
	case s.MaxTokens < 1:
		return fmt.Errorf("sim: max_tokens %d; want at least 1", s.MaxTokens)
	}
	return nil
}

// complete samples completion j of a prompt from at, the policy on it at
// the sampling's temperature, and returns the seed of its token ids
// (Generate writes them when asked for).
func (c *config) complete(at *policyAt, pr *problem, s runners.Sampling, promptSeed uint64, j int) (runners.Completion, uint64) {
	var src rand.PCG
	src.Seed(promptSeed, uint64(j))
	rng := rand.New(&src)
	ch, wrong, tokenSeed := c.sample(at, s.Temperature, s.MaxTokens, rng)
	numTokens, truncated := ch.outcome()
	comp := runners.Completion{
		Text:      completionText(pr, ch, wrong, truncated),
		NumTokens: numTokens,
		Finish:    runners.FinishStop,
		Trace:     c.trace(ch),
	}
	if truncated {
		comp.Finish = runners.FinishLength
	}
	return comp, tokenSeed
}

// errBadTrace is returned when a completion's trace is not one this runner
// wrote for it.
var errBadTrace = errors.New("trace is not a sim trace matching the completion")
