package market

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/relix-lab/relix/eval"
	"github.com/relix-lab/relix/harness/market/proof"
	"github.com/relix-lab/relix/harness/source"
	"github.com/relix-lab/relix/runners"
)

// submission is what a miner sends the validator: everything is a claim.
type submission struct {
	window      int
	checkpoint  string // declared
	prompt      string // problem id
	completions []runners.Completion
	rewards     []float64 // claimed
	forgery     string    // a forger's mode (forgeRewards, forgeTokens); "" otherwise
	padded      bool      // a padder's completions, padded after it committed
	// materialize returns the submitted token ids of every completion and
	// the miner's commitments to them, which compute hidden states with
	// hidden. It is called only when the proof is checked: the token ids are
	// asked of the runner then (see replay), and with held, where the
	// runner can keep them, they may stay with it (replaySequences).
	materialize func(ctx context.Context, hidden proof.SequenceHiddenFunc, held bool) ([]proof.Sequence, []proof.Opener, error)
}

// rewardTolerance is how far a claimed reward may be from the harness's.
const rewardTolerance = 1e-6

// verify returns the first check the submission fails, or "". The check
// named skip is not applied (tests use it to show that an adversary passes
// every check but the one meant to catch it).
func (w *window) verify(ctx context.Context, s *submission, skip string) (string, error) {
	return w.check(s, skip, func() (bool, error) { return w.proofs(ctx, s) })
}

// check is verify with the proof check's outcome asked of prove, which is
// called only when every earlier check passes: the race computes proofs
// ahead of their submissions' arrival (race.prove) and hands the outcome in.
func (w *window) check(s *submission, skip string, prove func() (bool, error)) (string, error) {
	cfg := &w.m.cfg
	if skip != source.CheckWindow && s.window != w.step {
		return source.CheckWindow, nil
	}
	if skip != source.CheckCheckpoint && s.checkpoint != w.published {
		return source.CheckCheckpoint, nil
	}
	i, ok := w.m.index[s.prompt]
	if !ok {
		return source.CheckDataset, nil // nothing else can be checked without the problem
	}
	if skip != source.CheckCooldown && w.cooling[i] {
		return source.CheckCooldown, nil
	}
	g := cfg.Train.GroupSize
	if len(s.completions) != g || len(s.rewards) != g {
		return source.CheckRewards, nil
	}
	if skip != source.CheckRewards {
		for j, c := range s.completions {
			if !(math.Abs(cfg.Reward(&cfg.Pool.Problems[i], c)-s.rewards[j]) <= rewardTolerance) {
				return source.CheckRewards, nil
			}
		}
	}
	// The gate reads the claimed rewards, which the rewards check has just
	// found equal to the harness's.
	if skip != source.CheckSigma && !eval.InZone(s.rewards, w.gate) {
		return source.CheckSigma, nil
	}
	if skip != source.CheckProof {
		ok, err := prove()
		if err != nil || !ok {
			return source.CheckProof, err
		}
	}
	return "", nil
}

// proofs checks every completion's proof against the published checkpoint,
// the completions in parallel (each result is independent of the others, so
// the outcome does not depend on scheduling). The miners' commitments and
// the validator share one proof.Memo of the runner's Hidden: where a miner
// generated with the published checkpoint and submitted its tokens as
// generated, its commitment opens the very states the validator recomputes,
// and they are computed once; a stale miner's or a forger's are not the
// same computation and are computed apart. How the checks are spread over
// goroutines depends on the runner (below).
func (w *window) proofs(ctx context.Context, s *submission) (bool, error) {
	_, held := w.m.cfg.Runner.(holder)
	ok, gone, err := w.proofsOf(ctx, s, held)
	if gone {
		// The runner let held ids go before every state was computed: the
		// verdict is not known, so it is found again from the ids.
		ok, _, err = w.proofsOf(ctx, s, false)
	}
	return ok, err
}

// proofsOf is proofs, with the replayed ids held by the runner where held
// and it can keep them. gone reports that it let some go, which leaves ok
// and err meaningless.
func (w *window) proofsOf(ctx context.Context, s *submission, held bool) (ok bool, gone bool, err error) {
	memo := proof.NewSequenceMemo(w.hiddenOf)
	var lost atomic.Bool
	hidden := func(ctx context.Context, checkpoint string, seq proof.Sequence, positions []int) ([][]float32, error) {
		states, err := memo.HiddenSequence(ctx, checkpoint, seq, positions)
		if errors.Is(err, runners.ErrTokensGone) {
			lost.Store(true) // a prover's failure to open would read as a failed proof
		}
		return states, err
	}
	seqs, openers, err := s.materialize(ctx, hidden, held)
	if err != nil {
		return false, false, err
	}
	ok, err = w.checkProofs(ctx, s, seqs, openers, memo, hidden)
	return ok, lost.Load(), err
}

