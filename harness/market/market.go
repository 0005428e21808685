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
	"errors"
	"fmt"
	"math"

	"github.com/relix-lab/relix/eval"
	"github.com/relix-lab/relix/experiment/spec"
	"github.com/relix-lab/relix/harness/source"
	"github.com/relix-lab/relix/runners"
)

// MaxWindowRounds bounds a market window that cannot fill, unless the
// market block sets max_rounds: once its miners have started
// MaxWindowRounds·N groups no new group starts, the window waits for the
// submissions under way and then closes with fewer than N groups
// (Account.Capped); the step trains on what was accepted.
const MaxWindowRounds = spec.DefaultMarketRounds

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
	last   lesson // the last window's (Delta)

	// clearings are the auction's: the last market.auction.memory
	// windows' clearing values (the lowest winning value of a window whose
	// N slots all filled, 0 of one that did not; auction.go), oldest first.
	// A miner's chance of winning with a value is the share it reaches.
	clearings []float64
	// carry is what an auction with carry holds: the groups earlier
	// windows won while fewer than N had, all generated with carryCkpt.
	carry     []carried
	carryCkpt string

	oracleP oracleCache // trueProbability's
	ahead   *ahead      // the next step's window, raced ahead (Ahead)
	scores  scoreMemo   // the open window's (window.scoreCache)
}

// miner is one market participant.
type miner struct {
	index int
	name  string
	spec  spec.MinerGroup
	est   estimator // nil for a copycat, which copies instead of picking
	// operator is who runs the miner: its own index, but for a sybil the
	// index of its group's first miner, the lead identity of the one
	// operator behind every identity in the group. The auction counts
	// claims by operator.
	operator int
}

// Miner behaviours.
const (
	Honest  = "honest"
	Stale   = "stale"   // generates with the base checkpoint while declaring the published one: caught by the proof
	Forger  = "forger"  // claims rewards it did not earn (caught by the rewards check) or edits tokens after committing (caught by the proof)
	Copycat = "copycat" // regenerates prompts the validator just accepted: caught as a duplicate
	// The adversaries aimed at the auction (README.md, "Behaviours").
	Padder     = "padder"     // pads every completion to the token cap after committing, to win the throughput tie-break: caught by the proof
	Withholder = "withholder" // holds every group until just before the auction's deadline: late in a race, last in every tie of an auction
	Sybil      = "sybil"      // one operator's many identities, all on the prompt the lead picked: duplicate claims in an auction, arrival coverage in a race
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
	case m.mk.Auctioned() && m.mk.Auction == nil:
		return nil, fmt.Errorf("source: arm %q: market.kind auction without its auction block", a.Name)
	case m.mk.Auctioned() && !(m.mk.Auction.Deadline > 0 && m.mk.Auction.PerPrompt >= 1 && m.mk.Auction.SigmaMin >= 0 && m.mk.Auction.ProofBudget >= 0 && m.mk.Auction.Memory >= 1 && valueFuncs[m.mk.Auction.Value] != nil):
		return nil, fmt.Errorf("source: arm %q: market.auction %+v; want deadline > 0, per_prompt ≥ 1, sigma_min ≥ 0, proof_budget ≥ 0, memory ≥ 1, value difficulty or std", a.Name, *m.mk.Auction)
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
		case Stale, Forger, Copycat, Padder, Withholder, Sybil:
		default:
			return nil, fmt.Errorf("source: %s: behaviour %q; want honest, stale, forger, copycat, padder, withholder or sybil", path, g.Behaviour)
		}
		if g.Estimator.Kind == "oracle" && g.Behaviour != Copycat {
			if m.oracle == nil {
				return nil, fmt.Errorf("source: %s: the oracle estimator needs a runner that knows true success probabilities (runners.Oracle, as the sim does); runner %T does not", path, cfg.Runner)
			}
			m.upper = true
		}
		lead := len(m.miners)
		for range g.Count {
			mn := &miner{index: len(m.miners), spec: g, operator: len(m.miners)}
			if g.Behaviour == Sybil {
				mn.operator = lead
			}
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
	r, err := m.takeAhead(ctx, step, published)
	if err != nil {
		return nil, err
	}
	if r == nil {
		if r, err = m.race(ctx, step, published); err != nil {
			return nil, err
		}
	}
	return m.settle(ctx, r, step, published)
}

