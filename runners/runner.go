// Package runners is the Runner contract: who generates completions and
// trains the policy. A runner owns a policy and its checkpoints; everything
// crossing the contract is plain data (no pointers into harness state), so
// the same contract works in process (the sim), over an NDJSON pipe (a
// worker) and on a cluster node. A program chooses the backends it serves by
// the spec's runner.kind (Backends); see README.md for the contract's rules
// in one place.
package runners

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"

	"github.com/relix-lab/relix/experiment/dataset"
	"github.com/relix-lab/relix/experiment/spec"
)

// Finish reasons of a completion.
const (
	FinishStop   = "stop"   // the completion ended (an end-of-sequence token)
	FinishLength = "length" // it reached Sampling.MaxTokens without ending: truncated
)

// Sampling controls one Generate call.
type Sampling struct {
	Temperature float64 `json:"temperature"`
	TopP        float64 `json:"top_p"`
	MaxTokens   int     `json:"max_tokens"`
	// Seed is the root of the call's randomness. Completion j of prompt p
	// draws only from (Seed, p.ID, j), never from call order, batching or
	// parallelism: the same seed gives the same completions whichever
	// other prompts share the call. Give every arm the same Seed for a
	// problem and sample to get common random numbers.
	Seed uint64 `json:"seed"`
	// Tokens asks for every completion's token ids (proofs need them;
	// uniform arms do not, and the sim then never materializes them).
	Tokens bool `json:"tokens,omitempty"`
}

// Prompt is one problem to complete. The sim looks the problem up by ID
// in the sets it was given; a worker sees only Text.
type Prompt struct {
	ID   string `json:"id"`
	Text string `json:"text"`
}

// Completion is one sampled response.
type Completion struct {
	Text      string `json:"text"`
	NumTokens int    `json:"num_tokens"`
	Finish    string `json:"finish"` // FinishStop or FinishLength
	// Tokens holds the NumTokens token ids when Sampling.Tokens was set.
	Tokens []uint32 `json:"tokens,omitempty"`
	// LogProbs holds the behaviour policy's per-token log-probabilities
	// when the runner reports them (optional).
	LogProbs []float32 `json:"logprobs,omitempty"`
	// Trace is runner-private: what the runner needs to score this
	// completion again in Step (the sim: its sampled choices). Others must
	// pass it back unchanged and must not interpret it.
	Trace []float64 `json:"trace,omitempty"`
}

// Truncated reports whether the completion hit the token cap without ending.
func (c Completion) Truncated() bool { return c.Finish == FinishLength }

// Group is one prompt's completions with the rewards the harness gave them
// (computed with eval's grader, never by the runner).
type Group struct {
	Prompt      Prompt       `json:"prompt"`
	Completions []Completion `json:"completions"`
	Rewards     []float64    `json:"rewards"`
	// Checkpoint is the checkpoint that generated the completions: the
	// behaviour policy of the PPO ratio. Empty means Step's checkpoint.
	Checkpoint string `json:"checkpoint,omitempty"`
}

// Hyper is one optimizer step's training function: the GRPO loss, AdamW and
// the already-scheduled learning rate. Build it with NewHyper so that every
// runner sees the same schedule.
type Hyper struct {
	Step int     `json:"step"` // 0-based index of this optimizer step
	LR   float64 `json:"lr"`   // learning rate of this step, after warm-up and schedule

	Advantage  string  `json:"advantage"`   // "std": (r − mean)/population std; "mean": r − mean
	StdEpsilon float64 `json:"std_epsilon"` // groups whose reward std is below this are skipped
	ClipLow    float64 `json:"clip_low"`    // ratio ρ is clipped below at 1 − ClipLow
	ClipHigh   float64 `json:"clip_high"`   // and above at 1 + ClipHigh
	KLBeta     float64 `json:"kl_beta"`     // weight of the k3 KL to Reference; 0: off
	// Reference is the checkpoint of the KL reference (the last published
	// one). Empty means no KL term, whatever KLBeta.
	Reference   string     `json:"reference,omitempty"`
	Betas       [2]float64 `json:"betas"`
	WeightDecay float64    `json:"weight_decay"`
	GradClip    float64    `json:"grad_clip"` // global gradient norm cap; 0: off
	Epochs      int        `json:"epochs"`    // passes over the step's groups
	LossAgg     string     `json:"loss_agg"`  // "seq-mean-token-mean" or "token-mean"
}

