// Package zone is relix's in-zone sweep (FIG.05 of the reference
// write-up): how much of its inference each prompt selector wastes as the
// share of prompts in the zone goes from 15% down to 1%.
//
// For every target in-zone fraction of the spec's grid the sweep puts the
// training pool at a checkpoint with that fraction — a sim runner whose
// difficulty offset (runner.sim.difficulty_shift) is found by a root search
// on the exact per-prompt success probabilities — and runs, at that fixed
// checkpoint, the spec's windows for every selector: the uniform sampler
// with the reactive filter (DAPO's dynamic sampling) and markets of
// sweep.miners honest miners with a given estimator. Seeds repeat
// everything. Every run is a pure function of (spec, grid point, selector,
// seed), so the sweep gives the same numbers whatever its parallelism.
//
// README.md documents the method, the in-flight convention and the
// statistics.
package zone

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"

	"github.com/relix-lab/relix/experiment/dataset"
	"github.com/relix-lab/relix/experiment/seed"
	"github.com/relix-lab/relix/experiment/spec"
	"github.com/relix-lab/relix/harness/market"
	"github.com/relix-lab/relix/harness/source"
	"github.com/relix-lab/relix/harness/uniform"
	"github.com/relix-lab/relix/runners"
)

// Config is what a sweep is made with.
type Config struct {
	// Spec is the resolved experiment spec: its sweep block, train block
	// (N, G, σ_min, sampling, reward), runner (kind sim) and seed; the
	// markets copy the window settings and the miners' throughput and
	// latency of its first market arm.
	Spec *spec.Spec
	Pool *dataset.Set // the training problems
	// Backends make the sweep's runners (required; it needs kind sim).
	Backends runners.Backends
	// Jobs is how many runs execute at once (0: GOMAXPROCS). The results
	// do not depend on it.
	Jobs int
	// Progress, when set, is called after each run with the runs done and
	// the total, from one goroutine at a time.
	Progress func(done, total int)
}

// Result is a finished sweep.
type Result struct {
	Levels []Level // one per grid point, in grid order
	// Runs are every (level, selector, seed) in that order: level-major,
	// then the spec's selector order, then its seed order.
	Runs []Run
	// Points are the table rows: for every level and selector, one row per
	// seed and then the aggregate over seeds (Seed nil).
	Points []Point
}

// Run is one selector at one level for one seed: its totals over the
// measured windows.
type Run struct {
	Level    int // index into Result.Levels
	Selector spec.Selector
	Seed     uint64 // the sweep seed (sweep.seeds), not the derived stream seed
	Tally
}

// Tally sums the accounts of a run's measured windows (source.Account).
type Tally struct {
	Windows           int
	GeneratedGroups   int
	GeneratedRollouts int
	GeneratedTokens   int64
	UsefulGroups      int
	UsefulRollouts    int
	UsefulTokens      int64
	InZoneGroups      int
	Accepted          int
	Discarded         int // the filter's groups that failed the gate
	Missed            int // market: groups that failed their miner's own σ check
	InFlight          int // market: groups still being generated at a seal
	Late              int
	Duplicate         int
	Rejected          int
	Capped            int // windows that ended at their cap with fewer than N groups
}

func (t *Tally) add(a *source.Account) {
	t.Windows++
	t.GeneratedGroups += a.GeneratedGroups
	t.GeneratedRollouts += a.GeneratedRollouts
	t.GeneratedTokens += a.GeneratedTokens
	t.UsefulGroups += a.UsefulGroups
	t.UsefulRollouts += a.UsefulRollouts
	t.UsefulTokens += a.UsefulTokens
	t.InZoneGroups += a.InZoneGroups
	t.Accepted += a.Accepted
	t.Discarded += a.Discarded
	t.Missed += a.Missed
	t.InFlight += a.InFlight
	t.Late += a.Late
	t.Duplicate += a.Duplicate
	t.Rejected += a.Rejected
	if a.Capped {
		t.Capped++
	}
}

