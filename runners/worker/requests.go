package worker

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/relix-lab/relix/runners"
)

// Generate asks the worker for n completions of each prompt.
func (r *Runner) Generate(ctx context.Context, checkpoint string, prompts []runners.Prompt, n int, s runners.Sampling) ([][]runners.Completion, error) {
	params := GenerateParams{Checkpoint: checkpoint, Prompts: nonNil(prompts), N: n, Sampling: s}
	var res GenerateResult
	p, err := r.do(ctx, MethodGenerate, params, r.cfg.Timeouts.Generate.Std(), &res, checkpoint)
	if err != nil {
		return nil, err
	}
	return r.completions(p, &params, &res)
}

// ErrNotBatched is GenerateMany's answer to every call but the first when
// the worker answers no batch requests.
var ErrNotBatched = errors.New("worker: not asked: the worker answers no batch requests")

// GenerateMany answers several generate calls in one batch request, one
// round trip where Generate takes one a call: out[i] and errs[i] are what
// Generate gives for calls[i], except that every call's checkpoint is
// restored before the batch goes, and one that cannot be fails them all. A
// call the worker refuses for want of its checkpoint (let go meanwhile) is
// asked again alone, where do restores it. A
// worker without batch is asked the first call only (ErrNotBatched for the
// others): a caller that batches to look ahead loses only the lookahead.
func (r *Runner) GenerateMany(ctx context.Context, calls []runners.GenerateCall) ([][][]runners.Completion, []error) {
	out := make([][][]runners.Completion, len(calls))
	errs := make([]error, len(calls))
	if len(calls) == 0 {
		return out, errs
	}
	if len(calls) == 1 || !r.hello.Has(CapBatch) {
		c := calls[0]
		out[0], errs[0] = r.Generate(ctx, c.Checkpoint, c.Prompts, c.N, c.Sampling)
		for i := 1; i < len(calls); i++ {
			errs[i] = ErrNotBatched
		}
		return out, errs
	}
	params := make([]GenerateParams, len(calls))
	req := batchOf{methods: make([]string, len(calls)), params: make([]any, len(calls))}
	needs := make([]string, len(calls))
	for i, c := range calls {
		params[i] = GenerateParams{Checkpoint: c.Checkpoint, Prompts: nonNil(c.Prompts), N: c.N, Sampling: c.Sampling}
		req.methods[i], req.params[i], needs[i] = MethodGenerate, params[i], c.Checkpoint
	}
	p, res, err := r.batch(ctx, req, len(calls), r.cfg.Timeouts.Generate.Std(), needs)
	for i, c := range calls {
		if err != nil {
			errs[i] = err
			continue
		}
		switch item := res.Responses[i]; {
		case item.Error != nil && item.Error.Code == CodeUnknownCheckpoint:
			out[i], errs[i] = r.Generate(ctx, c.Checkpoint, c.Prompts, c.N, c.Sampling)
		case item.Error != nil:
			errs[i] = fmt.Errorf("worker: generate: %w", item.Error)
		default:
			var g GenerateResult
			if e := decodeResult(MethodGenerate, item.Result, res.att, &g); e != nil {
				errs[i] = fmt.Errorf("worker: batch: %w", e)
			} else {
				out[i], errs[i] = r.completions(p, &params[i], &g)
			}
		}
	}
	return out, errs
}

// completions checks a generate answer from p and keeps the handles it
// issued.
func (r *Runner) completions(p *proc, params *GenerateParams, res *GenerateResult) ([][]runners.Completion, error) {
	if err := checkGenerate(params, res); err != nil {
		return nil, fmt.Errorf("worker: %w", err)
	}
	out := make([][]runners.Completion, len(res.Completions))
	for i, cs := range res.Completions {
		out[i] = make([]runners.Completion, len(cs))
		for j, c := range cs {
			out[i][j] = c.Completion
			if p.handles && c.Handle != 0 {
				r.handles.put(p, c.Handle, c.Tokens)
			}
		}
	}
	return out, nil
}

// Step asks the worker for one GRPO step.
func (r *Runner) Step(ctx context.Context, checkpoint string, groups []runners.Group, h runners.Hyper) (string, runners.StepMetrics, error) {
	params := StepParams{Checkpoint: checkpoint, Groups: make([]runners.Group, len(groups)), Hyper: h}
	for i, g := range groups {
		g.Completions, g.Rewards = nonNil(g.Completions), nonNil(g.Rewards)
		params.Groups[i] = g
	}
	needs := []string{checkpoint, h.Reference}
	for _, g := range groups {
		needs = append(needs, g.Checkpoint)
	}
	var res StepResult
	p, err := r.do(ctx, MethodStep, params, r.cfg.Timeouts.Step.Std(), &res, dedupe(needs)...)
	if err != nil {
		return "", runners.StepMetrics{}, err
	}
	if err := checkStep(&res); err != nil {
		return "", runners.StepMetrics{}, fmt.Errorf("worker: %w", err)
	}
	p.hold(res.Checkpoint)
	r.remember(res.Checkpoint, &params)
	return res.Checkpoint, res.Metrics, nil
}