// NewHyper returns the training function of optimizer step step (0-based)
// of steps, with reference as the KL reference checkpoint.
func NewHyper(g spec.GRPO, step, steps int, reference string) Hyper {
	return Hyper{
		Step:        step,
		LR:          ScheduledLR(g, step, steps),
		Advantage:   g.Advantage,
		StdEpsilon:  g.StdEpsilon,
		ClipLow:     g.ClipLow,
		ClipHigh:    g.ClipHigh,
		KLBeta:      g.KLBeta,
		Reference:   reference,
		Betas:       g.Betas,
		WeightDecay: g.WeightDecay,
		GradClip:    g.GradClip,
		Epochs:      max(g.Epochs, 1),
		LossAgg:     g.LossAgg,
	}
}

// ScheduledLR is the learning rate of step (0-based) of steps: linear
// warm-up from lr/warmup to lr over the first warmup steps, then constant,
// linear decay to 0, or cosine decay to 0 at step steps (the Hugging Face
// get_cosine_schedule_with_warmup and get_linear_schedule_with_warmup
// curves, evaluated at step+1 during warm-up so that step 0 trains).
func ScheduledLR(g spec.GRPO, step, steps int) float64 {
	if step < g.Warmup {
		return g.LR * float64(step+1) / float64(g.Warmup)
	}
	if g.Schedule == "constant" || steps <= g.Warmup {
		return g.LR
	}
	progress := float64(step-g.Warmup) / float64(steps-g.Warmup)
	progress = math.Min(math.Max(progress, 0), 1)
	switch g.Schedule {
	case "linear":
		return g.LR * (1 - progress)
	case "cosine":
		return g.LR * 0.5 * (1 + math.Cos(math.Pi*progress))
	}
	return g.LR
}

// StepMetrics describes one optimizer step.
type StepMetrics struct {
	Loss     float64 `json:"loss"`      // the surrogate loss at the step's start (policy = behaviour ratios), KL term included
	GradNorm float64 `json:"grad_norm"` // global gradient norm before clipping, first epoch
	ClipFrac float64 `json:"clip_frac"` // share of sequences whose ratio was clipped, over epochs
	KL       float64 `json:"kl"`        // mean k3 estimate of KL(policy ‖ reference) over used sequences, first epoch
	Entropy  float64 `json:"entropy"`   // mean per-sequence policy entropy proxy (runner-defined; the sim documents its own)
	// Groups is how many groups came in, Skipped how many of them had a
	// reward std below StdEpsilon and carried no gradient.
	Groups    int `json:"groups"`
	Skipped   int `json:"skipped"`
	Sequences int `json:"sequences"` // completions that contributed to the loss
	Tokens    int `json:"tokens"`    // their tokens
	// Updated is false when nothing carried signal: the checkpoint is
	// returned unchanged (no optimizer step, no weight decay).
	Updated bool `json:"updated"`
}

// Runner generates completions with a checkpoint and trains it. Checkpoint
// ids are deterministic (the same history gives the same ids on every run).
// Implementations are safe for concurrent use; results never depend on the
// order or concurrency of calls.
type Runner interface {
	// Base is the id of the initial (untrained) checkpoint.
	Base() string
	// Generate returns n completions for each prompt, in prompt order.
	Generate(ctx context.Context, checkpoint string, prompts []Prompt, n int, s Sampling) ([][]Completion, error)
	// Step applies one GRPO optimizer step to checkpoint with the groups
	// and returns the new checkpoint's id.
	Step(ctx context.Context, checkpoint string, groups []Group, h Hyper) (next string, m StepMetrics, err error)
	// Hidden returns the policy's last hidden state after each prefix
	// tokens[:p+1], p in positions, for GRAIL-style proofs: the same
	// checkpoint and tokens give the same vectors; another checkpoint or
	// another token anywhere in the prefix gives different ones.
	Hidden(ctx context.Context, checkpoint string, tokens []uint32, positions []int) ([][]float32, error)
	// Save writes checkpoint (weights and optimizer state) to dir, creating
	// it; Load reads a saved checkpoint back and returns its id, which is
	// the id it was saved under. Together they resume a killed run.
	Save(ctx context.Context, checkpoint string, dir string) error
	Load(ctx context.Context, dir string) (checkpoint string, err error)
	// Close releases the runner (a worker process, GPU memory).
	Close() error
}

