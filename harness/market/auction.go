package market

import (
	"cmp"
	"container/heap"
	"context"
	"math"
	"slices"

	"github.com/relix-lab/relix/eval"
	"github.com/relix-lab/relix/experiment/seed"
	"github.com/relix-lab/relix/experiment/spec"
	"github.com/relix-lab/relix/harness/source"
	"github.com/relix-lab/relix/runners"
)

// auction is the difficulty auction, the market's second mechanism
// (README.md, "The auction"): a window collects submissions until a fixed
// deadline, admitting each on the cheap checks alone (everything but the
// proof) under the auction's own σ gate, at most one claim per operator per
// prompt and at most per_prompt groups per prompt. At the deadline the
// admitted groups are ranked by difficulty, std(r)·(1 − mean(r)), ties
// broken by throughput, then arrival, then a hash drawn after the
// deadline; the validator proves them top down, under its proof budget,
// until N have won on distinct prompts. Slots left unfilled are burned.
//
// Miners pick by the expected value of a group, and generate with a
// sampling seed of the window and the prompt alone, so that two identities
// on one prompt get the same group and buy nothing. Events run in virtual
// time as in the race, with the same kinds and the same tie rule.
type auction struct {
	*window
	clock
	ak        spec.Auction
	value     valueFunc
	admitted  []*attempt // in arrival order
	ahead     prefetched
	free      []float64 // per miner: when its group in flight is done, and it starts its next
	claims    map[claim]bool
	perPrompt map[int]int
}

// claim is one operator's claim on one prompt: a sybil's identities share
// one (miner.operator).
type claim struct{ operator, prompt int }

func (m *Source) openAuction(step int, published string) (*auction, error) {
	w, err := m.open(step, published)
	if err != nil {
		return nil, err
	}
	cfg := &m.cfg
	ak := *m.mk.Auction
	w.gate = ak.SigmaMin
	w.score = auctionScore(cfg.Train.GroupSize, ak.SigmaMin, m.clearings, valueFuncs[ak.Value])
	if w.carrying = ak.Carry; w.carrying && len(m.carry) > 0 {
		if m.carryCkpt != published {
			w.dropped = len(m.carry) // generated with a checkpoint no longer published: off-policy now
		} else {
			w.carryOut = slices.Clone(m.carry)
			for _, c := range m.carry {
				w.taken[c.prompt] = true // won already: no second group for it
			}
		}
	}
	u := &auction{
		value:     valueFuncs[ak.Value],
		window:    w,
		clock:     newClock(cfg, step, len(m.miners), MaxWindowRounds*cfg.Train.GroupsPerStep),
		ak:        ak,
		claims:    map[claim]bool{},
		perPrompt: map[int]int{},
		free:      make([]float64, len(m.miners)),
	}
	// A group is generated ahead only for a miner that will start one
	// before the deadline: one whose group in flight is done by then. The
	// miner whose group is being generated is done when that group's
	// length says, which is not known yet.
	u.ahead = newPrefetched(cfg.Runner, len(m.miners),
		func(_ *miner, _, i int) runners.Sampling { return u.groupSampling(u.step, i) },
		func(mn *miner, a *attempt) bool { return mn != a.miner && u.free[mn.index] < ak.Deadline })
	return u, nil
}

// run collects the window to its deadline and awards it.
func (u *auction) run(ctx context.Context) error {
	u.ctx = ctx
	for _, mn := range u.m.miners {
		if err := u.start(ctx, mn, 0); err != nil {
			return err
		}
	}
	deadline := u.ak.Deadline
	for u.events.Len() > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		if u.events[0].time > deadline {
			break
		}
		e := heap.Pop(&u.events).(*event)
		u.now = e.time
		switch e.kind {
		case evDone:
			u.finish(e.a)
			if err := u.start(ctx, e.a.miner, e.time); err != nil {
				return err
			}
		case evArrive:
			if err := u.admit(ctx, e.a); err != nil {
				return err
			}
		}
	}
	u.sealTime = deadline
	for _, e := range u.events {
		if e.kind == evDone {
			e.a.fate = source.ReasonInFlight
		} else {
			e.a.fate = source.ReasonLate
		}
	}
	if err := u.award(ctx, u.m.cfg.Train.GroupsPerStep-len(u.carryOut)); err != nil {
		return err
	}
	if u.carrying {
		return u.carryOn(ctx)
	}
	return nil
}

