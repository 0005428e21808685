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
	if err := checkGenerate(&params, &res); err != nil {
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