// mechanism is one window under the market's mechanism, run to its close:
// the race (race.go) or the auction (auction.go). Both embed window, whose
// batch and lesson settle either.
type mechanism interface {
	run(ctx context.Context) error
	batch() *source.Batch
	lesson() lesson
	shared() *window
}

// shared is the window a mechanism embeds.
func (w *window) shared() *window { return w }

var _ source.Ahead = (*Source)(nil)

// Ahead starts racing window step in the background, while the trainer
// evaluates and commits the step before: a race depends only on the
// source's state, which nothing changes between Next and the next Next,
// and on the published checkpoint. Next takes the race only if it was
// raced with the checkpoint it is given and succeeded, and races again
// otherwise, so that the batch is the same as if the race had not started
// early. Without it the trainer and the market took turns on one core.
func (m *Source) Ahead(ctx context.Context, step int, _, published string) {
	m.AheadOfStep(ctx, step, published)
}

var _ source.AheadOfStep = (*Source)(nil)

// AheadOfStep is Ahead: the trainer's checkpoint plays no part in a
// market, so a window can be raced while the trainer steps, whenever the
// step publishes nothing.
func (m *Source) AheadOfStep(ctx context.Context, step int, published string) {
	_ = m.Close()
	m.raceAhead(ctx, step, published)
}

// ahead is a window raced in the background (Ahead).
type ahead struct {
	step      int
	published string
	cancel    context.CancelFunc
	done      chan struct{}
	r         mechanism
	err       error
}

func (m *Source) raceAhead(ctx context.Context, step int, published string) {
	ctx, cancel := context.WithCancel(ctx)
	a := &ahead{step: step, published: published, cancel: cancel, done: make(chan struct{})}
	m.ahead = a
	go func() {
		defer close(a.done)
		a.r, a.err = m.race(ctx, step, published)
	}()
}

// takeAhead returns the window raced ahead if it is step's with published
// and succeeded, or nil. It waits for any race under way to end, so that
// no other touches the source's state.
func (m *Source) takeAhead(ctx context.Context, step int, published string) (mechanism, error) {
	a := m.ahead
	if a == nil {
		return nil, nil
	}
	m.ahead = nil
	if a.step != step || a.published != published {
		a.cancel()
	}
	select {
	case <-a.done:
	case <-ctx.Done():
		a.cancel()
		<-a.done
		return nil, ctx.Err()
	}
	a.cancel()
	if a.step != step || a.published != published || a.err != nil {
		// A race that failed is raced again: its error, if it recurs, is
		// reported as a race in turn would report it.
		return nil, nil
	}
	a.r.shared().ctx = ctx // the race's context ends with it (cancel above)
	return a.r, nil
}

// Close stops a window raced ahead and waits for it to end.
func (m *Source) Close() error {
	if a := m.ahead; a != nil {
		m.ahead = nil
		a.cancel()
		<-a.done
	}
	return nil
}

// Window runs window step: the miners race with checkpoint published until
// the validator has accepted N groups (or the cap), then every estimator
// learns from what its miner saw, the accepted prompts start their
// cooldown, and the batch is returned.
func (m *Source) Window(ctx context.Context, step int, published string) (*source.Batch, error) {
	_, b, err := m.windowOf(ctx, step, published)
	return b, err
}

// windowOf is Window, also returning the mechanism for tests to inspect.
func (m *Source) windowOf(ctx context.Context, step int, published string) (mechanism, *source.Batch, error) {
	if _, err := m.takeAhead(ctx, -1, ""); err != nil {
		return nil, nil, err
	}
	r, err := m.race(ctx, step, published)
	if err != nil {
		return nil, nil, err
	}
	b, err := m.settle(ctx, r, step, published)
	return r, b, err
}

// race opens window step under the market's mechanism (the race, or the
// auction) and runs it to its close.
func (m *Source) race(ctx context.Context, step int, published string) (mechanism, error) {
	var r mechanism
	var err error
	if m.mk.Auctioned() {
		r, err = m.openAuction(step, published)
	} else {
		r, err = m.openRace(step, published)
	}
	if err != nil {
		return nil, err
	}
	if err := r.run(ctx); err != nil {
		return nil, err
	}
	return r, nil
}