// hiddenOf is the runner's hidden states of a sequence, held or not.
func (w *window) hiddenOf(ctx context.Context, checkpoint string, s proof.Sequence, positions []int) ([][]float32, error) {
	if s.Held() {
		return w.m.cfg.Runner.(holder).HiddenHeld(ctx, checkpoint, s.Ref.(runners.HeldTokens), positions)
	}
	return w.m.cfg.Runner.Hidden(ctx, checkpoint, s.Tokens, positions)
}

// holder is a runner that can keep the ids of the completions a proof
// replays (runners/worker, with a worker that takes up digests): only
// their count and digest come back, and hidden states are asked of them by
// the runner's reference.
type holder interface {
	GenerateHeld(ctx context.Context, checkpoint string, prompts []runners.Prompt, n int, s runners.Sampling) ([][]runners.Completion, [][]runners.HeldTokens, error)
	HiddenHeld(ctx context.Context, checkpoint string, t runners.HeldTokens, positions []int) ([][]float32, error)
}

// checkProofs checks the proofs of a submission's materialized sequences.
func (w *window) checkProofs(ctx context.Context, s *submission, seqs []proof.Sequence, openers []proof.Opener, memo *proof.Memo, hidden proof.SequenceHiddenFunc) (bool, error) {
	if len(seqs) != len(s.completions) || len(openers) != len(s.completions) {
		return false, nil
	}
	for j, c := range s.completions {
		if seqs[j].Len() != c.NumTokens {
			return false, nil
		}
	}
	// The race waits for this proof, so its latency, not only its work,
	// counts. A runner that walks several sequences at once (hiddenMany) is
	// asked for the validator's states of as many parts as there are cores,
	// each drawing its challenges, fetching the part's states in one call
	// and checking them. Any other runner gets one goroutine a completion:
	// their requests reach it together, which a worker sends as one batch.
	// A held sequence's states come from the runner that holds it, never
	// from hiddenMany (the sim, which holds none).
	tokens := make([][]uint32, 0, len(seqs))
	for _, s := range seqs {
		if !s.Held() {
			tokens = append(tokens, s.Tokens)
		}
	}
	ok := make([]bool, len(seqs))
	errs := make([]error, len(seqs))
	many, _ := w.m.cfg.Runner.(hiddenMany)
	if len(tokens) < len(seqs) {
		many = nil
	}
	parts := len(seqs)
	if many != nil {
		parts = min(runtime.GOMAXPROCS(0), len(seqs))
	}
	parallel(parts, func(part int) {
		lo, hi := part*len(seqs)/parts, (part+1)*len(seqs)/parts
		challenges := make([]proof.Challenge, hi-lo)
		for j := range challenges {
			challenges[j] = proof.NewSequenceChallenge(seqs[lo+j], w.randomness)
		}
		if many != nil {
			if err := w.prefetch(ctx, many, memo, tokens[lo:hi], challenges); err != nil {
				errs[lo] = err
				return
			}
		}
		for j, c := range challenges {
			res, err := proof.CheckSequence(ctx, hidden, w.published, c, openers[lo+j], w.m.mk.ProofBase)
			ok[lo+j], errs[lo+j] = res.OK, err
		}
	})
	if rel, ok := w.m.cfg.Runner.(tokenReleaser); ok {
		rel.ReleaseTokens(tokens) // nothing holds them now: the memo and the provers are done
	}
	for j := range seqs {
		if errs[j] != nil {
			return false, fmt.Errorf("verifying a proof: %w", errs[j])
		}
	}
	return !slices.Contains(ok, false), nil
}

// tokenReleaser is a runner that reuses the token ids it generated once
// the caller gives them back (runners/sim's ReleaseTokens).
type tokenReleaser interface {
	ReleaseTokens(tokens [][]uint32)
}

// hiddenMany is a runner that answers the hidden states of several
// sequences at one checkpoint in one call (runners/sim's HiddenMany):
// out[j] is Hidden(checkpoint, tokens[j], positions[j]).
type hiddenMany interface {
	HiddenMany(ctx context.Context, checkpoint string, tokens [][]uint32, positions [][]int) ([][][]float32, error)
}

// prefetch asks many for the published checkpoint's states at the
// challenged positions of tokens and keeps them in memo.
func (w *window) prefetch(ctx context.Context, many hiddenMany, memo *proof.Memo, tokens [][]uint32, challenges []proof.Challenge) error {
	positions := make([][]int, len(tokens))
	for j, c := range challenges {
		positions[j] = c.Positions()
	}
	states, err := many.HiddenMany(ctx, w.published, tokens, positions)
	if err != nil {
		return err
	}
	if len(states) != len(tokens) {
		return fmt.Errorf("the runner's hidden states of %d sequences for %d", len(states), len(tokens))
	}
	for j := range tokens {
		memo.Keep(w.published, tokens[j], positions[j], states[j])
	}
	return nil
}

