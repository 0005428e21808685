package market

import (
	"container/heap"
	"context"
	"sync"

	"github.com/relix-lab/relix/experiment/spec"

	"github.com/relix-lab/relix/harness/source"
	"github.com/relix-lab/relix/runners"
)

// race is the first-N race, the market's mechanism: a window whose
// validator admits the first N valid, distinct groups to arrive and seals at
// the N-th.
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
type race struct {
	*window
	clock
	sealed bool

	// ahead holds the miners' next groups generated ahead (ahead.go).
	ahead prefetched

	// The proofs computed ahead of their submissions' arrival (prove), by
	// submission until read: proving counts those under way, and
	// stopProving cancels them once the window closes, for a late
	// submission's proof is never read.
	pending     map[*submission]*pendingProof
	proveCtx    context.Context
	stopProving context.CancelFunc
	proving     sync.WaitGroup
}

func (m *Source) openRace(step int, published string) (*race, error) {
	w, err := m.open(step, published)
	if err != nil {
		return nil, err
	}
	cfg := &m.cfg
	r := &race{
		window:  w,
		clock:   newClock(cfg, step, len(m.miners), m.mk.Rounds()*cfg.Train.GroupsPerStep),
		pending: map[*submission]*pendingProof{},
	}
	r.ahead = newPrefetched(cfg.Runner, len(m.miners), func(mn *miner, seq, _ int) runners.Sampling { return r.sampling(mn, seq) }, nil)
	return r, nil
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

// run races the window until it seals or nothing is left to happen.
func (r *race) run(ctx context.Context) error {
	r.ctx = ctx
	r.proveCtx, r.stopProving = context.WithCancel(ctx)
	defer func() {
		r.stopProving()
		r.proving.Wait()
	}()
	for _, mn := range r.m.miners {
		if err := r.start(ctx, mn, 0); err != nil {
			return err
		}
	}
	n := r.m.cfg.Train.GroupsPerStep
	for r.events.Len() > 0 && !r.sealed {
		if err := ctx.Err(); err != nil {
			return err
		}
		e := heap.Pop(&r.events).(*event)
		r.now = e.time
		switch e.kind {
		case evDone:
			r.finish(e.a)
			if err := r.start(ctx, e.a.miner, e.time); err != nil {
				return err
			}
		case evArrive:
			reason, err := r.validate(ctx, e.a.sub)
			if err != nil {
				return err
			}
			e.a.fate = reason
			if reason == source.ReasonAccepted {
				r.accept(e.a)
				if len(r.accepted) == n {
					r.sealed, r.sealTime = true, e.time
					continue
				}
				t := e.time
				if err := r.wakeIdle(r.m.miners, func(mn *miner) error { return r.start(ctx, mn, t) }); err != nil {
					return err
				}
			}
		}
	}
	if !r.sealed {
		r.sealTime = r.now
	}
	for _, e := range r.events {
		if e.kind == evDone {
			e.a.fate = source.ReasonInFlight
		} else {
			e.a.fate = source.ReasonLate
		}
	}
	return nil
}

// start has miner mn start its next group at time t, if it has one.
func (r *race) start(ctx context.Context, mn *miner, t float64) error {
	a, err := r.begin(&r.clock, mn, t, r.copyTarget)
	if a == nil || err != nil {
		return err
	}
	if err := r.generateGroup(ctx, &r.clock, &r.ahead, a); err != nil {
		return err
	}
	a.done = t + a.generationTime(r.m.mk.Timing, mn.spec.Throughput)
	r.push(evDone, a.done, a)
	return nil
}

// copyTarget is the most recently accepted prompt the copycat has not
// copied yet.
func (r *race) copyTarget(mn *miner) (int, bool) {
	for k := len(r.accepted) - 1; k >= 0; k-- {
		if i := r.accepted[k].prompt; !r.triedBy(mn, i) {
			return i, true
		}
	}
	return 0, false
}

// finish is the end of an attempt's generation: the miner checks the group
// and submits it, or drops it as missed.
func (r *race) finish(a *attempt) {
	if a.sub = r.submissionOf(a, a.inZone); a.sub == nil {
		a.fate = source.ReasonMissed
		return
	}
	r.send(a)
	r.push(evArrive, a.arrival, a)
	r.pending[a.sub] = r.prove(a.sub)
}

// pendingProof is the outcome of a submission's proof check, computed
// while the race goes on.
type pendingProof struct {
	done chan struct{}
	ok   bool
	err  error
}

// prove starts checking s's proof at once, in the background. The check
// is a function of the submission and the window alone (not of what the
// race does meanwhile), so computing it between the submission and its
// arrival changes no verdict; it lets the proofs of the submissions under
// way run beside the race, which otherwise waited for each in turn with a
// core idle. A proof whose outcome is not read (an earlier check fails, or
// the submission arrives late) has only cost time: its error, if any, is
// never reported.
func (r *race) prove(s *submission) *pendingProof {
	p := &pendingProof{done: make(chan struct{})}
	r.proving.Add(1)
	go func() {
		defer r.proving.Done()
		defer close(p.done)
		p.ok, p.err = r.proofs(r.proveCtx, s)
	}()
	return p
}

func (p *pendingProof) wait() (bool, error) {
	<-p.done
	return p.ok, p.err
}

// validate runs the checks in order on a submission arriving before the
// seal and returns its fate: ReasonAccepted, ReasonDuplicate or
// "rejected:<check>". An error means the harness itself failed (the
// runner's Hidden), not the submission. Late and duplicate are the race's
// rules (first N, first of each prompt); the checks are every window's.
func (r *race) validate(ctx context.Context, s *submission) (string, error) {
	if r.sealed {
		return source.ReasonLate, nil
	}
	prove := func() (bool, error) { return r.proofs(ctx, s) }
	if p := r.pending[s]; p != nil {
		delete(r.pending, s)
		prove = p.wait
	}
	check, err := r.check(s, "", prove)
	if err != nil || check != "" {
		return source.RejectedPrefix + check, err
	}
	if r.taken[r.m.index[s.prompt]] {
		return source.ReasonDuplicate, nil
	}
	return source.ReasonAccepted, nil
}

// generationTime is how long a miner takes to generate a group at
// throughput: serially, its tokens one after another; in a batch, as a real
// miner generates a group, as long as its longest completion at the
// per-sequence rate.
func (a *attempt) generationTime(timing string, throughput float64) float64 {
	if timing != spec.TimingBatch {
		return float64(a.tokens) / throughput
	}
	longest := 0
	for _, c := range a.comps {
		longest = max(longest, c.NumTokens)
	}
	return float64(longest) / throughput
}

// tokensBy is how many of a group's tokens were generated by elapsed
// seconds into its generation: pro rata for a serial miner, each
// completion up to its own length for a batch.
func (a *attempt) tokensBy(elapsed float64, timing string, throughput float64) int64 {
	if timing != spec.TimingBatch {
		return min(a.tokens, int64(elapsed*throughput))
	}
	var n int64
	for _, c := range a.comps {
		n += min(int64(c.NumTokens), int64(elapsed*throughput))
	}
	return n
}