// carryOn decides what an auction with carry trains: while fewer than N
// groups have won over the windows at this checkpoint, this window's
// winners join what is held and the step trains on nothing; once N have,
// the step trains on all of them, those carried in first, generated again
// (the validator keeps them; relix keeps what makes them again).
func (u *auction) carryOn(ctx context.Context) error {
	cfg := &u.m.cfg
	if len(u.carryOut)+len(u.accepted) < cfg.Train.GroupsPerStep {
		u.hold = true
		for _, a := range u.accepted {
			a.fate = source.ReasonCarried
			u.carryOut = append(u.carryOut, carried{step: u.step, prompt: a.prompt, miner: a.miner.index})
		}
		return nil
	}
	for _, c := range u.carryOut {
		prob := &cfg.Pool.Problems[c.prompt]
		prompt := source.Prompt(prob)
		comps, err := cfg.Runner.Generate(ctx, u.published, []runners.Prompt{prompt}, cfg.Train.GroupSize, u.groupSampling(c.step, c.prompt))
		if err != nil {
			return err
		}
		if err := source.CheckShape(comps, []runners.Prompt{prompt}, cfg.Train.GroupSize); err != nil {
			return err
		}
		rewards := make([]float64, len(comps[0]))
		for j, comp := range comps[0] {
			rewards[j] = cfg.Reward(prob, comp)
		}
		u.lead = append(u.lead, runners.Group{Prompt: prompt, Completions: comps[0], Rewards: rewards, Checkpoint: u.published})
	}
	u.carryOut = nil
	return nil
}

// start has miner mn start its next group at time t, unless the window
// will have closed or cannot take more.
func (u *auction) start(ctx context.Context, mn *miner, t float64) error {
	if t >= u.ak.Deadline {
		return nil
	}
	a, err := u.begin(&u.clock, mn, t, u.copyTarget)
	if a == nil || err != nil {
		return err
	}
	if err := u.generateGroup(ctx, &u.clock, &u.ahead, a); err != nil {
		return err
	}
	a.done = t + a.generationTime(u.m.mk.Timing, mn.spec.Throughput)
	u.free[mn.index] = a.done
	u.push(evDone, a.done, a)
	return nil
}

// groupSampling is the sampling of every group for prompt i in window step. The
// seed names the window and the prompt, not the miner: another identity on
// the same prompt generates the very same group, and a carried group is
// generated again as it won.
func (u *auction) groupSampling(step, i int) runners.Sampling {
	cfg := &u.m.cfg
	return source.Sampling(cfg.Train, seed.Derive(cfg.Seed, cfg.Arm.Name, step, "auction", i))
}

// copyTarget is the most recently admitted prompt of another miner that
// the copycat has not copied yet.
func (u *auction) copyTarget(mn *miner) (int, bool) {
	for k := len(u.admitted) - 1; k >= 0; k-- {
		if a := u.admitted[k]; a.miner != mn && !u.triedBy(mn, a.prompt) {
			return a.prompt, true
		}
	}
	return 0, false
}

// finish is the end of a group's generation: the miner checks it against
// the auction's gate and submits it, or drops it as missed.
func (u *auction) finish(a *attempt) {
	if a.sub = u.submissionOf(a, eval.InZone(a.rewards, u.gate)); a.sub == nil {
		a.fate = source.ReasonMissed
		return
	}
	u.send(a)
	u.push(evArrive, a.arrival, a)
}

// admit applies the cheap checks at a submission's arrival: every check
// but the proof, which waits for the ranking, then the claim rules.
func (u *auction) admit(ctx context.Context, a *attempt) error {
	check, err := u.check(a.sub, source.CheckProof, nil)
	if err != nil {
		return err
	}
	if check != "" {
		a.fate = source.RejectedPrefix + check
		return nil
	}
	c := claim{a.miner.operator, a.prompt}
	if u.claims[c] || u.perPrompt[a.prompt] >= u.ak.PerPrompt {
		a.fate = source.ReasonDuplicate // a second claim, or a prompt already claimed to the cap
		return nil
	}
	u.claims[c] = true
	u.perPrompt[a.prompt]++
	u.admitted = append(u.admitted, a)
	return u.wakeIdle(u.m.miners, func(mn *miner) error { return u.start(ctx, mn, a.arrival) })
}

