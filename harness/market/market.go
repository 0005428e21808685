// Package market is relix's market rollout source: every training step is a
// window that K miners fill. Miners pick prompts with their own estimators,
// generate with the last published checkpoint and submit; a validator
// verifies each submission (window, checkpoint, dataset, cooldown, rewards,
// σ gate, GRAIL-style proof, distinctness) and accepts the first N valid,
// distinct groups.
//
// The files follow a window's life: market.go makes the source and its
// miners; window.go is what every mechanism shares about a window (its
// opening, how a miner picks a prompt and generates a group); race.go is the
// mechanism that decides which groups a window admits, the first-N race in
// virtual time (another mechanism would embed window the same way, beside
// it); validate.go and forge.go are the validator's checks and the
// adversaries they catch; settle.go turns a closed window into its batch and
// account and teaches the estimators (estimator.go). proof/ is the
// GRAIL-style proof. README.md documents all of it.
package market

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/relix-lab/relix/eval"
	"github.com/relix-lab/relix/experiment/spec"
	"github.com/relix-lab/relix/harness/source"
	"github.com/relix-lab/relix/runners"
)

// MaxWindowRounds bounds a market window that cannot fill: once its miners
// have started MaxWindowRounds·N groups no new group starts, the window
// waits for the submissions under way and then closes with fewer than N
// groups (Account.Capped); the step trains on what was accepted.
const MaxWindowRounds = 1000

// Source is the market source: every step is a window that its miners race
// to fill (race.go). A window runs standalone with Window, without a
// trainer: the zone sweep runs windows at a fixed checkpoint.
type Source struct {
	cfg    source.Config
	mk     spec.Market
	zone   eval.Zone
	cool   *source.Cooldown
	index  map[string]int
	probe  *source.Probe
	feats  *features
	oracle runners.Oracle
	miners []*miner
	upper  bool
}

// miner is one market participant.
type miner struct {
	index int
	name  string
	spec  spec.MinerGroup
	est   estimator // nil for a copycat, which copies instead of picking
}

// Miner behaviours.
const (
	Honest  = "honest"
	Stale   = "stale"   // generates with the base checkpoint while declaring the published one: caught by the proof
	Forger  = "forger"  // claims rewards it did not earn (caught by the rewards check) or edits tokens after committing (caught by the proof)
	Copycat = "copycat" // regenerates prompts the validator just accepted: caught as a duplicate
)

var _ source.Source = (*Source)(nil)

// New makes a market source. An oracle estimator needs a runner that
// implements runners.Oracle.
func New(cfg source.Config) (*Source, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	a := cfg.Arm
	if a.Source != "market" {
		return nil, fmt.Errorf("source: arm %q has source %q, not market", a.Name, a.Source)
	}
	if a.Market == nil || len(a.Market.Miners) == 0 {
		return nil, fmt.Errorf("source: market arm %q has no miners", a.Name)
	}
	m := &Source{cfg: cfg, mk: *a.Market, zone: eval.NewZone(cfg.Train.GroupSize, cfg.Train.SigmaMin),
		cool: source.NewCooldown(cfg.Train.Cooldown), index: source.PoolIndex(cfg.Pool), feats: newFeatures(cfg.Pool)}
	m.oracle, _ = cfg.Runner.(runners.Oracle)
	switch {
	case m.mk.Candidates < 1:
		return nil, fmt.Errorf("source: arm %q: market.candidates is %d; want at least 1", a.Name, m.mk.Candidates)
	case m.mk.ProbeSize < 1:
		return nil, fmt.Errorf("source: arm %q: market.probe_size is %d; want at least 1", a.Name, m.mk.ProbeSize)
	case !(m.mk.ProofBase >= 0):
		return nil, fmt.Errorf("source: arm %q: market.proof_base is %g; want ≥ 0", a.Name, m.mk.ProofBase)
	}
	total := 0
	for _, g := range m.mk.Miners {
		total += g.Count
	}
	width := len(fmt.Sprint(max(total-1, 1)))
	honest := 0
	for gi, g := range m.mk.Miners {
		path := fmt.Sprintf("arm %q: market.miners[%d]", a.Name, gi)
		switch {
		case g.Count < 1:
			return nil, fmt.Errorf("source: %s: count is %d; want at least 1", path, g.Count)
		case !(g.Throughput > 0):
			return nil, fmt.Errorf("source: %s: throughput is %g; want > 0 tokens per second", path, g.Throughput)
		case !(g.Latency >= 0):
			return nil, fmt.Errorf("source: %s: latency is %g; want ≥ 0", path, g.Latency)
		case !(g.Estimator.Explore >= 0 && g.Estimator.Explore <= 1):
			return nil, fmt.Errorf("source: %s: estimator.explore is %g; want 0 ≤ explore ≤ 1", path, g.Estimator.Explore)
		}
		switch g.Behaviour {
		case Honest:
			honest += g.Count
		case Stale, Forger, Copycat:
		default:
			return nil, fmt.Errorf("source: %s: behaviour %q; want honest, stale, forger or copycat", path, g.Behaviour)
		}
		if g.Estimator.Kind == "oracle" && g.Behaviour != Copycat {
			if m.oracle == nil {
				return nil, fmt.Errorf("source: %s: the oracle estimator needs a runner that knows true success probabilities (runners.Oracle, as the sim does); runner %T does not", path, cfg.Runner)
			}
			m.upper = true
		}
		for range g.Count {
			mn := &miner{index: len(m.miners), spec: g}
			mn.name = fmt.Sprintf("%s-%0*d", g.Behaviour, width, mn.index)
			if g.Behaviour != Copycat {
				est, err := newEstimator(g.Estimator, m.feats, cfg.Train.GroupSize)
				if err != nil {
					return nil, fmt.Errorf("source: %s: %w", path, err)
				}
				mn.est = est
			}
			m.miners = append(m.miners, mn)
		}
	}
	if honest == 0 {
		return nil, fmt.Errorf("source: market arm %q has no honest miner: no window could ever fill", a.Name)
	}
	m.probe = source.NewProbe(&m.cfg, m.mk.ProbeSize, m.zone)
	return m, nil
}