// Sweep runs the sweep of cfg.Spec.
func Sweep(ctx context.Context, cfg Config) (*Result, error) {
	s := cfg.Spec
	if s == nil || cfg.Pool == nil || cfg.Pool.Len() == 0 {
		return nil, fmt.Errorf("zone: a sweep needs a spec and a non-empty training pool")
	}
	plan, err := newPlan(s)
	if err != nil {
		return nil, err
	}
	jobs := cfg.Jobs
	if jobs <= 0 {
		jobs = runtime.GOMAXPROCS(0)
	}
	sw := s.Sweep

	// The levels, one runner each.
	levels := make([]Level, len(sw.Grid))
	runnersAt := make([]runners.Runner, len(sw.Grid))
	defer func() {
		for _, r := range runnersAt {
			if r != nil {
				r.Close()
			}
		}
	}()
	if err := parallel(ctx, jobs, len(sw.Grid), func(ctx context.Context, i int) error {
		lv, r, err := findLevel(ctx, cfg.Backends, s.Runner, plan.train, cfg.Pool, sw.Grid[i])
		levels[i], runnersAt[i] = lv, r
		return err
	}); err != nil {
		return nil, err
	}

	// The runs.
	res := &Result{Levels: levels}
	for li := range levels {
		for _, sel := range sw.Selectors {
			for _, sd := range sw.Seeds {
				res.Runs = append(res.Runs, Run{Level: li, Selector: sel, Seed: sd})
			}
		}
	}
	var mu sync.Mutex
	done := 0
	if err := parallel(ctx, jobs, len(res.Runs), func(ctx context.Context, i int) error {
		run := &res.Runs[i]
		t, err := plan.run(ctx, runnersAt[run.Level], cfg.Pool, run.Selector, run.Seed)
		if err != nil {
			return fmt.Errorf("zone: in-zone %g, selector %s, seed %d: %w", levels[run.Level].Target, run.Selector.Name, run.Seed, err)
		}
		run.Tally = t
		if cfg.Progress != nil {
			mu.Lock()
			done++
			cfg.Progress(done, len(res.Runs))
			mu.Unlock()
		}
		return nil
	}); err != nil {
		return nil, err
	}
	res.Points = points(res.Levels, sw.Selectors, sw.Seeds, res.Runs)
	return res, nil
}

// plan is what every run of a sweep shares.
type plan struct {
	spec  *spec.Spec
	train spec.Train
	// market is the template of the markets: window settings and one
	// group of honest miners whose estimator each selector replaces.
	market spec.Market
	miner  spec.MinerGroup
	// auction is the auction selectors' parameters: the spec's first
	// auction arm's, or the defaults.
	auction spec.Auction
}

func newPlan(s *spec.Spec) (*plan, error) {
	sw := s.Sweep
	switch {
	case len(sw.Grid) == 0:
		return nil, fmt.Errorf("zone: sweep.grid is empty")
	case len(sw.Selectors) == 0:
		return nil, fmt.Errorf("zone: sweep.selectors is empty")
	case len(sw.Seeds) == 0:
		return nil, fmt.Errorf("zone: sweep.seeds is empty")
	case sw.Windows < 1:
		return nil, fmt.Errorf("zone: sweep.windows is %d; want at least 1", sw.Windows)
	case sw.Warmup < 0:
		return nil, fmt.Errorf("zone: sweep.warmup is %d; want at least 0", sw.Warmup)
	}
	p := &plan{spec: s, train: s.Train}
	// The pool stays at its level for the whole run: every prompt may be
	// drawn in every window (a prompt accepted in one window is still
	// excluded from the rest of that window). With a longer cooldown the
	// selectors would drain the zone they find, each at its own pace, and
	// a point's in-zone fraction would no longer be its target.
	p.train.Cooldown = 0
	hasMarket := false
	for i, sel := range sw.Selectors {
		switch sel.Kind {
		case "filter":
		case "market", "auction":
			hasMarket = true
		default:
			return nil, fmt.Errorf("zone: sweep.selectors[%d] (%s) has kind %q; want filter, market or auction", i, sel.Name, sel.Kind)
		}
	}
	if !hasMarket {
		return p, nil
	}
	if sw.Miners < 1 {
		return nil, fmt.Errorf("zone: sweep.miners is %d; want at least 1", sw.Miners)
	}
	p.auction = spec.DefaultAuction()
	for _, a := range s.Arms {
		if a.Source == "market" && a.Market != nil && a.Market.Auctioned() && a.Market.Auction != nil {
			p.auction = *a.Market.Auction
			break
		}
	}
	for _, a := range s.Arms {
		if a.Source != "market" || a.Market == nil || a.Market.Auctioned() {
			continue
		}
		p.market = *a.Market
		for _, g := range a.Market.Miners {
			if g.Behaviour == market.Honest {
				p.miner = g
				break
			}
		}
		if p.miner.Count == 0 {
			return nil, fmt.Errorf("zone: market arm %q has no honest miners to copy throughput and latency from", a.Name)
		}
		p.miner.Count = sw.Miners
		return p, nil
	}
	return nil, fmt.Errorf("zone: the sweep's markets copy the window settings (candidates, probe size) and the miners' throughput and latency of the spec's first market arm, and the spec has none (add e.g. {name: market, source: market} to arms)")
}