// award ranks the admitted groups and proves them top down until n win on
// distinct prompts, the proof budget is spent or none is left; every other
// admitted group is outranked.
func (u *auction) award(ctx context.Context, n int) error {
	cfg := &u.m.cfg
	ranked := slices.Clone(u.admitted)
	after := seed.Derive(cfg.Seed, cfg.Arm.Name, u.step, "auction-ties")
	hash := func(a *attempt) uint64 {
		return seed.Mix(after ^ seed.Mix(uint64(a.miner.index)<<32^uint64(a.seq)))
	}
	slices.SortStableFunc(ranked, func(x, y *attempt) int {
		return cmp.Or(
			cmp.Compare(u.value(y.sub.rewards), u.value(x.sub.rewards)),
			cmp.Compare(throughput(y), throughput(x)),
			cmp.Compare(x.arrival, y.arrival),
			cmp.Compare(hash(x), hash(y)))
	})
	proved := 0
	for _, a := range ranked {
		if len(u.accepted) == n || u.taken[a.prompt] || (u.ak.ProofBudget > 0 && proved == u.ak.ProofBudget) {
			a.fate = source.ReasonOutranked
			continue
		}
		proved++
		ok, err := u.proofs(ctx, a.sub)
		if err != nil {
			return err
		}
		if !ok {
			a.fate = source.RejectedPrefix + source.CheckProof
			continue
		}
		a.fate = source.ReasonAccepted
		u.accept(a)
	}
	return nil
}

// valueFunc is an auction's value of a group's rewards, what it ranks by
// (market.auction.value).
type valueFunc func(r []float64) float64

// valueFuncs are the values a spec may name.
var valueFuncs = map[string]valueFunc{
	spec.ValueDifficulty: difficulty,
	spec.ValueStd:        func(r []float64) float64 { _, std := eval.MeanStd(r); return std },
}

// difficulty is the public design's value: the population std times one
// minus the mean, highest for hard groups inside the zone.
func difficulty(r []float64) float64 {
	mean, std := eval.MeanStd(r)
	return std * (1 - mean)
}

// throughput is the tie-break after value: the group's claimed tokens, each
// completion's capped at the sampling's max_tokens, per virtual second from
// the window's opening to the group's arrival. The validator sees when the
// window opened and when a group arrived, never when its miner started, so
// a group that arrives later with as many tokens ranks below: a copy or a
// withheld group loses every tie.
func throughput(a *attempt) float64 {
	var tokens int
	for _, c := range a.sub.completions {
		tokens += min(c.NumTokens, a.sample.MaxTokens)
	}
	if a.arrival > 0 {
		return float64(tokens) / a.arrival
	}
	return math.Inf(1)
}

// auctionScore is what an auction's miner maximizes over its candidates:
// the expected value of a group of g at success chance p times its chance
// of winning, against the values others brought to the last windows. k
// successes count with their value where they pass the gate, weighted by
// the share of clearings (the last windows' lowest winning values; 0 for a
// window that did not fill, which anything in the gate would have won)
// that value reaches. With no window seen yet every value in the gate wins.
func auctionScore(g int, gate float64, clearings []float64, of valueFunc) func(p float64) float64 {
	value := make([]float64, g+1)
	for k := range value {
		v := binaryValue(of, k, g)
		if !eval.InZone(binaryRewards(k, g), gate) {
			continue
		}
		win := 1.0
		if len(clearings) > 0 {
			reached := 0
			for _, c := range clearings {
				if v >= c {
					reached++
				}
			}
			win = float64(reached) / float64(len(clearings))
		}
		value[k] = binomial(g, k) * v * win
	}
	return func(p float64) float64 {
		var e float64
		for k, v := range value {
			if v != 0 {
				e += v * math.Pow(p, float64(k)) * math.Pow(1-p, float64(g-k))
			}
		}
		return e
	}
}

// binaryRewards is a group of g rewards with k successes.
func binaryRewards(k, g int) []float64 {
	r := make([]float64, g)
	for j := range k {
		r[j] = 1
	}
	return r
}

// binaryValue is the value of a group of g with k successes.
func binaryValue(of valueFunc, k, g int) float64 { return of(binaryRewards(k, g)) }

// clearingValue is the lowest value among a window's winners when all n
// slots filled, 0 otherwise: the value a group needed to win it.
func clearingValue(l lesson, g, n int, of valueFunc) float64 {
	if len(l.accepted) < n {
		return 0
	}
	low := math.Inf(1)
	for _, i := range l.accepted {
		low = min(low, binaryValue(of, int(math.Round(l.groups[i].successes)), g))
	}
	return low
}

func binomial(n, k int) float64 {
	c := 1.0
	for i := 1; i <= k; i++ {
		c = c * float64(n-k+i) / float64(i)
	}
	return c
}
