package source

import (
	"container/heap"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/relix-lab/relix/eval"
	"github.com/relix-lab/relix/experiment/seed"
	"github.com/relix-lab/relix/harness/source/proof"
	"github.com/relix-lab/relix/runners"
)

// window is one market window being raced.
//
// The race runs in virtual time, one event at a time in (time, tie) order,
// where tie is a hash of (window, miner, group, event kind): the order is a
// function of the seed alone. Every miner starts at time 0. A miner picks a
// prompt (with what it knows at that moment: its estimator as of the
// window's opening, and the prompts accepted so far, which the validator
// publishes), generates a group, and is done after its tokens / throughput
// seconds; it then checks the group's σ itself and submits it, arriving
// after a latency drawn from an exponential distribution with the group's
// mean, and immediately starts its next group. The validator processes an
// arrival at once and seals the window at its N-th acceptance; what is
// still being generated then is "in-flight", what is still travelling is
// "late".
type window struct {
	ctx        context.Context // of the race, for the oracle estimator
	m          *Market
	step       int
	published  string
	base       string
	randomness proof.Randomness
	tieSeed    uint64

	avail    []int        // prompts that may be picked: not cooling down at the opening
	cooling  map[int]bool // prompts cooling down at the opening (the validator's list)
	accepted []*attempt   // in acceptance order
	taken    map[int]bool // prompts accepted so far

	attempts []*attempt // in generation order
	events   eventQueue
	started  int
	cap      int
	seq      []int  // per miner: groups started in the window
	idle     []bool // per miner: a copycat waiting for something to copy
	tried    []map[int]bool
	sealed   bool
	sealTime float64
	now      float64

	oracleP map[int]float64 // the oracle estimator's true probabilities, by prompt
}

// attempt is one group a miner generated in the window.
type attempt struct {
	miner  *miner
	seq    int // the miner's group number in the window
	index  int // generation order in the window
	prompt int // pool index
	ckpt   string
	sample runners.Sampling
	rng    *rand.Rand

	comps   []runners.Completion
	rewards []float64 // the harness's rewards of the completions as generated
	inZone  bool
	tokens  int64

	start, done, arrival float64
	submitted            bool
	sub                  *submission
	fate                 string
}

func (m *Market) open(step int, published string) (*window, error) {
	cfg := &m.cfg
	w := &window{
		m: m, step: step, published: published, base: cfg.Runner.Base(),
		randomness: sha256.Sum256(binary.LittleEndian.AppendUint64([]byte("relix/window\x00"), seed.Derive(cfg.Seed, cfg.Arm.Name, step, "randomness"))),
		tieSeed:    seed.Derive(cfg.Seed, cfg.Arm.Name, step, "ties"),
		avail:      m.cool.available(cfg.Pool.Len(), step),
		cooling:    map[int]bool{},
		taken:      map[int]bool{},
		cap:        MaxWindowRounds * cfg.Train.GroupsPerStep,
		seq:        make([]int, len(m.miners)),
		idle:       make([]bool, len(m.miners)),
		tried:      make([]map[int]bool, len(m.miners)),
		oracleP:    map[int]float64{},
		ctx:        context.Background(),
	}
	if n := cfg.Train.GroupsPerStep; len(w.avail) < n {
		return nil, errExhausted(cfg.Pool, step, len(w.avail), n, cfg.Train.Cooldown)
	}
	for i := range m.cool.last {
		if m.cool.cooling(i, step) {
			w.cooling[i] = true
		}
	}
	return w, nil
}

// Event kinds; a group's generation ends before it can arrive.
const (
	evDone = iota
	evArrive
)

type event struct {
	time float64
	tie  uint64
	kind int
	a    *attempt
}

type eventQueue []*event