// learns reports whether an estimator changes with what it observes, and
// so needs warm-up windows before it is measured.
func learns(e spec.Estimator) bool { return e.Kind == "history" || e.Kind == "learned" }

// run runs one selector at one level for one seed.
//
// Measured windows are numbered warmup … warmup+windows−1 for every
// selector; a market whose estimator learns first runs windows
// 0 … warmup−1, whose labels it learns from. The filter and the markets
// whose estimators learn nothing (random, oracle) skip them: at a fixed
// checkpoint with cooldown 0 nothing else carries from one window to the
// next, so they would change nothing but the cost.
func (p *plan) run(ctx context.Context, r runners.Runner, pool *dataset.Set, sel spec.Selector, sd uint64) (Tally, error) {
	sw := p.spec.Sweep
	cfg := source.Config{Train: p.train, Seed: seed.Derive(p.spec.Seeds[0], "sweep", sd), Pool: pool, Runner: r}
	ck := r.Base()
	var t Tally
	switch sel.Kind {
	case "filter":
		cfg.Arm = spec.Arm{Name: sel.Name, Source: "uniform", Filter: "dynamic",
			// Generate until the batch is full: the cap is the market's.
			MaxGenRounds: market.MaxWindowRounds}
		u, err := uniform.New(cfg)
		if err != nil {
			return t, err
		}
		for w := sw.Warmup; w < sw.Warmup+sw.Windows; w++ {
			b, err := u.Next(ctx, w, ck, ck)
			if err != nil {
				return t, err
			}
			t.add(&b.Account)
		}
	case "market", "auction":
		mk := p.market
		if sel.Kind == "auction" {
			a := p.auction
			mk.Kind, mk.Auction, mk.MaxRounds = spec.MarketAuction, &a, 0
		}
		g := p.miner
		g.Estimator = sel.Estimator
		mk.Miners = []spec.MinerGroup{g}
		cfg.Arm = spec.Arm{Name: sel.Name, Source: "market", Market: &mk}
		m, err := market.New(cfg)
		if err != nil {
			return t, err
		}
		from := sw.Warmup
		if learns(sel.Estimator) {
			from = 0
		}
		for w := from; w < sw.Warmup+sw.Windows; w++ {
			b, err := m.Window(ctx, w, ck)
			if err != nil {
				return t, err
			}
			if w >= sw.Warmup {
				t.add(&b.Account)
			}
		}
	}
	return t, nil
}

// parallel calls fn(i) for i in [0, n) on up to jobs goroutines. The
// first failure cancels the rest; it returns the failure with the lowest
// index, not counting the cancellations it caused.
func parallel(ctx context.Context, jobs, n int, fn func(context.Context, int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make([]error, n)
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(jobs, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if errs[i] = fn(ctx, i); errs[i] != nil {
					cancel()
				}
			}
		}()
	}
feed:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	var first error
	for _, err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) {
			return err
		}
		if first == nil {
			first = err
		}
	}
	if first != nil {
		return first
	}
	return ctx.Err()
}