// settle makes a closed window's batch and has the source learn from it.
func (m *Source) settle(ctx context.Context, r mechanism, step int, published string) (*source.Batch, error) {
	b := r.batch()
	if err := m.probe.Measure(ctx, step, published, &b.Account); err != nil {
		return nil, err
	}
	m.last = r.lesson()
	m.learn(step, m.last)
	return b, nil
}

// deltaVersion changes whenever the encoding of Delta does, so that a run
// resumed by another build refuses a delta it would misread.
const deltaVersion = 2 // 1 had no auction ranking and no carry

// Delta is the last window's lesson: the number of miners, then every group
// (miner, prompt, reward sum) and the accepted groups' indices: 0.56 KB a
// window on average (1.5 KB at most) at the paired experiment's size, where
// the estimators it rebuilds take over 1 MB as JSON.
func (m *Source) Delta() ([]byte, error) {
	return encodeDelta(m.last, len(m.miners), m.mk.Auctioned(), m.carries()), nil
}

// carries reports whether the market is an auction with carry, whose
// deltas also hold what it carries.
func (m *Source) carries() bool { return m.mk.Auctioned() && m.mk.Auction.Carry }

func encodeDelta(l lesson, miners int, auction, carry bool) []byte {
	e := source.NewDelta("market", deltaVersion)
	e.Uint(miners)
	e.Uint(len(l.groups))
	for _, g := range l.groups {
		e.Uint(g.miner)
		e.Uint(g.prompt)
		e.Float(g.successes)
	}
	e.Uint(len(l.accepted))
	for _, i := range l.accepted {
		e.Uint(i)
	}
	if auction {
		e.Uint(len(l.ranked))
		for _, r := range l.ranked {
			e.Uint(r.group)
			e.Float(r.claimed)
		}
	}
	if carry {
		e.Uint(len(l.carry))
		for _, c := range l.carry {
			e.Uint(c.step)
			e.Uint(c.prompt)
			e.Uint(c.miner)
		}
		e.String(l.carryCkpt)
	}
	return e.Bytes()
}

// Apply teaches the market window step's lesson again.
func (m *Source) Apply(step int, delta []byte) error {
	_ = m.Close() // a window raced ahead was raced with the state Apply changes
	l, err := decodeDelta(delta, len(m.miners), m.cfg.Pool.Len(), m.mk.Auctioned(), m.carries())
	if err != nil {
		return err
	}
	m.last = l
	m.learn(step, l)
	return nil
}

// decodeDelta reads encodeDelta's bytes for a market of miners miners and a
// pool of pool prompts.
func decodeDelta(delta []byte, miners, pool int, auction, carry bool) (lesson, error) {
	d := source.ReadDelta(delta, "market", deltaVersion)
	if n := d.Uint(math.MaxInt32); n != miners {
		d.Fail(fmt.Errorf("source delta: a market of %d miners; this one has %d", n, miners))
	}
	var l lesson
	// A group takes at least 10 bytes: two varints and a float64.
	l.groups = make([]lessonGroup, d.Count(10))
	for i := range l.groups {
		l.groups[i] = lessonGroup{miner: d.Uint(miners), prompt: d.Uint(pool), successes: d.Float()}
	}
	l.accepted = make([]int, d.Count(1))
	seen := make(map[int]bool, len(l.accepted))
	for i := range l.accepted {
		g := d.Uint(len(l.groups))
		if seen[g] {
			d.Fail(fmt.Errorf("source delta: group %d accepted twice", g))
		}
		seen[g] = true
		l.accepted[i] = g
	}
	if auction {
		// A ranked group takes at least 9 bytes: a varint and a float64.
		l.ranked = make([]rankedGroup, d.Count(9))
		for i := range l.ranked {
			l.ranked[i] = rankedGroup{group: d.Uint(len(l.groups)), claimed: d.Float()}
			if seen[l.ranked[i].group] {
				d.Fail(fmt.Errorf("source delta: group %d both accepted and ranked below", l.ranked[i].group))
			}
		}
	}
	if carry {
		l.carry = make([]carried, d.Count(3))
		for i := range l.carry {
			l.carry[i] = carried{step: d.Uint(math.MaxInt32), prompt: d.Uint(pool), miner: d.Uint(miners)}
		}
		l.carryCkpt = d.String()
	}
	return l, d.End()
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