// Next runs the step's window with the published checkpoint; the trainer's
// current checkpoint plays no part in a market.
func (m *Source) Next(ctx context.Context, step int, _, published string) (*source.Batch, error) {
	return m.Window(ctx, step, published)
}

// Window runs window step: the miners race with checkpoint published until
// the validator has accepted N groups (or the cap), then every estimator
// learns from what its miner saw, the accepted prompts start their
// cooldown, and the batch is returned.
func (m *Source) Window(ctx context.Context, step int, published string) (*source.Batch, error) {
	_, b, err := m.window(ctx, step, published)
	return b, err
}

// window is Window, also returning the race for tests to inspect.
func (m *Source) window(ctx context.Context, step int, published string) (*race, *source.Batch, error) {
	r, err := m.openRace(step, published)
	if err != nil {
		return nil, nil, err
	}
	if err := r.run(ctx); err != nil {
		return nil, nil, err
	}
	b := r.batch()
	if err := m.probe.Measure(ctx, step, published, &b.Account); err != nil {
		return nil, nil, err
	}
	r.teach()
	for _, a := range r.accepted {
		m.cool.Use(a.prompt, step)
	}
	return r, b, nil
}

// stateVersion changes whenever marketState does, so that a run resumed by
// another build refuses a state it would misread.
const stateVersion = 1

// marketState is the market source's State.
type marketState struct {
	Version  int                    `json:"version"`
	Source   string                 `json:"source"`
	Arm      string                 `json:"arm"`
	Cooldown []source.CooldownEntry `json:"cooldown"`
	Miners   []minerState           `json:"miners"`
}

type minerState struct {
	Name      string          `json:"name"`
	Estimator *estimatorState `json:"estimator,omitempty"`
}

// State returns the cooldowns and every miner's estimator.
func (m *Source) State() ([]byte, error) {
	st := marketState{Version: stateVersion, Source: "market", Arm: m.cfg.Arm.Name, Cooldown: m.cool.State(m.cfg.Pool)}
	for _, mn := range m.miners {
		ms := minerState{Name: mn.name}
		if mn.est != nil {
			e := mn.est.save(m.cfg.Pool)
			ms.Estimator = &e
		}
		st.Miners = append(st.Miners, ms)
	}
	return json.Marshal(st)
}

// Restore loads a State made by a market of the same arm.
func (m *Source) Restore(b []byte) error {
	var st marketState
	if err := json.Unmarshal(b, &st); err != nil {
		return fmt.Errorf("source state: %w", err)
	}
	if st.Version != stateVersion || st.Source != "market" || st.Arm != m.cfg.Arm.Name {
		return fmt.Errorf("source state: version %d of a %s source of arm %q; want version %d of a market source of arm %q",
			st.Version, st.Source, st.Arm, stateVersion, m.cfg.Arm.Name)
	}
	if len(st.Miners) != len(m.miners) {
		return fmt.Errorf("source state: %d miners; the market has %d", len(st.Miners), len(m.miners))
	}
	for i, ms := range st.Miners {
		mn := m.miners[i]
		if ms.Name != mn.name || (ms.Estimator == nil) != (mn.est == nil) {
			return fmt.Errorf("source state: miner %d is %q; the market's is %q", i, ms.Name, mn.name)
		}
		if mn.est == nil {
			continue
		}
		if ms.Estimator.Kind != mn.est.kind() {
			return fmt.Errorf("source state: miner %s has a %s estimator; the market's has %s", mn.name, ms.Estimator.Kind, mn.est.kind())
		}
		if err := mn.est.load(*ms.Estimator, m.index); err != nil {
			return fmt.Errorf("source state: miner %s: %w", mn.name, err)
		}
	}
	return m.cool.Restore(m.cfg.Pool, m.index, st.Cooldown)
}

// UpperBound reports whether a miner uses the oracle estimator.
func (m *Source) UpperBound() bool { return m.upper }

// Miners lists the miners' names, in order.
func (m *Source) Miners() []string {
	names := make([]string, len(m.miners))
	for i, mn := range m.miners {
		names[i] = mn.name
	}
	return names
}

var errReplay = errors.New("the runner's Generate is not reproducible")
