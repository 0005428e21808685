package worker

import (
	"context"
	"errors"
	"fmt"

	"github.com/relix-lab/relix/runners"
)

// Held ids (FeatureDigests) spare a proof's replay its ids: the market
// reads only their count and digest, and asks for hidden states by the
// handle, so the ids a replay generates never leave the worker. A handle
// the worker let go, or a process that restarted, makes HiddenHeld answer
// runners.ErrTokensGone, and the market asks for the ids instead.

// heldRef is a held completion's ids as relix names them: the handle that
// the process keeping them issued.
type heldRef struct {
	proc   *proc
	handle uint64
}

// GenerateHeld is Generate with token ids, left with the worker where its
// process takes up FeatureDigests: held[i][j] then names completion j of
// prompt i's ids, which its Tokens leaves out. A completion that came with
// its ids (a worker without digests) has a held entry of nil Ref.
func (r *Runner) GenerateHeld(ctx context.Context, checkpoint string, prompts []runners.Prompt, n int, s runners.Sampling) ([][]runners.Completion, [][]runners.HeldTokens, error) {
	s.Tokens = true
	req := &heldGenerate{params: GenerateParams{Checkpoint: checkpoint, Prompts: nonNil(prompts), N: n, Sampling: s}}
	var res GenerateResult
	p, err := r.do(ctx, MethodGenerate, req, r.cfg.Timeouts.Generate.Std(), &res, checkpoint)
	if err != nil {
		return nil, nil, err
	}
	out, err := r.completions(p, &req.sent, &res)
	if err != nil {
		return nil, nil, err
	}
	held := make([][]runners.HeldTokens, len(res.Completions))
	for i, cs := range res.Completions {
		held[i] = make([]runners.HeldTokens, len(cs))
		for j, c := range cs {
			if c.Digest == "" {
				continue
			}
			sum, err := parseDigest(c.Digest) // checked by completions: cannot fail
			if err != nil {
				return nil, nil, fmt.Errorf("worker: generate: %w", err)
			}
			held[i][j] = runners.HeldTokens{Len: c.NumTokens, SHA256: sum, Ref: &heldRef{p, c.Handle}}
		}
	}
	return out, held, nil
}

// heldGenerate asks for digests of a process that takes them up, and
// records what went (completions checks the answer against it).
type heldGenerate struct {
	params, sent GenerateParams
}

func (g *heldGenerate) on(p *proc) any {
	g.sent = g.params
	g.sent.Digests = p.digests
	return g.sent
}

// HiddenHeld is Hidden of the ids t names, which GenerateHeld returned.
func (r *Runner) HiddenHeld(ctx context.Context, checkpoint string, t runners.HeldTokens, positions []int) ([][]float32, error) {
	ref, ok := t.Ref.(*heldRef)
	if !ok {
		return nil, fmt.Errorf("worker: hidden: held ids of %T, not named by this runner", t.Ref)
	}
	if ref.proc.gone() != nil {
		return nil, runners.ErrTokensGone
	}
	req := hiddenRequest{r: r, params: HiddenParams{Checkpoint: checkpoint, Positions: nonNil(positions)}, held: ref}
	if r.hello.Has(CapBatch) {
		return r.hiddenQueued(ctx, req)
	}
	return r.hiddenOne(ctx, req)
}

// heldGone is the answer to a held request that the worker refused for
// want of its handle, or that went to a process other than the one
// holding its ids.
func heldGone(q *hiddenRequest, err error) bool {
	if q.held == nil {
		return false
	}
	var we *Error
	return q.stale || errors.As(err, &we) && we.Code == CodeUnknownHandle
}