// GenerateCall is the arguments of one Generate call, for a runner that
// answers several calls in one round trip (runners/worker's GenerateMany).
type GenerateCall struct {
	Checkpoint string
	Prompts    []Prompt
	N          int
	Sampling   Sampling
}

// Oracle is implemented by runners that know a prompt's true success
// probability at a checkpoint (the sim does; a GPU worker cannot). Only
// upper-bound selectors (the market's oracle estimator, the zone sweep) may
// use it to choose, and every output that does says so; the problems table
// records the base checkpoint's as a description of each problem.
type Oracle interface {
	// SuccessProbability is the probability that one completion of prompt
	// sampled with s at checkpoint earns reward 1 when graded correct and,
	// for truncated "zero", only if it also ended before the cap
	// (truncated "grade": a truncated completion is graded on its answer).
	SuccessProbability(ctx context.Context, checkpoint string, prompt Prompt, s Sampling, truncated string) (float64, error)
}

// BatchOracle is an Oracle that answers for many prompts in one call: a
// worker then asks once over its pipe instead of once per prompt.
type BatchOracle interface {
	Oracle
	// SuccessProbabilities is SuccessProbability of each prompt, in order.
	SuccessProbabilities(ctx context.Context, checkpoint string, prompts []Prompt, s Sampling, truncated string) ([]float64, error)
}

// SuccessProbabilities returns o's success probability of each prompt, in
// prompt order: in one call when o is a BatchOracle, else one per prompt.
// Either way the numbers are the same.
func SuccessProbabilities(ctx context.Context, o Oracle, checkpoint string, prompts []Prompt, s Sampling, truncated string) ([]float64, error) {
	if b, ok := o.(BatchOracle); ok {
		qs, err := b.SuccessProbabilities(ctx, checkpoint, prompts, s, truncated)
		if err != nil {
			return nil, err
		}
		if len(qs) != len(prompts) {
			return nil, fmt.Errorf("runner returned %d success probabilities for %d prompts", len(qs), len(prompts))
		}
		return qs, nil
	}
	qs := make([]float64, len(prompts))
	for i, p := range prompts {
		q, err := o.SuccessProbability(ctx, checkpoint, p, s, truncated)
		if err != nil {
			return nil, err
		}
		qs[i] = q
	}
	return qs, nil
}

// Identifier is implemented by runners that can say what served a run — a
// worker program and the model it loaded — for the run's manifest.
type Identifier interface {
	// Identity returns the serving program with its version, and the model
	// it loaded (a directory and config hash, "tiny", the sim's policy).
	Identity() (program, model string)
}

// ErrUnknownCheckpoint is returned (wrapped) for a checkpoint id the runner
// does not hold.
var ErrUnknownCheckpoint = errors.New("unknown checkpoint")

// Options is what a runner is made with besides its spec block.
type Options struct {
	// Problems are every problem a prompt may name (the train and held-out
	// sets). The sim looks prompts up here; a worker needs only their text.
	Problems []*dataset.Set
	// Dir is the directory relative paths in the runner block are resolved
	// against (the spec file's directory).
	Dir string
	// Log receives a worker's stderr and diagnostics; nil discards them.
	Log io.Writer
	// Executable is the running program's path, when the caller knows it:
	// a worker command "relix" means this program when it is relix.
	Executable string
	// Environ is the caller's environment ("KEY=value"): a worker process
	// starts with it, then the spec's runner.env. Nil starts it with only
	// runner.env.
	Environ []string
	// Relix is the caller's version, which a worker is told at hello.
	Relix string
}

// Factory makes a runner of one kind from the spec's runner block.
type Factory func(ctx context.Context, cfg spec.Runner, opts Options) (Runner, error)

// Backends maps each runner kind a program serves to its Factory. Which
// backends a program links is the program's decision, made in one place
// (relix's: cmd/relix/backends.go); library code uses only the backends its
// caller hands it, and nothing registers itself from init.
type Backends map[string]Factory

// Kinds lists the kinds b serves, sorted.
func (b Backends) Kinds() []string {
	kinds := make([]string, 0, len(b))
	for k := range b {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	return kinds
}

// New makes the runner of cfg.Kind.
func (b Backends) New(ctx context.Context, cfg spec.Runner, opts Options) (Runner, error) {
	f, ok := b[cfg.Kind]
	if !ok {
		return nil, fmt.Errorf("runner kind %q is not available (this program serves: %v)", cfg.Kind, b.Kinds())
	}
	return f(ctx, cfg, opts)
}