func (q eventQueue) Len() int { return len(q) }
func (q eventQueue) Less(i, j int) bool {
	if q[i].time != q[j].time {
		return q[i].time < q[j].time
	}
	return q[i].tie < q[j].tie
}
func (q eventQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *eventQueue) Push(x any)   { *q = append(*q, x.(*event)) }
func (q *eventQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

func (w *window) push(kind int, t float64, a *attempt) {
	tie := mix64(w.tieSeed ^ mix64(uint64(a.miner.index)<<40^uint64(a.seq)<<2^uint64(kind)))
	heap.Push(&w.events, &event{time: t, tie: tie, kind: kind, a: a})
}

// mix64 is SplitMix64's finalizer.
func mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// race runs the window until it seals or nothing is left to happen.
func (w *window) race(ctx context.Context) error {
	w.ctx = ctx
	for _, mn := range w.m.miners {
		if err := w.start(ctx, mn, 0); err != nil {
			return err
		}
	}
	n := w.m.cfg.Train.GroupsPerStep
	for w.events.Len() > 0 && !w.sealed {
		if err := ctx.Err(); err != nil {
			return err
		}
		e := heap.Pop(&w.events).(*event)
		w.now = e.time
		switch e.kind {
		case evDone:
			w.finish(e.a)
			if err := w.start(ctx, e.a.miner, e.time); err != nil {
				return err
			}
		case evArrive:
			reason, err := w.validate(ctx, e.a.sub)
			if err != nil {
				return err
			}
			e.a.fate = reason
			if reason == ReasonAccepted {
				w.accept(e.a)
				if len(w.accepted) == n {
					w.sealed, w.sealTime = true, e.time
					continue
				}
				if err := w.wakeCopycats(ctx, e.time); err != nil {
					return err
				}
			}
		}
	}
	if !w.sealed {
		w.sealTime = w.now
	}
	for _, e := range w.events {
		if e.kind == evDone {
			e.a.fate = ReasonInFlight
		} else {
			e.a.fate = ReasonLate
		}
	}
	return nil
}

// start has miner mn start its next group at time t, if it has one.
func (w *window) start(ctx context.Context, mn *miner, t float64) error {
	if w.started >= w.cap {
		return nil
	}
	cfg := &w.m.cfg
	a := &attempt{miner: mn, seq: w.seq[mn.index], ckpt: w.published, start: t}
	a.rng = seed.Stream(cfg.Seed, cfg.Arm.Name, w.step, "miner", mn.index, a.seq)
	switch mn.spec.Behaviour {
	case Stale:
		if w.published == w.base {
			return nil // nothing older than the published checkpoint yet: it would be honest
		}
		a.ckpt = w.base
	case Copycat:
		i, ok := w.copyTarget(mn)
		if !ok {
			w.idle[mn.index] = true
			return nil
		}
		w.idle[mn.index] = false
		a.prompt = i
	}
	if mn.spec.Behaviour != Copycat {
		i, ok, err := w.pick(mn, a.rng)
		if err != nil || !ok {
			return err
		}
		a.prompt = i
	}
	w.seq[mn.index]++
	w.started++
	a.index = len(w.attempts)
	w.attempts = append(w.attempts, a)
	if err := w.generate(ctx, a); err != nil {
		return err
	}
	a.done = t + float64(a.tokens)/mn.spec.Throughput
	w.push(evDone, a.done, a)
	return nil
}

// generate samples the attempt's group and rewards it.
func (w *window) generate(ctx context.Context, a *attempt) error {
	cfg := &w.m.cfg
	a.sample = sampling(cfg.Train, seed.Derive(cfg.Seed, cfg.Arm.Name, w.step, "miner", a.miner.index, a.seq, "generate"))
	prompt := problemPrompt(&cfg.Pool.Problems[a.prompt])
	comps, err := cfg.Runner.Generate(ctx, a.ckpt, []runners.Prompt{prompt}, cfg.Train.GroupSize, a.sample)
	if err != nil {
		return err
	}
	if err := checkShape(comps, []runners.Prompt{prompt}, cfg.Train.GroupSize); err != nil {
		return err
	}
	a.comps = comps[0]
	a.rewards = make([]float64, len(a.comps))
	for j, c := range a.comps {
		a.rewards[j] = cfg.Reward(&cfg.Pool.Problems[a.prompt], c)
		a.tokens += int64(c.NumTokens)
	}
	a.inZone = eval.InZone(a.rewards, cfg.Train.SigmaMin)
	return nil
}

// pick draws the miner's candidates among the prompts it may still submit
// and returns the one its estimator rates most likely in the zone (a random
// one with probability explore, or always for the random estimator).
func (w *window) pick(mn *miner, rng *rand.Rand) (int, bool, error) {
	cands := w.candidates(rng, w.m.mk.Candidates)
	if len(cands) == 0 {
		return 0, false, nil
	}
	if mn.est.kind() == "random" || rng.Float64() < mn.spec.Estimator.Explore {
		return cands[rng.IntN(len(cands))], true, nil
	}
	best, bestScore := cands[0], -1.0
	for _, i := range cands {
		p, err := mn.est.predict(w, i, rng)
		if err != nil {
			return 0, false, err
		}
		if s := w.m.zone.Chance(p); s > bestScore {
			best, bestScore = i, s
		}
	}
	return best, true, nil
}

// candidates draws k distinct prompts from those available at the opening
// (Floyd's algorithm, then shuffled so ties fall at random) and drops those
// accepted since.
func (w *window) candidates(rng *rand.Rand, k int) []int {
	n := len(w.avail)
	var out []int
	if k >= n {
		out = slices.Clone(w.avail)
	} else {
		picked := make(map[int]bool, k)
		out = make([]int, 0, k)
		for j := n - k; j < n; j++ {
			t := rng.IntN(j + 1)
			if picked[t] {
				t = j
			}
			picked[t] = true
			out = append(out, w.avail[t])
		}
	}
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return slices.DeleteFunc(out, func(i int) bool { return w.taken[i] })
}

// trueProbability is the runner's success probability of prompt i at the
// published checkpoint (the oracle estimator's input), cached for the
// window.
func (w *window) trueProbability(i int) (float64, error) {
	if p, ok := w.oracleP[i]; ok {
		return p, nil
	}
	cfg := &w.m.cfg
	p, err := w.m.oracle.SuccessProbability(w.ctx, w.published, problemPrompt(&cfg.Pool.Problems[i]), sampling(cfg.Train, 0), cfg.Train.Reward.Truncated)
	if err != nil {
		return 0, err
	}
	w.oracleP[i] = p
	return p, nil
}

// copyTarget is the most recently accepted prompt the copycat has not
// copied yet.
func (w *window) copyTarget(mn *miner) (int, bool) {
	if w.tried[mn.index] == nil {
		w.tried[mn.index] = map[int]bool{}
	}
	for k := len(w.accepted) - 1; k >= 0; k-- {
		if i := w.accepted[k].prompt; !w.tried[mn.index][i] {
			w.tried[mn.index][i] = true
			return i, true
		}
	}
	return 0, false
}

func (w *window) wakeCopycats(ctx context.Context, t float64) error {
	for _, mn := range w.m.miners {
		if w.idle[mn.index] {
			if err := w.start(ctx, mn, t); err != nil {
				return err
			}
		}
	}
	return nil
}

// finish is the end of an attempt's generation: the miner checks the group
// and submits it, or drops it as missed.
func (w *window) finish(a *attempt) {
	mn := a.miner
	switch {
	case mn.spec.Behaviour == Forger:
		a.sub = w.forge(a)
	case a.inZone:
		a.sub = w.honestSubmission(a)
	default:
		a.fate = ReasonMissed
		return
	}
	a.submitted = true
	a.arrival = a.done
	if mn.spec.Latency > 0 {
		a.arrival += mn.spec.Latency * a.rng.ExpFloat64()
	}
	w.push(evArrive, a.arrival, a)
}

func (w *window) accept(a *attempt) {
	w.accepted = append(w.accepted, a)
	w.taken[a.prompt] = true
}

// batch builds the window's batch and account.
func (w *window) batch() *Batch {
	cfg := &w.m.cfg
	b := &Batch{Account: Account{Step: w.step, Source: "market", Checkpoint: w.published, Rounds: 1,
		SealTime: w.sealTime, UpperBound: w.m.upper}}
	acct := &b.Account
	acct.Miners = make([]MinerAccount, len(w.m.miners))
	for i, mn := range w.m.miners {
		ma := &acct.Miners[i]
		ma.Name, ma.Behaviour = mn.name, mn.spec.Behaviour
		if mn.est != nil {
			ma.Estimator = mn.est.kind()
		}
	}
	for _, a := range w.attempts {
		tallyGroup(acct, a.comps, a.rewards, a.inZone, a.fate)
		ma := &acct.Miners[a.miner.index]
		ma.GeneratedGroups++
		ma.GeneratedRollouts += len(a.comps)
		ma.GeneratedTokens += a.tokens
		ma.Busy += math.Min(a.done, w.sealTime) - a.start
		if a.inZone {
			ma.InZoneGroups++
		}
		if a.submitted {
			ma.Submitted++
		}
		switch a.fate {
		case ReasonAccepted:
			ma.Accepted++
		case ReasonMissed:
			ma.Missed++
		case ReasonInFlight:
			ma.InFlight++
			acct.InFlightTokens += min(a.tokens, int64((w.sealTime-a.start)*a.miner.spec.Throughput))
		case ReasonLate:
			ma.Late++
		case ReasonDuplicate:
			ma.Duplicate++
		default:
			ma.Rejected++
		}
		arrival := math.NaN()
		if a.submitted {
			arrival = a.arrival
		}
		claimed := a.rewards
		if a.sub != nil {
			claimed = a.sub.rewards
		}
		prompt := cfg.Pool.Problems[a.prompt].ID
		for j, c := range a.comps {
			b.Rollouts = append(b.Rollouts, Rollout{
				Window: w.step, Miner: a.miner.name, Round: a.seq, Group: a.index, Prompt: prompt, Checkpoint: a.ckpt,
				Completion: j, Reward: a.rewards[j], Claimed: claimed[j], Tokens: c.NumTokens, Truncated: c.Truncated(),
				InZone: a.inZone, Accepted: a.fate == ReasonAccepted, Reason: a.fate, Arrival: arrival,
			})
		}
	}
	acct.Capped = len(w.accepted) < cfg.Train.GroupsPerStep
	for _, a := range w.accepted {
		b.Groups = append(b.Groups, runners.Group{Prompt: problemPrompt(&cfg.Pool.Problems[a.prompt]),
			Completions: a.comps, Rewards: a.rewards, Checkpoint: w.published})
		countUseful(acct, a.comps)
	}
	acct.finish()
	return b
}

// teach gives every estimator the window's observations: the groups its
// miner generated (their rewards are the miner's own), then the groups the
// validator accepted from others (published with their rewards).
func (w *window) teach() {
	g := float64(w.m.cfg.Train.GroupSize)
	obs := func(a *attempt) observation {
		var s float64
		for _, r := range a.rewards {
			s += r
		}
		return observation{prompt: a.prompt, successes: s, trials: g}
	}
	own := make([][]observation, len(w.m.miners))
	for _, a := range w.attempts {
		own[a.miner.index] = append(own[a.miner.index], obs(a))
	}
	for _, mn := range w.m.miners {
		if mn.est == nil {
			continue
		}
		o := own[mn.index]
		for _, a := range w.accepted {
			if a.miner != mn {
				o = append(o, obs(a))
			}
		}
		mn.est.learn(o)
	}
}

// String names an attempt in errors.
func (a *attempt) String() string {
	return fmt.Sprintf("%s group %d", a.miner.name, a.seq)
}
