package market

import (
	"container/heap"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/relix-lab/relix/eval"
	"github.com/relix-lab/relix/experiment/seed"
	"github.com/relix-lab/relix/experiment/spec"
	"github.com/relix-lab/relix/harness/market/proof"
	"github.com/relix-lab/relix/harness/source"
	"github.com/relix-lab/relix/runners"
)

// window is what every market mechanism shares about one window, whatever
// decides which groups it admits and when it closes (the race in race.go):
// the published checkpoint and the proof randomness, the prompts miners may
// pick and the validator's view of them, and every group generated. The
// validator's checks (validate.go), the adversaries (forge.go) and the
// settling of a closed window (settle.go) work on it alone.
type window struct {
	ctx        context.Context // of the mechanism's run, for the oracle estimator
	m          *Source
	step       int
	published  string
	base       string
	randomness proof.Randomness

	avail    []int        // prompts that may be picked: not cooling down at the opening
	cooling  map[int]bool // prompts cooling down at the opening (the validator's list)
	accepted []*attempt   // in acceptance order
	taken    []bool       // by pool index: accepted so far (a slice: every pick looks up each candidate)

	picked []bool // candidates' scratch, all false between calls
	drawn  []int  // candidates' result, reused: a pick keeps none of it

	// gate is the σ gate of the validator's checks and the miners' own
	// (train.sigma_min; the auction's own), and score what a miner's pick
	// maximizes given its estimate of a prompt's success chance (the race:
	// the chance of passing the gate; the auction: a group's expected value).
	gate  float64
	score func(p float64) float64

	// scoreStamp marks this window's entries in the source's scoreMemo
	// (0: it has scored nothing yet).
	scoreStamp uint32

	attempts []*attempt // in generation order
	sealTime float64    // when the window closed, in virtual seconds since it opened

	// An auction with carry (auction.go) sets these: lead are the groups
	// earlier windows carried in, to train ahead of this window's winners;
	// hold, that this window's winners are carried on instead of trained;
	// dropped, how many carried groups a change of checkpoint let go; and
	// carryOut, what the market holds after the window (the lesson's).
	carrying bool
	lead     []runners.Group
	hold     bool
	dropped  int
	carryOut []carried
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

func (m *Source) open(step int, published string) (*window, error) {
	cfg := &m.cfg
	w := &window{
		m: m, step: step, published: published, base: cfg.Runner.Base(),
		randomness: sha256.Sum256(binary.LittleEndian.AppendUint64([]byte("relix/window\x00"), seed.Derive(cfg.Seed, cfg.Arm.Name, step, "randomness"))),
		gate:       cfg.Train.SigmaMin,
		score:      m.zone.Chance,
		avail:      m.cool.Available(cfg.Pool.Len(), step),
		taken:      make([]bool, cfg.Pool.Len()),
		ctx:        context.Background(),
	}
	if n := cfg.Train.GroupsPerStep; len(w.avail) < n {
		return nil, source.PoolExhausted(cfg.Pool, step, len(w.avail), n, cfg.Train.Cooldown)
	}
	w.cooling = m.cool.CoolingAt(step)
	return w, nil
}

// generate samples the attempt's group with s and rewards it.
func (w *window) generate(ctx context.Context, a *attempt, s runners.Sampling) error {
	a.sample = s
	prompt := source.Prompt(&w.m.cfg.Pool.Problems[a.prompt])
	comps, err := w.m.cfg.Runner.Generate(ctx, a.ckpt, []runners.Prompt{prompt}, w.m.cfg.Train.GroupSize, a.sample)
	if err != nil {
		return err
	}
	return w.generated(a, prompt, comps)
}

// clock is what a mechanism keeps of virtual time and of its miners'
// turns: the events in (time, tie) order, where tie is a hash of (window,
// miner, group, event kind), so the order is a function of the seed alone;
// and who has started what.
type clock struct {
	tieSeed uint64
	events  eventQueue
	now     float64
	started int
	cap     int
	seq     []int  // per miner: groups started in the window
	idle    []bool // per miner: a copycat waiting for something to copy
	tried   []map[int]bool
	last    []int // per miner: the pool index of the prompt it started last, +1 (0: none yet)
}

func newClock(cfg *source.Config, step, miners, cap int) clock {
	return clock{tieSeed: seed.Derive(cfg.Seed, cfg.Arm.Name, step, "ties"), cap: cap,
		seq: make([]int, miners), idle: make([]bool, miners), tried: make([]map[int]bool, miners), last: make([]int, miners)}
}

func (c *clock) push(kind int, t float64, a *attempt) {
	tie := seed.Mix(c.tieSeed ^ seed.Mix(uint64(a.miner.index)<<40^uint64(a.seq)<<2^uint64(kind)))
	heap.Push(&c.events, &event{time: t, tie: tie, kind: kind, a: a})
}

// begin is miner mn's next group, started at time t, with the checkpoint
// and prompt its behaviour gives it, counted in c and the window; nil when
// the miner starts nothing now: the window has started its cap, a stale
// miner has nothing older than the published checkpoint (it would be
// honest), a copycat has nothing to copy (copyTarget; it waits, idle), or
// there is nothing left to pick.
func (w *window) begin(c *clock, mn *miner, t float64, copyTarget func(*miner) (int, bool)) (*attempt, error) {
	if c.started >= c.cap {
		return nil, nil
	}
	cfg := &w.m.cfg
	a := &attempt{miner: mn, seq: c.seq[mn.index], ckpt: w.published, start: t}
	a.rng = seed.Stream(cfg.Seed, cfg.Arm.Name, w.step, "miner", mn.index, a.seq)
	switch mn.spec.Behaviour {
	case Stale:
		if w.published == w.base {
			return nil, nil
		}
		a.ckpt = w.base
	case Copycat:
		i, ok := copyTarget(mn)
		if !ok {
			c.idle[mn.index] = true
			return nil, nil
		}
		c.idle[mn.index] = false
		a.prompt = i
	}
	followed := false
	if mn.follower() {
		// A sybil identity joins the prompt its lead started last, once.
		if i := c.last[mn.operator] - 1; i >= 0 && !w.taken[i] && !c.triedBy(mn, i) {
			a.prompt, followed = i, true
		}
	}
	if mn.spec.Behaviour != Copycat && !followed {
		i, ok, err := w.pick(mn, a.rng)
		if err != nil || !ok {
			return nil, err
		}
		a.prompt = i
	}
	if mn.follower() && !followed {
		c.triedBy(mn, a.prompt) // its own pick: it does not join the lead there later
	}
	c.last[mn.index] = a.prompt + 1
	c.seq[mn.index]++
	c.started++
	a.index = len(w.attempts)
	w.attempts = append(w.attempts, a)
	return a, nil
}

// submissionOf is what the attempt's miner submits of its group, by its
// behaviour, given whether the group passes the miner's own σ check; nil
// when the miner drops it (missed). A forger submits whatever the group.
func (w *window) submissionOf(a *attempt, inGate bool) *submission {
	switch {
	case a.miner.spec.Behaviour == Forger:
		return w.forge(a)
	case !inGate:
		return nil
	case a.miner.spec.Behaviour == Padder:
		return w.pad(a)
	}
	return w.honestSubmission(a)
}

// send submits the attempt: it arrives after the miner's latency, and a
// withholder's not before one virtual second ahead of the auction's
// deadline (the default auction's in a race, which has none: it cannot
// know when a race seals, and that deadline is the close it prices).
func (w *window) send(a *attempt) {
	a.submitted = true
	a.arrival = a.done
	if a.miner.spec.Behaviour == Withholder {
		deadline := spec.DefaultAuction().Deadline
		if ak := w.m.mk.Auction; ak != nil {
			deadline = ak.Deadline
		}
		a.arrival = max(a.arrival, deadline-1)
	}
	if l := a.miner.spec.Latency; l > 0 {
		a.arrival += l * a.rng.ExpFloat64()
	}
}

// wakeIdle starts every idle miner (a copycat that found nothing to copy)
// again with start, in miner order.
func (c *clock) wakeIdle(miners []*miner, start func(*miner) error) error {
	for _, mn := range miners {
		if c.idle[mn.index] {
			if err := start(mn); err != nil {
				return err
			}
		}
	}
	return nil
}

// triedBy reports whether miner mn has had prompt i in the window before,
// and marks it had.
func (c *clock) triedBy(mn *miner, i int) bool {
	if c.tried[mn.index] == nil {
		c.tried[mn.index] = map[int]bool{}
	}
	had := c.tried[mn.index][i]
	c.tried[mn.index][i] = true
	return had
}

// follower reports whether the miner is a sybil identity other than its
// operator's lead: it mines what the lead picks.
func (mn *miner) follower() bool { return mn.operator != mn.index }

// sampling is the sampling of group seq of miner mn in the window.
func (w *window) sampling(mn *miner, seq int) runners.Sampling {
	cfg := &w.m.cfg
	return source.Sampling(cfg.Train, seed.Derive(cfg.Seed, cfg.Arm.Name, w.step, "miner", mn.index, seq, "generate"))
}

// generated takes the runner's answer for the attempt's group and rewards
// it.
func (w *window) generated(a *attempt, prompt runners.Prompt, comps [][]runners.Completion) error {
	cfg := &w.m.cfg
	if err := source.CheckShape(comps, []runners.Prompt{prompt}, cfg.Train.GroupSize); err != nil {
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
	cache := w.scoreCache(mn)
	for _, i := range cands {
		var s float64
		if cache != nil && cache[i].stamp == w.scoreStamp {
			s = cache[i].chance
		} else {
			p, err := mn.est.predict(w, i, rng)
			if err != nil {
				return 0, false, err
			}
			s = w.score(p)
			if cache != nil {
				cache[i] = scoreEntry{stamp: w.scoreStamp, chance: s}
			}
		}
		if s > bestScore {
			best, bestScore = i, s
		}
	}
	return best, true, nil
}

// scoreMemo caches each miner's gate chance of each prompt for the window
// open (by miner, then pool index), for estimators that are fixed while a
// window runs and draw no randomness (scoreFixed): a late window can start
// thousands of groups, each scoring 64 candidates, mostly the same ones
// again. An entry belongs to the window whose stamp it carries, so a new
// window reuses the memory without clearing it (allocating it afresh was a
// tenth of the market's allocation). Windows are raced one at a time
// (takeAhead waits for the one under way), so one memo serves the source.
type scoreMemo struct {
	stamp   uint32
	entries [][]scoreEntry // by miner, then pool index
}

// scoreEntry is one prompt's cached chance for one miner: the stamp beside
// the value, so that a lookup reads one cache line (a late window looks up
// hundreds of thousands, scattered over the pool).
type scoreEntry struct {
	stamp  uint32
	chance float64
}

// scoreCache is mn's cached scores for the window (an entry is valid where
// its stamp is the window's), or nil when its estimator's predictions may
// differ from one call to the next within a window.
func (w *window) scoreCache(mn *miner) []scoreEntry {
	if !scoreFixed(mn.est) {
		return nil
	}
	memo := &w.m.scores
	if w.scoreStamp == 0 {
		memo.stamp++
		w.scoreStamp = memo.stamp
	}
	if memo.entries == nil {
		memo.entries = make([][]scoreEntry, len(w.m.miners))
	}
	if memo.entries[mn.index] == nil {
		memo.entries[mn.index] = make([]scoreEntry, w.m.cfg.Pool.Len())
	}
	return memo.entries[mn.index]
}

// scoreFixed reports whether e's prediction of a prompt is the same at
// every call within a window and draws nothing from the miner's stream:
// estimators learn only between windows, and only the blurred oracle
// draws noise.
func scoreFixed(e estimator) bool {
	switch e := e.(type) {
	case *learned, *history:
		return true
	case oracleEstimator:
		return e.noise == 0
	}
	return false
}

// candidates draws k distinct prompts from those available at the opening
// (Floyd's algorithm, then shuffled so ties fall at random) and drops those
// accepted since. The slice is the window's, valid until the next call.
func (w *window) candidates(rng *rand.Rand, k int) []int {
	n := len(w.avail)
	var out []int
	if k >= n {
		out = slices.Clone(w.avail)
	} else {
		// The draws so far are marked in a scratch slice kept for the
		// window and cleared after: a map made per pick was a tenth of
		// picking.
		if len(w.picked) != n {
			w.picked = make([]bool, n)
		}
		out = w.drawn[:0]
		for j := n - k; j < n; j++ {
			t := rng.IntN(j + 1)
			if w.picked[t] {
				t = j
			}
			w.picked[t] = true
			out = append(out, t)
		}
		for i, t := range out {
			w.picked[t] = false
			out[i] = w.avail[t]
		}
		w.drawn = out
	}
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	if len(w.accepted) == 0 {
		return out
	}
	return slices.DeleteFunc(out, func(i int) bool { return w.taken[i] })
}

// trueProbability is the runner's success probability of prompt i at the
// published checkpoint (the oracle estimator's input). It is cached for as
// long as the published checkpoint stays the same, not just for the window:
// the probability is a function of the checkpoint and the prompt, and the
// zone sweep holds one checkpoint for all its windows, where computing it
// again every window was a twentieth of the sweep's time.
func (w *window) trueProbability(i int) (float64, error) {
	c := &w.m.oracleP
	if c.checkpoint != w.published || c.p == nil {
		*c = oracleCache{checkpoint: w.published, p: map[int]float64{}}
	}
	if p, ok := c.p[i]; ok {
		return p, nil
	}
	cfg := &w.m.cfg
	p, err := w.m.oracle.SuccessProbability(w.ctx, w.published, source.Prompt(&cfg.Pool.Problems[i]), source.Sampling(cfg.Train, 0), cfg.Train.Reward.Truncated)
	if err != nil {
		return 0, err
	}
	c.p[i] = p
	return p, nil
}

// oracleCache holds the true probabilities of prompts at one checkpoint.
type oracleCache struct {
	checkpoint string
	p          map[int]float64 // by prompt
}

func (w *window) accept(a *attempt) {
	w.accepted = append(w.accepted, a)
	w.taken[a.prompt] = true
}

// String names an attempt in errors.
func (a *attempt) String() string {
	return fmt.Sprintf("%s group %d", a.miner.name, a.seq)
}