// Save asks the worker to write checkpoint to dir, then keeps relix's own
// copy of the files (hard links where it can) to restore a new process
// from.
func (r *Runner) Save(ctx context.Context, checkpoint string, dir string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	if _, err := r.do(ctx, MethodSave, SaveParams{Checkpoint: checkpoint, Dir: abs}, r.cfg.Timeouts.Other.Std(), &Empty{}, checkpoint); err != nil {
		return err
	}
	if err := r.store.keep(checkpoint, abs, true); err != nil {
		return fmt.Errorf("worker: keeping a copy of checkpoint %s to restart from: %w", checkpoint, err)
	}
	r.mu.Lock()
	delete(r.lineage, checkpoint)
	r.mu.Unlock()
	return nil
}

// Load asks the worker to read the checkpoint saved in dir.
func (r *Runner) Load(ctx context.Context, dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	var res LoadResult
	p, err := r.do(ctx, MethodLoad, LoadParams{Dir: abs}, r.cfg.Timeouts.Other.Std(), &res)
	if err != nil {
		return "", err
	}
	if res.Checkpoint == "" {
		return "", errors.New(`worker: load result has no "checkpoint"`)
	}
	p.hold(res.Checkpoint)
	if err := r.store.keep(res.Checkpoint, abs, false); err != nil {
		return "", fmt.Errorf("worker: keeping a copy of checkpoint %s to restart from: %w", res.Checkpoint, err)
	}
	return res.Checkpoint, nil
}

// SuccessProbability asks a worker that knows true success probabilities
// (the sim) for one.
func (o oracleRunner) SuccessProbability(ctx context.Context, checkpoint string, prompt runners.Prompt, s runners.Sampling, truncated string) (float64, error) {
	params := ProbabilityParams{Checkpoint: checkpoint, Prompt: prompt, Sampling: s, Truncated: truncated}
	var res ProbabilityResult
	if _, err := o.do(ctx, MethodProbability, params, o.cfg.Timeouts.Other.Std(), &res, checkpoint); err != nil {
		return 0, err
	}
	if err := checkProbability(&res); err != nil {
		return 0, fmt.Errorf("worker: %w", err)
	}
	return res.Probability, nil
}

// SuccessProbabilities asks for the probabilities of many prompts in one
// request when the worker serves the batched method (CapProbabilities),
// else in one request each.
func (o oracleRunner) SuccessProbabilities(ctx context.Context, checkpoint string, prompts []runners.Prompt, s runners.Sampling, truncated string) ([]float64, error) {
	if !o.hello.Has(CapProbabilities) {
		return runners.SuccessProbabilities(ctx, struct{ runners.Oracle }{o}, checkpoint, prompts, s, truncated)
	}
	params := ProbabilitiesParams{Checkpoint: checkpoint, Prompts: nonNil(prompts), Sampling: s, Truncated: truncated}
	var res ProbabilitiesResult
	if _, err := o.do(ctx, MethodProbabilities, params, o.cfg.Timeouts.Other.Std(), &res, checkpoint); err != nil {
		return nil, err
	}
	if err := checkProbabilities(&params, &res); err != nil {
		return nil, fmt.Errorf("worker: %w", err)
	}
	return res.Probabilities, nil
}

// difficultyTeller is a runner that can say how hard each problem is on
// its own scale (the sim). Serve offers CapDifficulties for one.
type difficultyTeller interface {
	Difficulties(ctx context.Context, prompts []runners.Prompt) ([]float64, error)
}

// Difficulties asks the worker for the prompts' latent difficulties when it
// serves them (CapDifficulties); nil, with no error, when it does not, so
// that the problems table says null rather than a number relix made up.
func (r *Runner) Difficulties(ctx context.Context, prompts []runners.Prompt) ([]float64, error) {
	if !r.hello.Has(CapDifficulties) {
		return nil, nil
	}
	params := DifficultiesParams{Prompts: nonNil(prompts)}
	var res DifficultiesResult
	if _, err := r.do(ctx, MethodDifficulties, params, r.cfg.Timeouts.Other.Std(), &res); err != nil {
		return nil, err
	}
	if err := checkDifficulties(&params, &res); err != nil {
		return nil, fmt.Errorf("worker: %w", err)
	}
	return res.Difficulties, nil
}

// Close shuts the worker down (a shutdown request, then a kill after
// runner.timeouts.other) and removes relix's checkpoint copies.
func (r *Runner) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	p := r.proc
	r.proc = nil
	r.mu.Unlock()
	if p != nil {
		p.stop(min(r.cfg.Timeouts.Other.Std(), 30*time.Second))
	}
	r.store.remove()
	return nil
}