// parallel runs f(0) … f(n−1) each in its own goroutine and waits for them.
func parallel(n int, f func(int)) {
	var wg sync.WaitGroup
	for j := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(j)
		}()
	}
	wg.Wait()
}

// replay asks the runner again for an attempt's completions, with their
// token ids. By the runner contract a completion is a function of
// (checkpoint, prompt, index, sampling seed) alone, so these are the very
// completions the miner generated; asking for ids only when a proof is
// checked (at most a few groups per window, against every group generated)
// keeps the sim from writing out ids nobody reads. A runner that returns
// anything else breaks its contract, and the window fails loudly.
func (w *window) replay(ctx context.Context, a *attempt) ([][]uint32, error) {
	seqs, err := w.replaySequences(ctx, a, false)
	if err != nil {
		return nil, err
	}
	tokens := make([][]uint32, len(seqs))
	for j, s := range seqs {
		tokens[j] = s.Tokens
	}
	return tokens, nil
}

// replaySequences is replay, with the ids left with a runner that can
// keep them (holder) where held: the sequences are then held, and the ids
// never cross to the harness.
func (w *window) replaySequences(ctx context.Context, a *attempt, held bool) ([]proof.Sequence, error) {
	cfg := &w.m.cfg
	s := a.sample
	s.Tokens = true
	prompts := []runners.Prompt{source.Prompt(&cfg.Pool.Problems[a.prompt])}
	var comps [][]runners.Completion
	var kept [][]runners.HeldTokens
	var err error
	if h, ok := cfg.Runner.(holder); ok && held {
		comps, kept, err = h.GenerateHeld(ctx, a.ckpt, prompts, len(a.comps), s)
	} else {
		comps, err = cfg.Runner.Generate(ctx, a.ckpt, prompts, len(a.comps), s)
	}
	if err != nil {
		return nil, err
	}
	if err := source.CheckShape(comps, prompts, len(a.comps)); err != nil {
		return nil, err
	}
	if kept != nil && (len(kept) != 1 || len(kept[0]) != len(a.comps)) {
		return nil, fmt.Errorf("%w: the runner held the ids of %d groups for 1", errReplay, len(kept))
	}
	seqs := make([]proof.Sequence, len(a.comps))
	for j, c := range comps[0] {
		o := a.comps[j]
		same := c.Text == o.Text && c.NumTokens == o.NumTokens && c.Finish == o.Finish
		if kept != nil && kept[0][j].Ref != nil {
			k := kept[0][j]
			same = same && k.Len == c.NumTokens && c.Tokens == nil
			seqs[j] = proof.HeldSequence(k.Len, k.SHA256, k)
		} else {
			same = same && len(c.Tokens) == c.NumTokens
			seqs[j] = proof.TokenSequence(c.Tokens)
		}
		if !same {
			return nil, fmt.Errorf("%w: completion %d of %s (%s) differs when generated again with the same seed and token ids requested",
				errReplay, j, prompts[0].ID, a)
		}
	}
	return seqs, nil
}

// tokenSequences are the sequences of ids.
func tokenSequences(ids [][]uint32) []proof.Sequence {
	out := make([]proof.Sequence, len(ids))
	for j, t := range ids {
		out[j] = proof.TokenSequence(t)
	}
	return out
}

// provers binds a commitment to each generated completion: the checkpoint
// that really generated it and its tokens as generated. The tokens are not
// copied: nothing in the market writes to a completion's ids once replayed
// (the forger edits a copy, spliceTokens), so the binding holds.
func (w *window) provers(a *attempt, seqs []proof.Sequence, hidden proof.SequenceHiddenFunc) []proof.Opener {
	out := make([]proof.Opener, len(seqs))
	for j, s := range seqs {
		out[j] = proof.BindSequenceProver(hidden, a.ckpt, s, w.randomness)
	}
	return out
}

// honestSubmission is a group as generated, with its true rewards and the
// published checkpoint declared (true for an honest miner or a copycat; a
// lie for a stale miner, which generated with an older one).
func (w *window) honestSubmission(a *attempt) *submission {
	return &submission{
		window: w.step, checkpoint: w.published, prompt: w.m.cfg.Pool.Problems[a.prompt].ID,
		completions: a.comps, rewards: a.rewards,
		materialize: func(ctx context.Context, hidden proof.SequenceHiddenFunc, held bool) ([]proof.Sequence, []proof.Opener, error) {
			seqs, err := w.replaySequences(ctx, a, held)
			if err != nil {
				return nil, nil, err
			}
			return seqs, w.provers(a, seqs, hidden), nil
		},
	}
}
